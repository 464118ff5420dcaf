import { type PackLayout, publicLayouts } from '../ir/packing.js'
import { analyzeBounds } from '../ir/bounds.js'
import type { IrModel, TensorId } from '../ir/types.js'
import { BaseError } from '../errors.js'
import { OptimisticModelError } from './errors.js'
import { type InputLayout, packedInputBytes } from './input.js'
import { depthFor } from './merkle.js'
import { packedOutputBytes } from './output.js'
import { sizeOf } from '../util/shape.js'

/**
 * Where each tensor lives in the trace: states 0 .. inputCount-1 are the model inputs in
 * order, state inputCount + i is the output of step i. The trace tree has one leaf per state.
 */
export interface TraceLayout {
  inputCount: number
  stepCount: number
  stateCount: number
  /** Element count of each state. */
  stateSizes: number[]
  /** Trace position of each tensor id. */
  positionOf: Map<TensorId, number>
  /** States holding the model outputs, in the model's output order (each a step's output). */
  outputStates: number[]
  traceDepth: number
  /**
   * How claims post each input state: the zk circuit's input layout (`publicLayouts`) and the
   * declared domain's top (the game refuses values above it).
   */
  inputLayouts: InputLayout[]
  /**
   * How claims post each output: the zk circuit's output layout (`publicLayouts`), sized from
   * the outputs' bounds proven for every input in the declared domains (computed on first use).
   */
  readonly outputLayouts: PackLayout[]
}

/**
 * `OutputCommitment.MAX_CLAIM_CALLDATA`: a claim's whole calldata, 120 KiB, so the transaction
 * (plus its own fields, under 200 bytes) stays below the 128 KiB that geth's and most mempools
 * relay. A model over it is refused: its claims could never be posted.
 */
export const MAX_CLAIM_CALLDATA = 122_880

/**
 * Bytes of `claim(bytes32, bytes inputPacked, bytes32, bytes outputsPacked, bytes32[][] paths)`
 * calldata, as `OutputCommitment.claimCalldataBytes`: selector, five head words, each bytes'
 * length word and body (whole words), the paths' length word, per output an offset, a length
 * and `traceDepth` siblings.
 */
export function claimCalldataBytes(p: {
  inputBytes: number
  outputBytes: number
  outputCount: number
  traceDepth: number
}): number {
  return 4 + 5 * 32 + (32 + p.inputBytes) + (32 + p.outputBytes) + 32 + p.outputCount * (64 + 32 * p.traceDepth)
}

/** `OptimisticGame.MAX_INPUT_BYTES`: a claim's packed input, so the claim and every dispute transaction fit a block. */
export const MAX_INPUT_BYTES = 65_536

/** The compiler's bounds of the model, a refusal (`fail`) when its analysis refuses the model. */
function provenBounds(model: IrModel, fail: (reason: string, cause?: Error) => Error) {
  try {
    return analyzeBounds(model)
  } catch (cause) {
    if (!(cause instanceof BaseError)) throw cause
    throw fail(`its output layouts need its values' bounds: ${cause.shortMessage}`, cause)
  }
}

export function traceLayout(model: IrModel): TraceLayout {
  const fail = (reason: string, cause?: Error) => new OptimisticModelError({ model: model.name, reason, cause })
  if (model.inputs.length === 0) throw fail('it has no input')
  if (model.steps.length === 0) throw fail('it has no step')
  if (model.outputs.length === 0) throw fail('it has no output')
  const positionOf = new Map<TensorId, number>()
  const stateSizes: number[] = []
  for (const input of model.inputs) {
    positionOf.set(input.id, stateSizes.length)
    stateSizes.push(sizeOf(input.shape))
  }
  for (const step of model.steps) {
    for (const id of step.op.inputs) {
      // Steps are in topological order: an operand is always an earlier state.
      if (!positionOf.has(id)) throw fail(`step "${step.origin}" reads tensor ${id} before it is defined`)
    }
    if (positionOf.has(step.output.id)) throw fail(`step "${step.origin}" redefines tensor ${step.output.id}`)
    positionOf.set(step.output.id, stateSizes.length)
    stateSizes.push(sizeOf(step.output.shape))
  }
  if (stateSizes.some((n) => n < 1)) throw fail('a tensor has no element')
  // The claim proves each output's tensor in the trace at a step state (see OptimisticGame.claim).
  const outputStates = model.outputs.map((o) => {
    const state = positionOf.get(o.tensor)
    if (state === undefined || state < model.inputs.length)
      throw fail(`its output "${o.name}" is not produced by a step`)
    return state
  })
  // Input layouts need only the declared domains; output layouts the bounds analysis, which
  // assumes well-formed ops: computed on first use, after commitParams' per-op checks.
  const inputLayouts = publicLayouts({ ...model, outputs: [] }, new Map()).inputs.map((l, k) => ({
    ...l,
    hi: model.inputs[k].hi,
  }))
  const inputBytes = packedInputBytes(inputLayouts)
  if (inputBytes > MAX_INPUT_BYTES) {
    throw fail(
      `its packed input is ${inputBytes} bytes (lanes of ${inputLayouts.map((l) => l.laneBits).join(', ')} bits); a claim carries at most ${MAX_INPUT_BYTES}`,
    )
  }
  const traceDepth = depthFor(stateSizes.length)
  let outputLayouts: PackLayout[] | undefined
  return {
    inputCount: model.inputs.length,
    stepCount: model.steps.length,
    stateCount: stateSizes.length,
    stateSizes,
    positionOf,
    outputStates,
    traceDepth,
    inputLayouts,
    get outputLayouts() {
      outputLayouts ??= publicLayouts(model, provenBounds(model, fail)).outputs
      return outputLayouts
    },
  }
}

/**
 * Refuses a model whose claim calldata would exceed MAX_CLAIM_CALLDATA (the game's
 * registration refuses it too: ClaimTooLarge), naming the sizes.
 */
export function checkClaimSize(model: IrModel, layout: TraceLayout): void {
  const inputBytes = packedInputBytes(layout.inputLayouts)
  const outputBytes = packedOutputBytes(layout.outputLayouts)
  const { traceDepth } = layout
  const calldata = claimCalldataBytes({ inputBytes, outputBytes, outputCount: layout.outputLayouts.length, traceDepth })
  if (calldata > MAX_CLAIM_CALLDATA) {
    throw new OptimisticModelError({
      model: model.name,
      reason: `its claim would be ${calldata} bytes of calldata (input ${inputBytes}, outputs ${outputBytes} packed, output paths and ABI ${calldata - inputBytes - outputBytes}); a claim carries at most ${MAX_CLAIM_CALLDATA} (the mempools' 128 KiB transaction limit, less a margin)`,
    })
  }
}
