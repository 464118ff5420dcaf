/** Messages between the page (main.ts) and the proving worker (worker.ts). */
import type { Groth16Proof } from '../src/browser/index.js'

export type { PageConfig } from '../src/browser/page.js'

export type ProveStep = 'loading' | 'witness' | 'proving'

/** Fetch and check every artifact now (right after the page loads), so a later Prove needs no network. */
export interface LoadRequest {
  type: 'load'
  model: string
}

export type WorkerRequest = LoadRequest | ProveRequest

export interface ProveRequest {
  type: 'prove'
  /** The build folder's URL. */
  model: string
  /** Input JSON (EZKL or named form), as the Node API takes it. */
  input: unknown
  /** snarkjs on the proving worker's thread alone (see proveModel's singleThread). */
  singleThread: boolean
}

export type WorkerMessage =
  | { type: 'step'; step: ProveStep }
  | { type: 'loaded' }
  | {
      type: 'proved'
      proof: Groth16Proof
      publicSignals: string[]
      witnessMs: number
      proveMs: number
      /** What snarkjs's curve ran on: its thread count (1: single-threaded) and the browser's cores. */
      threads: number
      hardwareConcurrency: number
    }
  | { type: 'error'; message: string }
