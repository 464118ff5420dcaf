/**
 * Prepared powers-of-tau file for the dev setup, in snarkjs's `ptau` binary format, built from
 * the same tau/alpha/beta as the dev zkey so that `snarkjs zkey verify` (verifyFromR1cs)
 * accepts that zkey. Sections match what `powersoftau prepare phase2` would produce from
 * monomials of tau: 2 tauG1, 3 tauG2, 4 alphaTauG1, 5 betaTauG1, 6 betaG2, 7 contributions,
 * 12–15 the same four in Lagrange form for every domain 2^0 … 2^power.
 */
import { FQ, FR, frInv, frMul, frPow, lagrangeAtTau, type FixedBaseTable } from './dev-setup-curve.js'
import { BinFileWriter } from './dev-setup-binfile.js'

export interface PtauSecrets {
  tau: bigint
  alpha: bigint
  beta: bigint
}

export interface BuildPtauParameters {
  power: number
  secrets: PtauSecrets
  g1: FixedBaseTable
  g2: FixedBaseTable
  /** `Fr.w[k]` of ffjavascript as integers, k = 0 … 28. */
  roots: readonly bigint[]
}

/** Number of G1 and G2 scalar multiplications `buildPtau` performs (to size comb tables). */
export function ptauPointCounts(power: number): { g1: number; g2: number } {
  const n = 2 ** power
  // sec 2: 2n−1; sec 4, 5: n each; sec 12: levels 0..power+1 = 4n−1; sec 14, 15: 2n−1 each.
  return { g1: 2 * n - 1 + 2 * n + 4 * n - 1 + 2 * (2 * n - 1), g2: n + (2 * n - 1) }
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

export function buildPtau({ power, secrets, g1, g2, roots }: BuildPtauParameters): Uint8Array {
  const { tau, alpha, beta } = secrets
  const n = 2 ** power
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

  // snarkjs keeps 2n−1 G1 powers (tau^0 … tau^(2n−2)): enough for the quotient of a
  // degree-(2n−2) product A·B−C.
  file.section(2, g1.multiply(powers(tau, 2 * n - 1)).lem)
  file.section(3, g2.multiply(powers(tau, n)).lem)
  file.section(4, g1.multiply(powers(tau, n, alpha)).lem)
  file.section(5, g1.multiply(powers(tau, n, beta)).lem)
  file.section(6, g2.multiply([beta]).lem)
  // Zero recorded contributions: the toxic waste came from a CSPRNG in-process, there is no
  // ceremony transcript to record (see the report in devSetup's doc comment).
  file.section(7, new Uint8Array(4))

  const levels: bigint[][] = []
  for (let p = 0; p <= power; p++) levels.push(lagrangeAtTau(tau, p, roots[p]!))
  const top = topLevelWithoutLastPower(tau, power + 1, roots[power + 1]!)
  file.section(12, g1.multiply([...levels.flat(), ...top]).lem)
  file.section(13, g2.multiply(levels.flat()).lem)
  file.section(14, g1.multiply(levels.flat().map((l) => frMul(l, alpha))).lem)
  file.section(15, g1.multiply(levels.flat().map((l) => frMul(l, beta))).lem)
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
