/**
 * The MNIST vision transformer's shape, parameters and float forward/backward passes, one
 * image at a time. The exported ONNX graph (models/vit-onnx.ts) computes exactly this:
 *
 *   image [side×side] → p×p patches (row-major patch order, row-major pixels in a patch)
 *   → Linear(p² → dim) + learned position embedding
 *   → blocks × [ h += proj(MHA(LN₁(h)));  h += fc₂(GELU(fc₁(LN₂(h)))) ]   (pre-LN)
 *   → mean over patches → LayerNorm → Linear(dim → classes)
 *
 * Attention per head: softmax(Q·Kᵀ/√(dim/heads))·V. Mean pooling rather than a class token
 * keeps the graph free of Concat and normalises one row, not one per patch, at the end.
 * The backward pass is in models/vit-backward.ts.
 */
import { dense, gaussian, gelu, layerNorm, softmaxRows } from './vit-ops.js'

export interface VitConfig {
  /** Image side in pixels (square, one channel). */
  side: number
  /** Patch side in pixels; divides `side`. */
  patch: number
  dim: number
  heads: number
  /** Hidden width of each block's MLP. */
  mlp: number
  blocks: number
  classes: number
}

/** The bundled model: 16 patches of 7×7, width 32, 2 heads, MLP 64, one block. */
export const MNIST_VIT: VitConfig = { side: 28, patch: 7, dim: 32, heads: 2, mlp: 64, blocks: 1, classes: 10 }

export const tokensOf = (c: VitConfig) => (c.side / c.patch) ** 2
export const patchPixelsOf = (c: VitConfig) => c.patch * c.patch

/** One transformer block's tensors; dense weights are [in, out] (ONNX MatMul layout). */
export interface VitBlockOf<T> {
  ln1Scale: T
  ln1Bias: T
  qWeight: T
  qBias: T
  kWeight: T
  kBias: T
  vWeight: T
  vBias: T
  projWeight: T
  projBias: T
  ln2Scale: T
  ln2Bias: T
  fc1Weight: T
  fc1Bias: T
  fc2Weight: T
  fc2Bias: T
}

export interface VitOf<T> {
  patchWeight: T
  patchBias: T
  /** [tokens, dim] */
  pos: T
  blocks: VitBlockOf<T>[]
  normScale: T
  normBias: T
  headWeight: T
  headBias: T
}

export type Vit = VitOf<Float32Array>

export interface NamedTensor<T> {
  /** The ONNX initializer name, PyTorch style (`blocks.0.attn.q.weight`). */
  name: string
  dims: number[]
  data: T
}

/** Every tensor with its ONNX name and shape, in one fixed order (export, optimiser, tests). */
export function vitTensors<T>(c: VitConfig, m: VitOf<T>): NamedTensor<T>[] {
  const { dim: d, mlp, classes } = c
  const t = (name: string, dims: number[], data: T) => ({ name, dims, data })
  return [
    t('patch_embed.weight', [patchPixelsOf(c), d], m.patchWeight),
    t('patch_embed.bias', [d], m.patchBias),
    t('pos_embed', [1, tokensOf(c), d], m.pos),
    ...m.blocks.flatMap((b, i) => [
      t(`blocks.${i}.norm1.weight`, [d], b.ln1Scale),
      t(`blocks.${i}.norm1.bias`, [d], b.ln1Bias),
      t(`blocks.${i}.attn.q.weight`, [d, d], b.qWeight),
      t(`blocks.${i}.attn.q.bias`, [d], b.qBias),
      t(`blocks.${i}.attn.k.weight`, [d, d], b.kWeight),
      t(`blocks.${i}.attn.k.bias`, [d], b.kBias),
      t(`blocks.${i}.attn.v.weight`, [d, d], b.vWeight),
      t(`blocks.${i}.attn.v.bias`, [d], b.vBias),
      t(`blocks.${i}.attn.proj.weight`, [d, d], b.projWeight),
      t(`blocks.${i}.attn.proj.bias`, [d], b.projBias),
      t(`blocks.${i}.norm2.weight`, [d], b.ln2Scale),
      t(`blocks.${i}.norm2.bias`, [d], b.ln2Bias),
      t(`blocks.${i}.mlp.fc1.weight`, [d, mlp], b.fc1Weight),
      t(`blocks.${i}.mlp.fc1.bias`, [mlp], b.fc1Bias),
      t(`blocks.${i}.mlp.fc2.weight`, [mlp, d], b.fc2Weight),
      t(`blocks.${i}.mlp.fc2.bias`, [d], b.fc2Bias),
    ]),
    t('fc_norm.weight', [d], m.normScale),
    t('fc_norm.bias', [d], m.normBias),
    t('head.weight', [d, classes], m.headWeight),
    t('head.bias', [classes], m.headBias),
  ]
}

