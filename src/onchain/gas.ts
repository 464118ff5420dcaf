import type { IrModel, PrimitiveOp } from '../ir/types.js'
import { sizeOf } from '../util/shape.js'
import { CHUNK_BYTES, denseStarts, programSize, widthOf } from './encode.js'

/**
 * The gas of `OnchainModel.run` (execute one input and record it in the hub), estimated from
 * the IR alone. What the EVM charges by rule is computed (transaction base, calldata, the hub's
 * record and the events, memory expansion, cold accounts); what the interpreter spends per
 * step, element and term is a coefficient measured on anvil (bench/onchain.ts fits them on
 * single-op models: the slope of gas against the element or term count, memory cost taken out).
 */

/** Gas per unit of each interpreter feature, measured by bench/onchain.ts (solc 0.8.37, optimizer 200 runs, cancun). */
export const GAS_PER = {
  step: 1_438,
  linearRow: 1_412,
  /** A term of a dense row with one-byte weights, in a whole word of 32 (read and summed at once). */
  denseWordTerm: 38,
  /** Any other term of a dense row. */
  denseTerm: 98,
  sparseTerm: 143,
  requant: 1_340,
  gather: 282,
  maxRow: 693,
  maxTerm: 322,
  lookup: 318,
  mul: 565,
  div: 1_303,
  isqrt: 700,
  /** Per element copied when a step reads several operands (their concatenation). */
  concat: 15,
  /** Per program byte: EXTCODECOPY's 3 gas a word and reading the headers. */
  programByte: 1,
  /** Per input element: the domain check, the copy and its lane in the packed input. */
  inputElement: 233,
  /** Per output element: its lane in the packed outputs, flattening (the record and logs: by rule). */
  outputElement: 527,
  /** Dispatch, the commitment hashes, loading the chunk list, the hub call's own overhead. */
  base: 8_991,
} as const

/** The counts the estimate multiplies by GAS_PER. */
export type OnchainGasFeatures = { -readonly [K in keyof typeof GAS_PER]: number }

/** EIP-7825: no transaction may use more than 2^24 gas. */
export const TX_GAS_CAP = 2 ** 24
/**
 * The budget a model must fit to be called "fits on chain": the cap less 15 %. 15 % is the
 * tolerance the estimate is tested to (test/onchain/onchain.test.ts); measured on the bench's
 * five models it is within 2.3 % (bench/onchain-gas.json). The rest of the margin covers what
 * the estimate averages: calldata (an all-negative input costs ~190 gas a value more than a
 * domain-uniform one) and isqrt's iteration count (zero outputs cost less than counted).
 */
export const ONCHAIN_GAS_BUDGET = Math.floor(TX_GAS_CAP * 0.85)

/**
 * Deploying OnchainModel (its code, the hub and model id, one stored address per chunk),
 * measured by bench/onchain.ts; binding it in the hub (~52k) apart.
 */
const MODEL_CONTRACT_GAS = { base: 2_325_000, perChunk: 25_470 }
const SSTORE_NEW = 22_100
const LOG_BASE = 375
const LOG_TOPIC = 375
const LOG_BYTE = 8
const COLD_ACCOUNT = 2_600
const COLD_SLOAD = 2_100
const TX_BASE = 21_000
/**
 * The hub's record (VerimlRegistry.record): the call to a cold account, two cold slots read (the
 * settler binding, the statement's record), the record written, its ResultRecorded log (three
 * topics, three data words).
 */
const HUB_RECORD = COLD_ACCOUNT + 2 * COLD_SLOAD + SSTORE_NEW + LOG_BASE + 3 * LOG_TOPIC + LOG_BYTE * 96
/**
 * Packed output words, counted from the element count alone (the layouts need the bounds
 * analysis): lanes taken as 32 bits, 7 a word, at least what an int8 or int32 output needs.
 */
const outputWords = (elements: number) => Math.ceil(elements / 7)

function add(f: OnchainGasFeatures, op: PrimitiveOp, outputSize: number, operandSize: number): void {
  f.step += 1
  if (op.inputs.length > 1) f.concat += operandSize
  switch (op.op) {
    case 'linear': {
      f.linearRow += outputSize
      const terms = op.rowPtr[op.rowPtr.length - 1]
      if (!denseStarts(op)) f.sparseTerm += terms
      else if (widthOf(op.vals) > 1) f.denseTerm += terms
      else
        for (let j = 0; j < outputSize; j++) {
          const n = op.rowPtr[j + 1] - op.rowPtr[j]
          f.denseWordTerm += n - (n % 32)
          f.denseTerm += n % 32
        }
      return
    }
    case 'max':
      f.maxRow += outputSize
      f.maxTerm += op.rowPtr[op.rowPtr.length - 1]
      return
    default:
      f[op.op] += outputSize
  }
}

