import { Contract, type InterfaceAbi, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { lookupValue, requantValue } from '../../src/ir/ops.js'
import type { IrModel, LookupOp, MaxOp, RequantOp } from '../../src/ir/types.js'
import { abi, ELEMENT_OPENING, LOOKUP_BODY, MAX_BODY, maxRowLeaf, STEP_HEADER, type StepHeader, stepHeaderLeaf } from '../../src/optimistic/abi.js'
import { call } from '../../src/optimistic/client.js'
import { deployOptimistic, optimisticArtifacts } from '../../src/optimistic/contracts.js'
import { OptimisticModelError } from '../../src/optimistic/errors.js'
import { type Hex, merkleProof, merkleTree, tensorTree } from '../../src/optimistic/merkle.js'
import { buildOneStepProof, stepQuery } from '../../src/optimistic/one-step.js'
import { commitParams, type ParamsCommitment } from '../../src/optimistic/params.js'
import { buildTrace, type Trace, traceFromStates } from '../../src/optimistic/trace.js'
import { CLAMP, INT8_TABLE, MAX_LOOKUP_INPUTS, maxLookupModel } from './fixtures.js'
import { inputTensor } from './models.js'

const MAX_STEP = 0
const LOOKUP_STEP = 1
const REQUANT_STEP = 2
const SMALL_LOOKUP_STEP = 3

type Body = Record<string, unknown>
const decode = (type: string, proof: Hex) => abi.decode(['uint8', STEP_HEADER, 'bytes32[]', type], proof)
const encode = (type: string, kind: unknown, header: unknown, headerPath: unknown, body: unknown) => abi.encode(['uint8', STEP_HEADER, 'bytes32[]', type], [kind, header, headerPath, body])
/** A decoded ethers Result as a plain, re-encodable object. */
const plain = (v: unknown): unknown => (v && typeof v === 'object' && 'toObject' in v ? (v as { toObject(deep: boolean): unknown }).toObject(true) : v)

/** The commitment with step `s`'s header replaced, the parameter tree rebuilt: as if the model had committed to it. */
function withHeader(params: ParamsCommitment, s: number, header: StepHeader): ParamsCommitment {
  const headers = params.headers.map((h, i) => (i === s ? header : h))
  const headerTree = merkleTree(headers.map(stepHeaderLeaf))
  return { ...params, headers, headerTree, paramsRoot: headerTree.root }
}

describe('commitParams for max, lookup and half-even requant', () => {
  it('commits half-even with an 8th constant and half up with the 7 it always had', () => {
    const params = commitParams(maxLookupModel())
    expect(params.headers[REQUANT_STEP].consts).toEqual([3n, 2n, 0n, 1n, CLAMP.lo, 1n, CLAMP.hi, 1n])
    const m = maxLookupModel()
    delete (m.steps[REQUANT_STEP].op as RequantOp).rounding
    expect(commitParams(m).headers[REQUANT_STEP].consts).toHaveLength(7)
    expect(commitParams(m).paramsRoot).not.toBe(params.paramsRoot)
    expect(params.headers[LOOKUP_STEP].consts).toEqual([-128n, 256n])
    expect(params.headers[MAX_STEP].consts).toEqual([])
  })

  it('refuses empty max rows, columns outside the operands, empty tables', () => {
    const broken = (edit: (m: IrModel) => void) => {
      const m = maxLookupModel()
      edit(m)
      return () => commitParams(m)
    }
    expect(broken((m) => ((m.steps[MAX_STEP].op as MaxOp).rowPtr[1] = 0))).toThrow(/max row 0 is empty/)
    expect(broken((m) => ((m.steps[MAX_STEP].op as MaxOp).cols[0] = 11))).toThrow(/column of max row 0 is outside its operands/)
    expect(broken((m) => ((m.steps[SMALL_LOOKUP_STEP].op as LookupOp).table = []))).toThrow(OptimisticModelError)
  })

  it('refuses a lookup that some input of the claim lane would take outside its table', () => {
    // in1 is calibrated to [-50, 50] but claims post any int8: a table over [-50, 50] is not enough.
    const table = Array.from({ length: 101 }, (_, i) => BigInt(i))
    const model: IrModel = {
      name: 'narrow-table',
      inputs: [inputTensor(0, 2, -50n, 50n)],
      steps: [{ origin: 'Sigmoid_7', op: { op: 'lookup', inputs: [0], offset: -50n, table }, output: { id: 1, name: 't1', shape: [2] } }],
      outputs: [{ tensor: 1, name: 'out', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() => commitParams(model)).toThrow(OptimisticModelError)
    expect(() => commitParams(model)).toThrow(/Sigmoid_7.*\[-128, 127\]|\[-128, 127\].*Sigmoid_7/)
    ;(model.steps[0].op as LookupOp).offset = -128n
    ;(model.steps[0].op as LookupOp).table = Array.from({ length: 256 }, (_, i) => BigInt(i))
    expect(commitParams(model).headers).toHaveLength(1)
  })
})

describe('Solidity one-step for max, lookup and half-even requant', () => {
  let anvil: AnvilInstance
  let executor: Contract
  const model = maxLookupModel()
  const params = commitParams(model)
  const trace = buildTrace(model, MAX_LOOKUP_INPUTS)
  const pos = (s: number) => params.layout.inputCount + s
  const valueAt = (q: ReturnType<typeof stepQuery>, proof: Hex) => call<bigint>('valueAt', () => executor.valueAt(q, proof))
  const rejects = (q: ReturnType<typeof stepQuery>, proof: Hex, errorName: string, args?: unknown[]) =>
    expect(valueAt(q, proof)).rejects.toMatchObject(args ? { errorName, args } : { errorName })

  beforeAll(async () => {
    anvil = await startAnvil()
    const wallet = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
    const { executorAddress } = await deployOptimistic(wallet)
    executor = new Contract(executorAddress, optimisticArtifacts().executor.abi as InterfaceAbi, anvil.provider)
  })
  afterAll(async () => anvil?.stop())

  it('the fixture reaches the edge cases it is meant to', () => {
    const [x] = MAX_LOOKUP_INPUTS
    // Max: equal negative maxima, one-column rows, rows across both operands.
    expect(trace.states[pos(MAX_STEP)]).toEqual([127n, -2n, 6n, 127n, -1n, 10n])
    // Lookup at both ends of the lane table.
    expect(trace.states[pos(LOOKUP_STEP)].slice(0, 2)).toEqual([INT8_TABLE[0], INT8_TABLE[255]])
    // Half-even differs from half up on the ties -2 (3·-2/4 = -1.5) and 6 (4.5).
    const op = model.steps[REQUANT_STEP].op as RequantOp
    expect(trace.states[pos(REQUANT_STEP)]).toEqual([-20n, 20n, -2n, -2n, -5n, -2n, 4n, 8n])
    expect([x[2], x[6]].map((v) => requantValue(v, { ...op, rounding: undefined }))).toEqual([-1n, 5n])
    // The second table is read at both of its ends (the clamp bounds).
    const small = model.steps[SMALL_LOOKUP_STEP].op as LookupOp
    expect(trace.states[pos(SMALL_LOOKUP_STEP)].slice(0, 2)).toEqual([lookupValue(small, CLAMP.lo), lookupValue(small, CLAMP.hi)])
  })

  it('valueAt equals the reference executor on every element of every step', async () => {
    const inputSets = [MAX_LOOKUP_INPUTS, [[127n, -128n, 0n, 0n, 0n, 0n, 0n, 0n], [-128n, -128n, -128n]], [[2n, -6n, 14n, -10n, 1n, -1n, 3n, -3n], [127n, 127n, 127n]]]
    for (const inputs of inputSets) {
      const t = buildTrace(model, inputs)
      for (let s = 0; s < model.steps.length; s++) {
        for (let j = 0; j < t.states[pos(s)].length; j++) {
          const proof = buildOneStepProof({ model, params, trace: t, stepIndex: s, element: j })
          expect(await valueAt(stepQuery(params, t, s, j), proof), `inputs ${inputs} step ${s} element ${j}`).toBe(t.states[pos(s)][j])
        }
      }
    }
  })

  it('max: a wrong row, a dropped, forged or permuted opening, is refused', async () => {
    const j = 0
    const q = stepQuery(params, trace, MAX_STEP, j)
    const proof = buildOneStepProof({ model, params, trace, stepIndex: MAX_STEP, element: j })
    const [kind, header, headerPath, body] = decode(MAX_BODY, proof)
    const b = plain(body) as { cols: bigint[]; rowPath: Hex[]; operands: { root: Hex; statePath: Hex[] }[]; xs: { value: bigint; elementPath: Hex[] }[] }
    const forge = (edit: Partial<typeof b>) => encode(MAX_BODY, kind, header, headerPath, { ...b, ...edit })
    // The row of element 3 (with its own valid path) presented for element 0.
    const other = plain(decode(MAX_BODY, buildOneStepProof({ model, params, trace, stepIndex: MAX_STEP, element: 3 }))[3]) as typeof b
    await rejects(q, forge({ cols: other.cols, rowPath: other.rowPath, xs: other.xs }), 'RowNotInModel', [BigInt(j)])
    await rejects(q, forge({ cols: b.cols.slice(1), xs: b.xs.slice(1) }), 'RowNotInModel')
    await rejects(q, forge({ xs: b.xs.slice(1) }), 'OperandCountMismatch', [2n, 1n])
    await rejects(q, forge({ xs: [b.xs[0], { ...b.xs[1], value: b.xs[1].value + 1n }] }), 'OperandNotInPreState')
    await rejects(q, forge({ xs: [b.xs[1], b.xs[0]] }), 'OperandNotInPreState')
    // Operand roots: one missing, swapped, or a forged tensor holding a larger x[1] under its own root.
    await rejects(q, forge({ operands: b.operands.slice(0, 1) }), 'OperandCountMismatch', [2n, 1n])
    await rejects(q, forge({ operands: [b.operands[1], b.operands[0]] }), 'OperandNotInPreState', [0n])
    const forgedIn0 = tensorTree(trace.states[0].map((v, i) => (i === 1 ? 1000n : v)))
    const forgedXs = [{ ...b.xs[0], elementPath: merkleProof(forgedIn0, 0) }, { value: 1000n, elementPath: merkleProof(forgedIn0, 1) }]
    await rejects(q, forge({ operands: [{ ...b.operands[0], root: forgedIn0.root }, b.operands[1]], xs: forgedXs }), 'OperandNotInPreState', [0n])
    // The honest proof still passes, and against another pre-state it does not.
    expect(await valueAt(q, proof)).toBe(127n)
    await rejects({ ...q, preStateRoot: trace.prefixRoots[0] }, proof, 'OperandNotInPreState')
  })

  it('max: an empty row or a column outside the operands is refused even when committed', async () => {
    const j = 1
    const h = params.headers[MAX_STEP]
    const rows = Array.from({ length: h.outputSize }, (_, i) => {
      const op = model.steps[MAX_STEP].op as MaxOp
      return Array.from(op.cols.subarray(op.rowPtr[i], op.rowPtr[i + 1]))
    })
    for (const [row, errorName] of [[[], 'EmptyMaxRow'], [[2, 11], 'ColumnOutOfRange']] as const) {
      const leaves = rows.map((r, i) => maxRowLeaf(i === j ? row : r))
      const opTree = merkleTree(leaves)
      const forged = withHeader(params, MAX_STEP, { ...h, opRoot: opTree.root })
      const proof = buildOneStepProof({ model, params: forged, trace, stepIndex: MAX_STEP, element: j })
      const [kind, header, headerPath, body] = decode(MAX_BODY, proof)
      // Row 1 is [2, 2, 2]: its first opening is column 2's, valid for the forged row's first column.
      const b = plain(body) as { xs: unknown[] }
      const xs = row.length === 0 ? [] : [b.xs[0], b.xs[0]]
      const p = encode(MAX_BODY, kind, header, headerPath, { ...b, cols: row, rowPath: merkleProof(opTree, j), xs })
      await rejects({ ...stepQuery(params, trace, MAX_STEP, j), paramsRoot: forged.paramsRoot }, p, errorName)
    }
    // Constants on a max header make it malformed.
    const withConst = withHeader(params, MAX_STEP, { ...h, consts: [1n] })
    const proof = buildOneStepProof({ model, params: withConst, trace, stepIndex: MAX_STEP, element: j })
    await rejects({ ...stepQuery(params, trace, MAX_STEP, j), paramsRoot: withConst.paramsRoot }, proof, 'MalformedHeader')
  })

  it('lookup: a forged or misplaced table entry, a forged x, an x outside the table are refused', async () => {
    const j = 1 // x = 127: the last entry
    const q = stepQuery(params, trace, LOOKUP_STEP, j)
    const proof = buildOneStepProof({ model, params, trace, stepIndex: LOOKUP_STEP, element: j })
    expect(await valueAt(q, proof)).toBe(INT8_TABLE[255])
    const [kind, header, headerPath, body] = decode(LOOKUP_BODY, proof)
    const b = plain(body) as { x: { value: bigint; elementPath: Hex[]; statePath: Hex[] }; entry: bigint; entryPath: Hex[] }
    const forge = (edit: Partial<typeof b>) => encode(LOOKUP_BODY, kind, header, headerPath, { ...b, ...edit })
    await rejects(q, forge({ entry: b.entry + 1n }), 'EntryNotInModel', [127n, 255n])
    // A true entry of the table, with its own valid path, but at another position.
    const table = params.opTrees[LOOKUP_STEP]!
    await rejects(q, forge({ entry: INT8_TABLE[254], entryPath: merkleProof(table, 254) }), 'EntryNotInModel', [127n, 255n])
    await rejects(q, forge({ x: { ...b.x, value: 126n } }), 'OperandNotInPreState')
    // A pre-state (as if agreed) holding an x outside the table: no entry can be proven for it.
    for (const [s, x, offset, length] of [[LOOKUP_STEP, -129n, -128n, 256n], [SMALL_LOOKUP_STEP, CLAMP.hi + 1n, CLAMP.lo, 41n]] as const) {
      const states = trace.states.map((v) => [...v])
      const source = params.headers[s].inputStates[0]
      states[source][0] = x
      const bad: Trace = traceFromStates(trace.layout, states)
      await rejects(stepQuery(params, bad, s, 0), buildOneStepProof({ model, params, trace: bad, stepIndex: s, element: 0 }), 'LookupOutOfDomain', [x, offset, length])
    }
  })

  it('lookup and half-even requant: headers other than the committed ones, or malformed ones, are refused', async () => {
    for (const [s, type] of [[LOOKUP_STEP, LOOKUP_BODY], [REQUANT_STEP, ELEMENT_OPENING]] as const) {
      const q = stepQuery(params, trace, s, 2)
      const [kind, , headerPath, body] = decode(type, buildOneStepProof({ model, params, trace, stepIndex: s, element: 2 }))
      const h = params.headers[s]
      // Half-even posing as half up (7 constants), or the table's length changed.
      const consts = s === REQUANT_STEP ? h.consts.slice(0, 7) : [h.consts[0], h.consts[1] + 1n]
      await rejects(q, encode(type, kind, { ...h, consts }, headerPath, plain(body)), 'HeaderNotInModel')
    }
    const malformed: [number, bigint[]][] = [
      [REQUANT_STEP, [3n, 2n, 0n, 1n, CLAMP.lo, 1n, CLAMP.hi, 2n]],
      [REQUANT_STEP, [3n, 2n, 0n, 1n, CLAMP.lo, 1n]],
      [LOOKUP_STEP, [-128n]],
      [LOOKUP_STEP, [-128n, 0n]],
      [LOOKUP_STEP, [-128n, -1n]],
    ]
    for (const [s, consts] of malformed) {
      const forged = withHeader(params, s, { ...params.headers[s], consts })
      const proof = buildOneStepProof({ model, params: forged, trace, stepIndex: s, element: 2 })
      await rejects({ ...stepQuery(params, trace, s, 2), paramsRoot: forged.paramsRoot }, proof, 'MalformedHeader', [BigInt(s)])
    }
  })
})
