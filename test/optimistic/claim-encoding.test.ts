import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { keccak256, solidityPacked } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gptOnnx } from '../../models/gpt.js'
import { loadMnist } from '../../models/mnist-data.js'
import type { PackLayout } from '../../src/circuit/packing.js'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { claimKeyOf, packedInputOf, packedOutputsOf } from '../../src/optimistic/config.js'
import { OptimisticModelError, OutputEncodingError } from '../../src/optimistic/errors.js'
import { packedInputBytes } from '../../src/optimistic/input.js'
import { claimCalldataBytes, MAX_CLAIM_CALLDATA, traceLayout } from '../../src/optimistic/layout.js'
import { packedOutputBytes, packOutputs, unpackOutputs } from '../../src/optimistic/output.js'
import { commitParams } from '../../src/optimistic/params.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { compileModel } from '../../src/prove/compile.js'
import { parseWtns } from '../helpers/r1cs.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { shutdown } from '../../src/shutdown.js'
import { rng as seeded } from '../helpers/circuit.js'
import { samples } from '../onnx/ort-diff.js'
import { denseLinear, inputTensor, rng } from './models.js'

const ROOT = join(import.meta.dirname, '..', '..')
/** The common mempool limit on a whole transaction (geth's txMaxSize: 4 slots of 32 KiB). */
const MEMPOOL_LIMIT = 131_072

const words = (signals: readonly bigint[]) =>
  solidityPacked(
    signals.map(() => 'uint256'),
    signals,
  )

/**
 * Differential: the bundled MNIST MLP compiled with public input and output (direct backend,
 * no circom, no Groth16): the circuit's witness holds its public signals (wires 1 ..= count,
 * as snarkjs reads them into a proof's public signals); the game's packed input and outputs are
 * their input and output parts, word for word, and the claim's inputHash and outputsHash their keccaks.
 */
describe('a claim posts its input and outputs as the zk proof exposes them (MNIST MLP)', () => {
  const dir = join(ROOT, 'build', 'test', 'claim-encoding-mnist')
  let ir: IrModel
  let compiled: Awaited<ReturnType<typeof compileModel>>
  beforeAll(async () => {
    compiled = await compileModel({
      onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
      outDir: dir,
      calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
      visibility: { input: 'public', output: 'public' },
    })
    ir = compiled.model.ir
  }, 120_000)
  afterAll(shutdown)

  it('packed input and outputs = the parts of the witness public signals; the layouts are one', async () => {
    const { layout } = compiled.manifest
    const trace0 = traceLayout(ir)
    expect(trace0.outputLayouts).toEqual(layout.outputs)
    expect(trace0.inputLayouts).toEqual(layout.inputs.map((l, k) => ({ ...l, hi: ir.inputs[k].hi })))
    const calculate = await compiled.model.witness()
    const bundled = JSON.parse(readFileSync(join(ROOT, 'models', 'data', 'mnist-input.json'), 'utf8'))
    const digits = [
      bundled.input_data[0],
      ...loadMnist()
        .test.slice(0, 2)
        .map((s) => s.pixels),
    ]
    const inputCount = layout.inputs.reduce((n, l) => n + Math.ceil(l.count / l.lanesPerElement), 0)
    for (const pixels of digits) {
      const x = quantizeInputs(ir.inputs, [Float64Array.from(pixels)])
      const signals = parseWtns(await calculate(x)).slice(1, 1 + layout.count)
      expect(signals).toEqual(await publicSignals(layout, x, execute(ir, x).outputs))
      const trace = buildTrace(ir, x)
      const key = claimKeyOf(`0x${'11'.repeat(32)}`, trace, `0x${'22'.repeat(20)}`)
      expect(packedInputOf(trace)).toBe(words(signals.slice(0, inputCount)))
      expect(key.inputHash).toBe(keccak256(words(signals.slice(0, inputCount))))
      const outputsPacked = packedOutputsOf(trace)
      expect(outputsPacked).toBe(words(signals.slice(inputCount)))
      expect(key.outputsHash).toBe(keccak256(words(signals.slice(inputCount))))
      expect(unpackOutputs(trace.layout.outputLayouts, outputsPacked)).toEqual(trace.outputs)
    }
  }, 120_000)
})

