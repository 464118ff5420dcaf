import type { FloatAffine, FloatDiv, FloatGraph, FloatMul, FloatStep } from './graph.js'
import { sizeOf } from './graph.js'

/**
 * Attention normalised after the value product: softmax(s)·V = (Σ_j e_j·v_j) / Σ_j e_j, with
 * e = exp(s − max). The decomposed softmax (src/onnx/ops/normalization.ts) divides every score
 * by its row sum, and the MatMul with the values multiplies each probability by a value and
 * sums; here the products read e instead, and the one division by the row sum comes after the
 * sum, once per context element instead of once per score.
 *
 * Why: quantised, every probability was a product e·(1/Σe) requantised to an int8 activation
 * (about 30 constraints a score at int8, the bundled ViT's 16 tokens × 2 heads × 16 keys per
 * block), and the context, an exact product sum, was rescaled again for each reader. After the
 * rewrite e (a wide table entry) times v is exact, the row's reciprocal multiplies the sum, and
 * the context is requantised to an activation once. The float values are the same up to
 * rounding (the division distributes over the sum).
 *
 * Only the exact pattern is rewritten: a softmax division (denLo set) whose sole reader is one
 * mul, whose sole reader is one affine without bias that reads nothing else, every row of which
 * sums products of ONE softmax row. Anything else keeps the per-score division.
 */
export function normaliseAfterValues(graph: FloatGraph): FloatGraph {
  const readers = new Map<number, FloatStep[]>()
  for (const s of graph.steps)
    for (const t of new Set(s.op.inputs)) {
      const r = readers.get(t)
      if (r) r.push(s)
      else readers.set(t, [s])
    }
  const outputs = new Set(graph.outputs.map((o) => o.id))
  const sole = (id: number): FloatStep | undefined => {
    const r = readers.get(id)
    return r?.length === 1 && !outputs.has(id) ? r[0] : undefined
  }
  let nextId = [...graph.inputs, ...graph.steps].reduce((m, t) => Math.max(m, t.id), -1) + 1
  const size = new Map<number, number>(graph.inputs.map((i) => [i.id, sizeOf(i.shape)]))
  for (const s of graph.steps) size.set(s.id, sizeOf(s.shape))

  const replace = new Map<number, FloatStep[]>()
  const drop = new Set<number>()
  for (const d of graph.steps) {
    if (d.op.kind !== 'div' || d.op.denLo === undefined) continue
    const m = sole(d.id)
    const a = m && sole(m.id)
    if (m?.op.kind !== 'mul' || a?.op.kind !== 'affine') continue
    const rewrite = rewritten(
      d as FloatStep & { op: FloatDiv },
      m as FloatStep & { op: FloatMul },
      a,
      size,
      () => nextId++,
    )
    if (!rewrite) continue
    drop.add(d.id)
    drop.add(m.id)
    replace.set(a.id, rewrite)
  }
  if (replace.size === 0) return graph
  const steps = graph.steps.flatMap((s) => replace.get(s.id) ?? (drop.has(s.id) ? [] : [s]))
  return { ...graph, steps }
}

/** The mul, the affine and the division that replace the affine (its id kept), or null when the pattern does not hold. */
function rewritten(
  d: FloatStep & { op: FloatDiv },
  m: FloatStep & { op: FloatMul },
  a: FloatStep,
  size: Map<number, number>,
  fresh: () => number,
): FloatStep[] | null {
  const sum = a.op as FloatAffine
  const mul = m.op
  // The division reads [e, Σe]: numerators in e, divisors in the row sums after it.
  if (d.op.inputs.length !== 2 || d.op.inputs[0] === d.op.inputs[1]) return null
  const [e, rows] = d.op.inputs
  const eSize = size.get(e)!
  if (d.op.num.some((v) => v < 0 || v >= eSize) || d.op.den.some((v) => v < eSize)) return null
  // The affine reads only the products, adds no bias (the bias would be divided too).
  if (sum.inputs.length !== 1 || sum.bias.some((b) => b !== 0)) return null
  // The mul's operands: the probabilities on one side, something else (the values) on the other.
  if (mul.inputs.length !== 2 || mul.inputs[0] === mul.inputs[1]) return null
  const pSide = mul.inputs[0] === d.id ? 0 : mul.inputs[1] === d.id ? 1 : -1
  if (pSide < 0) return null
  const pSize = size.get(d.id)!
  const otherSize = size.get(mul.inputs[1 - pSide])!
  const pMap = pSide === 0 ? mul.left : mul.right
  const vMap = pSide === 0 ? mul.right : mul.left
  const pOffset = pSide === 0 ? 0 : otherSize
  const vOffset = pSide === 0 ? pSize : 0
  if (pMap.some((v) => v < pOffset || v >= pOffset + pSize)) return null
  if (vMap.some((v) => v < vOffset || v >= vOffset + otherSize)) return null
  // Every context element sums products of one softmax row: its divisor.
  const rowOf = (k: number) => d.op.den[pMap[sum.cols[k]] - pOffset] - eSize
  const den = new Int32Array(sum.bias.length)
  for (let r = 0; r < den.length; r++) {
    if (sum.rowPtr[r] === sum.rowPtr[r + 1]) return null
    const row = rowOf(sum.rowPtr[r])
    for (let k = sum.rowPtr[r] + 1; k < sum.rowPtr[r + 1]; k++) if (rowOf(k) !== row) return null
    den[r] = row
  }
  // e·v: the same products, their left (or right) operand e where it was e / Σe.
  const inputs = pSide === 0 ? [e, mul.inputs[1]] : [mul.inputs[0], e]
  const eMap = Int32Array.from(pMap, (v) => d.op.num[v - pOffset] + (pSide === 0 ? 0 : otherSize))
  const shifted = Int32Array.from(vMap, (v) => (pSide === 0 ? v - pSize + eSize : v))
  const products: FloatStep = {
    origin: m.origin,
    id: fresh(),
    shape: m.shape,
    op: { kind: 'mul', inputs, left: pSide === 0 ? eMap : shifted, right: pSide === 0 ? shifted : eMap },
  }
  const sums: FloatStep = { ...a, id: fresh(), op: { ...sum, inputs: [products.id] } }
  const n = sum.bias.length
  const divided: FloatStep = {
    origin: d.origin,
    id: a.id,
    shape: a.shape,
    op: {
      kind: 'div',
      inputs: [sums.id, rows],
      num: Int32Array.from({ length: n }, (_, i) => i),
      den: Int32Array.from(den, (v) => v + n),
      denLo: d.op.denLo,
    },
  }
  return [products, sums, divided]
}
