/**
 * run, prove and verify on a BrowserModel: src/prove/prove.ts and verify.ts without the
 * files. Same inputs (EZKL or named input JSON) and the same return types, so a page and a
 * Node script read the same fields.
 */
import * as snarkjs from 'snarkjs'
import { decodeOutputs } from '../circuit/public.js'
import type { Manifest } from '../prove/manifest.js'
import type { ProveModelReturnType, RunModelReturnType } from '../prove/prove.js'
import { ToolError } from '../prove/errors.js'
import { WitnessMismatchError } from '../prove/errors.js'
import { runQuantized } from '../quantize/run.js'
import { type Progress, silentProgress } from '../util/progress.js'
import type { BrowserModel } from './model.js'

export type { Groth16Proof } from 'snarkjs'

/** groth16.prove with its fourth parameter (options), which src/types/vendor.d.ts does not declare. */
const proveWith = snarkjs.groth16.prove as (
  ...a: [...Parameters<typeof snarkjs.groth16.prove>, { singleThread: boolean }]
) => ReturnType<typeof snarkjs.groth16.prove>

/** Reference executor: the definition of the model's output (quantise, execute, dequantise). */
export function runModel(p: { model: BrowserModel; input: unknown }): RunModelReturnType & { manifest: Manifest } {
  const { ir, manifest } = p.model
  return { ir, manifest, ...runQuantized(ir, p.input) }
}

export interface BrowserProveReturnType extends Omit<ProveModelReturnType, 'publicSignals'> {
  proof: snarkjs.Groth16Proof
  publicSignals: string[]
}

/**
 * Witness and Groth16 proof of `input`, all in this thread (run it in a Worker to keep a page
 * responsive). The proof's public outputs must equal the reference executor's; a difference
 * is a compiler bug, reported as in Node (WitnessMismatchError). Hashed signals are checked
 * by the count only: hashing them here would need circomlibjs, and the circuit computes them.
 */
export async function proveModel(p: {
  model: BrowserModel
  input: unknown
  progress?: Progress
  /**
   * snarkjs's curve on this thread alone instead of navigator.hardwareConcurrency Web Workers.
   * Taken when the curve is first built in this realm (snarkjs keeps it). On 2 cores, one
   * thread proved faster in Chromium (bench/results/browser-*.md): the renderer, this worker
   * and the curve's workers share the cores, and each MSM chunk is copied to a worker.
   */
  singleThread?: boolean
}): Promise<BrowserProveReturnType> {
  const progress = p.progress ?? silentProgress
  const run = runModel(p)
  const { manifest } = run
  let t = performance.now()
  const calculate = await p.model.witness()
  const wtns = await progress.step('witness', () => calculate(run.inputs))
  const witnessMs = performance.now() - t
  const zkey = await p.model.zkey()
  t = performance.now()
  const { proof, publicSignals } = await progress
    .step(`proving (${manifest.constraintCount} constraints)`, () =>
      proveWith({ type: 'mem', data: zkey }, { type: 'mem', data: wtns }, undefined, {
        singleThread: !!p.singleThread,
      }),
    )
    .catch((cause: unknown) => {
      throw new ToolError({
        tool: 'snarkjs',
        argv: ['groth16 prove', 'model.zkey'],
        problem: `proving failed: ${String((cause as Error)?.message ?? cause).split('\n')[0]}`,
        cause,
      })
    })
  const proveMs = performance.now() - t
  checkSignals(manifest, publicSignals, run.outputs)
  return { ...run, proof, publicSignals, witnessMs, proveMs }
}

function checkSignals(manifest: Manifest, signals: readonly string[], outputs: readonly (readonly bigint[])[]): void {
  if (signals.length !== manifest.layout.count)
    throw new WitnessMismatchError({
      problem: `the circuit has ${signals.length} public signals, the layout ${manifest.layout.count}`,
      details: ['This is a veriml bug: please report it with the model and input.'],
    })
  const decoded = decodeOutputs(manifest.layout, signals.map(BigInt))
  const differs = decoded?.findIndex((o, k) => o.some((v, i) => v !== outputs[k][i])) ?? -1
  if (differs >= 0)
    throw new WitnessMismatchError({
      problem: `output ${differs} in the proof's public signals differs from the reference executor`,
      details: ['This is a veriml bug: please report it with the model and input.'],
    })
}

export interface BrowserVerifyReturnType {
  valid: boolean
  modelId: string
  /** Decoded outputs when they are public. */
  outputs: bigint[][] | null
  verifyMs: number
}

/** Off-chain Groth16 verification against the model's verification key (checked against the manifest). */
export async function verifyProof(p: {
  model: BrowserModel
  proof: snarkjs.Groth16Proof
  publicSignals: string[]
}): Promise<BrowserVerifyReturnType> {
  const vkey = await p.model.verificationKey()
  const t = performance.now()
  const valid = await snarkjs.groth16.verify(vkey, p.publicSignals, p.proof)
  const verifyMs = performance.now() - t
  const outputs = valid ? decodeOutputs(p.model.manifest.layout, p.publicSignals.map(BigInt)) : null
  return { valid, modelId: p.model.modelId, outputs, verifyMs }
}
