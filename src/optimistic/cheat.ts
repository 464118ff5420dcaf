/**
 * Dishonest traces, for demos, tests and benchmarks of the dispute game: a lie that is
 * consistent after the wrong step, and the element whose dispute costs most.
 */
import { operands } from '../ir/execute.js'
import { applyOp, divValue, isqrtValue } from '../ir/ops.js'
import type { IrModel, PrimitiveOp } from '../ir/types.js'
import { isFoldOp } from './one-step.js'
import { type Trace, traceFromStates } from './trace.js'

/**
 * A consistent lie: element `element` of state `state` shifted by `delta`, and every later
 * step recomputed from it, so only one step of the trace is wrong and the output differs.
 * A lie may push a later lookup's input out of its table, a divisor below 1 or a square-root
 * operand below 0; the liar then reads the nearest end of the table, divides by 1, takes the
 * root of 0 (there is no right answer to recompute, and the lie is the wrong step).
 */
export function cheatingTrace(model: IrModel, honest: Trace, state: number, element: number, delta: bigint): Trace {
  const states = honest.states.map((s) => [...s])
  states[state][element] += delta
  const values = new Map<number, bigint[]>()
  model.inputs.forEach((info, i) => values.set(info.id, states[i]))
  model.steps.forEach((step, i) => {
    const pos = model.inputs.length + i
    if (pos > state) {
      states[pos] = liarApply(step.op, operands(values, step.op.inputs))
    }
    values.set(step.output.id, states[pos])
  })
  return traceFromStates(honest.layout, states)
}

/** `applyOp`, total: operands outside an op's domain are taken at the domain's nearest end. */
function liarApply(op: PrimitiveOp, x: bigint[]): bigint[] {
  const atLeast = (v: bigint, m: bigint) => (v < m ? m : v)
  switch (op.op) {
    case 'lookup':
      return x.map((v) => op.table[Math.max(0, Math.min(op.table.length - 1, Number(v - op.offset)))])
    case 'div':
      return Array.from(op.num, (n, i) => divValue(n < 0 ? 1n : x[n], atLeast(x[op.den[i]], 1n), op.shift))
    case 'isqrt':
      return x.map((v) => isqrtValue(atLeast(v, 0n)))
    default:
      return applyOp(op, x)
  }
}

/**
 * The element whose dispute costs most: the widest row (most terms) of any step the one-step
 * proof folds over (`isFoldOp`). Without such a step, element 0 of the last step.
 */
export function mostExpensiveElement(model: IrModel): {
  state: number
  element: number
  terms: number
  origin: string
} {
  const last = model.steps.length - 1
  let best = { state: model.inputs.length + last, element: 0, terms: 0, origin: model.steps[last].origin }
  model.steps.forEach((step, i) => {
    const op = step.op
    if (!isFoldOp(op)) return
    for (let row = 0; row + 1 < op.rowPtr.length; row++) {
      const terms = op.rowPtr[row + 1] - op.rowPtr[row]
      if (terms > best.terms) best = { state: model.inputs.length + i, element: row, terms, origin: step.origin }
    }
  })
  return best
}
