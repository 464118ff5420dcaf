import type { FloatGraph, FloatStep } from '../onnx/graph.js'

/**
 * Bits the exp table's index of an attention softmax gives up: x − max (the exact difference of
 * the score sums and their row max, src/quantize/quantize.ts) is requantised one bit coarser
 * than its calibrated activation before exp's table reads it. The table then holds half the
 * entries (the bundled ViT: 18 instead of 36, 12 constraints a score instead of 17) while the
 * requant into its domain costs the same (a bit of remainder for a bit of range). Measured on
 * the bundled ViT's 2,000 held-out digits, against 0 bits dropped: accuracy 96.05 % instead of
 * 96.00 %, argmax agreement with onnxruntime 99.40 % instead of 99.50 %, max logit error 0.92
 * instead of 0.83 (1.10 before the scores stayed exact). Two bits (9 constraints a score):
 * 95.90 %, max logit error 1.50. Int6 scores (max and x − max coarse too) tripled the error of
 * a random softmax(Q·Kᵀ)·V·Wo + x (0.399 against 0.116).
 *
 * Only attention: a softmax whose scores sum products of two activations (Q·Kᵀ), whose weights
 * the value product averages. A classifier's softmax over a Gemm's logits keeps the scores'
 * resolution.
 */
export const EXP_INDEX_BITS_DROPPED = 1

/**
 * The float clamps that make a softmax's x − max ≤ 0 (src/onnx/ops/normalization.ts: a clamp
 * with hi = 0 and no lo, over the affine x − max) whose x is attention scores: the unbounded
 * clamp of a sum of products (a mul, through affine maps only).
 */
export function attentionCentred(graph: FloatGraph): Set<number> {
  const byId = new Map<number, FloatStep>(graph.steps.map((s) => [s.id, s]))
  const productSum = new Map<number, boolean>()
  const isProductSum = (t: number): boolean => {
    const known = productSum.get(t)
    if (known !== undefined) return known
    const s = byId.get(t)
    const v =
      s?.op.kind === 'mul' || (s?.op.kind === 'affine' && s.op.inputs.length > 0 && s.op.inputs.every(isProductSum))
    productSum.set(t, v)
    return v
  }
  const isScores = (t: number): boolean => {
    const s = byId.get(t)
    return s?.op.kind === 'clamp' && s.op.lo === null && s.op.hi === null && isProductSum(s.op.inputs[0])
  }
  const centred = new Set<number>()
  for (const s of graph.steps) {
    if (s.op.kind !== 'clamp' || s.op.lo !== null || s.op.hi !== 0) continue
    const sub = byId.get(s.op.inputs[0])
    if (sub?.op.kind === 'affine' && sub.op.inputs.some(isScores)) centred.add(s.id)
  }
  return centred
}

/**
 * The exp of an attention's x − max, read by exp's table: EXP_INDEX_BITS_DROPPED coarser than
 * its calibrated exp, or than x − max itself (`srcExp`, an exact integer difference) when that
 * is coarser still (multiplying an integer up adds entries, never information).
 */
export function attentionIndexExp(srcExp: number, calibrated: number): number {
  return Math.min(srcExp, calibrated) - EXP_INDEX_BITS_DROPPED
}

/**
 * The unbounded clamps of a sum of products (a softmax's scores) that may stay that exact sum
 * into the softmax (src/quantize/quantize.ts): all but those a `mul` reads. A mul reads the
 * scores only in a masked softmax (src/onnx/ops/normalization.ts maskedMax: x·m), whose kept max
 * x·m − n + n·m must come out exactly x whatever the masked scores (n's row holds them). It does
 * over scores requantised to activations; over the wide exact sums the quantiser requantises a
 * partial sum of it, and masked scores moved kept outputs (test/onnx/attention-mask.test.ts,
 * "bit for bit"). So a masked softmax keeps today's int8 scores.
 */
export function exactScores(graph: FloatGraph): Set<number> {
  const readByMul = new Set<number>()
  for (const s of graph.steps) if (s.op.kind === 'mul') for (const t of s.op.inputs) readByMul.add(t)
  const scores = new Set<number>()
  for (const s of graph.steps)
    if (s.op.kind === 'clamp' && s.op.lo === null && s.op.hi === null && !readByMul.has(s.id)) scores.add(s.id)
  return scores
}
