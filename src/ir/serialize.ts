import { createHash } from 'node:crypto'
import type { IrModel } from './types.js'

/**
 * Canonical JSON of the integer IR: bigints as decimal strings, typed arrays as arrays, keys
 * in a fixed order. The model id is its SHA-256, so it names the exact integer semantics.
 */
export function irToJson(model: IrModel): string {
  return JSON.stringify(model, (_, v) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Int32Array) return Array.from(v)
    return v
  })
}

const BIGINT_FIELDS = ['vals', 'bias', 'mul', 'zeroPoint', 'lo', 'hi', 'fill', 'offset', 'table'] as const
const INT32_FIELDS = ['rowPtr', 'cols', 'index', 'left', 'right'] as const

export function irFromJson(text: string): IrModel {
  const model = JSON.parse(text) as IrModel
  const big = (v: unknown) => (v === null ? null : Array.isArray(v) ? v.map((x) => BigInt(x)) : BigInt(v as string))
  for (const step of model.steps) {
    const op = step.op as unknown as Record<string, unknown>
    for (const f of BIGINT_FIELDS) if (f in op) op[f] = big(op[f])
    for (const f of INT32_FIELDS) if (f in op) op[f] = Int32Array.from(op[f] as number[])
  }
  for (const i of model.inputs) { i.lo = BigInt(i.lo); i.hi = BigInt(i.hi) }
  return model
}

/** The model id: 0x-prefixed SHA-256 of the canonical IR (a bytes32 on chain). */
export function modelId(model: IrModel): `0x${string}` {
  return `0x${createHash('sha256').update(irToJson(model)).digest('hex')}`
}

