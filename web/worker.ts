/**
 * The prover: loads the model (each artifact checked against the manifest), computes the
 * witness and the Groth16 proof off the page's thread, and posts the proof back. Only the
 * proof and public signals leave this worker; the input arrived from the page and stays here.
 */
import { type BrowserModel, loadModel, proveModel } from '../src/browser/index.js'
import type { ProveRequest, ProveStep, WorkerMessage, WorkerRequest } from './protocol.js'

interface WorkerScope {
  postMessage(message: WorkerMessage): void
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null
}
const scope = self as unknown as WorkerScope
const models = new Map<string, Promise<BrowserModel>>()

scope.onmessage = (event) => {
  const request = event.data
  const work =
    request.type === 'load' ? loaded(request.model).then(() => scope.postMessage({ type: 'loaded' })) : prove(request)
  work.catch((error: unknown) => {
    scope.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) })
  })
}

/**
 * The model with its key and witness generator fetched and checked, once per worker: a
 * tampered key is refused before any work, and once loaded nothing more is fetched.
 */
async function loaded(url: string): Promise<BrowserModel> {
  let loading = models.get(url)
  if (!loading) {
    loading = loadModel(url).then(async (model) => {
      await Promise.all([model.zkey(), model.witness()])
      return model
    })
    models.set(url, loading)
    loading.catch(() => models.delete(url))
  }
  return loading
}

async function prove(request: ProveRequest): Promise<void> {
  const step = (s: ProveStep) => scope.postMessage({ type: 'step', step: s })
  step('loading')
  const model = await loaded(request.model)
  const result = await proveModel({
    model,
    input: request.input,
    singleThread: request.singleThread,
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
