import type { buildPoseidon } from 'circomlibjs'
import { importKeepingCurve } from '../shutdown.js'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import type { PublicLayout } from './layout.js'
import { pack, packedElementCount, sideSignalCount, unpack } from './packing.js'

/**
 * The hashed-weights layout has no commitment yet (emitCircuit is synchronous and pure). No
 * fields of its own: `problem` says what is missing, as for every error without fields.
 */
export class MissingWeightCommitmentError extends BaseError {
  override name = 'MissingWeightCommitmentError'
  readonly problem: string
  constructor({ problem, details = [], cause }: { problem: string } & BaseErrorParameters) {
    super(problem, {
      details: [
        'Compute it with weightCommitment(model) and set layout.weights.commitment (compileModel does this).',
        ...details,
      ],
      cause,
    })
    this.problem = problem
  }
}

type Poseidon = Awaited<ReturnType<typeof buildPoseidon>>
let poseidon: Promise<Poseidon> | null = null

/** Poseidon over elements exactly as the circuit chains it: 16 first, then (previous, next 15). */
export async function hashChain(elements: readonly bigint[]): Promise<bigint> {
  // Loaded on first use: circomlibjs (with its ethers v5) costs ~1.2 s to import, and most
  // CLI commands (public inputs and outputs) never hash.
  const p = await (poseidon ??= importKeepingCurve(() => import('circomlibjs')).then((m) => m.buildPoseidon()))
  let h: bigint | null = null
  let done = 0
  while (done < elements.length || h === null) {
    const take = Math.min(elements.length - done, h === null ? 16 : 15)
    const inputs = [...(h === null ? [] : [h]), ...elements.slice(done, done + take)]
    h = p.F.toObject(p(inputs)) as bigint
    done += take
  }
  return h
}

/** The public signals a proof of (inputs → outputs) must carry, in the circuit's order (hashed weights: their commitment last). */
export async function publicSignals(
  layout: PublicLayout,
  inputs: readonly (readonly bigint[])[],
  outputs: readonly (readonly bigint[])[],
): Promise<bigint[]> {
  const packedIn = inputs.flatMap((v, i) => pack(v, layout.inputs[i]))
  const packedOut = outputs.flatMap((v, i) => pack(v, layout.outputs[i]))
  const { input, output } = layout.visibility
  if (layout.weights && layout.weights.commitment === undefined)
    throw new MissingWeightCommitmentError({ problem: 'the public layout has hashed weights but no weight commitment' })
  return [
    ...(input === 'public' ? packedIn : input === 'hashed' ? [await hashChain(packedIn)] : []),
    ...(output === 'public' ? packedOut : [await hashChain(packedOut)]),
    ...(layout.weights ? [BigInt(layout.weights.commitment!)] : []),
  ]
}

/** Decodes the output part of public signals (public outputs only; hashed outputs cannot be decoded). */
export function decodeOutputs(layout: PublicLayout, signals: readonly bigint[]): bigint[][] | null {
  if (layout.visibility.output !== 'public') return null
  let at = sideSignalCount(layout.visibility.input, layout.inputs)
  return layout.outputs.map((l) => {
    const n = packedElementCount(l)
    const values = unpack(signals.slice(at, at + n), l)
    at += n
    return values
  })
}
