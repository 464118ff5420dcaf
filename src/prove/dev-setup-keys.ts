/**
 * The key computation of the INSECURE dev setup (dev-setup.ts): toxic waste, the QAP at tau,
 * the scalars of every zkey section, their points and snarkjs's circuit hash, assembled into
 * zkey bytes identical in layout to what snarkjs 0.7.6's newZKey + one contribution write.
 */
import { createHash, randomBytes } from 'node:crypto'
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
  readScalarLE,
  writeScalarLE,
  type Bn128Curve,
  type FfjavascriptModule,
} from './dev-setup-curve.js'
import { buildPtau, ptauPointCounts, type RowUse } from './dev-setup-ptau.js'
import type { R1cs } from './r1cs.js'

/** Name recorded in the zkey's contribution section (shown by `snarkjs zkey verify`). */
export const DEV_SETUP_CONTRIBUTION_NAME = 'veriml INSECURE dev setup'

/** BN254's Fr has 2-adicity 28: no power-of-two domain beyond 2^28 exists. */
export const FR_TWO_ADICITY = 28
/** snarkjs's newZKey hashes the H points in chunks of 2^14 (see `nHashedHPoints`). */
const H_HASH_CHUNK = 1 << 14

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

export interface ComputedKeys {
  zkey: Uint8Array
  circuitHash: Uint8Array
  ptau: { bytes: Uint8Array; power: number } | undefined
}

/**
 * The zkey (and optionally the prepared ptau) of `r1cs` on a domain of 2^cirPower: fresh
 * secrets, the scalar behind every key point, the points with snarkjs's circuit hash, one
 * contribution taking delta from 1 to its secret value, then the sections in file order.
 */
export function computeKeys(
  curve: Bn128Curve,
  ff: FfjavascriptModule,
  r1cs: R1cs,
  cirPower: number,
  withPtau: boolean,
): ComputedKeys {
  const n = 2 ** cirPower
  const roots = Array.from({ length: FR_TWO_ADICITY + 1 }, (_, k) => curve.Fr.toObject(curve.Fr.w[k]!))
  const secrets = drawToxicWaste()
  const scalars = keyScalars(r1cs, cirPower, secrets, roots)
  const coefficients = coefficientSection(r1cs)

  const ptauPower = n <= H_HASH_CHUNK ? cirPower : cirPower + 1
  const rows = rowUse(r1cs, n)
  const ptauCounts = withPtau ? ptauPointCounts(ptauPower, cirPower, rows) : { g1: 0, g2: 0 }
  const arena = new WasmArena(curve)
  try {
    const g1Count =
      7 + scalars.ic.length + n + scalars.hHash.length + 2 * scalars.cInit.length + 2 * r1cs.nVars + ptauCounts.g1
    const g1 = new FixedBaseTable(arena, 'g1', g1Count)
    const g2 = new FixedBaseTable(arena, 'g2', 3 + r1cs.nVars + ptauCounts.g2)
    const points = keyPoints(g1, g2, n, secrets, scalars)
    const contribution = contributionSection(
      curve,
      ff,
      g1,
      points.circuitHash,
      secrets.delta,
      points.vk.delta1,
      secrets.contributionSeed,
    )
    const file = new BinFileWriter('zkey', 1)
    file.section(1, u32(1)) // protocol 1 = Groth16
    file.section(2, zkeyHeader(r1cs, n, points.vk))
    file.section(3, points.ic)
    file.section(4, coefficients)
    file.section(5, points.a)
    file.section(6, points.b1)
    file.section(7, points.b2)
    file.section(8, points.c)
    file.section(9, points.h)
    file.section(10, contribution)
    const { tau, alpha, beta } = secrets
    const ptau = withPtau
      ? {
          bytes: buildPtau({ power: ptauPower, cirPower, rows, secrets: { tau, alpha, beta }, g1, g2, roots }),
          power: ptauPower,
        }
      : undefined
    return { zkey: file.finish(), circuitHash: points.circuitHash, ptau }
  } finally {
    arena.release()
  }
}

/** The setup's secrets. Whoever knows them can forge proofs: they live only in this process. */
interface ToxicWaste {
  tau: bigint
  alpha: bigint
  beta: bigint
  delta: bigint
  /** The phase-2 contribution's proof-of-knowledge secret. */
  contributionSeed: bigint
}

function drawToxicWaste(): ToxicWaste {
  let tau = randomScalar()
  // INVARIANT: tau lies outside every power-of-two domain, else L_j(tau) divides by zero.
  while (frPow(tau, 1n << BigInt(FR_TWO_ADICITY)) === 1n) tau = randomScalar()
  return { tau, alpha: randomScalar(), beta: randomScalar(), delta: randomScalar(), contributionSeed: randomScalar() }
}

