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

/** Coordinates of flat index `o` in a row-major shape. */
export function unravel(o: number, shape: readonly number[], st: readonly number[] = strides(shape)): number[] {
  return shape.map((d, i) => Math.floor(o / st[i]) % d)
}

export type AutoPad = 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER'

/** Sliding-window geometry shared by Conv and the pools (floor mode), per spatial dimension. */
export interface Window {
  input: number[]
  kernel: number[]
  strides: number[]
  dilations: number[]
  padsBegin: number[]
  out: number[]
}

/**
 * ONNX window geometry. `pads` is [x1_begin, x2_begin, …, x1_end, x2_end, …]; auto_pad SAME_*
 * pads so that out = ceil(in / stride), the odd extra pad at the end (UPPER) or the
 * beginning (LOWER). Returns null when a window does not fit.
 */
export function windowGeometry(
  input: number[],
  kernel: number[],
  stride: number[],
  dilations: number[],
  pads: number[],
  autoPad: AutoPad,
): Window | null {
  const r = input.length
  const padsBegin: number[] = []
  const out: number[] = []
  for (let i = 0; i < r; i++) {
    const span = dilations[i] * (kernel[i] - 1) + 1
    let begin = pads[i],
      end = pads[i + r]
    if (autoPad === 'VALID') begin = end = 0
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = Math.max(0, (Math.ceil(input[i] / stride[i]) - 1) * stride[i] + span - input[i])
      begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2)
      end = total - begin
    }
    const o = Math.floor((input[i] + begin + end - span) / stride[i]) + 1
    if (!(o >= 1)) return null
    padsBegin.push(begin)
    out.push(o)
  }
  return { input, kernel, strides: stride, dilations, padsBegin, out }
}

/**
 * taps[p·K + q]: the flat input position (over the spatial dims) read by kernel position q
 * of output position p, or -1 where it falls in the padding.
 */
export function windowTaps(w: Window): Int32Array {
  const K = sizeOf(w.kernel),
    P = sizeOf(w.out)
  const taps = new Int32Array(P * K)
  const so = strides(w.out),
    sk = strides(w.kernel),
    si = strides(w.input)
  for (let p = 0; p < P; p++) {
    const pc = unravel(p, w.out, so)
    for (let q = 0; q < K; q++) {
      const qc = unravel(q, w.kernel, sk)
      let at = 0
      for (let i = 0; i < pc.length && at >= 0; i++) {
        const x = pc[i] * w.strides[i] - w.padsBegin[i] + qc[i] * w.dilations[i]
        at = x >= 0 && x < w.input[i] ? at + x * si[i] : -1
      }
      taps[p * K + q] = at
    }
  }
  return taps
}