describe('claim calldata', () => {
  const layout = (count: number, laneBits: number, lo = 0n): PackLayout => ({
    count,
    laneBits,
    lo,
    lanesPerElement: Math.floor(252 / laneBits),
  })

  it('is computed from the layout: selector, head, both packed parts, each output path', () => {
    // One input state of 784 one-byte lanes (25 words), 10 outputs of 20 bits (12 a word: one
    // word), a trace of 8 states (depth 3).
    const outputBytes = packedOutputBytes([layout(10, 20)])
    expect(outputBytes).toBe(32)
    expect(claimCalldataBytes({ inputBytes: 800, outputBytes, outputCount: 1, traceDepth: 3 })).toBe(
      4 + 160 + 32 + 800 + 32 + 32 + 32 + (64 + 96),
    )
  })

  it("the nanoGPT's 4,160 logits fit well below the mempool limit (134.6 KiB as words before)", () => {
    // The nanoGPT shape's output (block 64 × vocab 65), on a 1-layer, 16-wide GPT: the same
    // output head quantisation, so the same output range from the bounds analysis.
    const bytes = gptOnnx({ block: 64, vocab: 65, layers: 1, heads: 2, embd: 16, seed: 3, input: 'embeddings' })
    const graph = lowerOnnx(parseOnnx(bytes))
    const model = quantize(graph, samples(seeded(61), graph.inputs, 2))
    const l = traceLayout(model)
    expect(l.outputLayouts.map((o) => o.count)).toEqual([4_160])
    const outputBytes = packedOutputBytes(l.outputLayouts)
    const inputBytes = packedInputBytes(l.inputLayouts)
    const claim = claimCalldataBytes({ inputBytes, outputBytes, outputCount: 1, traceDepth: l.traceDepth })
    // The nanoGPT itself: a 4,096-value int8 input (8-bit lanes, 31 a word), a trace of 210 states (depth 8).
    const nanogptInput = 32 * Math.ceil(4_096 / 31)
    const nanogpt = claimCalldataBytes({ inputBytes: nanogptInput, outputBytes, outputCount: 1, traceDepth: 8 })
    console.log(
      `claim calldata, 4,160 logits of ${l.outputLayouts[0].laneBits}-bit lanes: ${outputBytes} bytes of outputs; tiny GPT claim ${claim} bytes, nanoGPT claim ${nanogpt} bytes (was ${4 + 160 + 32 + 4_096 + 32 + 32 + 32 + 4_160 * 32 + 32 + 32 + 32 + 8 * 32})`,
    )
    expect(nanogpt).toBeLessThan(MEMPOOL_LIMIT)
    expect(nanogpt).toBeLessThanOrEqual(MAX_CLAIM_CALLDATA)
    // Whatever the range: 4,160 values of up to 126 bits (two a word) still fit.
    expect(
      claimCalldataBytes({
        inputBytes: nanogptInput,
        outputBytes: packedOutputBytes([layout(4_160, 126)]),
        outputCount: 1,
        traceDepth: 8,
      }),
    ).toBeLessThan(MEMPOOL_LIMIT)
  }, 60_000)

  it('a model whose claim would exceed the cap is refused with the sizes; a value outside its layout cannot be posted', () => {
    // One 2^130-wide input (one word) to 4,000 unclamped outputs over 137 bits: one lane a word,
    // 128,000 bytes of outputs.
    const wide: IrModel = {
      name: 'wide-outputs',
      inputs: [inputTensor(0, 1, 0n, (1n << 130n) - 1n)],
      steps: [
        {
          origin: 'fan-out',
          op: denseLinear([0], 1, 4_000, rng(1)),
          output: { id: 1, name: 't1', shape: [4_000] },
        },
      ],
      outputs: [{ tensor: 1, name: 'out', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() => commitParams(wide)).toThrow(OptimisticModelError)
    expect(() => commitParams(wide)).toThrow(
      /its claim would be 128388 bytes of calldata \(input 32, outputs 128000 packed, output paths and ABI 356\).*at most 122880/,
    )
    expect(() => packOutputs([layout(2, 4, -8n)], [[-8n, 8n]])).toThrow(OutputEncodingError)
    expect(() => unpackOutputs([layout(2, 4, -8n)], `0x${'00'.repeat(30)}01f0`)).toThrow(OutputEncodingError)
    expect(unpackOutputs([layout(2, 4, -8n)], `0x${'00'.repeat(31)}f0`)).toEqual([[-8n, 7n]])
  })
})