export function onchainGasFeatures(model: IrModel, programBytes: number): OnchainGasFeatures {
  const f = Object.fromEntries(Object.keys(GAS_PER).map((k) => [k, 0])) as OnchainGasFeatures
  const sizes = new Map<number, number>()
  for (const i of model.inputs) sizes.set(i.id, sizeOf(i.shape))
  for (const s of model.steps) {
    const n = sizeOf(s.output.shape)
    add(
      f,
      s.op,
      n,
      s.op.inputs.reduce((a, id) => a + sizes.get(id)!, 0),
    )
    sizes.set(s.output.id, n)
  }
  f.inputElement = model.inputs.reduce((a, i) => a + sizeOf(i.shape), 0)
  f.outputElement = model.outputs.reduce((a, o) => a + sizes.get(o.tensor)!, 0)
  f.programByte = programBytes
  f.base = 1
  return f
}

/** Memory words the run allocates: the program, every tensor, concatenations, the output copies. */
function memoryWords(f: OnchainGasFeatures, model: IrModel): number {
  const tensors = model.steps.reduce((a, s) => a + sizeOf(s.output.shape) + 1, 0)
  const requantConstants = model.steps.filter((s) => s.op.op === 'requant').length * 8
  return (
    Math.ceil(f.programByte / 32) +
    2 * f.inputElement +
    tensors +
    f.concat +
    requantConstants +
    2 * f.outputElement +
    64
  )
}

export interface OnchainGasEstimate {
  /** Gas of one `run` transaction, all included. */
  run: number
  /** Of which: the interpreter, memory, calldata and the transaction base. */
  execute: number
  /** Of which: the hub's record and the run's event. */
  record: number
  /** Gas to deploy the program's data contracts. */
  deployProgram: number
  /** Gas to deploy everything: the data contracts and the OnchainModel contract naming them. */
  deploy: number
  programBytes: number
  chunks: number
  fits: boolean
  budget: number
}

/** The gas the EVM charges by rule, outside the interpreter's measured coefficients. */
export interface RuleGas {
  /** Transaction base, calldata, memory expansion, cold chunk accounts and slots. */
  execute: number
  /** The hub's record and the run's event (Ran: four topics, the packed outputs). */
  record: number
  chunks: number
}

/**
 * Gas charged by rule for a run of `model` whose program has `f.programByte` bytes. Calldata
 * counts each input word as 16 gas per nonzero byte and 4 per zero byte, taking a value
 * negative (all 0xff) as often as the domain is.
 */
export function ruleGas(model: IrModel, f: OnchainGasFeatures): RuleGas {
  const chunks = Math.max(1, Math.ceil(f.programByte / CHUNK_BYTES))
  const words = memoryWords(f, model)
  const memory = 3 * words + Math.floor((words * words) / 512)
  const negative = model.inputs.reduce((a, i) => {
    const span = Number(i.hi - i.lo) + 1
    const share = i.lo < 0n ? Math.min(1, Number(-i.lo) / span) : 0
    return a + sizeOf(i.shape) * share
  }, 0)
  const calldata = 4 * 16 + 64 * 4 + 2 * 16 + f.inputElement * (31 * 4 + 16) + negative * 31 * 12
  const accounts = chunks * (COLD_ACCOUNT + COLD_SLOAD) + COLD_SLOAD
  const record = HUB_RECORD + LOG_BASE + 4 * LOG_TOPIC + LOG_BYTE * (64 + 32 * outputWords(f.outputElement))
  return { execute: TX_BASE + calldata + memory + accounts, record, chunks }
}

/** Σ GAS_PER[k] · f[k]: the interpreter's own gas. */
export function interpreterGas(f: OnchainGasFeatures): number {
  let gas = 0
  for (const k of Object.keys(GAS_PER) as (keyof typeof GAS_PER)[]) gas += GAS_PER[k] * f[k]
  return gas
}

/**
 * The estimated gas of running `model` on chain (OnchainModel.run, the first run of an input),
 * and whether it fits ONCHAIN_GAS_BUDGET.
 */
export function estimateOnchainGas(model: IrModel): OnchainGasEstimate {
  const programBytes = programSize(model)
  const f = onchainGasFeatures(model, programBytes)
  const rule = ruleGas(model, f)
  const execute = Math.round(rule.execute + interpreterGas(f))
  const run = execute + rule.record
  // Per chunk: the transaction, CREATE, the 12-byte prefix; per byte: code deposit and calldata.
  const deployProgram = Math.round(rule.chunks * (TX_BASE + 32_000 + 12 * 16) + programBytes * (200 + 16))
  return {
    run,
    execute,
    record: rule.record,
    deployProgram,
    deploy: deployProgram + MODEL_CONTRACT_GAS.base + MODEL_CONTRACT_GAS.perChunk * rule.chunks,
    programBytes,
    chunks: rule.chunks,
    fits: run <= ONCHAIN_GAS_BUDGET,
    budget: ONCHAIN_GAS_BUDGET,
  }
}
