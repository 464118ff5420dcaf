import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { witnessInput } from '../../src/prove/witness-input.js'
import type { buildCircuit } from './circuit.js'

type Circuit = Awaited<ReturnType<typeof buildCircuit>>

/** A signal's name as the emitter wrote it: the step template it lives in left out (see emittedNames). */
const stepless = (name: string): string => name.replace(/^main\.s\d+\.(c\d+\.)?/, 'main.')

/** Wire index of a signal by its name as emitted (`main.…`), from the .sym file. */
export function wireOf(circuit: Circuit, name: string): number {
  for (const [wire, n] of circuit.sym) if (n === name) return wire
  throw new Error(`no wire named ${name}`)
}

/** The gadgets' interface signals: inputs (x, a, b, u) and the output y. */
const INTERFACE = ['x', 'a', 'b', 'u', 'y']

/**
 * Constraints of one gadget component `main.<component>`: those that touch one of its
 * internal wires (any signal of it or its sub-components other than its interface signals).
 * circom's O1 merges an interface signal with the wire it is connected to, keeping either
 * name, so interface wires cannot be attributed; every constraint of these gadgets touches an
 * internal wire, and the connection constraint of an affine input (requant's u) is left out.
 */
export function gadgetConstraints(circuit: Circuit, component: string): number {
  const prefix = `main.${component}.`
  const own = new Set<number>()
  for (const line of readFileSync(join(circuit.dir, 'model.sym'), 'utf8').split('\n')) {
    const [, wire, , full] = line.split(',')
    const name = full === undefined ? undefined : stepless(full)
    if (name?.startsWith(prefix) && Number(wire) >= 0 && !INTERFACE.includes(name.slice(prefix.length)))
      own.add(Number(wire))
  }
  if (own.size === 0) throw new Error(`no wires of component ${component}`)
  return circuit.r1cs.constraints.filter((abc) => abc.some((lc) => lc.some((t) => own.has(t.wire)))).length
}

/** Component instances of a template in the emitted source, with their template arguments. */
export function instances(source: string, template: string): { name: string; args: string[] }[] {
  const re = new RegExp(`component (\\w+) = ${template}\\(([^)]*)\\);`, 'g')
  return [...source.matchAll(re)].map((m) => ({ name: m[1], args: m[2].split(',').map((s) => s.trim()) }))
}

/**
 * A witness function equal to `circuit.witness` that instantiates circom's WebAssembly
 * witness calculator once: snarkjs's `wtns.calculate` compiles the wasm on every call
 * (~0.2 s), which dominates tests that sweep hundreds of inputs.
 */
export async function cachedWitness(circuit: Circuit): Promise<(inputs: bigint[][]) => Promise<bigint[]>> {
  const require = createRequire(import.meta.url)
  const builder = require(join(circuit.dir, 'model_js', 'witness_calculator.js')) as (
    code: Buffer,
  ) => Promise<{ calculateWitness(input: unknown, sanityCheck: boolean): Promise<bigint[]> }>
  const calculator = await builder(readFileSync(join(circuit.dir, 'model_js', 'model.wasm')))
  return async (inputs) => (await calculator.calculateWitness(witnessInput(inputs), true)).map((v) => BigInt(v))
}
