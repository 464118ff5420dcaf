import { OP_KIND } from '../ir/op-codes.js'
import { analyzeBounds } from '../ir/bounds.js'
import { type PackLayout, publicLayouts } from '../ir/packing.js'
import type { IrModel, LinearOp, PrimitiveOp, TensorBounds, TensorId } from '../ir/types.js'
import { sizeOf } from '../util/shape.js'
import { OnchainEncodeError } from './errors.js'

/**
 * The program verifier-contracts/onchain/OnchainProgram.sol runs: a model's steps and
 * constants as bytes (layout documented there). Numbers are big-endian; an array stores each
 * element in the fewest bytes that hold every element as a signed integer, so int8 weights
 * cost one byte each. A dense row (consecutive columns, as Gemm's) stores one start column
 * instead of one column per term.
 */

export const PROGRAM_VERSION = 2
/**
 * EIP-170's code size limit. A data contract's code is a leading STOP (0x00, so calling it does
 * nothing) and then up to CHUNK_BYTES program bytes.
 */
export const MAX_CODE_BYTES = 24_576
export const CHUNK_BYTES = MAX_CODE_BYTES - 1
const INT256_MAX = (1n << 255n) - 1n

class Writer implements Sink {
  private readonly parts: number[] = []
  uint(v: number | bigint, size: number): void {
    let x = BigInt(v)
    if (x < 0n || x >= 1n << BigInt(8 * size)) throw new RangeError(`${v} does not fit ${size} unsigned bytes`)
    const bytes = new Array<number>(size)
    for (let i = size - 1; i >= 0; i--) {
      bytes[i] = Number(x & 0xffn)
      x >>= 8n
    }
    this.parts.push(...bytes)
  }
  /** A signed integer in `size` bytes, two's complement. */
  int(v: bigint, size: number): void {
    this.uint(v < 0n ? (1n << BigInt(8 * size)) + v : v, size)
  }
  word(v: bigint): void {
    this.int(v, 32)
  }
  array(values: ArrayLike<number | bigint>): void {
    const width = widthOf(values)
    if (width > 32) throw new RangeError('an element does not fit int256')
    this.uint(width, 1)
    this.uint(values.length, 4)
    for (let i = 0; i < values.length; i++) this.int(BigInt(values[i]), width)
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts)
  }
}

/** The fewest bytes (1..32) holding every value as a signed integer; 33 when one needs more. */
export function widthOf(values: ArrayLike<number | bigint>): number {
  // The extremes decide: one pass (numbers compared as numbers: Int32Array columns are most of a program).
  let lo: number | bigint = 0
  let hi: number | bigint = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  const [a, b] = [BigInt(lo), BigInt(hi)]
  let width = 1
  while (width <= 32 && (a < -(1n << BigInt(8 * width - 1)) || b >= 1n << BigInt(8 * width - 1))) width++
  return width
}

/** The consecutive-column start of every row, or null when a row's columns are not consecutive. */
export function denseStarts(op: Pick<LinearOp, 'rowPtr' | 'cols'>): Int32Array | null {
  const rows = op.rowPtr.length - 1
  const starts = new Int32Array(rows)
  for (let j = 0; j < rows; j++) {
    const k0 = op.rowPtr[j]
    starts[j] = k0 < op.rowPtr[j + 1] ? op.cols[k0] : 0
    for (let k = k0; k < op.rowPtr[j + 1]; k++) if (op.cols[k] !== starts[j] + (k - k0)) return null
  }
  return starts
}

const magnitude = (b: TensorBounds, i: number): bigint => {
  const lo = b.lo[i] < 0n ? -b.lo[i] : b.lo[i]
  const hi = b.hi[i] < 0n ? -b.hi[i] : b.hi[i]
  return lo > hi ? lo : hi
}

/**
 * Soundness of the contract's unchecked linear sums: |bias| + Σ|val|·max|x| bounds every
 * partial sum of a row, in any order, for every input in the domain (the contract refuses the
 * others); below 2^255 no sum wraps. Every other op runs checked arithmetic (IntegerOps).
 */
function checkLinearSums(model: IrModel, stepIndex: number, x: TensorBounds): void {
  const step = model.steps[stepIndex]
  const op = step.op as LinearOp
  for (let j = 0; j < op.bias.length; j++) {
    let sum = op.bias[j] < 0n ? -op.bias[j] : op.bias[j]
    for (let k = op.rowPtr[j]; k < op.rowPtr[j + 1]; k++)
      sum += (op.vals[k] < 0n ? -op.vals[k] : op.vals[k]) * magnitude(x, op.cols[k])
    if (sum > INT256_MAX)
      throw new OnchainEncodeError({
        step: step.origin,
        op: 'linear',
        problem: `row ${j} can sum to ${sum.toString(2).length} bits, past int256`,
      })
  }
}

function concat(bounds: Map<TensorId, TensorBounds>, ids: readonly TensorId[]): TensorBounds {
  return { lo: ids.flatMap((id) => bounds.get(id)!.lo), hi: ids.flatMap((id) => bounds.get(id)!.hi) }
}

