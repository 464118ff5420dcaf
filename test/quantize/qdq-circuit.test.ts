import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { inspectModel } from '../../src/inspect.js'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildModel } from '../../src/onnx/write.js'
import { compileModel } from '../../src/prove/compile.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { domainSamples } from '../../src/quantize/fixed.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, unconstrainedWires } from '../helpers/circuit.js'
import { tinyQdq } from '../helpers/op-models.js'
import { violated } from '../helpers/r1cs.js'

afterAll(shutdown)

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
