import { readFile } from 'node:fs/promises'

/** A tiny independent R1CS reader and checker, so soundness tests do not trust snarkjs's own code path. */
export interface R1cs {
  prime: bigint
  nWires: number
  nPubOut: number
  constraints: [Map<number, bigint>, Map<number, bigint>, Map<number, bigint>][]
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

export async function readR1cs(path: string): Promise<R1cs> {
  const b = await readFile(path)
  const s = sections(b, 'r1cs')
  const h = s.get(1)!.at
  const n8 = b.readUInt32LE(h)
  const prime = readLE(b, h + 4, n8)
  let at = h + 4 + n8
  const nWires = b.readUInt32LE(at)
  const nPubOut = b.readUInt32LE(at + 4)
  const nConstraints = b.readUInt32LE(at + 24) // after nWires, nPubOut, nPubIn, nPrvIn (u32) and nLabels (u64)
  at = s.get(2)!.at
  const constraints: R1cs['constraints'] = []
  for (let c = 0; c < nConstraints; c++) {
    const lcs = [0, 1, 2].map(() => {
      const m = new Map<number, bigint>()
      const terms = b.readUInt32LE(at); at += 4
      for (let t = 0; t < terms; t++) { m.set(b.readUInt32LE(at), readLE(b, at + 4, n8)); at += 4 + n8 }
      return m
    }) as [Map<number, bigint>, Map<number, bigint>, Map<number, bigint>]
    constraints.push(lcs)
  }
  return { prime, nWires, nPubOut, constraints }
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
  const dot = (m: Map<number, bigint>) => { let a = 0n; for (const [k, v] of m) a += v * w[k]; return a % p }
  const bad: number[] = []
  r1cs.constraints.forEach(([a, b, c], i) => { if ((dot(a) * dot(b) - dot(c)) % p !== 0n) bad.push(i) })
  return bad
}

/** Wire index → signal name, from circom's .sym file. */
export async function readSym(path: string): Promise<Map<number, string>> {
  const out = new Map<number, string>()
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const [, wire, , name] = line.split(',')
    if (name && Number(wire) >= 0 && !out.has(Number(wire))) out.set(Number(wire), name)
  }
  return out
}
