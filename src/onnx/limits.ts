import { BaseError, type ErrorParameters } from '../errors.js'

/**
 * Size limits checked before anything is allocated: a 100-byte model can declare a tensor of
 * 10^9 elements, and without these veriml would try to build it. The limits sit well above
 * what a Groth16 circuit can prove (a few million constraints) and below what fits in memory.
 */
export const LIMITS = {
  /** Elements of any one tensor: a model input, an initializer, an intermediate value. */
  tensorElements: 2 ** 24,
  /** Any one dimension. */
  dimension: 2 ** 24,
  /** Rank of any tensor. */
  rank: 8,
  /** Nodes in a graph. */
  nodes: 100_000,
  /** Size of an ONNX file read whole. */
  modelBytes: 1024 * 2 ** 20,
} as const

/** A size over one of LIMITS: `what` names the tensor or file, `size` is what it would be. */
export class SizeLimitError extends BaseError {
  override name = 'SizeLimitError'
  readonly what: string
  readonly size: number | string
  readonly limit: keyof typeof LIMITS
  constructor(p: ErrorParameters<{ what: string; size: number | string; limit: keyof typeof LIMITS }>) {
    super(`${p.what} is ${p.size}, over veriml's limit of ${LIMITS[p.limit]} (${p.limit})`, {
      details: [
        'The limit is checked before anything is allocated; a model this large could not be proven anyway.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.what = p.what
    this.size = p.size
    this.limit = p.limit
  }
}

/** Element count of a shape, refused (naming `what`) past the tensor limit; dims must be integers ≥ 0. */
export function checkedSize(shape: readonly number[], what: string): number {
  if (shape.length > LIMITS.rank)
    throw new SizeLimitError({ what: `the rank of ${what}`, size: shape.length, limit: 'rank' })
  let n = 1
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new SizeLimitError({
        what: `a dimension of ${what} [${shape.join(', ')}]`,
        size: String(d),
        limit: 'dimension',
      })
    if (d > LIMITS.dimension)
      throw new SizeLimitError({ what: `a dimension of ${what} [${shape.join(', ')}]`, size: d, limit: 'dimension' })
    n *= d
    if (n > LIMITS.tensorElements)
      throw new SizeLimitError({
        what: `${what} [${shape.join(', ')}]`,
        size: `${shape.reduce((a, b) => a * b, 1)} elements`,
        limit: 'tensorElements',
      })
  }
  return n
}
