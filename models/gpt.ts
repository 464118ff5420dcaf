/**
 * A nanoGPT-shaped decoder as ONNX, with seeded random weights (no training): the fixture for
 * issue 16's GPT measurements. The graph is what `torch.onnx.export` writes for Karpathy's
 * nanoGPT `GPT` at opset 17:
 *
 *   token ids [1, T] → Gather(wte) + wpe
 *   → layers × [ x += c_proj(causal MHA(ln_1(x)));  x += mlp.c_proj(GELU(mlp.c_fc(ln_2(x)))) ]
 *   → ln_f → lm_head (wteᵀ, tied, no bias) → logits [1, T, vocab]
 *
 * Attention: c_attn is one Linear(embd → 3·embd) Split into q, k, v; scores Q·Kᵀ scaled by a
 * Mul; the causal mask as nanoGPT's `masked_fill` exports it, Where(lower-triangular constant,
 * scores, −inf), or as an additive constant mask (0 / float32 min, as Hugging Face models do).
 * With `input: 'ids'` (the default) the input is int64 token ids [1, T], which veriml imports as
 * one lookup per column of wte (src/onnx/ops/embedding.ts). With `input: 'embeddings'` the graph
 * starts from the token embeddings [1, T, embd] (what the Gather would give): a float input, for
 * tests that calibrate from random floats.
 */
import { buildModel } from '../src/onnx/write.js'
import { seededRandom } from './mnist-data.js'
import { GraphBuilder } from './vit-graph.js'
import { dense, gaussian, gelu, layerNorm, softmaxRows } from './vit-ops.js'

export interface GptConfig {
  /** Sequence length T: the model's input is always exactly this long. */
  block: number
  vocab: number
  layers: number
  heads: number
  embd: number
  seed: number
  input: 'ids' | 'embeddings'
  /**
   * 'where': Where(causal, scores, −inf), nanoGPT's masked_fill as exported (veriml maps the
   * −inf to its finite MASK_FILL); 'additive': scores + (0 | float32 min), finite.
   */
  mask: 'where' | 'additive'
}

/** nanoGPT's shakespeare-char shape at issue 16's size. */
export const GPT_DEFAULTS: GptConfig = {
  block: 64,
  vocab: 65,
  layers: 4,
  heads: 4,
  embd: 64,
  seed: 1,
  input: 'ids',
  mask: 'where',
}

export const GPT_OPSET = 17
export const GPT_OUTPUT = 'logits'
export const gptInputName = (c: Pick<GptConfig, 'input'>) => (c.input === 'ids' ? 'input_ids' : 'inputs_embeds')

/** The additive mask's "minus infinity": float32's lowest finite value, as Hugging Face uses. */
const FLOAT32_MIN = -3.4028234663852886e38

export interface GptLayer {
  ln1Weight: Float32Array
  ln1Bias: Float32Array
  /** [embd, 3·embd]: q, k, v side by side. */
  attnWeight: Float32Array
  attnBias: Float32Array
  projWeight: Float32Array
  projBias: Float32Array
  ln2Weight: Float32Array
  ln2Bias: Float32Array
  fcWeight: Float32Array
  fcBias: Float32Array
  mlpProjWeight: Float32Array
  mlpProjBias: Float32Array
}

export interface GptWeights {
  /** [vocab, embd]; lm_head is its transpose (weight tying, as nanoGPT). */
  wte: Float32Array
  /** [block, embd] */
  wpe: Float32Array
  layers: GptLayer[]
  lnfWeight: Float32Array
  lnfBias: Float32Array
}

/**
 * Seeded weights: embeddings N(0, 1) (PyTorch's nn.Embedding default), Linear weights N(0, 1/fanIn),
 * and — unlike a fresh nanoGPT — biases and LayerNorm γ, β drawn too, away from 0 and 1, so a
 * mis-wired bias or norm parameter changes the logits a test compares.
 */
export function gptWeights(c: GptConfig): GptWeights {
  const normal = gaussian(seededRandom(c.seed))
  const e = c.embd
  const draw = (n: number, std: number, mean = 0) => Float32Array.from({ length: n }, () => mean + std * normal())
  const linear = (fanIn: number, fanOut: number) => draw(fanIn * fanOut, 1 / Math.sqrt(fanIn))
  return {
    wte: draw(c.vocab * e, 1),
    wpe: draw(c.block * e, 1),
    layers: Array.from({ length: c.layers }, () => ({
      ln1Weight: draw(e, 0.1, 1),
      ln1Bias: draw(e, 0.1),
      attnWeight: linear(e, 3 * e),
      attnBias: draw(3 * e, 0.02),
      projWeight: linear(e, e),
      projBias: draw(e, 0.02),
      ln2Weight: draw(e, 0.1, 1),
      ln2Bias: draw(e, 0.1),
      fcWeight: linear(e, 4 * e),
      fcBias: draw(4 * e, 0.02),
      mlpProjWeight: linear(4 * e, e),
      mlpProjBias: draw(e, 0.02),
    })),
    lnfWeight: draw(e, 0.1, 1),
    lnfBias: draw(e, 0.1),
  }
}