/** The scalars whose multiples of the generators make up the key, per section. */
interface KeyScalars {
  /** A_s(tau), B_s(tau) per wire s (sections 5, 6 and 7). */
  a: bigint[]
  b: bigint[]
  /** beta·A_s + alpha·B_s + C_s(tau) of the public wires (IC, section 3) ... */
  ic: bigint[]
  /** ... and of the private wires: section 8 is these divided by delta. */
  cInit: bigint[]
  /** Section 9. */
  h: bigint[]
  /** Points newZKey hashes in place of H (see nHashedHPoints). */
  hHash: bigint[]
  deltaInv: bigint
}

function keyScalars(r1cs: R1cs, cirPower: number, secrets: ToxicWaste, roots: readonly bigint[]): KeyScalars {
  const n = 2 ** cirPower
  const { tau, alpha, beta, delta } = secrets
  const nPublic = r1cs.nOutputs + r1cs.nPubInputs
  const { a, b, c } = wirePolynomialsAtTau(r1cs, lagrangeAtTau(tau, cirPower, roots[cirPower]!))
  const ic: bigint[] = []
  const cInit: bigint[] = []
  for (let s = 0; s < r1cs.nVars; s++) {
    const v = (frMul(beta, a[s]!) + frMul(alpha, b[s]!) + c[s]!) % FR
    // gamma is the G2 generator, as in every snarkjs key: IC is not divided by gamma.
    if (s <= nPublic) ic.push(v)
    else cInit.push(v)
  }
  // H section: L^{2n}_{2k+1}(tau)/delta, the odd points of the doubled domain. The prover
  // evaluates A·B−C on the coset ω_{2n}·⟨ω_n⟩ (exactly those odd points), where it is
  // h·Z ≠ 0, and uses these bases without converting back to coefficients.
  const deltaInv = frInv(delta)
  const lagrange2n = lagrangeAtTau(tau, cirPower + 1, roots[cirPower + 1]!)
  const h = Array.from({ length: n }, (_, k) => frMul(lagrange2n[2 * k + 1]!, deltaInv))
  const tauN1 = (frPow(tau, BigInt(n)) - 1n + FR) % FR
  const hHash: bigint[] = []
  for (let i = 0, t = 1n; i < nHashedHPoints(n); i++, t = frMul(t, tau)) hHash.push(frMul(t, tauN1))
  return { a, b, ic, cInit, h, hHash, deltaInv }
}

/** Per-wire QAP polynomials at tau: A_s(tau) = Σ_c a_{c,s}·L_c(tau) (likewise B, C), reduced. */
function wirePolynomialsAtTau(r1cs: R1cs, lagrange: readonly bigint[]): { a: bigint[]; b: bigint[]; c: bigint[] } {
  const { nVars, nConstraints } = r1cs
  // Sums are reduced once at the end; BigInt holds the unreduced sum exactly.
  const a: bigint[] = new Array(nVars).fill(0n)
  const b: bigint[] = new Array(nVars).fill(0n)
  const c: bigint[] = new Array(nVars).fill(0n)
  for (let k = 0; k < nConstraints; k++) {
    const [lcA, lcB, lcC] = r1cs.constraints[k]!
    const l = lagrange[k]!
    for (const t of lcA) a[t.wire]! += t.coefficient * l
    for (const t of lcB) b[t.wire]! += t.coefficient * l
    for (const t of lcC) c[t.wire]! += t.coefficient * l
  }
  // snarkjs appends one row per public wire s (and ONE, s = 0) at index nConstraints + s
  // with A = wire s and B = C = 0: it makes the public wires' A-polynomials linearly
  // independent, which Groth16's soundness needs.
  for (let s = 0; s <= r1cs.nOutputs + r1cs.nPubInputs; s++) a[s]! += lagrange[nConstraints + s]!
  for (let s = 0; s < nVars; s++) {
    a[s] = a[s]! % FR
    b[s] = b[s]! % FR
    c[s] = c[s]! % FR
  }
  return { a, b, c }
}

/**
 * Section 4, the A and B matrices for the prover (C is implied). Entries: u32 matrix (0 = A,
 * 1 = B), u32 constraint, u32 wire, then the coefficient times R² mod r as 32 LE bytes: the
 * prover multiplies it with Montgomery arithmetic against standard-form witness values, so
 * it must carry an extra factor R². The public rows (A = wire s) come last, as snarkjs writes them.
 */
