import { type Ctx, LoweringError, type Sym, remap, sumPlaced } from './common.js'

/**
 * RNN, GRU and LSTM sequence_lens (src/onnx/ops/recurrent.ts): sequences shorter than the
 * padded input, as onnxruntime runs them. Only constant lengths: the unrolled graph is fixed
 * at compile time.
 */

/**
 * Constant sequence_lens: each batch entry's own length in [0, seq]. Input-dependent lengths
 * are refused: the unrolled graph (which timesteps update which rows) is fixed at compile time.
 */
export function sequenceLens(ctx: Ctx, s: Sym, seq: number, batch: number): number[] {
  if (s.kind !== 'const')
    throw new LoweringError({
      node: ctx.node,
      problem: 'sequence_lens depends on the model input; only a constant (initializer or Constant node) is supported',
      details: [
        'The recurrence is unrolled at compile time, so which timesteps update which sequence must be known then: export with the lengths as a constant, or pad every sequence to the full length and drop sequence_lens.',
      ],
    })
  const lens = Array.from(s.data)
  const bad = lens.findIndex((n) => !Number.isInteger(n) || n < 0 || n > seq)
  if (lens.length !== batch || bad !== -1)
    throw new LoweringError({
      node: ctx.node,
      problem: `sequence_lens [${lens}] must give each of the ${batch} sequences a length in [0, ${seq}]${bad !== -1 ? `: entry ${bad} is ${lens[bad]}` : ''}`,
    })
  return lens
}

/**
 * The timestep the k-th step of a direction reads for a sequence of `len` steps, or -1 past
 * its end. A reverse direction starts at the sequence's own last step (len - 1), not at the
 * padded tensor's, as onnxruntime runs it.
 */
export const timeAt = (reverse: boolean, k: number, len: number) => (k >= len ? -1 : reverse ? len - 1 - k : k)

/**
 * The state after step k: `next` for the batch entries still inside their sequence, `prev`
 * (frozen) for those past its end. The choice is per row and known at compile time, so it is
 * an index map, not a computed select.
 */
export function keep(
  c: { lens: number[] | null; batch: number; hidden: number },
  k: number,
  next: Sym,
  prev: Sym,
): Sym {
  const lens = c.lens
  if (!lens || next === prev || lens.every((n) => k < n)) return next
  const shape = [c.batch, c.hidden]
  const live = (o: number) => k < lens[Math.floor(o / c.hidden)]
  return sumPlaced(
    [remap(next, shape, (o) => (live(o) ? o : -1)), remap(prev, shape, (o) => (live(o) ? -1 : o))],
    shape,
  )
}
