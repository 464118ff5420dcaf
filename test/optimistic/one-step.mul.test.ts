import { executeElement, executorOnAnvil } from './chain.js'
import { decodeProof, encodeProof, withHeader } from './proof-codec.js'
import { fileURLToPath } from 'node:url'
import type { Contract } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { mulElement } from '../../src/ir/ops.js'
import type { IrModel, MulOp } from '../../src/ir/types.js'
import { MUL_BODY, mulPairLeaf } from '../../src/optimistic/abi.js'
import { call } from '../../src/optimistic/chain/client.js'
import { OptimisticModelError } from '../../src/optimistic/errors.js'
import type { Hex } from '../../src/util/hex.js'
import { merkleProof, merkleTree } from '../../src/optimistic/merkle.js'
import { buildOneStepProof, stepQuery } from '../../src/optimistic/one-step.js'
import { commitParams } from '../../src/optimistic/params.js'
import { buildTrace, type Trace, traceFromStates } from '../../src/optimistic/trace.js'
import { MUL_PAIRS, mulModel } from './fixtures.js'
import { inputTensor, rng } from './models.js'

const _ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MUL_STEP = 1
const MUL2_STEP = 2
const INPUTS = [
  [-128n, 127n, -7n, 0n, 5n, -1n, 99n, -128n],
  [-128n, 127n, -3n],
]

const decode = (proof: Hex) => decodeProof(MUL_BODY, proof)
const encode = (kind: unknown, header: unknown, headerPath: unknown, body: unknown) =>
  encodeProof(MUL_BODY, kind, header, headerPath, body)
type Opening = { value: bigint; elementPath: Hex[]; statePath: Hex[] }
type Body = { left: bigint; right: bigint; pairPath: Hex[]; a: Opening; b: Opening }

