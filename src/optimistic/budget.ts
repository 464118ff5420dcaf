import { Interface } from 'ethers'
import {
  abi,
  DIV_BODY,
  ELEMENT_OPENING,
  FOLD_ROW,
  FOLD_TERM,
  GATHER_BODY,
  LOOKUP_BODY,
  MUL_BODY,
  OP_KIND,
  STEP_HEADER,
  type StepHeader,
} from './abi.js'
import { DisputeBudgetError } from './errors.js'
import { inputWordCount } from './input.js'
import { depthFor } from './merkle.js'
import type { Hex } from '../util/hex.js'
import type { ParamsCommitment } from './params.js'

/**
 * What every dispute transaction must fit, whatever the model: a block holds it, and a
 * mover can always afford its move. `OptimisticGame` keeps calldata of claims below
 * MAX_INPUT_BYTES; this bounds the moves.
 */
export const DISPUTE_BUDGET = { gas: 1_000_000, calldataBytes: 65_536 } as const

/** A dispute transaction kind: the game function it calls. */
export type DisputeTx =
  | 'challenge'
  | 'propose'
  | 'choose'
  | 'reveal'
  | 'open'
  | 'pick'
  | 'step'
  | 'startFold'
  | 'foldPropose'
  | 'foldChoose'
  | 'foldStep'
  | 'timeout'
  | 'closeMoot'

/** The transactions that carry a one-step proof. */
export type ProofTx = 'step' | 'startFold' | 'foldStep'

export interface TxCost {
  tx: DisputeTx
  /** The step whose proof it carries (step, startFold, foldStep), else null. */
  stepIndex: number | null
  origin: string | null
  /** Exact calldata size (selector included) of the largest transaction of this kind. */
  calldataBytes: number
  /** Upper bound on its gas (intrinsic, calldata with the EIP-7623 floor, execution). */
  gasBound: number
}

export interface DisputeBudget {
  /** The transaction nearest its budget (the larger of its gas and calldata shares). */
  worst: TxCost
  byKind: Record<DisputeTx, TxCost>
  /** Per step: its largest proof-carrying transactions (step; or startFold and foldStep for linear and max). */
  steps: Partial<Record<ProofTx, TxCost>>[]
  /** Whether every transaction fits `DISPUTE_BUDGET`. */
  fits: boolean
}

const GAME = new Interface([
  'function challenge((bytes32,bytes32,bytes32,bytes32,bytes32,address))',
  'function propose(bytes32,bytes32)',
  'function choose(bytes32,bool)',
  'function reveal(bytes32,bytes32,bytes32[])',
  'function open(bytes32,bytes32,bytes32)',
  'function pick(bytes32,bool)',
  'function step(bytes32,bytes)',
  'function startFold(bytes32,bytes)',
  'function foldPropose(bytes32,int256)',
  'function foldChoose(bytes32,bool)',
  'function foldStep(bytes32,bytes)',
  'function timeout(bytes32)',
  'function closeMoot(bytes32)',
])

/**
 * Execution gas, calibrated against anvil (test/optimistic/budget.test.ts measures every kind
 * and checks measured ≤ bound; measured maxima 2026-12-06: challenge 178k, propose 64k, open
 * 72k, startFold 168k, foldStep 144k, step 111k, whole transactions). `fixed`: the game's storage reads and writes, events and the
 * executor call of the kind, the worst case (a resolving move credits two accounts and rejects
 * the claim). Per calldata byte: the proof is copied and ABI-decoded in the game and again in
 * the executor. Per hash: one Merkle level (a keccak of 64 bytes and the loop around it).
 */
const EXEC = {
  fixed: {
    challenge: 185_000,
    propose: 55_000,
    choose: 45_000,
    reveal: 50_000,
    open: 65_000,
    pick: 45_000,
    step: 160_000,
    startFold: 190_000,
    foldPropose: 55_000,
    foldChoose: 45_000,
    foldStep: 160_000,
    timeout: 120_000,
    closeMoot: 80_000,
  } satisfies Record<DisputeTx, number>,
  perByte: 24,
  perHash: 400,
}

/** `0xff…` words: content of maximal nonzero bytes, so zero bytes left in an encoding are structural. */
const FULL = `0x${'ff'.repeat(32)}`
const path = (depth: number): Hex[] => Array.from({ length: depth }, () => FULL)
const opening = (depth: number, traceDepth: number) => ({
  value: -1n,
  elementPath: path(depth),
  statePath: path(traceDepth),
})

