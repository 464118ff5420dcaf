/**
 * One proof job: what is queued ({modelId, input}), its id, and the one function every
 * worker (a BullMQ worker process or the embedded queue) runs on it.
 */
import { createHash } from 'node:crypto'
import { calldata, inferenceId } from '../chain/calldata.js'
import type { SnarkjsGroth16Proof } from '../prove/proof.js'
import { type ProofOutputJson, proveInMemory } from '../prove/prove.js'
import { parseInputs, quantizeInputs } from '../quantize/input.js'
import type { Progress } from '../util/progress.js'
import { JobTimeoutError } from './errors.js'
import type { ModelPool, ServedModel } from './models.js'

export interface JobData {
  modelId: string
  /** The input as the client sent it (EZKL or named form); already validated by the API. */
  input: unknown
}

export interface JobResult {
  proof: SnarkjsGroth16Proof
  public: string[]
  output: ProofOutputJson
  /** The registry call (`verifyInference`) and the verifier call, ABI-encoded, and the inference id. */
  calldata: { data: string; verifierData: string; inferenceId: string }
  witnessMs: number
  proveMs: number
}

/** What a client sees of a job. */
export type JobStatus =
  | { state: 'queued' }
  | { state: 'proving'; progress: JobProgress }
  | { state: 'done'; result: JobResult }
  | { state: 'failed'; error: string }

export interface JobProgress {
  stage: 'loading' | 'witness' | 'proving'
  /** How many times the job was started: above 1 after a worker died or a transient failure. */
  attempt?: number
}

export interface JobView {
  id: string
  modelId: string
  status: JobStatus
}

/**
 * The job's id: sha256(modelId ‖ canonical JSON of the quantised input). Quantised, so the
 * same input in EZKL or named form (or written 0.5 and 5e-1) is one job and one proof; the
 * integers are what the circuit proves, so two inputs with one id have one proof.
 */
export function jobId(modelId: string, inputs: readonly (readonly bigint[])[]): string {
  const canonical = JSON.stringify(inputs.map((row) => row.map(String)))
  return createHash('sha256').update(modelId.toLowerCase()).update('\n').update(canonical).digest('hex')
}

/**
 * Validates the input exactly as `veriml prove` does (parseInputs, quantizeInputs: an
 * IrInputError names the input and the value) and returns the job to queue.
 */
export function prepareJob(served: ServedModel, input: unknown): { id: string; data: JobData } {
  const { ir } = served.model
  const sample = parseInputs(input, ir.inputs)[0]
  const inputs = quantizeInputs(ir.inputs, sample)
  return { id: jobId(served.id, inputs), data: { modelId: served.id, input } }
}

export interface ProcessJobOptions {
  /** Called at each stage; a BullMQ worker stores it as the job's progress. */
  onProgress?: (p: JobProgress) => void
  /** Per-job timeout in seconds (0 or undefined: none). */
  timeoutSeconds?: number
}

/**
 * Proves one job with a loaded model: the one worker function of both queues. A timeout
 * rejects the job; snarkjs cannot be interrupted, so the proof in flight runs on to its end
 * in the background and its result is dropped.
 */
export async function processJob(pool: ModelPool, data: JobData, options: ProcessJobOptions = {}): Promise<JobResult> {
  const served = pool.get(data.modelId)
  const progress: Progress = {
    step(label, run) {
      options.onProgress?.({ stage: label === 'witness' ? 'witness' : 'proving' })
      return run()
    },
    info: () => {},
  }
  const prove = async (): Promise<JobResult> => {
    const r = await proveInMemory({ model: served.model, input: data.input, progress, zkey: served.zkey })
    return {
      proof: r.proof,
      public: r.publicSignals,
      output: r.output,
      calldata: registryCall(r.proof, r.publicSignals, served.id, r.output.input_signal_count),
      witnessMs: r.witnessMs,
      proveMs: r.proveMs,
    }
  }
  const seconds = options.timeoutSeconds ?? 0
  if (!(seconds > 0)) return prove()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JobTimeoutError({ seconds })), seconds * 1000)
  })
  try {
    return await Promise.race([prove(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The registry call, the verifier call, and the statement id the registry records the proof under. */
function registryCall(proof: SnarkjsGroth16Proof, signals: string[], modelId: string, inputSignalCount: number) {
  const { data, verifierData, pubSignals } = calldata(proof, signals, modelId)
  return { data, verifierData, inferenceId: inferenceId(modelId, pubSignals, inputSignalCount) }
}
