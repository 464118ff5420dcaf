/**
 * ir.json back to the integer IR. Apart from serialize.ts (which hashes with node:crypto) so
 * the browser entry (src/browser) can parse the IR it fetched with nothing Node-only.
 */
import type { IrModel } from './types.js'

export const SMALL = 1 << 16
/** Decimal strings of -2^16..2^16: the writer prints small values from it, the parser maps them back. */
export const SMALL_DECIMALS = Array.from({ length: 2 * SMALL + 1 }, (_, i) => String(i - SMALL))

const BIGINT_FIELDS = ['vals', 'bias', 'mul', 'zeroPoint', 'lo', 'hi', 'fill', 'offset', 'table'] as const
const INT32_FIELDS = ['rowPtr', 'cols', 'index', 'left', 'right', 'num', 'den'] as const

let smallByDecimal: Map<string, bigint> | undefined

/** BigInt(x), with one shared bigint per small canonical decimal (int8 weights…): no allocation per weight. */
function parseBigInt(x: string | number): bigint {
  smallByDecimal ??= new Map(SMALL_DECIMALS.map((d, i) => [d, BigInt(i - SMALL)]))
  return smallByDecimal.get(x as string) ?? BigInt(x)
}

export function irFromJson(text: string): IrModel {
  const model = JSON.parse(text) as IrModel
  const big = (v: unknown) => (v === null ? null : Array.isArray(v) ? v.map(parseBigInt) : BigInt(v as string))
  for (const step of model.steps) {
    const op = step.op as unknown as Record<string, unknown>
    for (const f of BIGINT_FIELDS) if (f in op) op[f] = big(op[f])
    for (const f of INT32_FIELDS) if (f in op) op[f] = Int32Array.from(op[f] as number[])
  }
  for (const i of model.inputs) {
    i.lo = BigInt(i.lo)
    i.hi = BigInt(i.hi)
  }
  return model
}
