/**
 * INSECURE development Groth16 setup: draws the toxic waste (tau, alpha, beta, delta) from a
 * CSPRNG in-process and computes the proving key straight from those scalars, instead of
 * from a powers-of-tau file. The zkey is byte-compatible with snarkjs 0.7.6: its prover,
 * `exportVerificationKey` and (with the optional prepared ptau) `zkey verify` accept it.
 *
 * Never use these keys for anything an adversary can touch: whoever ran devSetup could have
 * kept the secrets and can forge proofs.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { BaseError } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { BinFileWriter } from './dev-setup-binfile.js'
import {
  FQ,
  FR,
  FixedBaseTable,
  WasmArena,
  frInv,
  frMul,
  frPow,
  lagrangeAtTau,
  loadCurve,
  loadFfjavascript,
  readScalarLE,
  writeScalarLE,
  type Bn128Curve,
  type FfjavascriptModule,
} from './dev-setup-curve.js'
import { buildPtau, ptauPointCounts, type RowUse } from './dev-setup-ptau.js'
import { parseR1cs, R1csFormatError, type R1cs } from './r1cs.js'

export { R1csFormatError }

/** Name recorded in the zkey's contribution section (shown by `snarkjs zkey verify`). */
export const DEV_SETUP_CONTRIBUTION_NAME = 'veriml INSECURE dev setup'

export interface DevSetupParameters {
  r1csPath: string
  zkeyPath: string
  /** Also write a prepared powers-of-tau file from the same tau, for `snarkjs zkey verify`. */
  ptauPath?: string
  log?: (line: string) => void
}

export interface DevSetupReturnType {
  zkeyPath: string
  ptauPath: string | undefined
  /** Power of the written ptau file (undefined when no ptau was requested). */
  ptauPower: number | undefined
  /** snarkjs's circuit hash (blake2b-512), hex; identical to what `groth16 setup` reports. */
  circuitHashHex: string
  nConstraints: number
  /** Terms in all of the circuit's A, B and C linear combinations. */
  nCoefficients: number
  nVars: number
  nPublic: number
  domainSize: number
  setupMs: number
}

export type DevSetupErrorType = DevSetupError | R1csFormatError

export class DevSetupError extends BaseError {
  override name = 'DevSetupError'
  readonly r1csPath: string
  readonly reason: string
  constructor(p: { r1csPath: string; reason: string; cause?: unknown }) {
    super(`dev setup failed for ${p.r1csPath}: ${p.reason}`, { cause: p.cause })
    this.r1csPath = p.r1csPath
    this.reason = p.reason
  }
}

/** BN254's Fr has 2-adicity 28: no power-of-two domain beyond 2^28 exists. */
const FR_TWO_ADICITY = 28
/** snarkjs's newZKey hashes the H points in chunks of 2^14 (see `nHashedHPoints`). */
const H_HASH_CHUNK = 1 << 14

export async function devSetup({ r1csPath, zkeyPath, ptauPath, log }: DevSetupParameters): Promise<DevSetupReturnType> {
  const startMs = performance.now()
  let bytes: Uint8Array
  try {
    bytes = await readFile(r1csPath)
  } catch (cause) {
    throw new DevSetupError({ r1csPath, reason: 'cannot read the r1cs file', cause })
  }
  const r1cs = parseR1cs(bytes)
  if (r1cs.prime !== FR) {
    throw new DevSetupError({ r1csPath, reason: `circuit prime ${r1cs.prime} is not BN254's scalar field` })
  }
  // Same domain rule as snarkjs newZKey: room for every constraint plus one extra
  // constraint per public signal (and ONE).
  const nPublic = r1cs.nOutputs + r1cs.nPubInputs
  const cirPower = floorLog2(r1cs.nConstraints + nPublic) + 1
  if (cirPower + 1 > FR_TWO_ADICITY) {
    throw new DevSetupError({
      r1csPath,
      reason: `domain 2^${cirPower} too large for BN254 (max 2^${FR_TWO_ADICITY - 1})`,
    })
  }
  const [curve, ff] = await Promise.all([loadCurve(), loadFfjavascript()])
  log?.(`dev setup: ${r1cs.nConstraints} constraints, ${r1cs.nVars} wires, ${nPublic} public, domain 2^${cirPower}`)
  // Everything between here and the writes is synchronous, so concurrent devSetup calls
  // cannot interleave on the shared wasm arena.
  const keys = computeKeys(curve, ff, r1cs, cirPower, ptauPath !== undefined)
  log?.(`dev setup: keys computed in ${(performance.now() - startMs).toFixed(0)} ms`)
  await writeFileAtomic(zkeyPath, keys.zkey)
  if (ptauPath !== undefined && keys.ptau) await writeFileAtomic(ptauPath, keys.ptau.bytes)
  return {
    zkeyPath,
    ptauPath,
    ptauPower: keys.ptau?.power,
    circuitHashHex: Buffer.from(keys.circuitHash).toString('hex'),
    nConstraints: r1cs.nConstraints,
    nCoefficients: r1cs.constraints.reduce((sum, [lcA, lcB, lcC]) => sum + lcA.length + lcB.length + lcC.length, 0),
    nVars: r1cs.nVars,
    nPublic,
    domainSize: 2 ** cirPower,
    setupMs: performance.now() - startMs,
  }
}

