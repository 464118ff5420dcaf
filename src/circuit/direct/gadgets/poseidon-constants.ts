/**
 * circomlib's Poseidon constants in the optimised form its poseidon.circom uses (C round
 * constants, S sparse partial-round matrices, M and P mixing matrices), from circomlibjs's
 * `poseidon_constants_opt.js` — the table circomlibjs's own `buildPoseidonOpt` hashes with.
 * circomlibjs does not export that module, so it is imported by URL beside the package's entry
 * (a module load, not file I/O: the circuit stage stays pure); 1.7 MB, loaded once, converted
 * to bigints per width on first use. Loading is async, so callers await `loadPoseidonTables()`
 * once and pass the tables to the synchronous builder.
 */
import { GadgetParameterError } from './errors.js'

/** Partial rounds per width t = 2..17 (circomlib's N_ROUNDS_P); full rounds are always 8. */
export const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68] as const
export const N_ROUNDS_F = 8

export interface PoseidonConstants {
  t: number
  nRoundsP: number
  C: bigint[]
  S: bigint[]
  /** M[j][i]: the weight of state j in mixed state i (circom's Mix reads M[j][i]·in[j]). */
  M: bigint[][]
  P: bigint[][]
}

/** circomlibjs's table as it ships (decimal strings); the browser entry passes it in (it cannot import by URL). */
export type RawPoseidonConstants = { C: string[][]; S: string[][]; M: string[][][]; P: string[][][] }
type Raw = RawPoseidonConstants

/** The constants of every width, converted on first use. */
export interface PoseidonTables {
  /** The constants of Poseidon(nInputs), width t = nInputs + 1 (1 ≤ nInputs ≤ 16). */
  forInputs(nInputs: number): PoseidonConstants
}

let loading: Promise<PoseidonTables> | null = null

export function loadPoseidonTables(): Promise<PoseidonTables> {
  loading ??= (async () => {
    const entry = import.meta.resolve('circomlibjs')
    const module = (await import(new URL('./src/poseidon_constants_opt.js', entry).href)) as { default: Raw }
    return poseidonTablesOf(module.default)
  })()
  return loading
}

/** The tables over circomlibjs's raw constants, converted per width on first use. */
export function poseidonTablesOf(raw: Raw): PoseidonTables {
  const byWidth = new Map<number, PoseidonConstants>()
  return {
    forInputs(nInputs) {
      if (!Number.isInteger(nInputs) || nInputs < 1 || nInputs > N_ROUNDS_P.length)
        throw new GadgetParameterError({
          gadget: 'Poseidon',
          problem: `takes 1 to ${N_ROUNDS_P.length} inputs, not ${nInputs}`,
          details: ['Chain wider inputs as emitHashes does: 16, then the previous hash and 15 more per link.'],
        })
      const t = nInputs + 1
      let c = byWidth.get(t)
      if (c) return c
      const big = (s: string) => BigInt(s)
      c = {
        t,
        nRoundsP: N_ROUNDS_P[t - 2]!,
        C: raw.C[t - 2]!.map(big),
        S: raw.S[t - 2]!.map(big),
        M: raw.M[t - 2]!.map((row) => row.map(big)),
        P: raw.P[t - 2]!.map((row) => row.map(big)),
      }
      byWidth.set(t, c)
      return c
    },
  }
}
