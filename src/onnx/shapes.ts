import { sizeOf } from './graph.js'

/** Row-major strides. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1)
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1]
  return s
}

/** NumPy broadcasting of two shapes; null when incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1
    const y = b[b.length - n + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) return null
    out.push(Math.max(x, y))
  }
  return out
}

/** For each flat index of `out`, the flat index of the broadcast source element of shape `src`. */
export function broadcastIndex(src: readonly number[], out: readonly number[]): Int32Array {
  const so = strides(out)
  const ss = strides(src)
  const offset = out.length - src.length
  return Int32Array.from({ length: sizeOf(out) }, (_, o) => {
    let at = 0
    for (let d = 0; d < src.length; d++) {
      const coord = Math.floor(o / so[d + offset]) % out[d + offset]
      if (src[d] !== 1) at += coord * ss[d]
    }
    return at
  })
}

/** ONNX Reshape target: 0 copies the input dim, -1 is inferred. */
export function reshapeTarget(input: readonly number[], spec: readonly number[]): number[] | null {
  const out = spec.map((d, i) => (d === 0 ? input[i] : d))
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1)
  const missing = out.filter((d) => d === -1).length
  if (missing > 1) return null
  if (missing === 1) {
    if (sizeOf(input) % known !== 0) return null
    out[out.indexOf(-1)] = sizeOf(input) / known
  }
  return sizeOf(out) === sizeOf(input) ? out : null
}