interface Shape {
  calldata: string
  hashes: number
}

/** Depth of the tree committing operand state `state` (input states: their words). */
function stateDepth(params: ParamsCommitment, state: number): number {
  const { layout } = params
  const size = layout.stateSizes[state]
  return depthFor(state < layout.inputCount ? inputWordCount(layout.inputLayouts[state]) : size)
}

function proofCalldata(tx: ProofTx, h: StepHeader, headerDepth: number, type: string, body: unknown): string {
  const proof = abi.encode(['uint8', STEP_HEADER, 'bytes32[]', type], [h.kind, h, path(headerDepth), body])
  return GAME.encodeFunctionData(tx, [FULL, proof])
}

/** The largest proof-carrying transactions of step `s`, with the Merkle levels the executor hashes. */
function stepShapes(params: ParamsCommitment, s: number): Partial<Record<ProofTx, Shape>> {
  const h = params.headers[s]
  const { traceDepth } = params.layout
  const headerDepth = depthFor(params.layout.stepCount)
  const outDepth = depthFor(h.outputSize)
  const depths = h.inputStates.map((st) => stateDepth(params, st))
  const widest = Math.max(...depths)
  // The header leaf is hashed over its encoding: one keccak per 64 bytes, counted as levels.
  const headerHashes = headerDepth + Math.ceil(abi.encode([STEP_HEADER], [h]).length / 128)
  const shape = (tx: ProofTx, type: string, body: unknown, levels: number): Shape => ({
    calldata: proofCalldata(tx, h, headerDepth, type, body),
    hashes: headerHashes + levels,
  })
  switch (h.kind) {
    case OP_KIND.requant:
    case OP_KIND.isqrt:
      return { step: shape('step', ELEMENT_OPENING, opening(depths[0], traceDepth), depths[0] + traceDepth) }
    case OP_KIND.gather:
      return {
        step: shape(
          'step',
          GATHER_BODY,
          { source: -1n, indexPath: path(outDepth), x: opening(widest, traceDepth) },
          outDepth + widest + traceDepth,
        ),
      }
    case OP_KIND.lookup: {
      const tableDepth = depthFor(Number(h.consts[1] ?? 1n))
      return {
        step: shape(
          'step',
          LOOKUP_BODY,
          { x: opening(depths[0], traceDepth), entry: -1n, entryPath: path(tableDepth) },
          depths[0] + traceDepth + tableDepth,
        ),
      }
    }
    case OP_KIND.mul: {
      const body = {
        left: -1n,
        right: -1n,
        pairPath: path(outDepth),
        a: opening(widest, traceDepth),
        b: opening(widest, traceDepth),
      }
      return {
        step: shape(
          'step',
          MUL_BODY.replace('uint256 left,uint256 right', 'int256 left,int256 right'),
          body,
          1 + outDepth + 2 * (widest + traceDepth),
        ),
      }
    }
    case OP_KIND.div: {
      // Both openings full (a reciprocal's numerator opening is empty, so smaller).
      const body = {
        num: -1n,
        den: -1n,
        pairPath: path(outDepth),
        a: opening(widest, traceDepth),
        d: opening(widest, traceDepth),
      }
      return {
        step: shape(
          'step',
          DIV_BODY.replace('uint256 den', 'int256 den'),
          body,
          1 + outDepth + 2 * (widest + traceDepth),
        ),
      }
    }
    default: {
      const termDepth = depthFor(params.maxTerms[s])
      const row = { bias: -1n, termCount: -1n, termsRoot: FULL, rowPath: path(outDepth) }
      const term = { col: -1n, val: -1n, termPath: path(termDepth), x: opening(widest, traceDepth) }
      return {
        startFold: shape('startFold', FOLD_ROW.replace('uint256 termCount', 'int256 termCount'), row, 2 + outDepth),
        foldStep: shape(
          'foldStep',
          FOLD_TERM.replace('uint256 col', 'int256 col'),
          term,
          1 + termDepth + widest + traceDepth,
        ),
      }
    }
  }
}

