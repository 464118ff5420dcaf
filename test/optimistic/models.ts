import { isqrtValue } from '../../src/ir/ops.js'
import type { IrModel, PrimitiveOp } from '../../src/ir/types.js'
import { inputTensor, quant, type Rng, rng, step } from '../../models/optimistic-models.js'

// The hand-built models live in models/ (bench/ uses them too); the random ones are the tests' own.
export { denseLinear, inputTensor, mlp, type Rng, relu, rng, tinyModel } from '../../models/optimistic-models.js'

type Range = [bigint, bigint]

const KINDS = ['linear', 'requant', 'gather', 'max', 'lookup', 'mul'] as const
const KINDS_WITH_DIV = [...KINDS, 'div', 'isqrt', 'div', 'isqrt'] as const

/** The hull of the ranges of `ids` (and `extra`), or null when one of them has no known range. */
function hull(ranges: ReadonlyMap<number, Range>, ids: readonly number[], extra: bigint[] = []): Range | null {
  const rs = ids.map((t) => ranges.get(t))
  if (rs.some((x) => !x)) return null
  const los = [...rs.map((x) => x![0]), ...extra]
  const his = [...rs.map((x) => x![1]), ...extra]
  return [los.reduce((a, b) => (b < a ? b : a)), his.reduce((a, b) => (b > a ? b : a))]
}

/**
 * A random model over every primitive: linear ops that read one or two earlier tensors
 * (sparse rows included), requants with random constants, optional clamps and either
 * rounding, gathers with fills, max rows over one or two tensors (repeated columns
 * included, so rows hold equal elements), and lookups. Two inputs, so operands come from
 * several states. A lookup reads a tensor whose every value is known to lie in a small
 * range for every input of the int8 input lane (an input, a clamped requant, a max, gather
 * or lookup of such tensors), and its table covers that range, exactly or with a margin.
 * A mul multiplies an element of such a small-range tensor by any element of its operands
 * (the same element twice included), so products grow by a few bits per mul and always fit
 * int256 (see checkTotalOnLane).
 * `divIsqrt` (off by default, so the seeds of the other tests keep their models) adds div and
 * isqrt: a div divides any operand element (or 1) by an element of a tensor proven ≥ 1 with a
 * random shift, an isqrt reads a tensor proven ≥ 0; while no such tensor exists, the step is a
 * requant clamped to [1, hi] instead, which makes one.
 */