/** The same model shape with every tensor mapped by `f` (e.g. to its gradient). */
export function mapVit<T, U>(m: VitOf<T>, f: (t: T) => U): VitOf<U> {
  const mapObject = <O extends object>(o: O) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as T)])) as unknown
  const { blocks, ...rest } = m
  return { ...(mapObject(rest) as Omit<VitOf<U>, 'blocks'>), blocks: blocks.map((b) => mapObject(b) as VitBlockOf<U>) }
}

export const vitParameterCount = (c: VitConfig, m: Vit) => vitTensors(c, m).reduce((n, t) => n + t.data.length, 0)

/**
 * LeCun-normal dense weights (std 1/√fanIn: no ReLU, so not He's √2), position embedding
 * std 0.02 as in ViT, LayerNorm γ = 1 and every bias and β = 0.
 */
export function initVit(c: VitConfig, random: () => number): Vit {
  const normal = gaussian(random)
  const { dim: d, mlp } = c
  const weights = (fanIn: number, n: number) => Float32Array.from({ length: n }, () => normal() / Math.sqrt(fanIn))
  const zeros = (n: number) => new Float32Array(n)
  const ones = (n: number) => new Float32Array(n).fill(1)
  return {
    patchWeight: weights(patchPixelsOf(c), patchPixelsOf(c) * d),
    patchBias: zeros(d),
    pos: Float32Array.from({ length: tokensOf(c) * d }, () => 0.02 * normal()),
    blocks: Array.from({ length: c.blocks }, () => ({
      ln1Scale: ones(d),
      ln1Bias: zeros(d),
      qWeight: weights(d, d * d),
      qBias: zeros(d),
      kWeight: weights(d, d * d),
      kBias: zeros(d),
      vWeight: weights(d, d * d),
      vBias: zeros(d),
      projWeight: weights(d, d * d),
      projBias: zeros(d),
      ln2Scale: ones(d),
      ln2Bias: zeros(d),
      fc1Weight: weights(d, d * mlp),
      fc1Bias: zeros(mlp),
      fc2Weight: weights(mlp, mlp * d),
      fc2Bias: zeros(d),
    })),
    normScale: ones(d),
    normBias: zeros(d),
    headWeight: weights(d, d * c.classes),
    headBias: zeros(c.classes),
  }
}

/** One block's saved activations (the backward pass reads them) and its gradient scratch. */
export class BlockCache {
  readonly input: Float64Array
  readonly ln1: Float64Array
  readonly xhat1: Float64Array
  readonly inv1: Float64Array
  readonly q: Float64Array
  readonly k: Float64Array
  readonly v: Float64Array
  /** [heads, tokens, tokens] attention probabilities. */
  readonly p: Float64Array
  readonly o: Float64Array
  readonly mid: Float64Array
  readonly ln2: Float64Array
  readonly xhat2: Float64Array
  readonly inv2: Float64Array
  readonly f: Float64Array
  readonly g: Float64Array
  readonly output: Float64Array
  constructor(n: number, d: number, heads: number, mlp: number) {
    const a = (size: number) => new Float64Array(size)
    this.input = a(n * d)
    this.ln1 = a(n * d)
    this.xhat1 = a(n * d)
    this.inv1 = a(n)
    this.q = a(n * d)
    this.k = a(n * d)
    this.v = a(n * d)
    this.p = a(heads * n * n)
    this.o = a(n * d)
    this.mid = a(n * d)
    this.ln2 = a(n * d)
    this.xhat2 = a(n * d)
    this.inv2 = a(n)
    this.f = a(n * mlp)
    this.g = a(n * mlp)
    this.output = a(n * d)
  }
}

/** Every activation of one forward pass, reused across images (no allocation per sample). */
export class VitWorkspace {
  readonly patches: Float64Array
  readonly blocks: BlockCache[]
  readonly pooled: Float64Array
  readonly normed: Float64Array
  readonly xhatF: Float64Array
  readonly invF = new Float64Array(1)
  readonly logits: Float64Array
  // Gradient scratch.
  readonly dh: Float64Array
  readonly dMid: Float64Array
  readonly dTokens: Float64Array
  readonly dTokens2: Float64Array
  readonly dq: Float64Array
  readonly dk: Float64Array
  readonly dv: Float64Array
  readonly dp: Float64Array
  readonly dHidden: Float64Array
  readonly dNormed: Float64Array
  readonly dPooled: Float64Array
  readonly dLogits: Float64Array
  constructor(readonly config: VitConfig) {
    const n = tokensOf(config)
    const { dim: d, heads, mlp, classes } = config
    const a = (size: number) => new Float64Array(size)
    this.patches = a(n * patchPixelsOf(config))
    this.blocks = Array.from({ length: config.blocks }, () => new BlockCache(n, d, heads, mlp))
    this.pooled = a(d)
    this.normed = a(d)
    this.xhatF = a(d)
    this.logits = a(classes)
    this.dh = a(n * d)
    this.dMid = a(n * d)
    this.dTokens = a(n * d)
    this.dTokens2 = a(n * d)
    this.dq = a(n * d)
    this.dk = a(n * d)
    this.dv = a(n * d)
    this.dp = a(heads * n * n)
    this.dHidden = a(n * mlp)
    this.dNormed = a(d)
    this.dPooled = a(d)
    this.dLogits = a(classes)
  }
}