function writeBody(w: Sink, op: PrimitiveOp): void {
  switch (op.op) {
    case 'linear': {
      const starts = denseStarts(op)
      w.uint(starts ? 1 : 0, 1)
      w.array(op.rowPtr)
      w.array(starts ?? op.cols)
      w.array(op.vals)
      w.array(op.bias)
      return
    }
    case 'requant':
      w.word(op.mul)
      w.uint(op.shift, 1)
      w.word(op.zeroPoint)
      w.uint((op.lo !== null ? 1 : 0) | (op.hi !== null ? 2 : 0) | (op.rounding === 'half-even' ? 4 : 0), 1)
      w.word(op.lo ?? 0n)
      w.word(op.hi ?? 0n)
      return
    case 'gather':
      w.array(op.index)
      w.word(op.fill)
      return
    case 'max':
      w.array(op.rowPtr)
      w.array(op.cols)
      return
    case 'lookup':
      w.word(op.offset)
      w.array(op.table)
      return
    case 'mul':
      w.array(op.left)
      w.array(op.right)
      return
    case 'div':
      w.uint(op.shift, 1)
      w.array(op.num)
      w.array(op.den)
      return
    case 'isqrt':
      return
  }
}

/** What the layout is written to: the bytes themselves (Writer), or only their count (Sizer). */
interface Sink {
  uint(v: number | bigint, size: number): void
  word(v: bigint): void
  array(values: ArrayLike<number | bigint>): void
}

/** Counts the bytes a Writer would write, holding none of them. */
class Sizer implements Sink {
  bytes = 0
  uint(_v: number | bigint, size: number): void {
    this.bytes += size
  }
  word(): void {
    this.bytes += 32
  }
  array(values: ArrayLike<number | bigint>): void {
    this.bytes += 5 + widthOf(values) * values.length
  }
}

/** An output's lane layout as the program stores it (u8 laneBits, word lo). */
type OutputLane = Pick<PackLayout, 'laneBits' | 'lo'>

function writeProgram(
  w: Sink,
  model: IrModel,
  slots: ReadonlyMap<TensorId, number>,
  outputLanes: readonly OutputLane[],
): void {
  w.uint(PROGRAM_VERSION, 1)
  w.uint(model.inputs.length, 2)
  w.uint(model.steps.length, 2)
  for (const input of model.inputs) {
    w.uint(sizeOf(input.shape), 4)
    w.word(input.lo)
    w.word(input.hi)
  }
  for (const step of model.steps) {
    const { op } = step
    w.uint(OP_KIND[op.op], 1)
    w.uint(sizeOf(step.output.shape), 4)
    w.uint(op.inputs.length, 1)
    for (const id of op.inputs) w.uint(slots.get(id)!, 2)
    try {
      writeBody(w, op)
    } catch (error) {
      throw new OnchainEncodeError({ step: step.origin, op: op.op, problem: (error as Error).message, cause: error })
    }
  }
  w.uint(model.outputs.length, 2)
  model.outputs.forEach((o, k) => {
    w.uint(slots.get(o.tensor)!, 2)
    w.uint(outputLanes[k].laneBits, 1)
    w.word(outputLanes[k].lo)
  })
}

/** Each tensor's slot: the inputs first, then one per step. */
function slotsOf(model: IrModel): Map<TensorId, number> {
  const slots = new Map<TensorId, number>()
  model.inputs.forEach((input, i) => slots.set(input.id, i))
  model.steps.forEach((step, s) => slots.set(step.output.id, model.inputs.length + s))
  if (slots.size > 0xffff)
    throw new OnchainEncodeError({ step: '(model)', op: '-', problem: `${slots.size} tensors: at most 65535` })
  for (const step of model.steps)
    if (step.op.inputs.length > 0xff)
      throw new OnchainEncodeError({
        step: step.origin,
        op: step.op.op,
        problem: `${step.op.inputs.length} operands: at most 255`,
      })
  return slots
}

/**
 * The model as an OnchainProgram: inputs (size, domain), steps (kind, output size, operand
 * slots, body) and outputs (slot, lane layout). The output layouts are `publicLayouts`' (the
 * circuit's output signals, the optimistic claim's outputs), so the contract's outputs hash is
 * theirs; an input's layout follows from its domain, which the contract packs by. Refuses a
 * model the contract could not run exactly: more slots than a u16 names, constants outside
 * int256, or a linear row whose sum could leave int256 (the contract's sums are unchecked).
 */
export function encodeProgram(model: IrModel): Uint8Array {
  const slots = slotsOf(model)
  const bounds = analyzeBounds(model)
  model.steps.forEach((step, s) => {
    if (step.op.op === 'linear') checkLinearSums(model, s, concat(bounds, step.op.inputs))
  })
  const w = new Writer()
  writeProgram(w, model, slots, publicLayouts(model, bounds).outputs)
  return w.bytes()
}

/**
 * encodeProgram(model).length without the program or its checks: what `veriml inspect` needs
 * for the gas estimate of a model of any size (a 10M-parameter model's program is not built).
 */
export function programSize(model: IrModel): number {
  const sizer = new Sizer()
  // Every output's layout takes the same bytes whatever it is.
  const placeholders = model.outputs.map(() => ({ laneBits: 1, lo: 0n }))
  writeProgram(sizer, model, slotsOf(model), placeholders)
  return sizer.bytes
}