/** Upper bound on the gas of a transaction with this calldata and this many Merkle levels hashed. */
export function gasBoundOf(tx: DisputeTx, calldata: string, hashes: number): number {
  const bytes = (calldata.length - 2) / 2
  let zeros = 0
  for (let i = 2; i < calldata.length; i += 2) if (calldata[i] === '0' && calldata[i + 1] === '0') zeros++
  const nonzero = bytes - zeros
  // Memory: the proof lives about three times in memory (game copy, call data, executor decode).
  const words = Math.ceil((3 * bytes) / 32)
  const memory = 3 * words + Math.floor((words * words) / 512)
  const execution = EXEC.fixed[tx] + EXEC.perByte * bytes + EXEC.perHash * hashes + memory
  // EIP-7623: calldata pays at least 10 gas per token (a zero byte 1 token, a nonzero byte 4).
  const standard = 16 * nonzero + 4 * zeros + execution
  const floor = 10 * (zeros + 4 * nonzero)
  return 21_000 + Math.max(standard, floor)
}

function cost(
  tx: DisputeTx,
  calldata: string,
  hashes: number,
  stepIndex: number | null = null,
  origin: string | null = null,
): TxCost {
  return { tx, stepIndex, origin, calldataBytes: (calldata.length - 2) / 2, gasBound: gasBoundOf(tx, calldata, hashes) }
}

const share = (c: TxCost) => Math.max(c.gasBound / DISPUTE_BUDGET.gas, c.calldataBytes / DISPUTE_BUDGET.calldataBytes)

/**
 * The largest transaction of each kind a dispute over this model can need, from the ABI
 * shapes (every path length is fixed by the model) — exact calldata, bounded gas.
 */
export function disputeBudget(params: ParamsCommitment): DisputeBudget {
  const { traceDepth } = params.layout
  const id = FULL
  const fixed: [DisputeTx, string, number][] = [
    ['challenge', GAME.encodeFunctionData('challenge', [[id, id, id, id, id, `0x${'ff'.repeat(20)}`]]), 3],
    ['propose', GAME.encodeFunctionData('propose', [id, id]), 0],
    ['choose', GAME.encodeFunctionData('choose', [id, true]), 0],
    ['reveal', GAME.encodeFunctionData('reveal', [id, id, path(traceDepth)]), 2 * traceDepth],
    ['open', GAME.encodeFunctionData('open', [id, id, id]), 1],
    ['pick', GAME.encodeFunctionData('pick', [id, true]), 0],
    ['foldPropose', GAME.encodeFunctionData('foldPropose', [id, -1n]), 0],
    ['foldChoose', GAME.encodeFunctionData('foldChoose', [id, true]), 0],
    ['timeout', GAME.encodeFunctionData('timeout', [id]), 0],
    ['closeMoot', GAME.encodeFunctionData('closeMoot', [id]), 0],
  ]
  const byKind = Object.fromEntries(fixed.map(([tx, data, hashes]) => [tx, cost(tx, data, hashes)])) as Record<
    DisputeTx,
    TxCost
  >
  // A model with no op of a kind still has a (padding-element) step: the smallest one.
  byKind.step = cost('step', GAME.encodeFunctionData('step', [id, '0x']), 0)
  const steps: Partial<Record<ProofTx, TxCost>>[] = []
  for (let s = 0; s < params.headers.length; s++) {
    const costs: Partial<Record<ProofTx, TxCost>> = {}
    for (const [tx, shape] of Object.entries(stepShapes(params, s)) as [ProofTx, Shape][]) {
      const c = (costs[tx] = cost(tx, shape.calldata, shape.hashes, s, params.origins[s]))
      if (!byKind[tx] || c.gasBound > byKind[tx].gasBound) byKind[tx] = c
    }
    steps.push(costs)
  }
  const all = Object.values(byKind)
  const worst = all.reduce((a, c) => (share(c) > share(a) ? c : a))
  return {
    worst,
    byKind,
    steps,
    fits: all.every((c) => c.gasBound <= DISPUTE_BUDGET.gas && c.calldataBytes <= DISPUTE_BUDGET.calldataBytes),
  }
}

/** Throws DisputeBudgetError naming the step (and its ONNX origin) whose dispute transaction does not fit. */
export function checkDisputeBudget(params: ParamsCommitment, modelName: string): DisputeBudget {
  const budget = disputeBudget(params)
  if (!budget.fits) {
    const over = Object.values(budget.byKind).filter(
      (c) => c.gasBound > DISPUTE_BUDGET.gas || c.calldataBytes > DISPUTE_BUDGET.calldataBytes,
    )
    const w = over.reduce((a, c) => (share(c) > share(a) ? c : a))
    throw new DisputeBudgetError({
      model: modelName,
      tx: w.tx,
      stepIndex: w.stepIndex,
      origin: w.origin,
      calldataBytes: w.calldataBytes,
      gasBound: w.gasBound,
      budget: DISPUTE_BUDGET,
    })
  }
  return budget
}
