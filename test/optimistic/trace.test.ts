import { describe, expect, it } from 'vitest'
import { execute } from '../../src/ir/execute.js'
import type { IrModel } from '../../src/ir/types.js'
import { roundsFor, shouldChallenge } from '../../src/optimistic/agent.js'
import { claimKeyOf } from '../../src/optimistic/config.js'
import { OptimisticModelError, TraceIndexError } from '../../src/optimistic/errors.js'
import { traceLayout } from '../../src/optimistic/layout.js'
import { depthFor, merkleProof, merkleTree, rootFrom, valueOfWord, wordOf, ZERO_WORD } from '../../src/optimistic/merkle.js'
import { buildOneStepProof } from '../../src/optimistic/one-step.js'
import { commitParams } from '../../src/optimistic/params.js'
import { buildTrace, prefixTree } from '../../src/optimistic/trace.js'
import { mlp, randomInputs, randomModel, relu, rng, tinyModel } from './models.js'

describe('trace commitments', () => {
  it('words are int256 two’s complement and round-trip', () => {
    expect(wordOf(-1n)).toBe(`0x${'ff'.repeat(32)}`)
    expect(wordOf(0n)).toBe(ZERO_WORD)
    for (const v of [1n, -128n, (1n << 255n) - 1n, -(1n << 255n)]) expect(valueOfWord(wordOf(v))).toBe(v)
    expect(() => wordOf(1n << 255n)).toThrow(RangeError)
  })

  it('fixed-depth trees pad with zeros and proofs verify only at their index', () => {
    expect([1, 2, 3, 4, 5, 784].map(depthFor)).toEqual([0, 1, 2, 2, 3, 10])
    const leaves = [1n, 2n, 3n].map(wordOf)
    const tree = merkleTree(leaves)
    expect(tree.layers[0][3]).toBe(ZERO_WORD)
    const path = merkleProof(tree, 2)
    expect(rootFrom(leaves[2], 2, path)).toBe(tree.root)
    expect(rootFrom(leaves[2], 1, path)).not.toBe(tree.root)
  })

  it('states are the reference executor’s; prefix roots grow one leaf at a time', () => {
    const model = randomModel(3, 6)
    const inputs = randomInputs(model, rng(1))
    const trace = buildTrace(model, inputs)
    const { values } = execute(model, inputs)
    model.steps.forEach((s, i) => expect(trace.states[model.inputs.length + i]).toEqual(values.get(s.output.id)))
    for (let t = 0; t < trace.layout.stateCount; t++) {
      expect(prefixTree(trace, t).root).toBe(trace.prefixRoots[t])
      // The prefix root at t is the one at t - 1 with leaf t set: same siblings.
      if (t > 0) {
        const path = merkleProof(prefixTree(trace, t), t)
        expect(rootFrom(ZERO_WORD, t, path)).toBe(trace.prefixRoots[t - 1])
        expect(rootFrom(trace.tensorTrees[t].root, t, path)).toBe(trace.prefixRoots[t])
      }
    }
    expect(trace.inputRoot).toBe(trace.prefixRoots[1])
    expect(trace.output).toEqual(values.get(model.outputs[0].tensor))
  })

  it('a watcher challenges exactly the claims on its input whose trace differs', () => {
    const model = tinyModel()
    const a = buildTrace(model, [[1n, 2n, 3n, 4n, 5n, 6n]])
    const b = buildTrace(model, [[1n, 2n, 3n, 4n, 5n, 7n]])
    const wrong = { ...claimKeyOf('0x' + '11'.repeat(32), a, '0x' + '22'.repeat(20)), traceRoot: b.traceRoot }
    expect(shouldChallenge(claimKeyOf('0x' + '11'.repeat(32), a, '0x' + '22'.repeat(20)), a)).toBe(false)
    expect(shouldChallenge(wrong, a)).toBe(true)
    expect(shouldChallenge(claimKeyOf('0x' + '11'.repeat(32), b, '0x' + '22'.repeat(20)), a)).toBe(false)
  })

  it('rounds = ⌈log2(steps)⌉ + ⌈log2(elements)⌉', () => {
    const trace = buildTrace(mlp([784, 128, 10]), [Array(784).fill(1n)])
    expect(roundsFor(trace, 1)).toBe(2 + 7)
    expect(roundsFor(trace, 3)).toBe(2 + 4)
  })
})

describe('model parameter commitment', () => {
  it('changes with any parameter', () => {
    const a = commitParams(tinyModel()).paramsRoot
    const m = tinyModel()
    ;(m.steps[2].op as { vals: bigint[] }).vals[4] += 1n
    expect(commitParams(m).paramsRoot).not.toBe(a)
    const n = tinyModel()
    n.steps[1].op = relu(1, 3n, 5)
    expect(commitParams(n).paramsRoot).not.toBe(a)
  })

  it('refuses models the game cannot play', () => {
    const twoOutputs: IrModel = { ...tinyModel(), outputs: [...tinyModel().outputs, { tensor: 2, name: 'h', quant: { scale: 1, zeroPoint: 0 } }] }
    expect(() => traceLayout(twoOutputs)).toThrow(OptimisticModelError)
    const bigShift = tinyModel()
    bigShift.steps[1].op = relu(1, 1n, 256)
    expect(() => commitParams(bigShift)).toThrow(OptimisticModelError)
    const outOfOrder = tinyModel()
    outOfOrder.steps.reverse()
    expect(() => traceLayout(outOfOrder)).toThrow(OptimisticModelError)
    const hugeWeight = tinyModel()
    ;(hugeWeight.steps[0].op as { vals: bigint[] }).vals[0] = 1n << 256n
    expect(() => commitParams(hugeWeight)).toThrow(OptimisticModelError)
  })

  it('one-step proofs exist only for elements of the step', () => {
    const model = tinyModel()
    const params = commitParams(model)
    const trace = buildTrace(model, [[1n, 2n, 3n, 4n, 5n, 6n]])
    expect(() => buildOneStepProof({ model, params, trace, stepIndex: 0, element: 5 })).toThrow(TraceIndexError)
    expect(() => buildOneStepProof({ model, params, trace, stepIndex: 3, element: 0 })).toThrow(TraceIndexError)
  })
})