function floorLog2(v: number): number {
  return 31 - Math.clz32(v)
}

/** Uniform non-zero scalar: 512 random bits reduced mod r (bias < 2^-250). */
function randomScalar(): bigint {
  for (;;) {
    const s = readScalarLE(randomBytes(64), 0, 64) % FR
    if (s !== 0n) return s
  }
}

/**
 * Number of `(tau^(i+n) − tau^i)·G1` points snarkjs newZKey feeds to the circuit hash: its
 * chunk loop always hashes min(n−1, 2^14) points per chunk, so n−1 points up to n = 2^14 and
 * n points beyond.
 */
function nHashedHPoints(domainSize: number): number {
  const perChunk = Math.min(domainSize - 1, H_HASH_CHUNK)
  return Math.ceil((domainSize - 1) / H_HASH_CHUNK) * perChunk
}

function u32(value: number, littleEndian = true): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, value, littleEndian)
  return b
}

function scalarBytes(value: bigint): Uint8Array {
  const b = new Uint8Array(32)
  writeScalarLE(b, 0, value)
  return b
}

interface ComputedKeys {
  zkey: Uint8Array
  circuitHash: Uint8Array
  ptau: { bytes: Uint8Array; power: number } | undefined
}

function computeKeys(
  curve: Bn128Curve,
  ff: FfjavascriptModule,
  r1cs: R1cs,
  cirPower: number,
  withPtau: boolean,
): ComputedKeys {
  const n = 2 ** cirPower
  const nPublic = r1cs.nOutputs + r1cs.nPubInputs
  const { nVars, nConstraints } = r1cs
  const roots = Array.from({ length: FR_TWO_ADICITY + 1 }, (_, k) => curve.Fr.toObject(curve.Fr.w[k]!))

  let tau = randomScalar()
  // INVARIANT: tau lies outside every power-of-two domain, else L_j(tau) divides by zero.
  while (frPow(tau, 1n << BigInt(FR_TWO_ADICITY)) === 1n) tau = randomScalar()
  const alpha = randomScalar()
  const beta = randomScalar()
  const delta = randomScalar()
  const deltaInv = frInv(delta)
  const lagrange = lagrangeAtTau(tau, cirPower, roots[cirPower]!)

  // Per-wire QAP polynomials at tau: A_s(tau) = Σ_c a_{c,s}·L_c(tau) (likewise B, C).
  // Sums are reduced once at the end; BigInt holds the unreduced sum exactly.
  const a: bigint[] = new Array(nVars).fill(0n)
  const b: bigint[] = new Array(nVars).fill(0n)
  const c: bigint[] = new Array(nVars).fill(0n)
  let nCoefs = nPublic + 1
  for (const [lcA, lcB] of r1cs.constraints) nCoefs += lcA.length + lcB.length
  // Section 4 entries: u32 matrix (0 = A, 1 = B), u32 constraint, u32 wire, then the
  // coefficient times R² mod r as 32 LE bytes: the prover multiplies it with Montgomery
  // arithmetic against standard-form witness values, so it must carry an extra factor R².
  const coefSection = new Uint8Array(4 + nCoefs * 44)
  const coefView = new DataView(coefSection.buffer)
  coefView.setUint32(0, nCoefs, true)
  const montR = (1n << 256n) % FR
  const montR2 = (montR * montR) % FR
  let coefPos = 4
  const pushCoef = (matrix: number, constraint: number, wire: number, value: bigint): void => {
    coefView.setUint32(coefPos, matrix, true)
    coefView.setUint32(coefPos + 4, constraint, true)
    coefView.setUint32(coefPos + 8, wire, true)
    writeScalarLE(coefSection, coefPos + 12, (value * montR2) % FR)
    coefPos += 44
  }
  for (let k = 0; k < nConstraints; k++) {
    const [lcA, lcB, lcC] = r1cs.constraints[k]!
    const l = lagrange[k]!
    for (const t of lcA) {
      a[t.wire]! += t.coefficient * l
      pushCoef(0, k, t.wire, t.coefficient)
    }
    for (const t of lcB) {
      b[t.wire]! += t.coefficient * l
      pushCoef(1, k, t.wire, t.coefficient)
    }
    for (const t of lcC) c[t.wire]! += t.coefficient * l
  }
  // snarkjs appends one row per public wire s (and ONE, s = 0) at index nConstraints + s
  // with A = wire s and B = C = 0: it makes the public wires' A-polynomials linearly
  // independent, which Groth16's soundness needs.
  for (let s = 0; s <= nPublic; s++) {
    a[s]! += lagrange[nConstraints + s]!
    pushCoef(0, nConstraints + s, s, 1n)
  }
  for (let s = 0; s < nVars; s++) {
    a[s] = a[s]! % FR
    b[s] = b[s]! % FR
    c[s] = c[s]! % FR
  }
  const icScalars: bigint[] = []
  const cInitScalars: bigint[] = []
  for (let s = 0; s < nVars; s++) {
    const v = (frMul(beta, a[s]!) + frMul(alpha, b[s]!) + c[s]!) % FR
    // gamma is the G2 generator, as in every snarkjs key: IC is not divided by gamma.
    if (s <= nPublic) icScalars.push(v)
    else cInitScalars.push(v)
  }
  // H section: L^{2n}_{2k+1}(tau)/delta, the odd points of the doubled domain. The prover
  // evaluates A·B−C on the coset ω_{2n}·⟨ω_n⟩ (exactly those odd points), where it is
  // h·Z ≠ 0, and uses these bases without converting back to coefficients.
  const lagrange2n = lagrangeAtTau(tau, cirPower + 1, roots[cirPower + 1]!)
  const hScalars = Array.from({ length: n }, (_, k) => frMul(lagrange2n[2 * k + 1]!, deltaInv))
  const tauN1 = (frPow(tau, BigInt(n)) - 1n + FR) % FR
  const hHashScalars: bigint[] = []
  for (let i = 0, t = 1n; i < nHashedHPoints(n); i++, t = frMul(t, tau)) hHashScalars.push(frMul(t, tauN1))
  const contributionSeed = randomScalar()

  const ptauPower = n <= H_HASH_CHUNK ? cirPower : cirPower + 1
  const rows = rowUse(r1cs, n)
  const ptauCounts = withPtau ? ptauPointCounts(ptauPower, cirPower, rows) : { g1: 0, g2: 0 }
  const arena = new WasmArena(curve)
  try {
    const g1Count = 7 + icScalars.length + n + hHashScalars.length + 2 * cInitScalars.length + 2 * nVars + ptauCounts.g1
    const g1 = new FixedBaseTable(arena, 'g1', g1Count)
    const g2 = new FixedBaseTable(arena, 'g2', 3 + nVars + ptauCounts.g2)
    const hasher = createHash('blake2b512')

    const vk1 = g1.multiply([alpha, beta, delta, 1n], true)
    const vk2 = g2.multiply([beta, delta, 1n], true)
    const sG1 = 64
    const sG2 = 128
    const alpha1 = vk1.lem.subarray(0, sG1)
    const beta1 = vk1.lem.subarray(sG1, 2 * sG1)
    const delta1 = vk1.lem.subarray(2 * sG1, 3 * sG1)
    const beta2 = vk2.lem.subarray(0, sG2)
    const delta2 = vk2.lem.subarray(sG2, 2 * sG2)
    const gen2 = vk2.lem.subarray(2 * sG2, 3 * sG2)
    // The circuit hash is that of the *initial* key (delta = 1), as newZKey computes it.
    hasher.update(vk1.u!.subarray(0, 2 * sG1))
    hasher.update(vk2.u!.subarray(0, sG2))
    hasher.update(vk2.u!.subarray(2 * sG2, 3 * sG2)) // gamma2
    hasher.update(vk1.u!.subarray(3 * sG1, 4 * sG1)) // delta1 before contribution
    hasher.update(vk2.u!.subarray(2 * sG2, 3 * sG2)) // delta2 before contribution

    const header = Buffer.concat([
      u32(32),
      scalarBytes(FQ),
      u32(32),
      scalarBytes(FR),
      u32(nVars),
      u32(nPublic),
      u32(n),
      alpha1,
      beta1,
      beta2,
      gen2,
      delta1,
      delta2,
    ])
    const hashed = (table: FixedBaseTable, scalars: readonly bigint[]): Uint8Array => {
      const { lem, u } = table.multiply(scalars, true)
      hasher.update(u32(scalars.length, false))
      hasher.update(u!)
      return lem
    }
    const ic = hashed(g1, icScalars)
    hasher.update(u32(n - 1, false))
    hasher.update(g1.multiply(hHashScalars, true).u!)
    hashed(g1, cInitScalars)
    const pointsA = hashed(g1, a)
    const pointsB1 = hashed(g1, b)
    const pointsB2 = hashed(g2, b)
    const circuitHash = new Uint8Array(hasher.digest())
    const pointsC = g1.multiply(cInitScalars.map((v) => frMul(v, deltaInv))).lem
    const pointsH = g1.multiply(hScalars).lem

    const contribution = contributionSection(curve, ff, g1, circuitHash, delta, delta1, contributionSeed)
    const file = new BinFileWriter('zkey', 1)
    file.section(1, u32(1)) // protocol 1 = Groth16
    file.section(2, header)
    file.section(3, ic)
    file.section(4, coefSection)
    file.section(5, pointsA)
    file.section(6, pointsB1)
    file.section(7, pointsB2)
    file.section(8, pointsC)
    file.section(9, pointsH)
    file.section(10, contribution)
    const ptau = withPtau
      ? {
          bytes: buildPtau({ power: ptauPower, cirPower, rows, secrets: { tau, alpha, beta }, g1, g2, roots }),
          power: ptauPower,
        }
      : undefined
    return { zkey: file.finish(), circuitHash, ptau }
  } finally {
    arena.release()
  }
}

