/**
 * Float building blocks of the transformers in models/ (the MNIST ViT trainer and the seeded
 * nanoGPT-shaped generator): dense layers, LayerNorm, softmax and the exact (erf) GELU, each
 * forward and, where training needs it, backward. Row-major arrays, one sample at a time;
 * activations in float64, weights in float32 as the ONNX file stores them.
 */

/** ONNX LayerNormalization's default epsilon, which PyTorch's nn.LayerNorm also uses. */
export const LAYER_NORM_EPSILON = 1e-5

const SQRT1_2 = Math.SQRT1_2
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)
/** Below this |x| the Maclaurin series of erf is summed; above it the continued fraction of erfc. */
const ERF_SERIES_LIMIT = 2.5

/**
 * erf(x) to about 1e-15 (JavaScript has none). The series converges for every x but cancels
 * badly for large |x|, where the continued fraction of erfc converges fast instead; both
 * branches agree to float64 precision at the switch, so the finite-difference test of GELU's
 * gradient sees a smooth function.
 */
export function erf(x: number): number {
  const a = Math.abs(x)
  if (a < ERF_SERIES_LIMIT) {
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    const x2 = x * x
    let term = x
    let sum = x
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n
      const add = term / (2 * n + 1)
      sum += add
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break
    }
    return (2 / Math.sqrt(Math.PI)) * sum
  }
  // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …))))), evaluated from the tail.
  let f = a
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f
  return x > 0 ? 1 - erfc : erfc - 1
}

/** Exact GELU as PyTorch's nn.GELU() computes it: x·½·(1 + erf(x/√2)). */
export const gelu = (x: number) => 0.5 * x * (1 + erf(x * SQRT1_2))

/** d gelu / dx = Φ(x) + x·φ(x). */
export const geluGrad = (x: number) => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)

/** out[r, o] = b[o] + Σ_i x[r, i]·w[i, o]: a PyTorch Linear exported as MatMul (w is [in, out]) + Add. */
export function dense(
  x: Float64Array,
  rows: number,
  inDim: number,
  w: Float32Array,
  b: Float32Array | null,
  outDim: number,
  out: Float64Array,
): Float64Array {
  for (let r = 0; r < rows; r++) {
    const o0 = r * outDim
    for (let o = 0; o < outDim; o++) out[o0 + o] = b ? b[o] : 0
    for (let i = 0; i < inDim; i++) {
      const xi = x[r * inDim + i]
      if (xi === 0) continue
      const w0 = i * outDim
      for (let o = 0; o < outDim; o++) out[o0 + o] += xi * w[w0 + o]
    }
  }
  return out
}

/**
 * Gradients of `dense`: accumulates into gw (and gb) and, when given, into dx (so the input
 * gradients of several layers reading one tensor add up). x is the input the forward pass saw.
 */
export function denseBackward(
  x: Float64Array,
  dy: Float64Array,
  rows: number,
  inDim: number,
  outDim: number,
  w: Float32Array,
  gw: Float64Array | Float32Array,
  gb: Float64Array | Float32Array | null,
  dx: Float64Array | null,
): void {
  for (let r = 0; r < rows; r++) {
    const o0 = r * outDim
    if (gb) for (let o = 0; o < outDim; o++) gb[o] += dy[o0 + o]
    for (let i = 0; i < inDim; i++) {
      const xi = x[r * inDim + i]
      const w0 = i * outDim
      let acc = 0
      for (let o = 0; o < outDim; o++) {
        const d = dy[o0 + o]
        gw[w0 + o] += xi * d
        acc += d * w[w0 + o]
      }
      if (dx) dx[r * inDim + i] += acc
    }
  }
}

/**
 * LayerNorm over the last axis of `rows` rows of `dim`: y = x̂·γ + β, x̂ = (x − mean)/√(var + ε),
 * var biased (as ONNX and PyTorch). Saves x̂ and 1/√(var + ε) per row for the backward pass.
 */
export function layerNorm(
  x: Float64Array,
  rows: number,
  dim: number,
  gamma: Float32Array,
  beta: Float32Array,
  y: Float64Array,
  xhat: Float64Array,
  invStd: Float64Array,
): Float64Array {
  for (let r = 0; r < rows; r++) {
    const r0 = r * dim
    let mean = 0
    for (let i = 0; i < dim; i++) mean += x[r0 + i]
    mean /= dim
    let variance = 0
    for (let i = 0; i < dim; i++) variance += (x[r0 + i] - mean) ** 2
    variance /= dim
    const inv = 1 / Math.sqrt(variance + LAYER_NORM_EPSILON)
    invStd[r] = inv
    for (let i = 0; i < dim; i++) {
      const h = (x[r0 + i] - mean) * inv
      xhat[r0 + i] = h
      y[r0 + i] = h * gamma[i] + beta[i]
    }
  }
  return y
}

/** dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ; accumulates dγ and dβ. */
export function layerNormBackward(
  dy: Float64Array,
  rows: number,
  dim: number,
  gamma: Float32Array,
  xhat: Float64Array,
  invStd: Float64Array,
  gGamma: Float64Array | Float32Array,
  gBeta: Float64Array | Float32Array,
  dx: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const r0 = r * dim
    let sum = 0
    let dot = 0
    for (let i = 0; i < dim; i++) {
      const d = dy[r0 + i]
      gGamma[i] += d * xhat[r0 + i]
      gBeta[i] += d
      const dh = d * gamma[i]
      sum += dh
      dot += dh * xhat[r0 + i]
    }
    for (let i = 0; i < dim; i++) {
      const dh = dy[r0 + i] * gamma[i]
      dx[r0 + i] = invStd[r] * (dh - sum / dim - (xhat[r0 + i] * dot) / dim)
    }
  }
}

/** Softmax of each row in place, after subtracting the row maximum (as onnxruntime does). */
export function softmaxRows(v: Float64Array, rows: number, dim: number): Float64Array {
  for (let r = 0; r < rows; r++) {
    const r0 = r * dim
    let max = -Infinity
    for (let i = 0; i < dim; i++) if (v[r0 + i] > max) max = v[r0 + i]
    let sum = 0
    for (let i = 0; i < dim; i++) sum += v[r0 + i] = Math.exp(v[r0 + i] - max)
    for (let i = 0; i < dim; i++) v[r0 + i] /= sum
  }
  return v
}

/** ds = p ⊙ (dp − Σ p·dp) per row, written into dp. */
export function softmaxRowsBackward(p: Float64Array, dp: Float64Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    const r0 = r * dim
    let dot = 0
    for (let i = 0; i < dim; i++) dot += p[r0 + i] * dp[r0 + i]
    for (let i = 0; i < dim; i++) dp[r0 + i] = p[r0 + i] * (dp[r0 + i] - dot)
  }
}

/** Standard normals from a seeded uniform generator (Box–Muller; 1 − u keeps log away from 0). */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}
