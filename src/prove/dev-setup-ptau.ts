/**
 * Prepared powers-of-tau file for the dev setup, in snarkjs's `ptau` binary format, built from
 * the same tau/alpha/beta as the dev zkey so that `snarkjs zkey verify` (verifyFromR1cs)
 * accepts that zkey. Section layout and sizes are exactly those of `powersoftau prepare
 * phase2`: 2 tauG1, 3 tauG2, 4 alphaTauG1, 5 betaTauG1, 6 betaG2, 7 contributions, 12–15 the
 * same four in Lagrange form for every domain 2^0 … 2^power (12 also 2^(power+1)).
 *
 * Only the points snarkjs reads for this circuit's domain 2^cirPower are computed; every
 * other point is left as the point at infinity (all-zero bytes). That halves the work and
 * is enough for `zKey.newZKey` and `zKey.verifyFromR1cs`, which read exactly:
 * - section 2, tau^0 … tau^(2n−1) (the circuit hash's H points and the H same-ratio check);
 * - sections 4, 5, 6, their first point (alpha·G1, beta·G1, beta·G2);
 * - sections 12–15, level cirPower (n points at offset n−1), for IC, A, B1, B2 and C, and
 *   of those only the rows the circuit's constraints use (`RowUse`);
 * - section 12, the odd points of level cirPower+1 (newZKey's H section).
 * The file is therefore a *verification-only* ptau: `powersoftau verify` rejects it, and a
 * key for a different domain cannot be made from it. It carries no ceremony either way.
 */
import { FQ, FR, frInv, frMul, frPow, lagrangeAtTau, type FixedBaseTable } from './dev-setup-curve.js'
import { BinFileWriter } from './dev-setup-binfile.js'

export interface PtauSecrets {
  tau: bigint
  alpha: bigint
  beta: bigint
}

export interface BuildPtauParameters {
  /** Power of the file (≥ cirPower). */
  power: number
  /** Power of the circuit's domain: the only level filled in. */
  cirPower: number
  secrets: PtauSecrets
  g1: FixedBaseTable
  g2: FixedBaseTable
  /** `Fr.w[k]` of ffjavascript as integers, k = 0 … 28. */
  roots: readonly bigint[]
  /** Which of the 2^cirPower domain rows newZKey reads (see `RowUse`). */
  rows: RowUse
}

/**
 * Per row c of the circuit's domain (constraint c, then one row per public wire): 1 if
 * it has A terms (`a`), B terms (`b`) or any terms (`any`). newZKey reads level cirPower of
 * section 12 for every term, 15 (beta·L) for A terms, 13 (G2) and 14 (alpha·L) for B terms;
 * rows it never reads stay at infinity.
 */
export interface RowUse {
  a: Uint8Array
  b: Uint8Array
  any: Uint8Array
}

const SG1 = 64
const SG2 = 128

/** Number of G1 and G2 scalar multiplications `buildPtau` performs (to size comb tables). */
export function ptauPointCounts(power: number, cirPower: number, rows: RowUse): { g1: number; g2: number } {
  const n = 2 ** cirPower
  const nTau = Math.min(2 * 2 ** power - 1, 2 * n)
  const count = (m: Uint8Array) => m.reduce((sum, v) => sum + v, 0)
  // sec 2: nTau; sec 4, 5: 1 each; sec 12: used rows + n odd points; sec 14, 15: B / A rows.
  return { g1: nTau + 2 + count(rows.any) + n + count(rows.b) + count(rows.a), g2: 1 + count(rows.b) }
}

function powers(tau: bigint, count: number, first = 1n): bigint[] {
  const out: bigint[] = new Array(count)
  let acc = first % FR
  for (let i = 0; i < count; i++) {
    out[i] = acc
    acc = frMul(acc, tau)
  }
  return out
}

/** A section of `count` points of `size` bytes: infinity except `parts`, placed at point index `at`. */
function section(count: number, size: number, ...parts: { at: number; bytes: Uint8Array }[]): Uint8Array {
  const out = new Uint8Array(count * size)
  for (const p of parts) out.set(p.bytes, p.at * size)
  return out
}

