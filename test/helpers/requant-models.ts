/**
 * The requant gadget's test models (every plan shape, half up and half even): shared by the
 * circom gadget tests and the direct backend's equivalence tests.
 */
import type { IrModel, RequantOp, Step } from '../../src/ir/types.js'

export type Params = Omit<RequantOp, 'op' | 'inputs'>
export const rq = (p: Partial<Params>): Params => ({ mul: 1n, shift: 0, zeroPoint: 0n, lo: null, hi: null, ...p })

/**
 * One model exercising every shape of the requant gadget: signed / unsigned base, each
 * upper-clamp mode, multipliers, zero points and a constant-folded clamp. Input x[3]:
 * x0 ∈ [-128, 127] (signed domain), then a linear layer making accumulators of several widths.
 */
export const HALF_UP_CASES: { name: string; row: bigint[]; bias: bigint; p: Params }[] = [
  { name: 'relu int8 (SIGNED, HIMODE 1)', row: [37n, -21n, 5n], bias: 3n, p: rq({ shift: 4, lo: 0n, hi: 127n }) },
  { name: 'clamp [-5, 20] (SIGNED, HIMODE 2)', row: [3n, 1n, -2n], bias: 0n, p: rq({ shift: 2, lo: -5n, hi: 20n }) },
  { name: 'pure ReLU (SIGNED, HIMODE 0)', row: [1n, 1n, 0n], bias: -7n, p: rq({ lo: 0n }) },
  { name: 'rescale only (unsigned, HIMODE 0)', row: [5n, 0n, 1n], bias: 0n, p: rq({ shift: 3 }) },
  { name: 'upper clamp 2^J (unsigned, HIMODE 1)', row: [1n, 0n, 0n], bias: 128n, p: rq({ lo: -1000n, hi: 127n }) },
  { name: 'upper clamp any (unsigned, HIMODE 2)', row: [1n, 0n, 0n], bias: 128n, p: rq({ hi: 200n }) },
  {
    name: 'mul 3, shift 5, zero point -7, int8',
    row: [90n, 77n, -13n],
    bias: 11n,
    p: rq({ mul: 3n, shift: 5, zeroPoint: -7n, lo: -128n, hi: 127n }),
  },
  { name: 'clamp the bounds prove constant', row: [1n, 0n, 0n], bias: 1000n, p: rq({ lo: -5n, hi: 20n }) },
]

/** One linear row per case, then per case a gather of its element and the case's requant. */
function requantCasesModel(
  name: string,
  cases: readonly { name: string; row: bigint[]; bias: bigint; p: Params }[],
): IrModel {
  const steps: Step[] = []
  const n = cases.length
  steps.push({
    origin: 'lin',
    output: { id: 1, name: 'acc', shape: [n] },
    op: {
      op: 'linear',
      inputs: [0],
      rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => 3 * i),
      cols: Int32Array.from({ length: 3 * n }, (_, i) => i % 3),
      vals: cases.flatMap((c) => c.row),
      bias: cases.map((c) => c.bias),
    },
  })
  cases.forEach((c, i) => {
    steps.push({
      origin: c.name,
      output: { id: 2 + 2 * i, name: `pick${i}`, shape: [1] },
      op: { op: 'gather', inputs: [1], index: Int32Array.of(i), fill: 0n },
    })
    steps.push({
      origin: c.name,
      output: { id: 3 + 2 * i, name: `rq${i}`, shape: [1] },
      op: { op: 'requant', inputs: [2 + 2 * i], ...c.p },
    })
  })
  return {
    name,
    inputs: [{ id: 0, name: 'x', shape: [3], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n }],
    steps,
    outputs: cases.map((_, i) => ({ tensor: 3 + 2 * i, name: `y${i}`, quant: { scale: 1, zeroPoint: 0 } })),
  }
}

export const halfUpModel = (): IrModel => requantCasesModel('requant-cases', HALF_UP_CASES)

export const even = (p: Partial<Params>): Params => ({
  mul: 1n,
  shift: 0,
  zeroPoint: 0n,
  lo: null,
  hi: null,
  rounding: 'half-even',
  ...p,
})
export const X0: bigint[] = [1n, 0n, 0n]

/**
 * Half-even requant in every gadget shape; most cases read x0 alone, which the test sweeps
 * over its whole int8 domain, so every tie of each case is hit, with both parities.
 */
export const HALF_EVEN_CASES: { name: string; row: bigint[]; bias: bigint; p: Params; parities: number }[] = [
  { name: 'shift 1: ties at every odd x (unsigned, HIMODE 0)', row: X0, bias: 0n, p: even({ shift: 1 }), parities: 2 },
  {
    name: 'mul 3, shift 2, zp -7, clamp [-20, 30] (SIGNED, HIMODE 2, PAR 1)',
    row: X0,
    bias: 0n,
    p: even({ mul: 3n, shift: 2, zeroPoint: -7n, lo: -20n, hi: 30n }),
    parities: 2,
  },
  {
    name: 'relu int8, shift 4 (SIGNED, HIMODE 1)',
    row: [37n, -21n, 5n],
    bias: 3n,
    p: even({ shift: 4, lo: 0n, hi: 127n }),
    parities: 2,
  },
  {
    name: 'upper clamp 2^J (unsigned, HIMODE 1)',
    row: X0,
    bias: 128n,
    p: even({ shift: 1, lo: -1000n, hi: 63n }),
    parities: 2,
  },
  {
    name: 'zp 5, upper clamp 20 (unsigned, HIMODE 2, PAR 1)',
    row: X0,
    bias: 4n,
    p: even({ shift: 2, zeroPoint: 5n, hi: 20n }),
    parities: 2,
  },
  {
    name: 'zp 3, clamp [-60, 60] (SIGNED, HIMODE 2, PAR 1)',
    row: X0,
    bias: 0n,
    p: even({ shift: 1, zeroPoint: 3n, lo: -60n, hi: 60n }),
    parities: 2,
  },
  { name: 'quotient always 0, a tie at -128: constant', row: X0, bias: 0n, p: even({ shift: 8 }), parities: 1 },
  { name: 'mul 5, shift 3, zp -2', row: X0, bias: 0n, p: even({ mul: 5n, shift: 3, zeroPoint: -2n }), parities: 2 },
  {
    name: 'mul divisible by 2^shift: no tie, half-up gadget',
    row: X0,
    bias: 0n,
    p: even({ mul: 4n, shift: 1 }),
    parities: 0,
  },
  {
    name: 'pure ReLU, shift 3 (SIGNED, HIMODE 0)',
    row: [37n, -21n, 5n],
    bias: 3n,
    p: even({ shift: 3, lo: 0n }),
    parities: 2,
  },
  { name: 'clamp the bounds prove constant', row: X0, bias: 1000n, p: even({ lo: -5n, hi: 20n }), parities: 0 },
]

/** The half-even cases, or the same cases rounded half up (the comparison the cost test makes). */
export const halfEvenModel = (rounding: 'half-even' | 'half-up'): IrModel =>
  requantCasesModel(
    `requant-${rounding}`,
    HALF_EVEN_CASES.map((c) => {
      const { rounding: _, ...halfUp } = c.p
      return { ...c, p: rounding === 'half-even' ? c.p : halfUp }
    }),
  )
