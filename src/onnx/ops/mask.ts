import { broadcastIndex, broadcastShapes } from '../shapes.js'
import { ofBinaryInput } from './input-mask.js'
import { MASK_FILL, maskFill } from './mask-fill.js'
import { type Handler, LoweringError, type Sym, attrNum, need, needConst, remap, shapeOf, sumPlaced } from './common.js'

export { MASK_FILL, maskFill } from './mask-fill.js'

/**
 * Where(cond, X, Y) with a constant condition: a gather picking each element from X or Y (the
 * masked_fill pattern, Y often a mask constant). A condition that depends on the model input
 * would make the circuit's wiring depend on the data: refused, except when it and X and Y are
 * functions of one element of a 0/1 attention mask input (src/onnx/ops/input-mask.ts).
 */
export const Where: Handler = (ctx, [c, x, y]) => {
  const cond = need(ctx, c, 'condition')
  if (cond.kind !== 'const') {
    // Hugging Face's masked_fill on an attention mask: a function of one 0/1 element per position.
    const X = need(ctx, x, 'input X'),
      Y = need(ctx, y, 'input Y')
    const shape = broadcastShapes(broadcastShapes(shapeOf(cond), shapeOf(X)) ?? [-1], shapeOf(Y))
    const onMask =
      shape && !shape.includes(-1) && ofBinaryInput(ctx, [cond, X, Y], shape, ([k, p, q]) => (k !== 0 ? p : q))
    if (onMask) return [onMask]
    throw new LoweringError({
      node: ctx.node,
      problem: 'the condition depends on the model input',
      details: [
        'Only a constant condition (a causal or padding mask fixed in the model), or one computed from a 0/1 attention mask input alone, is supported.',
      ],
    })
  }
  const X = need(ctx, x, 'input X'),
    Y = need(ctx, y, 'input Y')
  const shape = broadcastShapes(broadcastShapes(cond.dims, shapeOf(X)) ?? [-1], shapeOf(Y))
  if (!shape || shape.includes(-1))
    throw new LoweringError({
      node: ctx.node,
      problem: `shapes [${cond.dims}], [${shapeOf(X)}] and [${shapeOf(Y)}] do not broadcast`,
    })
  const ic = broadcastIndex(cond.dims, shape)
  const pick = (v: Sym, when: boolean): Sym => {
    const iv = broadcastIndex(shapeOf(v), shape)
    const keep = (o: number) => (cond.data[ic[o]] !== 0) === when
    if (v.kind === 'const') {
      const fill = (e: number) => (X.kind === 'const' && Y.kind === 'const' ? e : maskFill(e))
      return { kind: 'const', dims: shape, data: Float64Array.from(iv, (i, o) => (keep(o) ? fill(v.data[i]) : 0)) }
    }
    return remap(v, shape, (o) => (keep(o) ? iv[o] : -1))
  }
  const out = sumPlaced([pick(X, true), pick(Y, false)], shape)
  // Both constant: the element type of X (bool masks stay bool for a following Cast/Not).
  return [
    out.kind === 'const' && X.kind === 'const' && X.dataType !== undefined ? { ...out, dataType: X.dataType } : out,
  ]
}

/**
 * Trilu: keeps the upper (upper=1) or lower triangle of the last two dims from diagonal k,
 * zeros elsewhere. Folded on constants; on activations an index map with fill 0.
 */
export const Trilu: Handler = (ctx, [x, kIn]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  if (s.length < 2) throw new LoweringError({ node: ctx.node, problem: `input rank ${s.length} is below 2` })
  const k = kIn ? needConst(ctx, kIn, 'k').data[0] : 0
  const upper = attrNum(ctx, 'upper', 1) !== 0
  const [R, C] = s.slice(-2)
  const kept = (o: number) => {
    const j = o % C,
      i = Math.floor(o / C) % R
    return upper ? j - i >= k : j - i <= k
  }
  return [remap(v, s, (o) => (kept(o) ? o : -1))]
}

/**
 * The masked positions of a value on its way to a softmax: rows of its pending map whose bias
 * is at or below MASK_FILL / 2 (a Where's fill alone, or scores plus an additive mask; no real
 * bias comes near). Their softmax weight is exactly 0, so a softmax rule can leave them out of
 * the max and the sum instead of quantising -1e4 with the scores. Null when nothing is masked.
 */
export function maskedRows(s: Sym): Uint8Array | null {
  const values = s.kind === 'const' ? s.data : s.a.bias
  const masked = Uint8Array.from(values, (b) => (b <= MASK_FILL / 2 ? 1 : 0))
  return masked.includes(1) ? masked : null
}