function coefficientSection(r1cs: R1cs): Uint8Array {
  const { nConstraints } = r1cs
  const nPublic = r1cs.nOutputs + r1cs.nPubInputs
  let nCoefs = nPublic + 1
  for (const [lcA, lcB] of r1cs.constraints) nCoefs += lcA.length + lcB.length
  const section = new Uint8Array(4 + nCoefs * 44)
  const view = new DataView(section.buffer)
  view.setUint32(0, nCoefs, true)
  const montR = (1n << 256n) % FR
  const montR2 = (montR * montR) % FR
  let pos = 4
  const push = (matrix: number, constraint: number, wire: number, value: bigint): void => {
    view.setUint32(pos, matrix, true)
    view.setUint32(pos + 4, constraint, true)
    view.setUint32(pos + 8, wire, true)
    writeScalarLE(section, pos + 12, (value * montR2) % FR)
    pos += 44
  }
  for (let k = 0; k < nConstraints; k++) {
    const [lcA, lcB] = r1cs.constraints[k]!
    for (const t of lcA) push(0, k, t.wire, t.coefficient)
    for (const t of lcB) push(1, k, t.wire, t.coefficient)
  }
  for (let s = 0; s <= nPublic; s++) push(0, nConstraints + s, s, 1n)
  return section
}

/** The verification key's points, in the zkey's LEM encoding. */
interface VerificationKeyPoints {
  alpha1: Uint8Array
  beta1: Uint8Array
  delta1: Uint8Array
  beta2: Uint8Array
  delta2: Uint8Array
  gen2: Uint8Array
}

interface KeyPoints {
  vk: VerificationKeyPoints
  ic: Uint8Array
  a: Uint8Array
  b1: Uint8Array
  b2: Uint8Array
  c: Uint8Array
  h: Uint8Array
  /** snarkjs's circuit hash, fed in the order newZKey feeds it. */
  circuitHash: Uint8Array
}

/**
 * Multiplies the key scalars into points and computes the circuit hash on the way. The hash
 * covers the uncompressed points in newZKey's order, so the calls below keep that order.
 */
function keyPoints(
  g1: FixedBaseTable,
  g2: FixedBaseTable,
  n: number,
  secrets: ToxicWaste,
  scalars: KeyScalars,
): KeyPoints {
  const hasher = createHash('blake2b512')
  const vk1 = g1.multiply([secrets.alpha, secrets.beta, secrets.delta, 1n], true)
  const vk2 = g2.multiply([secrets.beta, secrets.delta, 1n], true)
  const sG1 = 64
  const sG2 = 128
  const vk: VerificationKeyPoints = {
    alpha1: vk1.lem.subarray(0, sG1),
    beta1: vk1.lem.subarray(sG1, 2 * sG1),
    delta1: vk1.lem.subarray(2 * sG1, 3 * sG1),
    beta2: vk2.lem.subarray(0, sG2),
    delta2: vk2.lem.subarray(sG2, 2 * sG2),
    gen2: vk2.lem.subarray(2 * sG2, 3 * sG2),
  }
  // The circuit hash is that of the *initial* key (delta = 1), as newZKey computes it.
  hasher.update(vk1.u!.subarray(0, 2 * sG1))
  hasher.update(vk2.u!.subarray(0, sG2))
  hasher.update(vk2.u!.subarray(2 * sG2, 3 * sG2)) // gamma2
  hasher.update(vk1.u!.subarray(3 * sG1, 4 * sG1)) // delta1 before contribution
  hasher.update(vk2.u!.subarray(2 * sG2, 3 * sG2)) // delta2 before contribution

  const hashed = (table: FixedBaseTable, values: readonly bigint[]): Uint8Array => {
    const { lem, u } = table.multiply(values, true)
    hasher.update(u32(values.length, false))
    hasher.update(u!)
    return lem
  }
  const ic = hashed(g1, scalars.ic)
  hasher.update(u32(n - 1, false))
  hasher.update(g1.multiply(scalars.hHash, true).u!)
  hashed(g1, scalars.cInit)
  const a = hashed(g1, scalars.a)
  const b1 = hashed(g1, scalars.b)
  const b2 = hashed(g2, scalars.b)
  const circuitHash = new Uint8Array(hasher.digest())
  const c = g1.multiply(scalars.cInit.map((v) => frMul(v, scalars.deltaInv))).lem
  const h = g1.multiply(scalars.h).lem
  return { vk, ic, a, b1, b2, c, h, circuitHash }
}

/** Section 2: field sizes and moduli, wire and public counts, domain size, verification key. */
function zkeyHeader(r1cs: R1cs, n: number, vk: VerificationKeyPoints): Uint8Array {
  return Buffer.concat([
    u32(32),
    scalarBytes(FQ),
    u32(32),
    scalarBytes(FR),
    u32(r1cs.nVars),
    u32(r1cs.nOutputs + r1cs.nPubInputs),
    u32(n),
    vk.alpha1,
    vk.beta1,
    vk.beta2,
    vk.gen2,
    vk.delta1,
    vk.delta2,
  ])
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
