/** Number of elements of a tensor of this shape (1 for a scalar). */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)
