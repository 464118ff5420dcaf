/**
 * The value of a masked position (causal masks, padding masks) once it meets an activation.
 * Exporters write -inf (masked_fill(-inf)), -1e9, float32's lowest (-3.4e38) or -10000: any
 * of them only has to make the softmax weight 0. -inf cannot enter integer land and the huge
 * finite ones would blow up a step's range, so every constant at or below MASK_FILL (and -inf)
 * becomes MASK_FILL itself: finite, and exp(MASK_FILL - max) is exactly 0 in float64
 * (exp(-746) already underflows), so the softmax of the float graph equals the model's.
 * The quantiser (softmax rule) recognises masked positions by this value.
 */
export const MASK_FILL = -1e4

/** A constant meeting an activation: mask values (-inf included) to MASK_FILL, the rest as is. */
export const maskFill = (v: number): number => (v <= MASK_FILL ? MASK_FILL : v)
