import { createHash } from 'node:crypto'
import type { IrModel } from './types.js'
import { SMALL, SMALL_DECIMALS } from './from-json.js'

// irFromJson lives in from-json.ts (no node: import, so the browser entry can parse ir.json); re-exported here.
export { irFromJson } from './from-json.js'

/** The replacer that defines the canonical form: bigints as decimal strings, Int32Arrays as arrays. */
const replacer = (_: string, v: unknown) => {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Int32Array) return Array.from(v)
  return v
}

/** Elements per chunk of a long array: bounds the size of each string handed to the sink. */
const CHUNK = 1 << 16

/**
 * Writes the canonical JSON of `value` to `sink` piece by piece: exactly
 * `JSON.stringify(value, replacer)`, but long bigint and Int32Array arrays (the weights: 12.6M
 * of them in a 10M-parameter model) are joined in chunks instead of passing every element
 * through the replacer, which took most of the compile time of large models. Anything that is
 * not a plain object, an array, a bigint or an Int32Array goes through JSON.stringify itself.
 */
function writeCanonical(value: unknown, sink: (s: string) => void): void {
  if (typeof value === 'bigint') {
    sink(`"${value}"`)
    return
  }
  if (value instanceof Int32Array) {
    writeInt32s(value, sink)
    return
  }
  if (Array.isArray(value)) {
    if (allBigints(value)) {
      writeBigints(value, sink)
      return
    }
    sink('[')
    for (let i = 0; i < value.length; i++) {
      if (i > 0) sink(',')
      const v: unknown = value[i]
      // In arrays, holes and values JSON has no form for are written as null.
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') sink('null')
      else writeCanonical(v, sink)
    }
    sink(']')
    return
  }
  if (value !== null && typeof value === 'object' && isPlain(value) && !('toJSON' in value)) {
    sink('{')
    let first = true
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key]
      // In objects, such members are left out.
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue
      sink(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`)
      first = false
      writeCanonical(v, sink)
    }
    sink('}')
    return
  }
  sink(JSON.stringify(value, replacer))
}

/** Non-empty and every slot a bigint (a loop, not \`every\`, which skips holes). */
function allBigints(values: unknown[]): values is bigint[] {
  if (values.length === 0) return false
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== 'bigint') return false
  return true
}

const isPlain = (v: object) => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** `[c0,c1,…]`: as Array.from(values) would print, small values from the table (Int32Array#join is slow). */
function writeInt32s(values: Int32Array, sink: (s: string) => void): void {
  sink('[')
  const strings = new Array<string>(Math.min(CHUNK, values.length))
  for (let i = 0; i < values.length; i += CHUNK) {
    const end = Math.min(values.length, i + CHUNK)
    strings.length = end - i
    for (let k = i; k < end; k++) {
      const v = values[k]
      strings[k - i] = v >= -SMALL && v <= SMALL ? SMALL_DECIMALS[v + SMALL] : String(v)
    }
    if (i > 0) sink(',')
    sink(strings.join(','))
  }
  sink(']')
}

/** `["v0","v1",…]`: decimal strings of small values (int8 weights…) come from a table instead of BigInt#toString. */
function writeBigints(values: bigint[], sink: (s: string) => void): void {
  sink('["')
  const strings = new Array<string>(Math.min(CHUNK, values.length))
  for (let i = 0; i < values.length; i += CHUNK) {
    const end = Math.min(values.length, i + CHUNK)
    strings.length = end - i
    for (let k = i; k < end; k++) {
      // Exact for |v| ≤ 2^16; a larger value converts to a number outside the table, and is printed by toString.
      const v = values[k],
        n = Number(v)
      strings[k - i] = n >= -SMALL && n <= SMALL ? SMALL_DECIMALS[n + SMALL] : v.toString()
    }
    if (i > 0) sink('","')
    sink(strings.join('","'))
  }
  sink('"]')
}

/**
 * Canonical JSON of the integer IR: bigints as decimal strings, typed arrays as arrays, keys
 * in a fixed order. The model id is its SHA-256, so it names the exact integer semantics.
 */
export function irToJson(model: IrModel): string {
  const parts: string[] = []
  writeCanonical(model, (s) => parts.push(s))
  return parts.join('')
}

/** The model id: 0x-prefixed SHA-256 of the canonical IR (a bytes32 on chain), hashed as it is written, never held whole. */
export function modelId(model: IrModel): `0x${string}` {
  const hash = createHash('sha256')
  writeCanonical(model, (s) => hash.update(s))
  return `0x${hash.digest('hex')}`
}
