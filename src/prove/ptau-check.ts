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
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { FQ, readScalarLE } from './dev-setup-curve.js'

/** A powers-of-tau file or option is unusable; `problem` says how. */
export class PtauError extends BaseError {
  override name = 'PtauError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}

export class PtauFormatError extends PtauError {
  override name = 'PtauFormatError'
  readonly path: string
  readonly reason: string
  constructor(p: BaseErrorParameters & { path: string; reason: string }) {
    super({
      problem: `${p.path} is not a usable powers-of-tau file: ${p.reason}`,
      details: [
        'Expected a snarkjs .ptau file prepared for phase 2 (e.g. powersOfTau28_hez_final_NN.ptau).',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.path = p.path
    this.reason = p.reason
  }
}

export class PtauTooSmallError extends PtauError {
  override name = 'PtauTooSmallError'
  readonly path: string
  readonly power: number
  readonly requiredPower: number
  constructor(p: BaseErrorParameters & { path: string; power: number; requiredPower: number }) {
    super({
      problem: `${p.path} has power ${p.power}; this circuit needs power ${p.requiredPower} (a domain of 2^${p.requiredPower})`,
      details: [
        `Use a powers-of-tau file of power ${p.requiredPower} or more (e.g. powersOfTau28_hez_final_${String(p.requiredPower).padStart(2, '0')}.ptau).`,
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.path = p.path
    this.power = p.power
    this.requiredPower = p.requiredPower
  }
}

export class PtauNotPreparedError extends PtauError {
  override name = 'PtauNotPreparedError'
  readonly path: string
  constructor(p: BaseErrorParameters & { path: string }) {
    super({
      problem: `${p.path} is not prepared for phase 2 (no Lagrange sections 12–15)`,
      details: ['Run `snarkjs powersoftau prepare phase2` on it, or use a *_final.ptau file.', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.path = p.path
  }
}

export class PtauHashMismatchError extends PtauError {
  override name = 'PtauHashMismatchError'
  readonly path: string
  readonly expectedBlake2b: string
  readonly actualBlake2b: string
  constructor(p: BaseErrorParameters & { path: string; expectedBlake2b: string; actualBlake2b: string }) {
    super({
      problem: `${p.path} does not have the pinned blake2b-512 hash`,
      details: [
        `expected ${p.expectedBlake2b}`,
        `actual   ${p.actualBlake2b}`,
        'The file is not the one you pinned: do not use it for a setup.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.path = p.path
    this.expectedBlake2b = p.expectedBlake2b
    this.actualBlake2b = p.actualBlake2b
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
    throw new PtauFormatError({ path, reason: 'cannot open the file', cause })
  })
  try {
    const fileSize = (await fd.stat()).size
    const read = async (at: number, length: number): Promise<Buffer> => {
      if (at + length > fileSize)
        throw new PtauFormatError({ path, reason: `truncated (needs ${at + length} bytes, has ${fileSize})` })
      const b = Buffer.alloc(length)
      await fd.read(b, 0, length, at)
      return b
    }
    const head = await read(0, 12)
    if (head.toString('latin1', 0, 4) !== 'ptau')
      throw new PtauFormatError({ path, reason: 'bad magic (a .ptau file starts with "ptau")' })
    if (head.readUInt32LE(4) !== 1)
      throw new PtauFormatError({ path, reason: `unsupported version ${head.readUInt32LE(4)}` })
    const sectionSizes = new Map<number, number>()
    const sectionAt = new Map<number, number>()
    let at = 12
    for (let i = 0, count = head.readUInt32LE(8); i < count; i++) {
      const h = await read(at, 12)
      const id = h.readUInt32LE(0)
      const size = Number(h.readBigUInt64LE(4))
      if (sectionSizes.has(id)) throw new PtauFormatError({ path, reason: `section ${id} appears twice` })
      if (at + 12 + size > fileSize)
        throw new PtauFormatError({ path, reason: `section ${id} runs past the end of the file` })
      sectionSizes.set(id, size)
      sectionAt.set(id, at + 12)
      at += 12 + size
    }
    const headerAt = sectionAt.get(1)
    if (headerAt === undefined) throw new PtauFormatError({ path, reason: 'no header section' })
    if (sectionSizes.get(1) !== 4 + 32 + 8)
      throw new PtauFormatError({ path, reason: `header section has ${sectionSizes.get(1)} bytes, expected 44` })
    const header = await read(headerAt, 44)
    if (header.readUInt32LE(0) !== 32 || readScalarLE(header, 4, 32) !== FQ)
      throw new PtauFormatError({ path, reason: 'not a BN254 (bn128) file' })
    const power = header.readUInt32LE(36)
    const ceremonyPower = header.readUInt32LE(40)
    if (power < 1 || power > 28) throw new PtauFormatError({ path, reason: `power ${power} is outside 1 … 28` })
    const expected = expectedSectionSizes(power)
    // INVARIANT: every section newZKey reads exists with the size its offsets assume.
    for (const id of [2, 3, 4, 5, 6, 7]) {
      if (!sectionSizes.has(id)) throw new PtauFormatError({ path, reason: `section ${id} is missing` })
    }
    const prepared = [12, 13, 14, 15].every((id) => sectionSizes.has(id))
    for (const [id, size] of expected) {
      const actual = sectionSizes.get(id)
      if (actual !== undefined && actual !== size)
        throw new PtauFormatError({ path, reason: `section ${id} has ${actual} bytes; power ${power} needs ${size}` })
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
  if (info.power < requiredPower) throw new PtauTooSmallError({ path, power: info.power, requiredPower })
  if (!info.prepared) throw new PtauNotPreparedError({ path })
  if (blake2bHex === undefined) return { ...info, blake2bHex: undefined }
  const expected = blake2bHex.toLowerCase().replace(/^0x/, '').replace(/\s+/g, '')
  if (!/^[0-9a-f]{128}$/.test(expected))
    throw new PtauError({ problem: `--ptau-hash must be a blake2b-512 hash: 128 hex digits (got ${expected.length})` })
  const actual = await blake2b512File(path)
  if (actual !== expected) throw new PtauHashMismatchError({ path, expectedBlake2b: expected, actualBlake2b: actual })
  return { ...info, blake2bHex: actual }
}
