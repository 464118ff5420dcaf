import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { emitCircuit } from '../../src/circuit/emit.js'
import type { Visibility, WeightVisibility } from '../../src/circuit/layout.js'
import { weightInputs } from '../../src/circuit/weights.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import type { IrModel } from '../../src/ir/types.js'
import { witnessInput } from '../../src/prove/witness-input.js'
import { compileCircomCached } from './circom-cache.js'
import { emittedNames, parseWtns, readR1cs, readSym, violated } from './r1cs.js'

/**
 * Emits and compiles an IR model in a temp folder; returns what soundness tests need.
 * `weights: 'hashed'` makes the weights private inputs: `witness` then takes them too
 * (default: the model's own).
 */
export async function buildCircuit(
  ir: IrModel,
  visibility: Visibility = { input: 'public', output: 'public' },
  { templateTextLimit, weights = 'constant' }: { templateTextLimit?: number; weights?: WeightVisibility } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'veriml-circuit-'))
  const emitted = emitCircuit({
    model: ir,
    bounds: analyzeBounds(ir),
    visibility,
    header: ['test'],
    weights,
    templateTextLimit,
  })
  await writeFile(join(dir, 'model.circom'), emitted.source)
  const compiled = await compileCircomCached(dir, emitted.source)
  const ownWeights = weights === 'hashed' ? weightInputs(ir) : {}
  let calculator: Promise<CircomWitnessCalculator> | undefined
  return {
    dir,
    emitted,
    compiled,
    r1cs: await readR1cs(join(dir, 'model.r1cs')),
    sym: emittedNames(await readSym(join(dir, 'model.sym')), emitted.source),
    witness: async (inputs: bigint[][], weightValues: Record<string, readonly bigint[]> = ownWeights) => {
      calculator ??= loadCalculator(dir)
      // Sanity check 0, as snarkjs's wtns.calculate runs it.
      return parseWtns(await (await calculator).calculateWTNSBin(witnessInput(inputs, weightValues), 0))
    },
  }
}

interface CircomWitnessCalculator {
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: number): Promise<Uint8Array>
}

/**
 * circom's own witness calculator for the build in `dir` (its wasm and JS driver), instantiated
 * once per circuit, as src/prove/witness.ts does: snarkjs's wtns.calculate compiles the wasm
 * and allocates a 2 GiB memory on every call (55-115 ms against 5-15 ms per witness, measured
 * on a small model), which dominated the tests that compute hundreds of witnesses.
 */
async function loadCalculator(dir: string): Promise<CircomWitnessCalculator> {
  const builder = createRequire(import.meta.url)(join(dir, 'model_js', 'witness_calculator.js')) as (
    code: Uint8Array,
  ) => Promise<CircomWitnessCalculator>
  return builder(await readFile(join(dir, 'model_js', 'model.wasm')))
}

/** Deterministic PRNG for reproducible random tests. */
export function rng(seed: number) {
  let s = seed >>> 0
  return (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

export const randInt = (r: () => number, lo: bigint, hi: bigint) => lo + BigInt(Math.floor(r() * Number(hi - lo + 1n)))

/**
 * Names of the wires that can be changed alone without violating a constraint, i.e. hints
 * the circuit leaves free. circomlib's IsZero.inv is free exactly when its input is 0 (and
 * its output is then 1 whatever inv is): that one case is allowed, checked on the witness.
 */
export function unconstrainedWires(circuit: Awaited<ReturnType<typeof buildCircuit>>, w: readonly bigint[]): string[] {
  const names = new Map([...circuit.sym].map(([wire, name]) => [name, wire]))
  const free: string[] = []
  for (let i = 1; i < w.length; i++) {
    const t = [...w]
    t[i] = (t[i] + 1n) % circuit.r1cs.prime
    if (violated(circuit.r1cs, t).length > 0) continue
    const name = circuit.sym.get(i) ?? `wire ${i}`
    const isZeroInput = name.endsWith('.isz.inv') ? w[names.get(name.replace(/inv$/, 'in'))!] : null
    if (isZeroInput !== 0n) free.push(name)
  }
  return free
}