/** Patch t = (row, col) of the grid, pixel (ky, kx) inside it: the ONNX Reshape → Transpose → Reshape. */
function extractPatches(c: VitConfig, pixels: Float32Array, out: Float64Array): void {
  const grid = c.side / c.patch
  const pp = patchPixelsOf(c)
  for (let py = 0; py < grid; py++)
    for (let px = 0; px < grid; px++)
      for (let ky = 0; ky < c.patch; ky++)
        for (let kx = 0; kx < c.patch; kx++)
          out[(py * grid + px) * pp + ky * c.patch + kx] = pixels[(py * c.patch + ky) * c.side + px * c.patch + kx]
}

function attention(c: VitConfig, bc: BlockCache): void {
  const n = tokensOf(c)
  const { dim: d, heads } = c
  const hd = d / heads
  const scale = 1 / Math.sqrt(hd)
  const { q, k, v, p, o } = bc
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let e = 0; e < hd; e++) s += q[i * d + h * hd + e] * k[j * d + h * hd + e]
        p[(h * n + i) * n + j] = s * scale
      }
    }
  }
  softmaxRows(p, heads * n, n)
  o.fill(0)
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const w = p[(h * n + i) * n + j]
        for (let e = 0; e < hd; e++) o[i * d + h * hd + e] += w * v[j * d + h * hd + e]
      }
}

function blockForward(c: VitConfig, b: VitBlockOf<Float32Array>, bc: BlockCache): void {
  const n = tokensOf(c)
  const { dim: d, mlp } = c
  layerNorm(bc.input, n, d, b.ln1Scale, b.ln1Bias, bc.ln1, bc.xhat1, bc.inv1)
  dense(bc.ln1, n, d, b.qWeight, b.qBias, d, bc.q)
  dense(bc.ln1, n, d, b.kWeight, b.kBias, d, bc.k)
  dense(bc.ln1, n, d, b.vWeight, b.vBias, d, bc.v)
  attention(c, bc)
  dense(bc.o, n, d, b.projWeight, b.projBias, d, bc.mid)
  for (let i = 0; i < n * d; i++) bc.mid[i] += bc.input[i]
  layerNorm(bc.mid, n, d, b.ln2Scale, b.ln2Bias, bc.ln2, bc.xhat2, bc.inv2)
  dense(bc.ln2, n, d, b.fc1Weight, b.fc1Bias, mlp, bc.f)
  for (let i = 0; i < n * mlp; i++) bc.g[i] = gelu(bc.f[i])
  dense(bc.g, n, mlp, b.fc2Weight, b.fc2Bias, d, bc.output)
  for (let i = 0; i < n * d; i++) bc.output[i] += bc.mid[i]
}

/** The class logits of one image (a view into the workspace, overwritten by the next call). */
export function vitForward(m: Vit, pixels: Float32Array, ws: VitWorkspace): Float64Array {
  const c = ws.config
  const n = tokensOf(c)
  const d = c.dim
  extractPatches(c, pixels, ws.patches)
  let h = dense(ws.patches, n, patchPixelsOf(c), m.patchWeight, m.patchBias, d, ws.blocks[0].input)
  for (let i = 0; i < n * d; i++) h[i] += m.pos[i]
  m.blocks.forEach((b, i) => {
    const bc = ws.blocks[i]
    if (bc.input !== h) bc.input.set(h)
    blockForward(c, b, bc)
    h = bc.output
  })
  ws.pooled.fill(0)
  for (let t = 0; t < n; t++) for (let e = 0; e < d; e++) ws.pooled[e] += h[t * d + e] / n
  layerNorm(ws.pooled, 1, d, m.normScale, m.normBias, ws.normed, ws.xhatF, ws.invF)
  return dense(ws.normed, 1, d, m.headWeight, m.headBias, c.classes, ws.logits)
}
