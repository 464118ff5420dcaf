import { readFile } from 'node:fs/promises'
import { type R1cs, parseR1cs } from '../../src/prove/r1cs.js'

/** Witness-side helpers for soundness tests: read a .wtns, check it against an R1CS, name wires. */

export async function readR1cs(path: string): Promise<R1cs> {
  return parseR1cs(await readFile(path))
}

const readLE = (b: Buffer, at: number, n: number) => {
  let v = 0n
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i])
  return v
}

function sections(b: Buffer, magic: string): Map<number, { at: number; size: number }> {
  if (b.toString('ascii', 0, 4) !== magic) throw new Error(`not a ${magic} file`)
  const n = b.readUInt32LE(8)
  const out = new Map<number, { at: number; size: number }>()
  let at = 12
  for (let i = 0; i < n; i++) {
    const type = b.readUInt32LE(at)
    const size = Number(b.readBigUInt64LE(at + 4))
    out.set(type, { at: at + 12, size })
    at += 12 + size
  }
  return out
}

export function parseWtns(data: Uint8Array): bigint[] {
  const b = Buffer.from(data)
  const s = sections(b, 'wtns')
  const h = s.get(1)!.at
  const n8 = b.readUInt32LE(h)
  const n = b.readUInt32LE(h + 4 + n8)
  const at = s.get(2)!.at
  return Array.from({ length: n }, (_, i) => readLE(b, at + i * n8, n8))
}

/** Indices of the constraints the witness violates. */
export function violated(r1cs: R1cs, w: readonly bigint[]): number[] {
  const p = r1cs.prime
  const dot = (lc: R1cs['constraints'][number][number]) => {
    let a = 0n
    for (const t of lc) a += t.coefficient * w[t.wire]
    return a % p
  }
  const bad: number[] = []
  r1cs.constraints.forEach(([a, b, c], i) => {
    if ((dot(a) * dot(b) - dot(c)) % p !== 0n) bad.push(i)
  })
  return bad
}

/** Wire index → signal name, from circom's .sym file. */
/**
 * The .sym names as the emitter wrote them. Each step of a model is its own template
 * (component `main.s3`, chunks `main.s3.c1`) whose outputs o[m] copy the step's signals;
 * circom merges each copy with its signal and keeps the o[m] name, so o[m] takes back the
 * name of the signal it copies (`main.s4.o[0]` → `main.m4[0]`) and any other name loses its
 * step prefix (`main.s3.rq3_0.bit[2]` → `main.rq3_0.bit[2]`).
 */
export function emittedNames(sym: Map<number, string>, source: string): Map<number, string> {
  const alias = new Map<string, string>()
  let prefix = ''
  for (const line of source.split('\n')) {
    const t = /^template Step(\d+)(?:_(\d+))?\(\)/.exec(line)
    if (t) prefix = `main.s${t[1]}.${t[2] === undefined ? '' : `c${t[2]}.`}`
    const o = /^ {4}o\[(\d+)\] <== (.+);$/.exec(line)
    if (o && prefix) alias.set(`${prefix}o[${o[1]}]`, `main.${o[2]}`)
  }
  return new Map(
    [...sym].map(([wire, name]) => [wire, alias.get(name) ?? name.replace(/^main\.s\d+\.(c\d+\.)?/, 'main.')]),
  )
}

export async function readSym(path: string): Promise<Map<number, string>> {
  const out = new Map<number, string>()
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const [, wire, , name] = line.split(',')
    if (name && Number(wire) >= 0 && !out.has(Number(wire))) out.set(Number(wire), name)
  }
  return out
}
