/**
 * veriml's own Groth16 verifier template: the verification key inlined as literals and the
 * whole check in one assembly pass, with snarkjs's interface and exactly snarkjs's answers.
 *
 * Why not snarkjs's template: its per-signal Yul functions, the free-memory bookkeeping, the
 * per-call gas arithmetic, the branches after each precompile call and the word-by-word copies
 * of the proof cost ~1.8k gas of a 2-signal verification, which the registry cannot spare to
 * stay under 250k per verify + record (see VerimlRegistry.verifyInference).
 *
 * Equivalence with snarkjs's verifier (test/chain/verifier-diff.test.ts checks it on random
 * valid and tampered proofs, both deployed side by side):
 * - the same function, `verifyProof(uint[2],uint[2][2],uint[2],uint[N])`, so the same ABI
 *   decoding (Solidity's: calldata shorter than the arguments reverts, longer is ignored);
 * - a signal ≥ r answers false (snarkjs's checkField), checked for every signal;
 * - the same linear combination vk_x = IC0 + Σ sᵢ·ICᵢ with the same precompiles (ecMul, ecAdd):
 *   the point is a group element, so any order of the same operations gives the same point;
 * - -A as snarkjs writes it, (A.x, (q - A.y) mod q), byte for byte, so a non-canonical A.y
 *   becomes the same (usually off-curve) point in both;
 * - the same four pairs to ecPairing, product == 1 ⇔ accept; an invalid point (off the curve,
 *   a coordinate ≥ q, B outside the subgroup) makes the precompile fail, which answers false.
 *   The pairs are in another order (vk_x first, so the accumulator needs no copy): the
 *   precompile checks every point and multiplies every pairing whatever the order.
 * snarkjs answers false as soon as a check fails; this verifier folds every check into one
 * flag and answers once: the same answer, gas spent only on proofs that fail anyway.
 */
import { id } from 'ethers'

/** The fields of snarkjs's Groth16 verification key (`zKey.exportVerificationKey`) used here. */
export interface VerificationKey {
  protocol: string
  curve: string
  nPublic: number
  /** G1 points as decimal strings [x, y, z]; G2 as [[x.c0, x.c1], [y.c0, y.c1], …]. */
  vk_alpha_1: readonly string[]
  vk_beta_2: readonly (readonly string[])[]
  vk_gamma_2: readonly (readonly string[])[]
  vk_delta_2: readonly (readonly string[])[]
  IC: readonly (readonly string[])[]
}

/** BN254 scalar field r (public signals) and base field q (point coordinates). */
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

export interface Groth16VerifierSourceParameters {
  vk: VerificationKey
  contractName: string
  /** Comment lines (each starting with //) placed after the SPDX line. */
  header: string
}

const hex = (v: string | bigint) => `0x${BigInt(v).toString(16).padStart(64, '0')}`
const word = (offset: number) => `0x${offset.toString(16)}`

/** G2 point as the precompile takes it: x.c1, x.c0, y.c1, y.c0 (snarkjs's order too). */
function g2Words(p: readonly (readonly string[])[]): string[] {
  return [p[0][1], p[0][0], p[1][1], p[1][0]].map(hex)
}

/** snarkjs's `verifyProof(uint[2],uint[2][2],uint[2],uint[n])` selector, as 0x + 8 hex digits. */
export function verifyProofSelector(n: number): string {
  return id(`verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${n}])`).slice(0, 10)
}

/** Solidity source of the verifier for `vk`. */
/** Gas below which the verifier answers false at once: every precompile call and ~10k for the rest. */
export const minGas = (n: number): number => 191_000 + 6_500 * n