/** in0 (int8 lane) squared `depth` times: |x| ≤ 128^(2^depth). */
function squares(depth: number): IrModel {
  const steps = Array.from({ length: depth }, (_, k) => ({
    origin: `Mul_${k}`,
    op: { op: 'mul' as const, inputs: [k], left: Int32Array.from([0, 1]), right: Int32Array.from([0, 1]) },
    output: { id: k + 1, name: `t${k + 1}`, shape: [2] },
  }))
  return {
    name: `squares-${depth}`,
    inputs: [inputTensor(0, 2)],
    steps,
    outputs: [{ tensor: depth, name: 'out', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

describe('commitParams for mul', () => {
  it('commits one (left, right) leaf per element and no constants', () => {
    const params = commitParams(mulModel())
    const h = params.headers[MUL_STEP]
    expect(h.kind).toBe(5)
    expect(h.consts).toEqual([])
    expect(h.inputSizes).toEqual([8, 3, 4])
    expect(h.opRoot).toBe(merkleTree(MUL_PAIRS.map(([a, b]) => mulPairLeaf(a, b))).root)
    // The pair is ordered: (1, 8) and (8, 1) are different commitments.
    const m = mulModel()
    const op = m.steps[MUL_STEP].op as MulOp
    ;[op.left[1], op.right[1]] = [8, 1]
    expect(commitParams(m).headers[MUL_STEP].opRoot).not.toBe(h.opRoot)
  })

  it('refuses indices outside the operands and index maps of the wrong length', () => {
    const broken = (edit: (op: MulOp) => void) => {
      const m = mulModel()
      edit(m.steps[MUL_STEP].op as MulOp)
      return () => commitParams(m)
    }
    expect(broken((op) => (op.right[3] = 15))).toThrow(
      /mul element 3 reads x\[11\] · x\[15\], outside its 15 operand elements/,
    )
    expect(broken((op) => (op.left[0] = -1))).toThrow(OptimisticModelError)
    expect(broken((op) => (op.left = op.left.subarray(1)))).toThrow(/mul index maps do not match its output size/)
  })

  it('accepts products that fit int256 for every input of the declared domain and refuses those that could not', () => {
    // (-128)^(2^5) = 2^224 fits; (-128)^(2^6) = 2^448, a 449-bit value, does not (a square is ≥ 0: its bound is exactly 2^448).
    expect(commitParams(squares(5)).headers).toHaveLength(5)
    expect(() => commitParams(squares(6))).toThrow(OptimisticModelError)
    expect(() => commitParams(squares(6))).toThrow(/step "t6": values may need 449 bits/)
    // The declared domain is the game's (a claim cannot post a value outside it): squares of
    // [-1, 1] stay in [0, 1].
    const narrow = squares(6)
    narrow.inputs[0] = { ...narrow.inputs[0], lo: -1n, hi: 1n }
    expect(commitParams(narrow).headers).toHaveLength(6)
    // A negative requant multiplier between the squarings: the interval turns around, still sound.
    const m = squares(5)
    m.steps.splice(1, 0, {
      origin: 'Neg',
      op: { op: 'requant', inputs: [1], mul: -(1n << 40n), shift: 0, zeroPoint: 0n, lo: null, hi: null },
      output: { id: 100, name: 'neg', shape: [2] },
    })
    ;(m.steps[2].op as MulOp).inputs = [100]
    // t1 ∈ [0, 2^14], neg ∈ [-2^54, 0], then squares up to 2^108, 2^216, and Mul_3's 2^432 (433 bits).
    expect(() => commitParams(m)).toThrow(/step "t4": values may need 433 bits/)
  })
})

describe('Solidity one-step for mul', () => {
  let anvil: AnvilInstance
  let executor: Contract
  let harness: Contract
  const model = mulModel()
  const params = commitParams(model)
  const trace = buildTrace(model, INPUTS)
  const pos = (s: number) => params.layout.inputCount + s
  const valueAt = (q: ReturnType<typeof stepQuery>, proof: Hex) =>
    call<bigint>('valueAt', () => executor.valueAt(q, proof))
  const rejects = (q: ReturnType<typeof stepQuery>, proof: Hex, errorName: string, args?: unknown[]) =>
    expect(valueAt(q, proof)).rejects.toMatchObject(args ? { errorName, args } : { errorName })

  beforeAll(async () => {
    const chain = await executorOnAnvil({ harness: true })
    ;({ anvil, executor } = chain)
    harness = chain.harness!
  })
  afterAll(async () => anvil?.stop())

  it('valueAt equals the reference executor on every element of every step', async () => {
    // Products of products leave 32 bits with both signs (larger operands: the next test).
    const t4 = trace.states[pos(MUL2_STEP)]
    expect(t4.some((v) => v > 1n << 40n) && t4.some((v) => v < -(1n << 38n))).toBe(true)
    for (const inputs of [
      INPUTS,
      [
        [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n],
        [0n, 0n, 0n],
      ],
      [
        [127n, -128n, 1n, -1n, 2n, -2n, 3n, 64n],
        [127n, 1n, -128n],
      ],
    ]) {
      const t = buildTrace(model, inputs)
      for (let s = 0; s < model.steps.length; s++) {
        for (let j = 0; j < t.states[pos(s)].length; j++) {
          expect(
            await executeElement(executor, model, params, t, s, j),
            `inputs ${inputs} step ${s} element ${j}`,
          ).toBe(t.states[pos(s)][j])
        }
      }
    }
  })

  it('equals mulElement on random signed operands up to 127 bits, the same element twice included', async () => {
    // A pre-state (as if agreed) of random large values under the fixture's mul step.
    const r = rng(21)
    const big = () => {
      const v = BigInt.asUintN(r.int(0, 127), BigInt(Math.floor(r.next() * 2 ** 52)) ** 3n * 1000003n)
      return r.next() < 0.5 ? -v : v
    }
    const op = model.steps[MUL_STEP].op as MulOp
    for (let round = 0; round < 6; round++) {
      // Input states stay in their int8 lane (a claim cannot post others); step states are any int256.
      const states = trace.states.map((v, st) =>
        st < params.layout.inputCount ? v.map(() => BigInt(r.int(-128, 127))) : v.map(() => big()),
      )
      const t: Trace = traceFromStates(trace.layout, states)
      const x = op.inputs.flatMap((id) => states[params.layout.positionOf.get(id)!])
      for (let j = 0; j < op.left.length; j++) {
        const proof = buildOneStepProof({ model, params, trace: t, stepIndex: MUL_STEP, element: j })
        expect(await valueAt(stepQuery(params, t, MUL_STEP, j), proof), `round ${round} element ${j}`).toBe(
          mulElement(op, x, j),
        )
      }
    }
    // The library's product itself, with its edge values; int256 overflow reverts (Panic 0x11).
    const edges = [0n, 1n, -1n, (1n << 127n) - 1n, -(1n << 127n), (1n << 254n) - 1n, -(1n << 255n)]
    for (const a of edges)
      for (const b of [0n, 1n, -1n])
        if (!(a === -(1n << 255n) && b === -1n)) expect(await harness.mul(a, b)).toBe(a * b)
    for (const [a, b] of [
      [1n << 128n, 1n << 127n],
      [-(1n << 255n), -1n],
      [(1n << 200n) + 1n, -(1n << 55n)],
    ]) {
      await expect(harness.mul(a, b)).rejects.toMatchObject({ revert: { name: 'Panic', args: [0x11] } })
    }
  })

  it('a forged or misplaced pair, a wrong or swapped operand, another pre-state are refused', async () => {
    const j = 1 // x[1] · x[8]: in0[1] = 127, in1[0] = -128, two operand tensors
    const q = stepQuery(params, trace, MUL_STEP, j)
    const proof = buildOneStepProof({ model, params, trace, stepIndex: MUL_STEP, element: j })
    expect(await valueAt(q, proof)).toBe(-16256n)
    const [kind, header, headerPath, body] = decode(proof)
    const b = body as Body
    const forge = (edit: Partial<Body>) => encode(kind, header, headerPath, { ...b, ...edit })
    // A forged leaf: other columns whose openings are honest (x[0] · x[8] = 128 · 128).
    const a0 = decode(buildOneStepProof({ model, params, trace, stepIndex: MUL_STEP, element: 0 }))[3] as Body
    await rejects(q, forge({ left: 0n, a: a0.a }), 'PairNotInModel', [BigInt(j)])
    await rejects(q, forge({ left: 8n, right: 1n, a: b.b, b: b.a }), 'PairNotInModel', [BigInt(j)])
    // The pair of element 2 (with its own valid path and openings) presented for element 1.
    const other = decode(buildOneStepProof({ model, params, trace, stepIndex: MUL_STEP, element: 2 }))[3] as Body
    await rejects(q, forge(other), 'PairNotInModel', [BigInt(j)])
    // Wrong operand values, or the two openings swapped, under the honest pair.
    await rejects(q, forge({ a: { ...b.a, value: 1n } }), 'OperandNotInPreState', [0n])
    await rejects(q, forge({ b: { ...b.b, value: 128n } }), 'OperandNotInPreState', [1n])
    // Swapped openings, or one opening twice: each input is one packed word (same depth), so
    // the other state's word fails against this state's root.
    await rejects(q, forge({ a: b.b, b: b.a }), 'OperandNotInPreState', [0n])
    await rejects(q, forge({ b: b.a }), 'OperandNotInPreState', [1n])
    // Within one tensor (element 3: t2[0] · t2[3]) swapped openings fail on their values.
    const q3 = stepQuery(params, trace, MUL_STEP, 3)
    const [, , , body3] = decode(buildOneStepProof({ model, params, trace, stepIndex: MUL_STEP, element: 3 }))
    const b3 = body3 as Body
    expect(b3.a.value).not.toBe(b3.b.value)
    await rejects(q3, encode(kind, header, headerPath, { ...b3, a: b3.b, b: b3.a }), 'OperandNotInPreState', [2n])
    await rejects(q3, encode(kind, header, headerPath, { ...b3, b: b3.a }), 'OperandNotInPreState', [2n])
    await rejects({ ...q, preStateRoot: trace.prefixRoots[0] }, proof, 'OperandNotInPreState')
    await rejects({ ...q, element: 7 }, proof, 'ElementOutOfRange')
  })

  it('a committed index outside the operands, constants or another op are refused even when committed', async () => {
    const j = 3
    const h = params.headers[MUL_STEP]
    const op = model.steps[MUL_STEP].op as MulOp
    for (const [left, right] of [
      [15, 11],
      [11, 15],
      [2 ** 40, 0],
    ]) {
      const opTree = merkleTree(
        Array.from(op.left, (a, i) => (i === j ? mulPairLeaf(left, right) : mulPairLeaf(a, op.right[i]))),
      )
      const forged = withHeader(params, MUL_STEP, { ...h, opRoot: opTree.root })
      const [kind, header, headerPath, body] = decode(
        buildOneStepProof({ model, params: forged, trace, stepIndex: MUL_STEP, element: j }),
      )
      const p = encode(kind, header, headerPath, {
        ...(body as Body),
        left: BigInt(left),
        right: BigInt(right),
        pairPath: merkleProof(opTree, j),
      })
      const bad = BigInt(left === 11 ? right : left)
      await rejects(
        { ...stepQuery(params, trace, MUL_STEP, j), paramsRoot: forged.paramsRoot },
        p,
        'ColumnOutOfRange',
        [bad, 15n],
      )
    }
    const withConst = withHeader(params, MUL_STEP, { ...h, consts: [1n] })
    const proof = buildOneStepProof({ model, params: withConst, trace, stepIndex: MUL_STEP, element: j })
    await rejects(
      { ...stepQuery(params, trace, MUL_STEP, j), paramsRoot: withConst.paramsRoot },
      proof,
      'MalformedHeader',
      [BigInt(MUL_STEP)],
    )
    // A mul proof against a step the model commits as another op.
    const [, , headerPath, body] = decode(buildOneStepProof({ model, params, trace, stepIndex: MUL_STEP, element: 0 }))
    await rejects(stepQuery(params, trace, 0, 0), encode(5, params.headers[0], headerPath, body), 'ProofKindMismatch', [
      5n,
      0n,
    ])
  })
})
