import { describe, expect, it } from 'vitest'
import { execute } from '../../src/ir/execute.js'
import type { IrModel } from '../../src/ir/types.js'
import { concat, keccak256 } from 'ethers'
import type { LinearOp, MaxOp } from '../../src/ir/types.js'
import { abi, linearTermLeaf } from '../../src/optimistic/abi.js'
import { roundsFor, shouldChallenge } from '../../src/optimistic/agent.js'
import { claimKeyOf, packedInputOf } from '../../src/optimistic/config.js'
import { outputsHashOf, packOutputs } from '../../src/optimistic/output.js'
import { FoldRequiredError, OptimisticModelError, TraceIndexError } from '../../src/optimistic/errors.js'
import { inputStateBytes, laneWordOf, packInputStates, unpackInputStates } from '../../src/optimistic/input.js'
import { traceLayout } from '../../src/optimistic/layout.js'
import { packLayout } from '../../src/circuit/packing.js'
import { sizeOf } from '../../src/util/shape.js'
import {
  depthFor,
  merkleProof,
  merkleTree,
  rootFrom,
  valueOfWord,
  wordOf,
  wordTree,
  ZERO_WORD,
} from '../../src/optimistic/merkle.js'
import { buildFoldRowProof, buildFoldStepProof, buildOneStepProof, foldAccs } from '../../src/optimistic/one-step.js'
import { commitParams, termsRootOf, termTree } from '../../src/optimistic/params.js'
import { buildTrace, inputRootOf, prefixTree } from '../../src/optimistic/trace.js'
import { MAX_LOOKUP_INPUTS, maxLookupModel } from './fixtures.js'
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

  it('trees that skip hashing their zero padding have the roots of the plainly padded trees', () => {
    const plain = (leaves: string[], depth: number): string => {
      let layer = Array.from({ length: 2 ** depth }, (_, i) => leaves[i] ?? ZERO_WORD)
      while (layer.length > 1)
        layer = Array.from({ length: layer.length / 2 }, (_, i) => keccak256(concat([layer[2 * i], layer[2 * i + 1]])))
      return layer[0]
    }
    for (const n of [0, 1, 2, 3, 5, 7, 8, 9, 33, 100]) {
      for (const extra of [0, 1, 3]) {
        const leaves = Array.from({ length: n }, (_, i) => wordOf(BigInt(i * 7 - 20)))
        const depth = depthFor(n) + extra
        const tree = merkleTree(leaves, depth)
        expect(tree.root, `${n} leaves, depth ${depth}`).toBe(plain(leaves, depth))
        for (const i of n ? [0, n - 1] : []) expect(rootFrom(leaves[i], i, merkleProof(tree, i))).toBe(tree.root)
      }
    }
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
    expect(trace.outputs).toEqual([values.get(model.outputs[0].tensor)])
    expect(trace.outputRoots).toEqual([trace.tensorTrees[trace.layout.outputStates[0]].root])
  })

  it('input states are committed as the tree of their packed words; the input root is that of the posted input', () => {
    const model = randomModel(3, 6)
    const trace = buildTrace(model, randomInputs(model, rng(1)))
    const { inputLayouts, inputCount } = trace.layout
    // Each input's layout is the circuit's (packLayout of its domain): int8 inputs take 8-bit
    // lanes v + 128, 31 a word; [-50, 50] 7-bit lanes v + 50, 36 a word.
    expect(inputLayouts).toEqual(model.inputs.map((i) => ({ ...packLayout(sizeOf(i.shape), i.lo, i.hi), hi: i.hi })))
    expect(inputLayouts.map((l) => l.laneBits)).toEqual([8, 7])
    const packed = packedInputOf(trace)
    for (let s = 0; s < inputCount; s++) {
      const words = inputStateBytes(inputLayouts[s], trace.states[s])
      const l = inputLayouts[s]
      expect(words.length).toBe(32 * Math.ceil(trace.states[s].length / l.lanesPerElement))
      expect(trace.tensorTrees[s].root).toBe(wordTree(words).root)
      // Element i is lane i % L of word i / L, at bit laneBits·(i % L): v − lo.
      trace.states[s].forEach((v, i) => {
        const { word, lane } = laneWordOf(l, i)
        const w = BigInt(trace.tensorTrees[s].layers[0][word])
        expect((w >> BigInt(l.laneBits * lane)) & ((1n << BigInt(l.laneBits)) - 1n)).toBe(v - l.lo)
      })
    }
    expect(inputRootOf(trace.layout, packed)).toBe(trace.inputRoot)
    expect(unpackInputStates(trace.layout, packed)).toEqual(trace.states.slice(0, inputCount))
    // A key posting another input has that input's root, whatever trace it was built on.
    const other = trace.states
      .slice(0, inputCount)
      .map((v) => v.map((x) => (x === 127n || x === 50n ? x - 1n : x + 1n)))
    const otherPacked = packInputStates(inputLayouts, other)
    const key = claimKeyOf(`0x${'11'.repeat(32)}`, trace, `0x${'22'.repeat(20)}`, otherPacked)
    expect(key.inputRoot).toBe(buildTrace(model, other, { anyInput: true }).inputRoot)
    expect(key.inputRoot).not.toBe(trace.inputRoot)
    expect(key.traceRoot).toBe(trace.traceRoot)
  })

  it('several outputs: each a step state, hashed in order into outputsHash', () => {
    const model = tinyModel()
    model.outputs.push({ tensor: 1, name: 'hidden', quant: { scale: 1, zeroPoint: 0 } })
    const trace = buildTrace(model, [[1n, 2n, 3n, 4n, 5n, 6n]])
    expect(trace.layout.outputStates).toEqual([3, 1])
    expect(trace.outputs).toEqual([trace.states[3], trace.states[1]])
    const key = claimKeyOf(`0x${'11'.repeat(32)}`, trace, `0x${'22'.repeat(20)}`)
    const [l3, l1] = trace.layout.outputLayouts
    expect(key.outputsHash).toBe(outputsHashOf(packOutputs([l3, l1], [trace.states[3], trace.states[1]])))
    expect(key.outputsHash).not.toBe(outputsHashOf(packOutputs([l1, l3], [trace.states[1], trace.states[3]])))
  })

  it('a watcher challenges exactly the claims whose trace differs from its own on the posted input', () => {
    const model = tinyModel()
    const a = buildTrace(model, [[1n, 2n, 3n, 4n, 5n, 6n]])
    const b = buildTrace(model, [[1n, 2n, 3n, 4n, 5n, 7n]])
    const id = `0x${'11'.repeat(32)}`
    const claimant = `0x${'22'.repeat(20)}`
    expect(shouldChallenge(claimKeyOf(id, a, claimant), a)).toBe(false)
    expect(shouldChallenge({ ...claimKeyOf(id, a, claimant), traceRoot: b.traceRoot }, a)).toBe(true)
    // A trace built on input b posted with input a: the watcher's trace (on a) differs.
    expect(shouldChallenge(claimKeyOf(id, b, claimant, packedInputOf(a)), a)).toBe(true)
  })

  it('rounds = ⌈log2(steps)⌉ + ⌈log2(elements)⌉ (+ ⌈log2(terms)⌉ for a fold)', () => {
    const trace = buildTrace(mlp([784, 128, 10]), [Array(784).fill(1n)])
    expect(roundsFor(trace, 1)).toBe(2 + 7)
    expect(roundsFor(trace, 3)).toBe(2 + 4)
    expect(roundsFor(trace, 1, 784)).toBe(2 + 7 + 10)
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
    const inputOutput: IrModel = {
      ...tinyModel(),
      outputs: [...tinyModel().outputs, { tensor: 0, name: 'echo', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() => traceLayout(inputOutput)).toThrow(/output "echo" is not produced by a step/)
    expect(() => traceLayout({ ...tinyModel(), outputs: [] })).toThrow(OptimisticModelError)
    // A claim carries at most 64 KB of packed input: 63,488 int8 values (2,048 words of 31) fit, one more does not.
    expect(traceLayout(mlp([63_488, 1])).stateSizes[0]).toBe(63_488)
    expect(() => traceLayout(mlp([63_489, 1]))).toThrow(/packed input is 65568 bytes/)
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

  it('one-step proofs exist only for elements of the step, of the right kind', () => {
    const model = tinyModel()
    const params = commitParams(model)
    const trace = buildTrace(model, [[1n, 2n, 3n, 4n, 5n, 6n]])
    expect(() => buildOneStepProof({ model, params, trace, stepIndex: 1, element: 5 })).toThrow(TraceIndexError)
    expect(() => buildOneStepProof({ model, params, trace, stepIndex: 3, element: 0 })).toThrow(TraceIndexError)
    expect(() => buildOneStepProof({ model, params, trace, stepIndex: 0, element: 0 })).toThrow(FoldRequiredError)
    expect(() => buildFoldRowProof({ model, params, trace, stepIndex: 1, element: 0 })).toThrow(FoldRequiredError)
    expect(() => buildFoldStepProof({ model, params, trace, stepIndex: 0, element: 0, term: 6 })).toThrow(
      TraceIndexError,
    )
  })

  it('linear rows commit (bias, termCount, termsRoot) over (col, val) terms; max rows over raw column leaves', () => {
    const model = maxLookupModel()
    const params = commitParams(model)
    const linear = model.steps[4].op as LinearOp
    const max = model.steps[0].op as MaxOp
    for (const j of [0, 2]) {
      const terms = Array.from({ length: linear.rowPtr[j + 1] - linear.rowPtr[j] }, (_, k) =>
        linearTermLeaf(linear.cols[linear.rowPtr[j] + k], linear.vals[linear.rowPtr[j] + k]),
      )
      expect(terms[0]).toBe(
        keccak256(abi.encode(['uint256', 'int256'], [linear.cols[linear.rowPtr[j]], linear.vals[linear.rowPtr[j]]])),
      )
      const root = merkleTree(terms).root
      expect(termsRootOf(linear, j)).toBe(root)
      expect(termTree(linear, j).root).toBe(root)
      expect(params.opTrees[4]!.layers[0][j]).toBe(
        keccak256(abi.encode(['int256', 'uint256', 'bytes32'], [linear.bias[j], terms.length, root])),
      )
    }
    for (let i = 0; i < 6; i++) {
      const cols = Array.from(max.cols.subarray(max.rowPtr[i], max.rowPtr[i + 1]))
      const root = merkleTree(cols.map((c) => wordOf(BigInt(c)))).root
      expect(params.opTrees[0]!.layers[0][i]).toBe(keccak256(abi.encode(['uint256', 'bytes32'], [cols.length, root])))
    }
    // The one-column row [7]: its terms root is the leaf itself (depth 0).
    expect(termsRootOf(max, 5)).toBe(wordOf(7n))
    // An empty linear row: termsRoot zero.
    const sparse = tinyModel()
    const op = sparse.steps[0].op as LinearOp
    const rowPtr = Int32Array.from(op.rowPtr, (p, j) => (j === 0 ? 0 : p - 6))
    sparse.steps[0].op = { ...op, rowPtr, cols: op.cols.subarray(6), vals: op.vals.slice(6) }
    expect(termsRootOf(sparse.steps[0].op as LinearOp, 0)).toBe(ZERO_WORD)
    expect(commitParams(sparse).maxTerms[0]).toBe(6)
  })

  it('foldAccs: the partial results of a row end at the element (linear from its bias, max from int256 min)', () => {
    for (const [model, inputs] of [
      [maxLookupModel(), MAX_LOOKUP_INPUTS],
      [tinyModel(), [[1n, -2n, 3n, -4n, 5n, -6n]]],
    ] as const) {
      const params = commitParams(model)
      const trace = buildTrace(model, inputs)
      model.steps.forEach((step, s) => {
        if (step.op.op !== 'linear' && step.op.op !== 'max') return
        for (let j = 0; j < params.headers[s].outputSize; j++) {
          const accs = foldAccs(model, params, trace, s, j)
          expect(accs[0]).toBe(step.op.op === 'linear' ? step.op.bias[j] : -(1n << 255n))
          expect(accs).toHaveLength(step.op.rowPtr[j + 1] - step.op.rowPtr[j] + 1)
          expect(accs.at(-1)).toBe(trace.states[params.layout.inputCount + s][j])
        }
      })
    }
  })
})