/** Distinct parameters, lm_head counted once with wte (nanoGPT's count with non_embedding=False). */
export const gptParameterCount = (c: Pick<GptConfig, 'block' | 'vocab' | 'layers' | 'embd'>) =>
  c.vocab * c.embd + c.block * c.embd + c.layers * (12 * c.embd * c.embd + 13 * c.embd) + 2 * c.embd

const transpose = (m: Float32Array, rows: number, cols: number) => {
  const t = new Float32Array(m.length)
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) t[k * rows + r] = m[r * cols + k]
  return t
}

function initializers(c: GptConfig, w: GptWeights) {
  const e = c.embd
  const t = (name: string, dims: number[], data: Float32Array) => ({ name, dims, data })
  return [
    ...(c.input === 'ids' ? [t('transformer.wte.weight', [c.vocab, e], w.wte)] : []),
    t('transformer.wpe.weight', [c.block, e], w.wpe),
    ...w.layers.flatMap((l, i) => {
      const p = `transformer.h.${i}`
      return [
        t(`${p}.ln_1.weight`, [e], l.ln1Weight),
        t(`${p}.ln_1.bias`, [e], l.ln1Bias),
        t(`${p}.attn.c_attn.weight`, [e, 3 * e], l.attnWeight),
        t(`${p}.attn.c_attn.bias`, [3 * e], l.attnBias),
        t(`${p}.attn.c_proj.weight`, [e, e], l.projWeight),
        t(`${p}.attn.c_proj.bias`, [e], l.projBias),
        t(`${p}.ln_2.weight`, [e], l.ln2Weight),
        t(`${p}.ln_2.bias`, [e], l.ln2Bias),
        t(`${p}.mlp.c_fc.weight`, [e, 4 * e], l.fcWeight),
        t(`${p}.mlp.c_fc.bias`, [4 * e], l.fcBias),
        t(`${p}.mlp.c_proj.weight`, [4 * e, e], l.mlpProjWeight),
        t(`${p}.mlp.c_proj.bias`, [e], l.mlpProjBias),
      ]
    }),
    t('transformer.ln_f.weight', [e], w.lnfWeight),
    t('transformer.ln_f.bias', [e], w.lnfBias),
    // Tied to wte in PyTorch; the export writes the transposed copy MatMul reads.
    t('lm_head.weight', [e, c.vocab], transpose(w.wte, c.vocab, e)),
  ]
}

function causalAttention(g: GraphBuilder, c: GptConfig, p: string, x: string): string {
  const qkv = g.linear(`${p}.c_attn`, x)
  const names = ['q', 'k', 'v'].map((s) => `${p}.split.${s}`)
  g.nodes.push({
    op: 'Split',
    name: `${p}.split`,
    inputs: [qkv, 'const.split'],
    outputs: names,
    attributes: { axis: { int: 2 } },
  })
  // [1, T, embd] → [1, T, heads, hd] → the permutation `perm` (heads first).
  const heads = (i: number, perm: number[]) => {
    const perHead = g.node('Reshape', `${names[i]}.reshape`, [names[i], 'shape.heads'])
    return g.node('Transpose', `${names[i]}.heads`, [perHead], { perm: { ints: perm } })
  }
  const q = heads(0, [0, 2, 1, 3]) // [1, heads, T, hd]
  const kT = heads(1, [0, 2, 3, 1]) // [1, heads, hd, T]
  const v = heads(2, [0, 2, 1, 3])
  const scores = g.node('Mul', `${p}.scale`, [g.node('MatMul', `${p}.scores`, [q, kT]), 'const.scale'])
  const masked =
    c.mask === 'where'
      ? g.node('Where', `${p}.mask`, ['const.causal', scores, 'const.neg_inf'])
      : g.node('Add', `${p}.mask`, [scores, 'const.causal_add'])
  const probs = g.node('Softmax', `${p}.softmax`, [masked], { axis: { int: -1 } })
  const context = g.node('MatMul', `${p}.context`, [probs, v])
  const merged = g.node('Reshape', `${p}.merge`, [
    g.node('Transpose', `${p}.merge.transpose`, [context], { perm: { ints: [0, 2, 1, 3] } }),
    'shape.tokens',
  ])
  return g.linear(`${p}.c_proj`, merged)
}

/** Graph-level constants: shapes, the split sizes, the 1/√hd scale and the causal mask. */
function addConstants(g: GraphBuilder, c: GptConfig): void {
  const t = c.block
  g.shape('shape.heads', [1, t, c.heads, c.embd / c.heads])
  g.shape('shape.tokens', [1, t, c.embd])
  g.shape('const.split', [c.embd, c.embd, c.embd])
  g.scalar('const.scale', 1 / Math.sqrt(c.embd / c.heads))
  const below = (k: number) => Math.floor(k / t) >= k % t // row i sees columns j ≤ i
  if (c.mask === 'where') {
    g.constants.push({
      name: 'const.causal',
      dims: [1, 1, t, t],
      type: 'bool',
      data: Uint8Array.from({ length: t * t }, (_, k) => (below(k) ? 1 : 0)),
    })
    g.scalar('const.neg_inf', Number.NEGATIVE_INFINITY)
  } else {
    g.constants.push({
      name: 'const.causal_add',
      dims: [1, 1, t, t],
      data: Float32Array.from({ length: t * t }, (_, k) => (below(k) ? 0 : FLOAT32_MIN)),
    })
  }
}

