/**
 * The models of the compile benchmark (issue 15's list): the sweep's MLPs and CNNs
 * (bench/sweep/models.ts), the bundled MNIST MLP and CNNs, and models past circom-as-wasm's
 * 4 GiB: the 1.07M-parameter MLP, a LeNet-5-shaped CNN on 32×32 (max pool, and avg pool, a
 * linear op) and an MLP of 5.2M weight terms.
 */
import { lenet5Model } from '../../models/lenet.js'
import { mlpModel, type SweepModel, sampleInput, sweepModels } from '../sweep/models.js'

export interface CompileBenchModel extends SweepModel {
  /** In `--quick` (the sweep's quick models: seconds for circom). */
  quick: boolean
  /** Why circom is not run on it; absent: circom compiles it. */
  pastCircomLimit?: string
  /** Dev setup, prove and verify through the direct build too. */
  prove: boolean
}

/**
 * Models circom is not run on, and how that was decided. Measured here (issue 15, TOOLCHAIN-NOTES):
 * circom2 at O1 needs 4.0 GB for the 790k MLP (790k weight terms) and runs out of its 4 GiB
 * on the 1.07M MLP and on a third-party LeNet-5; the others are judged from those.
 */
export const PAST_CIRCOM_LIMIT: Record<string, string> = {
  'mlp-784-1024-256-10': 'measured: circom2 ran out of its 4 GiB (issue 15)',
  'lenet5-maxpool': 'measured: a third-party LeNet-5 ran out of circom2’s 4 GiB (issue 15)',
  'lenet5-avgpool': 'same convolutions as the max-pool LeNet-5 (issue 15’s out-of-memory)',
  'mlp-2048-2048-512-10': '5.2M weight terms, 5× the 1.07M MLP that runs out of memory',
}

const lenet = (pool: 'max' | 'avg', seed: number): SweepModel => {
  const m = lenet5Model(pool, seed)
  return {
    name: m.name,
    family: 'cnn',
    shape: m.shape,
    parameters: m.parameters,
    onnx: m.onnx,
    input: sampleInput(seed + 1, m.inputSize),
  }
}

/** Every model, smallest first. */
export async function compileBenchModels(): Promise<CompileBenchModel[]> {
  const quick = new Set((await sweepModels(true)).map((m) => m.name))
  const big = mlpModel([2048, 2048, 512, 10], 18)
  const list: SweepModel[] = [...(await sweepModels(false)), lenet('max', 51), lenet('avg', 51), big]
  return list
    .map((m) => ({
      ...m,
      quick: quick.has(m.name),
      ...(PAST_CIRCOM_LIMIT[m.name] ? { pastCircomLimit: PAST_CIRCOM_LIMIT[m.name] } : {}),
      prove: m.name in PAST_CIRCOM_LIMIT,
    }))
    .sort((a, b) => a.parameters - b.parameters)
}
