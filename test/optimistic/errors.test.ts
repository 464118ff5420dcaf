import { describe, expect, it } from 'vitest'
import {
  ClaimInputError,
  ClaimNotFoundError,
  DeploymentMismatchError,
  GameRevertError,
  OptimisticDeploymentNotFoundError,
} from '../../src/optimistic/chain/errors.js'
import {
  AgentMoveError,
  DisputeBudgetError,
  FoldRequiredError,
  InputEncodingError,
  OptimisticModelError,
  TraceIndexError,
} from '../../src/optimistic/errors.js'

// One constructor shape (issue 14): each error keeps the fields it was built from, so a catcher
// reads them instead of parsing the message; a caller's details follow the class's own.
const cause = new Error('underlying')
const inputLayout = { laneBits: 8, lo: -128n, hi: 127n }
const budget = {
  model: 'm',
  tx: 'proveStep',
  stepIndex: 2,
  origin: 'fc1',
  calldataBytes: 9,
  gasBound: 7,
  budget: { gas: 5, calldataBytes: 3 },
}

describe('optimistic errors', () => {
  it.each([
    [new OptimisticModelError({ model: 'm', reason: 'it has no step' }), { model: 'm', reason: 'it has no step' }],
    [new TraceIndexError({ what: 'state', index: 4, size: 3 }), { what: 'state', index: 4, size: 3 }],
    [
      new AgentMoveError({ disputeId: '0x01', phase: 'Bisect', reason: 'not its turn' }),
      { disputeId: '0x01', phase: 'Bisect', reason: 'not its turn' },
    ],
    [
      new InputEncodingError({ index: 2, value: 300n, layout: inputLayout }),
      { index: 2, value: 300n, layout: inputLayout, reason: undefined },
    ],
    [
      new InputEncodingError({ index: 2, value: null, layout: inputLayout, reason: 'too short' }),
      { index: 2, value: null, layout: inputLayout, reason: 'too short' },
    ],
    [new FoldRequiredError({ stepIndex: 1, op: 'linear' }), { stepIndex: 1, op: 'linear', fold: true }],
    [new FoldRequiredError({ stepIndex: 1, op: 'relu', fold: false }), { stepIndex: 1, op: 'relu', fold: false }],
    [new DisputeBudgetError(budget), budget],
    [
      new GameRevertError({ action: 'bisect', errorName: 'NotYourTurn', args: [1n] }),
      { action: 'bisect', errorName: 'NotYourTurn', args: [1n] },
    ],
    [
      new OptimisticDeploymentNotFoundError({ path: 'b/optimistic.json', reason: 'not valid JSON' }),
      { path: 'b/optimistic.json', reason: 'not valid JSON' },
    ],
    [
      new DeploymentMismatchError({ path: 'p', what: 'chain', expected: '1', actual: '2', hint: 'Redeploy.' }),
      { path: 'p', what: 'chain', expected: '1', actual: '2', hint: 'Redeploy.' },
    ],
    [
      new ClaimNotFoundError({ claimId: '0x02', gameAddress: '0xg' }),
      { claimId: '0x02', gameAddress: '0xg', modelId: undefined },
    ],
    [
      new ClaimNotFoundError({ claimId: '0x02', gameAddress: '0xg', modelId: '0xm' }),
      { claimId: '0x02', gameAddress: '0xg', modelId: '0xm' },
    ],
    [new ClaimInputError({ claimId: '0x02', expected: 32, actual: 31 }), { claimId: '0x02', expected: 32, actual: 31 }],
  ])('%s keeps its fields', (error, fields) => {
    expect(error).toMatchObject(fields)
  })

  it('keeps the messages it was built with before the object shape', () => {
    expect(new FoldRequiredError({ stepIndex: 1, op: 'relu', fold: false }).shortMessage).toBe(
      'step 1 (relu) is not a fold: prove it with buildOneStepProof',
    )
    expect(new InputEncodingError({ index: 3, value: 300n, layout: inputLayout }).shortMessage).toBe(
      'input value 300 at index 3 is outside its domain [-128, 127]',
    )
    expect(new ClaimNotFoundError({ claimId: '0x02', gameAddress: '0xg', modelId: '0xm' }).shortMessage).toBe(
      'claim 0x02 not found in the game at 0xg for model 0xm',
    )
    expect(
      new DeploymentMismatchError({ path: 'p', what: 'chain', expected: '1', actual: '2', hint: 'Redeploy.' }).message,
    ).toBe('p is for chain 1, but found 2\n  Redeploy.')
  })

  it("appends a caller's details after the class's own and keeps the cause", () => {
    const budgetError = new DisputeBudgetError({ ...budget, details: ['extra'], cause })
    expect(budgetError.details).toEqual([
      'Split the layer (fewer operands or a smaller operand tensor), or shrink the model input.',
      'extra',
    ])
    expect(budgetError.cause).toBe(cause)
    const notFound = new OptimisticDeploymentNotFoundError({ path: 'p', reason: 'r', details: ['extra'], cause })
    expect(notFound.details.at(-1)).toBe('extra')
    expect(notFound.cause).toBe(cause)
    const trace = new TraceIndexError({ what: 'state', index: 4, size: 3, details: ['extra'], cause })
    expect(trace.details).toEqual(['extra'])
    expect(trace.cause).toBe(cause)
  })
})
