/**
 * Minimal reader for circom's `.r1cs` binary (iden3 sectioned format): section 1 header and
 * section 2 constraints, each constraint being three linear combinations A, B, C of
 * `(u32 wire, n8-byte little-endian coefficient)` terms.
 */
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { readScalarLE } from './dev-setup-curve.js'

export interface R1csTerm {
  wire: number
  coefficient: bigint
}

export interface R1cs {
  prime: bigint
  n8: number
  nVars: number
  nOutputs: number
  nPubInputs: number
  nPrvInputs: number
  nConstraints: number
  /** constraints[c] = [A, B, C]. */
  constraints: [R1csTerm[], R1csTerm[], R1csTerm[]][]
}

/** The bytes are not a circom r1cs file this reader understands. */
export class R1csFormatError extends BaseError {
  override name = 'R1csFormatError'
  readonly reason: string
  constructor(p: BaseErrorParameters & { reason: string }) {
    super(`invalid r1cs file: ${p.reason}`, { details: p.details, cause: p.cause })
    this.reason = p.reason
  }
}

export function parseR1cs(bytes: Uint8Array): R1cs {
  try {
    return parse(bytes)
  } catch (error) {
    // DataView throws RangeError when a length field points past the end of the file.
    if (error instanceof RangeError) throw new R1csFormatError({ reason: `truncated file (${bytes.byteLength} bytes)` })
    throw error
  }
}

function parse(bytes: Uint8Array): R1cs {
  if (bytes.byteLength < 12) throw new R1csFormatError({ reason: `file too short (${bytes.byteLength} bytes)` })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = String.fromCharCode(...bytes.subarray(0, 4))
  if (magic !== 'r1cs') throw new R1csFormatError({ reason: `bad magic "${magic}", expected "r1cs"` })
  const nSections = view.getUint32(8, true)
  const sections = new Map<number, { start: number; size: number }>()
  let pos = 12
  for (let i = 0; i < nSections; i++) {
    const id = view.getUint32(pos, true)
    const size = Number(view.getBigUint64(pos + 4, true))
    sections.set(id, { start: pos + 12, size })
    pos += 12 + size
    if (pos > bytes.byteLength) throw new RangeError(`section ${id} overruns the file`)
  }
  const header = sections.get(1)
  const body = sections.get(2)
  if (!header || !body) throw new R1csFormatError({ reason: 'missing header (1) or constraints (2) section' })

  let p = header.start
  const n8 = view.getUint32(p, true)
  const prime = readScalarLE(bytes, p + 4, n8)
  p += 4 + n8
  const nVars = view.getUint32(p, true)
  const nOutputs = view.getUint32(p + 4, true)
  const nPubInputs = view.getUint32(p + 8, true)
  const nPrvInputs = view.getUint32(p + 12, true)
  // p + 16: u64 label count (unused)
  const nConstraints = view.getUint32(p + 24, true)

  const constraints: R1cs['constraints'] = new Array(nConstraints)
  p = body.start
  const readLc = (): R1csTerm[] => {
    const count = view.getUint32(p, true)
    p += 4
    const terms: R1csTerm[] = new Array(count)
    if (p + count * (4 + n8) > bytes.byteLength) throw new RangeError('linear combination overruns the file')
    for (let i = 0; i < count; i++) {
      terms[i] = { wire: view.getUint32(p, true), coefficient: readScalarLE(bytes, p + 4, n8) }
      p += 4 + n8
    }
    return terms
  }
  for (let c = 0; c < nConstraints; c++) constraints[c] = [readLc(), readLc(), readLc()]
  if (p !== body.start + body.size) {
    throw new R1csFormatError({ reason: `constraint section is ${body.size} bytes, parsed ${p - body.start}` })
  }
  return { prime, n8, nVars, nOutputs, nPubInputs, nPrvInputs, nConstraints, constraints }
}