export type GptOnnxParameters = Partial<GptConfig>

/** ONNX bytes of the decoder; the same parameters give the same bytes. */
export function gptOnnx(parameters: GptOnnxParameters = {}): Uint8Array {
  const c = { ...GPT_DEFAULTS, ...parameters }
  const g = new GraphBuilder()
  addConstants(g, c)
  const input = gptInputName(c)
  const tokens =
    c.input === 'ids'
      ? g.node('Gather', 'transformer.wte', ['transformer.wte.weight', input], { axis: { int: 0 } })
      : input
  let x = g.node('Add', 'transformer.wpe.add', [tokens, 'transformer.wpe.weight'])
  for (let i = 0; i < c.layers; i++) {
    const p = `transformer.h.${i}`
    x = g.node('Add', `${p}.attn.residual`, [x, causalAttention(g, c, `${p}.attn`, g.layerNorm(`${p}.ln_1`, x))])
    const hidden = g.gelu(`${p}.mlp.gelu`, g.linear(`${p}.mlp.c_fc`, g.layerNorm(`${p}.ln_2`, x)))
    x = g.node('Add', `${p}.mlp.residual`, [x, g.linear(`${p}.mlp.c_proj`, hidden)])
  }
  g.matmul('lm_head', g.layerNorm('transformer.ln_f', x), GPT_OUTPUT)
  const shape = `vocab ${c.vocab}, block ${c.block}, ${c.layers} layers, ${c.heads} heads, embd ${c.embd}`
  return buildModel({
    name: 'nanogpt',
    opset: GPT_OPSET,
    inputs: [
      c.input === 'ids'
        ? { name: input, shape: [1, c.block], type: 'int64' }
        : { name: input, shape: [1, c.block, c.embd] },
    ],
    outputs: [{ name: GPT_OUTPUT, shape: [1, c.block, c.vocab] }],
    initializers: [...initializers(c, gptWeights(c)), ...g.constants],
    nodes: g.nodes,
    docString: `veriml nanoGPT-shaped decoder (${shape}), seeded random weights, by models/gpt.ts`,
    metadata: { seed: String(c.seed), generator: 'models/gpt.ts', input: c.input, mask: c.mask },
  })
}

/**
 * The decoder's float forward pass in TypeScript, the reference the ONNX file is tested
 * against: logits [T·vocab], row-major. `input` is T token ids or T·embd token embeddings.
 */
export function gptForward(c: GptConfig, w: GptWeights, input: ArrayLike<number>): Float64Array {
  const { block: t, embd: e, heads } = c
  const hd = e / heads
  const a = (n: number) => new Float64Array(n)
  const x = a(t * e)
  for (let i = 0; i < t; i++)
    for (let k = 0; k < e; k++)
      x[i * e + k] = (c.input === 'ids' ? w.wte[input[i] * e + k] : input[i * e + k]) + w.wpe[i * e + k]
  const [ln, xhat, inv] = [a(t * e), a(t * e), a(t)]
  const [qkv, ctx, out, hidden] = [a(t * 3 * e), a(t * e), a(t * e), a(t * 4 * e)]
  const scores = a(t)
  for (const l of w.layers) {
    dense(layerNorm(x, t, e, l.ln1Weight, l.ln1Bias, ln, xhat, inv), t, e, l.attnWeight, l.attnBias, 3 * e, qkv)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < t; i++) {
        for (let j = 0; j < t; j++) {
          let s = 0
          for (let d = 0; d < hd; d++) s += qkv[i * 3 * e + h * hd + d] * qkv[j * 3 * e + e + h * hd + d]
          scores[j] = j <= i ? s / Math.sqrt(hd) : Number.NEGATIVE_INFINITY
        }
        softmaxRows(scores, 1, t)
        for (let d = 0; d < hd; d++) {
          let s = 0
          for (let j = 0; j <= i; j++) s += scores[j] * qkv[j * 3 * e + 2 * e + h * hd + d]
          ctx[i * e + h * hd + d] = s
        }
      }
    dense(ctx, t, e, l.projWeight, l.projBias, e, out)
    for (let k = 0; k < t * e; k++) x[k] += out[k]
    dense(layerNorm(x, t, e, l.ln2Weight, l.ln2Bias, ln, xhat, inv), t, e, l.fcWeight, l.fcBias, 4 * e, hidden)
    for (let k = 0; k < hidden.length; k++) hidden[k] = gelu(hidden[k])
    dense(hidden, t, 4 * e, l.mlpProjWeight, l.mlpProjBias, e, out)
    for (let k = 0; k < t * e; k++) x[k] += out[k]
  }
  layerNorm(x, t, e, w.lnfWeight, w.lnfBias, ln, xhat, inv)
  return dense(ln, t, e, transpose(w.wte, c.vocab, e), null, c.vocab, a(t * c.vocab))
}
