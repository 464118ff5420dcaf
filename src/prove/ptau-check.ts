/**
 * Checks a powers-of-tau file before Groth16 setup uses it: snarkjs's newZKey exits quietly
 * with a 0-byte key when the file is too small or unprepared, and reads past section ends
 * without complaint, so everything it relies on is checked here first, with errors that say
 * what to do. Optionally the file's blake2b-512 is compared with a pinned value (the hash
 * ceremonies publish for their files).
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { BaseError } from '../errors.js'
import { FQ, readScalarLE } from './dev-setup-curve.js'

export class PtauError extends BaseError {
  override name = 'PtauError'
}

export class PtauFormatError extends PtauError {
  override name = 'PtauFormatError'
  readonly path: string
  readonly reason: string
  constructor(path: string, reason: string, cause?: unknown) {
    super(`${path} is not a usable powers-of-tau file: ${reason}`, {
      cause,
      details: ['Expected a snarkjs .ptau file prepared for phase 2 (e.g. powersOfTau28_hez_final_NN.ptau).'],
    })
    this.path = path
    this.reason = reason
  }
}

export class PtauTooSmallError extends PtauError {
  override name = 'PtauTooSmallError'
  readonly path: string
  readonly power: number
  readonly requiredPower: number
  constructor(path: string, power: number, requiredPower: number) {
    super(`${path} has power ${power}; this circuit needs power ${requiredPower} (a domain of 2^${requiredPower})`, {
      details: [
        `Use a powers-of-tau file of power ${requiredPower} or more (e.g. powersOfTau28_hez_final_${String(requiredPower).padStart(2, '0')}.ptau).`,
      ],
    })
    this.path = path
    this.power = power
    this.requiredPower = requiredPower
  }
}

export class PtauNotPreparedError extends PtauError {
  override name = 'PtauNotPreparedError'
  constructor(readonly path: string) {
    super(`${path} is not prepared for phase 2 (no Lagrange sections 12–15)`, {
      details: ['Run `snarkjs powersoftau prepare phase2` on it, or use a *_final.ptau file.'],
    })
  }
}

export class PtauHashMismatchError extends PtauError {
  override name = 'PtauHashMismatchError'
  constructor(
    readonly path: string,
    readonly expectedBlake2b: string,
    readonly actualBlake2b: string,
  ) {
    super(`${path} does not have the pinned blake2b-512 hash`, {
      details: [
        `expected ${expectedBlake2b}`,
        `actual   ${actualBlake2b}`,
        'The file is not the one you pinned: do not use it for a setup.',
      ],
    })
  }
}

export interface PtauInfo {
  power: number
  ceremonyPower: number
  prepared: boolean
  /** Section id → byte size (snarkjs ptau files hold each section once). */
  sectionSizes: Map<number, number>
}

const SG1 = 64
const SG2 = 128

/** Section sizes `powersoftau new/contribute` (2–6) and `prepare phase2` (12–15) write at `power`. */
export function expectedSectionSizes(power: number): Map<number, number> {
  const n = 2 ** power
  return new Map([
    [2, (2 * n - 1) * SG1],
    [3, n * SG2],
    [4, n * SG1],
    [5, n * SG1],
    [6, SG2],
    [12, (4 * n - 1) * SG1],
    [13, (2 * n - 1) * SG2],
    [14, (2 * n - 1) * SG1],
    [15, (2 * n - 1) * SG1],
  ])
}

