import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import {
  GPT_DEFAULTS,
  type GptConfig,
  gptForward,
  gptInputName,
  gptOnnx,
  gptParameterCount,
  gptWeights,
} from '../../models/gpt.js'
import { seededRandom } from '../../models/mnist-data.js'
import { parseOnnx } from '../../src/onnx/parse.js'

const TINY: GptConfig = { ...GPT_DEFAULTS, block: 8, vocab: 16, layers: 1, heads: 2, embd: 16, seed: 3 }

/** onnxruntime's logits for one input, and the TypeScript forward pass's. */
async function bothForwards(c: GptConfig, input: number[]): Promise<{ onnx: number[]; ts: number[] }> {
  const session = await ort.InferenceSession.create(gptOnnx(c))
  const feed =
    c.input === 'ids'
      ? new ort.Tensor('int64', BigInt64Array.from(input.map(BigInt)), [1, c.block])
      : new ort.Tensor('float32', Float32Array.from(input), [1, c.block, c.embd])
  const result = await session.run({ [gptInputName(c)]: feed })
  await session.release()
  expect(result.logits.dims).toEqual([1, c.block, c.vocab])
  return { onnx: Array.from(result.logits.data as Float32Array), ts: Array.from(gptForward(c, gptWeights(c), input)) }
}

const ids = (seed: number) => {
  const random = seededRandom(seed)
  return Array.from({ length: TINY.block }, () => Math.floor(random() * TINY.vocab))
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length)
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])))
  expect(worst).toBeLessThan(1e-3)
}

describe('the nanoGPT-shaped ONNX generator', () => {
  it('runs in onnxruntime from token ids to the TypeScript forward pass’s logits, with either mask form', async () => {
    for (const mask of ['where', 'additive'] as const) {
      const { onnx, ts } = await bothForwards({ ...TINY, mask }, ids(11))
      expectClose(onnx, ts)
    }
  })

  it('takes token embeddings instead of ids, and gives the logits the ids would', async () => {
    const c: GptConfig = { ...TINY, input: 'embeddings' }
    const tokens = ids(12)
    const wte = gptWeights(c).wte
    const embeddings = tokens.flatMap((t) => Array.from(wte.subarray(t * c.embd, (t + 1) * c.embd)))
    const fromEmbeddings = await bothForwards(c, embeddings)
    expectClose(fromEmbeddings.onnx, fromEmbeddings.ts)
    expectClose(fromEmbeddings.onnx, (await bothForwards(TINY, tokens)).onnx)
  })

  it('is causal: changing the last token changes only the last position’s logits', async () => {
    const tokens = ids(13)
    const changed = [...tokens.slice(0, -1), (tokens.at(-1)! + 1) % TINY.vocab]
    const [a, b] = [(await bothForwards(TINY, tokens)).onnx, (await bothForwards(TINY, changed)).onnx]
    const last = (TINY.block - 1) * TINY.vocab
    expect(a.slice(0, last)).toEqual(b.slice(0, last))
    expect(a.slice(last)).not.toEqual(b.slice(last))
  })

  it('has nanoGPT’s parameter count at the default shape, with lm_head stored as wte’s transpose', () => {
    // wte 65·64 + wpe 64·64 + 4 layers · (12·64² + 13·64) + ln_f 2·64
    expect(gptParameterCount(GPT_DEFAULTS)).toBe(208_320)
    const stored = (bytes: Uint8Array) =>
      [...parseOnnx(bytes).initializers].reduce(
        (n, [name, t]) => n + (name.startsWith('const.') || name.startsWith('shape.') ? 0 : t.data.length),
        0,
      )
    // The file holds the tied matrix twice (Gather reads [vocab, embd], MatMul [embd, vocab]).
    // The additive mask form (the Where form parses too now, its −inf included).
    expect(stored(gptOnnx({ mask: 'additive' }))).toBe(208_320 + 65 * 64)
    expect(stored(gptOnnx({ mask: 'additive', input: 'embeddings' }))).toBe(208_320)
  })

  it('is the same model for the same seed and another for another seed', () => {
    expect(gptOnnx(TINY)).toEqual(gptOnnx(TINY))
    expect(gptOnnx(TINY)).not.toEqual(gptOnnx({ ...TINY, seed: 4 }))
  })
})