export function buildPtau({ power, cirPower, secrets, g1, g2, roots, rows }: BuildPtauParameters): Uint8Array {
  const { tau, alpha, beta } = secrets
  if (cirPower > power) throw new RangeError(`ptau power ${power} below the circuit's ${cirPower}`)
  const bigN = 2 ** power
  const n = 2 ** cirPower
  const file = new BinFileWriter('ptau', 1)

  const header = new Uint8Array(4 + 32 + 8)
  const headerView = new DataView(header.buffer)
  headerView.setUint32(0, 32, true)
  let q = FQ
  for (let i = 0; i < 32; i++) {
    header[4 + i] = Number(q & 0xffn)
    q >>= 8n
  }
  headerView.setUint32(36, power, true) // power
  headerView.setUint32(40, power, true) // ceremonyPower
  file.section(1, header)

  // snarkjs keeps 2N−1 G1 powers (tau^0 … tau^(2N−2)): enough for the quotient of a
  // degree-(2N−2) product A·B−C. Only the first 2n are read for this circuit.
  const nTau = Math.min(2 * bigN - 1, 2 * n)
  file.section(2, section(2 * bigN - 1, SG1, { at: 0, bytes: g1.multiply(powers(tau, nTau)).lem }))
  file.section(3, section(bigN, SG2))
  file.section(4, section(bigN, SG1, { at: 0, bytes: g1.multiply([alpha]).lem }))
  file.section(5, section(bigN, SG1, { at: 0, bytes: g1.multiply([beta]).lem }))
  file.section(6, g2.multiply([beta]).lem)
  // Zero recorded contributions: the toxic waste came from a CSPRNG in-process, there is no
  // ceremony transcript to record.
  file.section(7, new Uint8Array(4))

  // Level p of a Lagrange section starts at point 2^p − 1 (levels 0 … p−1 come first).
  const level = lagrangeAtTau(tau, cirPower, roots[cirPower]!)
  const up =
    cirPower + 1 <= power
      ? lagrangeAtTau(tau, cirPower + 1, roots[cirPower + 1]!)
      : topLevelWithoutLastPower(tau, power + 1, roots[power + 1]!)
  const odd = up.filter((_, j) => j % 2 === 1)
  const oddPoints = g1.multiply(odd).lem
  const upper = new Uint8Array(2 * n * SG1)
  for (let k = 0; k < n; k++) upper.set(oddPoints.subarray(k * SG1, (k + 1) * SG1), (2 * k + 1) * SG1)
  const g1Levels = 2 ** (power + 2) - 1
  const levels = 2 ** (power + 1) - 1
  // A zero scalar costs no additions and yields infinity: unread rows are left out that way.
  const only = (mask: Uint8Array, factor: bigint) => level.map((l, c) => (mask[c] ? frMul(l, factor) : 0n))
  file.section(
    12,
    section(g1Levels, SG1, { at: n - 1, bytes: g1.multiply(only(rows.any, 1n)).lem }, { at: 2 * n - 1, bytes: upper }),
  )
  file.section(13, section(levels, SG2, { at: n - 1, bytes: g2.multiply(only(rows.b, 1n)).lem }))
  file.section(14, section(levels, SG1, { at: n - 1, bytes: g1.multiply(only(rows.b, alpha)).lem }))
  file.section(15, section(levels, SG1, { at: n - 1, bytes: g1.multiply(only(rows.a, beta)).lem }))
  return file.finish()
}

/**
 * preparePhase2 builds level power+1 of section 12 from the 2N−1 stored powers with the
 * missing tau^(2N−1) taken as zero, so each point is L_j(tau) − tau^(N'−1)·ω^j/N' (the inverse
 * DFT of the truncated monomial vector; ω^(−j(N'−1)) = ω^j). Reproduced exactly here.
 */
function topLevelWithoutLastPower(tau: bigint, bits: number, omega: bigint): bigint[] {
  const size = 2 ** bits
  const full = lagrangeAtTau(tau, bits, omega)
  const factor = frMul(frPow(tau, BigInt(size - 1)), frInv(BigInt(size)))
  let wj = 1n
  return full.map((l) => {
    const v = (l - frMul(factor, wj) + FR) % FR
    wj = frMul(wj, omega)
    return v
  })
}
