/**
 * The prover: loads the model (each artifact checked against the manifest), computes the
 * witness and the Groth16 proof off the page's thread, and posts the proof back. Only the
 * proof and public signals leave this worker; the input arrived from the page and stays here.
 */
import { type BrowserModel, loadModel, proveModel } from '../src/browser/index.js'
import type { ProveRequest, ProveStep, WorkerMessage } from './protocol.js'

interface WorkerScope {
  postMessage(message: WorkerMessage): void
  onmessage: ((event: MessageEvent<ProveRequest>) => void) | null
}
const scope = self as unknown as WorkerScope
const models = new Map<string, Promise<BrowserModel>>()

scope.onmessage = (event) => {
  prove(event.data).catch((error: unknown) => {
    scope.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) })
  })
}

async function prove(request: ProveRequest): Promise<void> {
  const step = (s: ProveStep) => scope.postMessage({ type: 'step', step: s })
  step('loading')
  let loading = models.get(request.model)
  if (!loading) {
    loading = loadModel(request.model)
    models.set(request.model, loading)
    loading.catch(() => models.delete(request.model))
  }
  const model = await loading
  // Fetched (and checked) before the witness, so a tampered key is refused before any work.
  await Promise.all([model.zkey(), model.witness()])
  const result = await proveModel({
    model,
    input: request.input,
    progress: {
      step: (label, run) => {
        step(label === 'witness' ? 'witness' : 'proving')
        return run()
      },
      info: () => {},
    },
  })
  const curve = (globalThis as { curve_bn128?: { tm?: { concurrency?: number } } }).curve_bn128
  scope.postMessage({
    type: 'proved',
    proof: result.proof,
    publicSignals: result.publicSignals,
    witnessMs: result.witnessMs,
    proveMs: result.proveMs,
    threads: curve?.tm?.concurrency ?? 1,
    hardwareConcurrency: navigator.hardwareConcurrency,
  })
}