/** Reads and checks the section table and header of a .ptau file (the points are not read). */
export async function inspectPtau(path: string): Promise<PtauInfo> {
  const fd = await open(path, 'r').catch((cause) => {
    throw new PtauFormatError(path, 'cannot open the file', cause)
  })
  try {
    const fileSize = (await fd.stat()).size
    const read = async (at: number, length: number): Promise<Buffer> => {
      if (at + length > fileSize)
        throw new PtauFormatError(path, `truncated (needs ${at + length} bytes, has ${fileSize})`)
      const b = Buffer.alloc(length)
      await fd.read(b, 0, length, at)
      return b
    }
    const head = await read(0, 12)
    if (head.toString('latin1', 0, 4) !== 'ptau')
      throw new PtauFormatError(path, 'bad magic (a .ptau file starts with "ptau")')
    if (head.readUInt32LE(4) !== 1) throw new PtauFormatError(path, `unsupported version ${head.readUInt32LE(4)}`)
    const sectionSizes = new Map<number, number>()
    const sectionAt = new Map<number, number>()
    let at = 12
    for (let i = 0, count = head.readUInt32LE(8); i < count; i++) {
      const h = await read(at, 12)
      const id = h.readUInt32LE(0)
      const size = Number(h.readBigUInt64LE(4))
      if (sectionSizes.has(id)) throw new PtauFormatError(path, `section ${id} appears twice`)
      if (at + 12 + size > fileSize) throw new PtauFormatError(path, `section ${id} runs past the end of the file`)
      sectionSizes.set(id, size)
      sectionAt.set(id, at + 12)
      at += 12 + size
    }
    const headerAt = sectionAt.get(1)
    if (headerAt === undefined) throw new PtauFormatError(path, 'no header section')
    if (sectionSizes.get(1) !== 4 + 32 + 8)
      throw new PtauFormatError(path, `header section has ${sectionSizes.get(1)} bytes, expected 44`)
    const header = await read(headerAt, 44)
    if (header.readUInt32LE(0) !== 32 || readScalarLE(header, 4, 32) !== FQ)
      throw new PtauFormatError(path, 'not a BN254 (bn128) file')
    const power = header.readUInt32LE(36)
    const ceremonyPower = header.readUInt32LE(40)
    if (power < 1 || power > 28) throw new PtauFormatError(path, `power ${power} is outside 1 … 28`)
    const expected = expectedSectionSizes(power)
    // INVARIANT: every section newZKey reads exists with the size its offsets assume.
    for (const id of [2, 3, 4, 5, 6, 7]) {
      if (!sectionSizes.has(id)) throw new PtauFormatError(path, `section ${id} is missing`)
    }
    const prepared = [12, 13, 14, 15].every((id) => sectionSizes.has(id))
    for (const [id, size] of expected) {
      const actual = sectionSizes.get(id)
      if (actual !== undefined && actual !== size)
        throw new PtauFormatError(path, `section ${id} has ${actual} bytes; power ${power} needs ${size}`)
    }
    return { power, ceremonyPower, prepared, sectionSizes }
  } finally {
    await fd.close()
  }
}

export function blake2b512File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('blake2b512')
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')))
  })
}

export interface CheckPtauParameters {
  path: string
  /** Power of two of the circuit's domain (`requiredPower`). */
  requiredPower: number
  /** Pinned blake2b-512 of the file, hex (as ceremonies publish it). */
  blake2bHex?: string
}

/**
 * Everything `setup --ptau` relies on, in order: structure, power, preparation, pinned hash.
 * No table of published hashes is built in: pin the hash you obtained from the ceremony.
 */
export async function checkPtau({
  path,
  requiredPower,
  blake2bHex,
}: CheckPtauParameters): Promise<PtauInfo & { blake2bHex: string | undefined }> {
  const info = await inspectPtau(path)
  if (info.power < requiredPower) throw new PtauTooSmallError(path, info.power, requiredPower)
  if (!info.prepared) throw new PtauNotPreparedError(path)
  if (blake2bHex === undefined) return { ...info, blake2bHex: undefined }
  const expected = blake2bHex.toLowerCase().replace(/^0x/, '').replace(/\s+/g, '')
  if (!/^[0-9a-f]{128}$/.test(expected))
    throw new PtauError(`--ptau-hash must be a blake2b-512 hash: 128 hex digits (got ${expected.length})`)
  const actual = await blake2b512File(path)
  if (actual !== expected) throw new PtauHashMismatchError(path, expected, actual)
  return { ...info, blake2bHex: actual }
}