export function randomModel(seed: number, steps = 6, options: { divIsqrt?: boolean } = {}): IrModel {
  const r = rng(seed)
  const sizes = new Map<number, number>([
    [0, r.int(1, 7)],
    [1, r.int(1, 5)],
  ])
  // Ranges over the whole input lane [-128, 127], which claims may post (see checkTotalOnLane).
  const ranges = new Map<number, Range>([
    [0, [-128n, 127n]],
    [1, [-128n, 127n]],
  ])
  const model: IrModel = {
    name: `random-${seed}`,
    inputs: [inputTensor(0, sizes.get(0)!), inputTensor(1, sizes.get(1)!, -50n, 50n)],
    steps: [],
    outputs: [],
  }
  for (let id = 2; id < steps + 2; id++) {
    const ids = [...sizes.keys()]
    let kind: (typeof KINDS_WITH_DIV)[number] | 'positive' =
      id === steps + 1 ? 'linear' : r.pick(options.divIsqrt ? KINDS_WITH_DIV : KINDS)
    // Tensors proven ≥ 1 for every lane input: divisors, and root operands.
    const positive = ids.filter((t) => (ranges.get(t)?.[0] ?? 0n) >= 1n)
    if ((kind === 'div' || kind === 'isqrt') && positive.length === 0) kind = 'positive'
    const inputs = r.next() < 0.4 && ids.length > 1 ? [r.pick(ids), r.pick(ids)] : [r.pick(ids)]
    const inSize = inputs.reduce((a, t) => a + sizes.get(t)!, 0)
    let op: PrimitiveOp
    let size: number
    if (kind === 'positive') {
      size = sizes.get(inputs[0])!
      const hi = r.big(2, 100)
      op = { op: 'requant', inputs: [inputs[0]], mul: r.big(0, 3000), shift: r.int(0, 12), zeroPoint: 0n, lo: 1n, hi }
      ranges.set(id, [1n, hi])
    } else if (kind === 'div') {
      const den = r.pick(positive)
      const operands = r.next() < 0.5 ? [den, r.pick(ids)] : [den]
      const [denSize, total] = [sizes.get(den)!, operands.reduce((a, t) => a + sizes.get(t)!, 0)]
      size = r.int(1, 6)
      op = {
        op: 'div',
        inputs: operands,
        num: Int32Array.from({ length: size }, () => (r.next() < 0.2 ? -1 : r.int(0, total - 1))),
        // A broadcast divisor now and then: every element divided by the same one.
        den: Int32Array.from({ length: size }, () => r.int(0, denSize - 1)),
        shift: r.int(0, 16),
      }
    } else if (kind === 'isqrt') {
      const source = r.pick(positive)
      size = sizes.get(source)!
      op = { op: 'isqrt', inputs: [source] }
      const hi = ranges.get(source)![1]
      ranges.set(id, [1n, isqrtValue(hi)])
    } else if (kind === 'requant') {
      size = sizes.get(inputs[0])!
      const lo = r.next() < 0.5 ? r.big(-100, 0) : null
      const hi = r.next() < 0.5 ? r.big(1, 100) : null
      op = {
        op: 'requant',
        inputs: [inputs[0]],
        mul: r.big(-3000, 3000),
        shift: r.int(0, 20),
        zeroPoint: r.big(-10, 10),
        lo,
        hi,
        ...(r.next() < 0.5 ? { rounding: 'half-even' as const } : {}),
      }
      if (lo !== null && hi !== null && op.mul >= 0n) ranges.set(id, [lo, hi])
    } else if (kind === 'lookup') {
      const source = r.pick(ids.filter((t) => ranges.has(t)))
      const [lo, hi] = ranges.get(source)!
      size = sizes.get(source)!
      const offset = lo - r.big(0, 2)
      const table = Array.from({ length: Number(hi - offset) + 1 + r.int(0, 2) }, () => r.big(-100, 100))
      op = { op: 'lookup', inputs: [source], offset, table }
      ranges.set(id, [table.reduce((a, b) => (b < a ? b : a)), table.reduce((a, b) => (b > a ? b : a))])
    } else if (kind === 'mul') {
      const small = r.pick(ids.filter((t) => ranges.has(t)))
      const operands = r.next() < 0.5 ? [small, r.pick(ids)] : [small]
      const smallSize = sizes.get(small)!
      const total = operands.reduce((a, t) => a + sizes.get(t)!, 0)
      size = r.int(1, 6)
      const left = Int32Array.from({ length: size }, () => r.int(0, smallSize - 1))
      const right = Int32Array.from(left, (a) => (r.next() < 0.2 ? a : r.int(0, total - 1)))
      op = { op: 'mul', inputs: operands, left, right }
    } else if (kind === 'max') {
      size = r.int(1, 6)
      const rowPtr = new Int32Array(size + 1)
      const cols: number[] = []
      for (let i = 0; i < size; i++) {
        const width = r.pick([1, 2, 4, 9])
        for (let k = 0; k < width; k++)
          cols.push(r.next() < 0.2 && k > 0 ? cols[cols.length - 1] : r.int(0, inSize - 1))
        rowPtr[i + 1] = cols.length
      }
      op = { op: 'max', inputs, rowPtr, cols: Int32Array.from(cols) }
      const range = hull(ranges, inputs)
      if (range) ranges.set(id, range)
    } else if (kind === 'gather') {
      size = r.int(1, 9)
      op = {
        op: 'gather',
        inputs,
        index: Int32Array.from({ length: size }, () => (r.next() < 0.2 ? -1 : r.int(0, inSize - 1))),
        fill: r.big(-5, 5),
      }
      const range = hull(ranges, inputs, [op.fill])
      if (range) ranges.set(id, range)
    } else {
      size = r.int(1, 6)
      const rowPtr = new Int32Array(size + 1)
      const cols: number[] = []
      const vals: bigint[] = []
      for (let j = 0; j < size; j++) {
        for (let k = 0; k < inSize; k++)
          if (r.next() < 0.7) {
            cols.push(k)
            vals.push(r.big(-100, 100))
          }
        rowPtr[j + 1] = cols.length
      }
      op = {
        op: 'linear',
        inputs,
        rowPtr,
        cols: Int32Array.from(cols),
        vals,
        bias: Array.from({ length: size }, () => r.big(-500, 500)),
      }
    }
    model.steps.push(step(id, op, size))
    sizes.set(id, size)
  }
  model.outputs.push({ tensor: steps + 1, name: 'out', quant })
  return model
}

export function randomInputs(model: IrModel, r: Rng): bigint[][] {
  return model.inputs.map((i) =>
    Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => r.big(Number(i.lo), Number(i.hi))),
  )
}
