import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { inspectModel } from '../../src/inspect.js'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { compileModel } from '../../src/prove/compile.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { domainSamples } from '../../src/quantize/fixed.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, rng, unconstrainedWires } from '../helpers/circuit.js'
import { violated } from '../helpers/r1cs.js'
import { int, tensor } from '../onnx/quantized-models.js'

afterAll(shutdown)

/** A small QDQ model: float input → Q → DQ → Conv (per-channel int8) → Relu → Q → DQ → MaxPool → Q → DQ → Gemm → Q → DQ → Sigmoid → Q → DQ. */
function tinyQdq(): BuildModelParameters {
  const r = rng(21)
  const s = (name: string, v: number) => tensor(name, 'float32', [], [v])
  return {
    name: 'tiny-qdq',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 1, 5, 5] }],
    outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [
      s('s0', 0.0078125 * 1.37),
      tensor('z0', 'uint8', [], [128]),
      s('s1', 0.0213),
      tensor('z1', 'uint8', [], [0]),
      s('s2', 0.0371),
      tensor('z2', 'int8', [], [5]),
      s('s3', 1 / 256),
      tensor('z3', 'uint8', [], [0]),
      tensor(
        'w1',
        'int8',
        [2, 1, 3, 3],
        Array.from({ length: 18 }, () => int(r, -64, 63)),
      ),
      tensor('w1s', 'float32', [2], [0.0061, 0.0093]),
      tensor('w1z', 'int8', [2], [0, 0]),
      tensor(
        'w2',
        'int8',
        [8, 3],
        Array.from({ length: 24 }, () => int(r, -64, 63)),
      ),
      s('w2s', 0.0047),
      tensor('w2z', 'int8', [], [0]),
      tensor('b2', 'int32', [3], [120, -340, 15]),
      s('b2s', Math.fround(0.0213 * 0.0047)),
      tensor('b2z', 'int32', [], [0]),
    ],
    nodes: [
      { op: 'QuantizeLinear', name: 'q0', inputs: ['x', 's0', 'z0'], outputs: ['xq'] },
      { op: 'DequantizeLinear', name: 'dq0', inputs: ['xq', 's0', 'z0'], outputs: ['xd'] },
      {
        op: 'DequantizeLinear',
        name: 'dqw1',
        inputs: ['w1', 'w1s', 'w1z'],
        outputs: ['w1d'],
        attributes: { axis: { int: 0 } },
      },
      { op: 'Conv', name: 'conv', inputs: ['xd', 'w1d'], outputs: ['c'] },
      { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['rl'] },
      { op: 'QuantizeLinear', name: 'q1', inputs: ['rl', 's1', 'z1'], outputs: ['cq'] },
      { op: 'DequantizeLinear', name: 'dq1', inputs: ['cq', 's1', 'z1'], outputs: ['cd'] },
      {
        op: 'MaxPool',
        name: 'pool',
        inputs: ['cd'],
        outputs: ['p'],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [1, 1] } },
      },
      { op: 'QuantizeLinear', name: 'q2', inputs: ['p', 's1', 'z1'], outputs: ['pq'] },
      { op: 'DequantizeLinear', name: 'dq2', inputs: ['pq', 's1', 'z1'], outputs: ['pd'] },
      { op: 'Flatten', name: 'flat', inputs: ['pd'], outputs: ['f'] },
      { op: 'DequantizeLinear', name: 'dqw2', inputs: ['w2', 'w2s', 'w2z'], outputs: ['w2d'] },
      { op: 'DequantizeLinear', name: 'dqb2', inputs: ['b2', 'b2s', 'b2z'], outputs: ['b2d'] },
      { op: 'Gemm', name: 'gemm', inputs: ['f', 'w2d', 'b2d'], outputs: ['g'] },
      { op: 'QuantizeLinear', name: 'q3', inputs: ['g', 's2', 'z2'], outputs: ['gq'] },
      { op: 'DequantizeLinear', name: 'dq3', inputs: ['gq', 's2', 'z2'], outputs: ['gd'] },
      { op: 'Sigmoid', name: 'sig', inputs: ['gd'], outputs: ['sg'] },
      { op: 'QuantizeLinear', name: 'q4', inputs: ['sg', 's3', 'z3'], outputs: ['sq'] },
      { op: 'DequantizeLinear', name: 'dq4', inputs: ['sq', 's3', 'z3'], outputs: ['y'] },
    ],
  }
}

describe('a QDQ model end to end, without calibration', () => {
  const bytes = buildModel(tinyQdq())
  const ir = quantize(lowerOnnx(parseOnnx(bytes)), [])

  it('the circuit witness equals the reference executor, satisfies every constraint, and constrains every signal', async () => {
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear', 'requant', 'max', 'linear', 'requant', 'lookup'])
    const circuit = await buildCircuit(ir)
    console.log(
      `tiny QDQ model: ${circuit.compiled.constraintCount} constraints, ${circuit.emitted.cost.activations} activations`,
    )
    for (const sample of domainSamples(ir, 4)) {
      const x = quantizeInputs(ir.inputs, sample)
      const w = await circuit.witness(x)
      const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
    // Soundness: no single signal (half-even requant hints included) can change alone.
    const x = quantizeInputs(ir.inputs, domainSamples(ir, 5)[4])
    expect(unconstrainedWires(circuit, await circuit.witness(x))).toEqual([])
  })

  it('compiles and inspects without --calibration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veriml-qdq-'))
    const onnxPath = join(dir, 'tiny-qdq.onnx')
    await writeFile(onnxPath, bytes)
    const inspected = await inspectModel({ onnxPath })
    expect(inspected.estimatedConstraints).not.toBeNull()
    expect(inspected.text).toMatch(/linear → requant → max → linear → requant → lookup/)
    const compiled = await compileModel({ onnxPath, outDir: join(dir, 'build') })
    expect(compiled.manifest.options.calibration).toMatch(/none: the model's own scales/)
    // The yardstick is onnxruntime running the same QDQ model: within one output LSB (scale 1/256).
    expect(compiled.accuracy.maxAbsError).toBeLessThanOrEqual(1.001 / 256)
    console.log(
      `tiny QDQ compile: ${compiled.manifest.constraintCount} constraints, max |error| vs onnxruntime ${compiled.accuracy.maxAbsError}, argmax agreement ${compiled.accuracy.argmaxAgreement}`,
    )
  })
})