/** Rows of the domain newZKey reads, per matrix (the public rows have A = wire s only). */
function rowUse(r1cs: R1cs, n: number): RowUse {
  const use: RowUse = { a: new Uint8Array(n), b: new Uint8Array(n), any: new Uint8Array(n) }
  r1cs.constraints.forEach(([lcA, lcB, lcC], k) => {
    use.a[k] = lcA.length > 0 ? 1 : 0
    use.b[k] = lcB.length > 0 ? 1 : 0
    use.any[k] = lcA.length + lcB.length + lcC.length > 0 ? 1 : 0
  })
  for (let s = 0; s <= r1cs.nOutputs + r1cs.nPubInputs; s++)
    use.a[r1cs.nConstraints + s] = use.any[r1cs.nConstraints + s] = 1
  return use
}

/**
 * Section 10: the circuit hash and one phase-2 contribution that takes delta from 1 to its
 * random value, with a valid proof of knowledge so `zkey verify` can follow delta:
 * g1_sx = delta·g1_s and g2_spx = delta·hashToG2(transcript), where transcript =
 * blake2b(circuitHash ‖ g1_s ‖ g1_sx) exactly as zkey_contribute.js computes it.
 */
function contributionSection(
  curve: Bn128Curve,
  ff: FfjavascriptModule,
  g1: FixedBaseTable,
  circuitHash: Uint8Array,
  delta: bigint,
  delta1: Uint8Array,
  seed: bigint,
): Uint8Array {
  const pub = g1.multiply([seed, frMul(seed, delta)], true)
  const transcript = new Uint8Array(createHash('blake2b512').update(circuitHash).update(pub.u!).digest())
  const seedWords: number[] = []
  const tv = new DataView(transcript.buffer)
  for (let i = 0; i < 8; i++) seedWords.push(tv.getUint32(i * 4))
  const g2sp = curve.G2.fromRng(new ff.ChaCha(seedWords))
  const g2spx = new Uint8Array(128)
  curve.G2.toRprLEM(g2spx, 0, curve.G2.toAffine(curve.G2.timesScalar(g2sp, scalarBytes(delta))))
  const name = new TextEncoder().encode(DEV_SETUP_CONTRIBUTION_NAME)
  const params = Uint8Array.from([1, name.byteLength, ...name])
  return Buffer.concat([
    circuitHash,
    u32(1), // one contribution
    delta1, // deltaAfter
    pub.lem, // g1_s, g1_sx
    g2spx,
    transcript,
    u32(0), // type 0: ordinary contribution (1 would be a beacon)
    u32(params.byteLength),
    params,
  ])
}