export function groth16VerifierSource({ vk, contractName, header }: Groth16VerifierSourceParameters): string {
  const n = vk.IC.length - 1
  const lines: string[] = []
  const emit = (indent: number, text: string) => lines.push(`${' '.repeat(indent)}${text}`)
  emit(0, '// SPDX-License-Identifier: MIT')
  lines.push(header)
  emit(0, 'pragma solidity >=0.8.4 <0.9.0;')
  emit(0, '')
  emit(0, `/// @notice Groth16 verifier of one circuit (${n} public signals), key inlined.`)
  emit(0, "/// @dev Same interface and same answers as snarkjs's generated verifier, at less gas.")
  emit(0, `contract ${contractName} {`)
  const selector = verifyProofSelector(n)
  const calldataSize = 4 + 32 * (8 + n)
  emit(4, '/// @notice verifyProof(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[N] pubSignals)')
  emit(4, '///         returns (bool): whether (a, b, c) proves the circuit for these public signals.')
  emit(4, "/// @dev A fallback rather than a function: Solidity's dispatcher and ABI decoder cost")
  emit(4, '///      ~480 gas here; this does what they do for this one signature (any other selector')
  emit(4, '///      or calldata shorter than the arguments reverts, longer is ignored, value reverts).')
  emit(4, '///      b in snarkjs order (each coordinate c1 before c0). Answers false, never reverts,')
  emit(4, '///      for a rejected proof.')
  emit(4, 'fallback() external {')
  emit(8, 'assembly {')
  emit(
    12,
    `if or(iszero(eq(shr(224, calldataload(0)), ${selector})), lt(calldatasize(), ${calldataSize})) { revert(0, 0) }`,
  )
  // Short of the gas a whole verification needs, answer false before any precompile, as
  // snarkjs's verifier answers false when one runs out. Given all the gas, a precompile out of
  // gas would leave only 1/64, too little to answer, and the call would revert (the registry's
  // 60k-gas probe of an all-zero proof did, from 10 signals on). The bound covers the
  // precompiles (ecMul 6,000 + ecAdd 150 a signal, a 4-pair ecPairing 181,000) with room for
  // the rest, and stays below the registry's VERIFY_GAS_BASE + VERIFY_GAS_PER_SIGNAL · n, so a
  // verifier given the registry's budget never answers false for want of gas.
  emit(12, `if lt(gas(), ${minGas(n)}) { mstore(0x00, 0) return(0x00, 0x20) }`)
  emit(12, `let r := ${R}`)
  emit(12, '// vk_x accumulates at 0x00; ecMul reads [ICᵢ, sᵢ] at 0x40 and writes sᵢ·ICᵢ there,')
  emit(12, '// so ecAdd finds [vk_x, sᵢ·ICᵢ] at 0x00..0x80 and writes the sum back to 0x00.')
  emit(12, '// Memory is used from 0: the function returns from this block, never to Solidity.')
  emit(12, `mstore(0x00, ${hex(vk.IC[0][0])})`)
  emit(12, `mstore(0x20, ${hex(vk.IC[0][1])})`)
  emit(12, 'let ok := 1')
  for (let i = 1; i <= n; i++) {
    // Signals start after the selector and the 8 proof words: 4 + 8·32 = 0x104.
    emit(12, `let s${i} := calldataload(${word(0x104 + (i - 1) * 32)})`)
    emit(12, `mstore(0x40, ${hex(vk.IC[i][0])})`)
    emit(12, `mstore(0x60, ${hex(vk.IC[i][1])})`)
    emit(12, `mstore(0x80, s${i})`)
    // SOUNDNESS: a signal must be a canonical field element (snarkjs's checkField): s and
    // s + r are the same scalar to ecMul, so without it one proof would verify two statements.
    emit(12, `ok := and(ok, lt(s${i}, r))`)
    emit(12, 'ok := and(ok, staticcall(gas(), 7, 0x40, 0x60, 0x40, 0x40))')
    emit(12, 'ok := and(ok, staticcall(gas(), 6, 0x00, 0x80, 0x00, 0x40))')
  }
  const pairs: [number, string][] = []
  const put = (offset: number, value: string) => pairs.push([offset, value])
  // Pair 1: (vk_x, γ) — vk_x is already at 0x00.
  g2Words(vk.vk_gamma_2).forEach((w, j) => put(0x40 + 32 * j, w))
  // Pair 3: (α, β) and pair 4's δ: constants.
  put(0x180, hex(vk.vk_alpha_1[0]))
  put(0x1a0, hex(vk.vk_alpha_1[1]))
  g2Words(vk.vk_beta_2).forEach((w, j) => put(0x1c0 + 32 * j, w))
  g2Words(vk.vk_delta_2).forEach((w, j) => put(0x280 + 32 * j, w))
  emit(12, '// Pairs: (vk_x, γ) at 0x00, (-A, B) at 0xc0, (α, β) at 0x180, (C, δ) at 0x240.')
  for (const [offset, value] of pairs) emit(12, `mstore(${word(offset)}, ${value})`)
  emit(12, '// -A exactly as snarkjs negates it: (A.x, (q - A.y) mod q).')
  emit(12, 'mstore(0xc0, calldataload(0x04))')
  emit(12, `let q := ${Q}`)
  emit(12, 'mstore(0xe0, mod(sub(q, calldataload(0x24)), q))')
  emit(12, '// B (4 words at 0x44) and C (2 words at 0xc4) as given: the precompile checks them.')
  emit(12, 'calldatacopy(0x100, 0x44, 0x80)')
  emit(12, 'calldatacopy(0x240, 0xc4, 0x40)')
  emit(12, '// A failed call leaves 0x00 unwritten; `ok` then answers false whatever it holds.')
  emit(12, 'ok := and(ok, staticcall(gas(), 8, 0x00, 0x300, 0x00, 0x20))')
  emit(12, 'mstore(0x00, and(ok, mload(0x00)))')
  emit(12, 'return(0x00, 0x20)')
  emit(8, '}')
  emit(4, '}')
  emit(0, '}')
  emit(0, '')
  return lines.join('\n')
}
