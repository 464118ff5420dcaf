import type { Contract } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { lookupValue, requantValue } from '../../src/ir/ops.js'
import type { IrModel, LookupOp, MaxOp, RequantOp } from '../../src/ir/types.js'
import {
  ELEMENT_OPENING,
  EMPTY_TERMS_ROOT,
  FOLD_ROW,
  FOLD_TERM,
  INT256_MIN,
  LOOKUP_BODY,
  maxRowLeaf,
  maxTermLeaf,
} from '../../src/optimistic/abi.js'
import { call } from '../../src/optimistic/chain/client.js'
import { GameRevertError } from '../../src/optimistic/chain/errors.js'
import { InputEncodingError, OptimisticModelError } from '../../src/optimistic/errors.js'
import type { Hex } from '../../src/util/hex.js'
import { merkleProof, merkleTree } from '../../src/optimistic/merkle.js'
import {
  buildFoldRowProof,
  buildFoldStepProof,
  buildOneStepProof,
  foldAccs,
  stepQuery,
} from '../../src/optimistic/one-step.js'
import { commitParams, termsRootOf } from '../../src/optimistic/params.js'
import { buildTrace, type Trace, traceFromStates } from '../../src/optimistic/trace.js'
import { CLAMP, INT8_TABLE, MAX_LOOKUP_INPUTS, maxLookupModel } from './fixtures.js'
import { inputTensor } from './models.js'
import { executeElement, executorOnAnvil } from './chain.js'
import { decodeProof, encodeProof, withHeader } from './proof-codec.js'

const MAX_STEP = 0
const LOOKUP_STEP = 1
const REQUANT_STEP = 2
const SMALL_LOOKUP_STEP = 3

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
    expect(broken((m) => ((m.steps[MAX_STEP].op as MaxOp).cols[0] = 11))).toThrow(
      /column of max row 0 is outside its operands/,
    )
    expect(broken((m) => ((m.steps[SMALL_LOOKUP_STEP].op as LookupOp).table = []))).toThrow(OptimisticModelError)
  })

  it('refuses a lookup that some input of the declared domain would take outside its table', () => {
    // in0 is declared [-50, 50], and a claim cannot post other values: a table over [-40, 50] is not enough.
    const table = Array.from({ length: 91 }, (_, i) => BigInt(i))
    const model: IrModel = {
      name: 'narrow-table',
      inputs: [inputTensor(0, 2, -50n, 50n)],
      steps: [
        {
          origin: 'Sigmoid_7',
          op: { op: 'lookup', inputs: [0], offset: -40n, table },
          output: { id: 1, name: 't1', shape: [2] },
        },
      ],
      outputs: [{ tensor: 1, name: 'out', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() => commitParams(model)).toThrow(OptimisticModelError)
    expect(() => commitParams(model)).toThrow(/\[-50, 50\].*Sigmoid_7|Sigmoid_7.*\[-50, 50\]/)
    ;(model.steps[0].op as LookupOp).offset = -50n
    ;(model.steps[0].op as LookupOp).table = Array.from({ length: 101 }, (_, i) => BigInt(i))
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
  const valueAt = (q: ReturnType<typeof stepQuery>, proof: Hex) =>
    call<bigint>('valueAt', () => executor.valueAt(q, proof))
  const rejects = (q: ReturnType<typeof stepQuery>, proof: Hex, errorName: string, args?: unknown[]) =>
    expect(valueAt(q, proof)).rejects.toMatchObject(args ? { errorName, args } : { errorName })

  beforeAll(async () => {
    ;({ anvil, executor } = await executorOnAnvil())
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
    expect(trace.states[pos(SMALL_LOOKUP_STEP)].slice(0, 2)).toEqual([
      lookupValue(small, CLAMP.lo),
      lookupValue(small, CLAMP.hi),
    ])
  })

  it('valueAt and foldRow + foldStep equal the reference executor on every element of every step', async () => {
    const inputSets = [
      MAX_LOOKUP_INPUTS,
      [
        [127n, -128n, 0n, 0n, 0n, 0n, 0n, 0n],
        [-128n, -128n, -128n],
      ],
      [
        [2n, -6n, 14n, -10n, 1n, -1n, 3n, -3n],
        [127n, 127n, 127n],
      ],
    ]
    for (const inputs of inputSets) {
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

  it('max: a wrong row, term or operand, a bias or a weight on a max term, is refused', async () => {
    const j = 3 // row [0..8]: nine columns over both input states, max 127 = in0[1]
    const q = stepQuery(params, trace, MAX_STEP, j)
    const p = { model, params, trace, stepIndex: MAX_STEP, element: j }
    const [kind, header, headerPath, row] = decodeProof(FOLD_ROW, buildFoldRowProof(p))
    const r = row as { bias: bigint; termCount: bigint; termsRoot: Hex; rowPath: Hex[] }
    const foldRow = (qq: typeof q, proof: Hex) =>
      call<[bigint, bigint, Hex]>('foldRow', () => executor.foldRow(qq, proof))
    expect(await foldRow(q, buildFoldRowProof(p))).toEqual([INT256_MIN, 9n, r.termsRoot])
    // Row 0 (with its own valid path) presented for row 3; a bias on a max row; a wrong term count.
    await expect(foldRow(q, buildFoldRowProof({ ...p, element: 0 }))).rejects.toMatchObject({
      errorName: 'RowNotInModel',
      args: [BigInt(j)],
    })
    await expect(foldRow(q, encodeProof(FOLD_ROW, kind, header, headerPath, { ...r, bias: 1n }))).rejects.toMatchObject(
      { errorName: 'MaxRowHasBias' },
    )
    await expect(
      foldRow(q, encodeProof(FOLD_ROW, kind, header, headerPath, { ...r, termCount: 8n })),
    ).rejects.toMatchObject({ errorName: 'RowNotInModel' })

    const accs = foldAccs(model, params, trace, MAX_STEP, j)
    const term = 1 // column 1: in0[1] = 127, in the first word of in0
    const f = { step: q, term, termCount: 9, termsRoot: r.termsRoot, acc: accs[term] }
    const foldStep = (ff: typeof f, proof: Hex) => call<bigint>('foldStep', () => executor.foldStep(ff, proof))
    const proof = buildFoldStepProof({ ...p, term })
    expect(await foldStep(f, proof)).toBe(127n)
    const [, , , t] = decodeProof(FOLD_TERM, proof)
    const b = t as {
      col: bigint
      val: bigint
      termPath: Hex[]
      x: { value: bigint; elementPath: Hex[]; statePath: Hex[] }
    }
    const forge = (edit: Partial<typeof b>) => encodeProof(FOLD_TERM, kind, header, headerPath, { ...b, ...edit })
    await expect(foldStep(f, forge({ val: 1n }))).rejects.toMatchObject({
      errorName: 'MaxTermHasValue',
      args: [BigInt(term), 1n],
    })
    await expect(foldStep(f, forge({ col: 2n }))).rejects.toMatchObject({
      errorName: 'TermNotInRow',
      args: [BigInt(term)],
    })
    // The word of in0 with the lane of column 1 raised: not the agreed input.
    await expect(foldStep(f, forge({ x: { ...b.x, value: b.x.value + (1n << 240n) } }))).rejects.toMatchObject({
      errorName: 'OperandNotInPreState',
      args: [0n],
    })
    // Column 8 is in1[0], the second operand: its opening is in1's, not in0's.
    const last = decodeProof(FOLD_TERM, buildFoldStepProof({ ...p, term: 8 }))[3] as typeof b
    await expect(foldStep({ ...f, term: 8 }, forge({ col: last.col, termPath: last.termPath }))).rejects.toThrow(
      GameRevertError,
    )
    expect(await foldStep({ ...f, term: 8, acc: accs[8] }, buildFoldStepProof({ ...p, term: 8 }))).toBe(127n)
    await expect(foldStep({ ...f, step: { ...q, preStateRoot: trace.prefixRoots[0] } }, proof)).rejects.toMatchObject({
      errorName: 'OperandNotInPreState',
    })
  })

  it('max: an empty row or a column outside the operands is refused even when committed', async () => {
    const j = 1
    const h = params.headers[MAX_STEP]
    const op = model.steps[MAX_STEP].op as MaxOp
    const rows = Array.from({ length: h.outputSize }, (_, i) =>
      Array.from(op.cols.subarray(op.rowPtr[i], op.rowPtr[i + 1])),
    )
    for (const [row, errorName] of [
      [[], 'EmptyMaxRow'],
      [[2, 11], 'ColumnOutOfRange'],
    ] as const) {
      const termTree = merkleTree(row.map((c) => maxTermLeaf(c)))
      const termsRoot = row.length === 0 ? EMPTY_TERMS_ROOT : termTree.root
      const opTree = merkleTree(
        rows.map((r, i) => (i === j ? maxRowLeaf(row.length, termsRoot) : maxRowLeaf(r.length, termsRootOf(op, i)))),
      )
      const forged = withHeader(params, MAX_STEP, { ...h, opRoot: opTree.root })
      const q = { ...stepQuery(params, trace, MAX_STEP, j), paramsRoot: forged.paramsRoot }
      const headerPath = merkleProof(forged.headerTree, MAX_STEP)
      const rowProof = encodeProof(FOLD_ROW, h.kind, forged.headers[MAX_STEP], headerPath, {
        bias: 0n,
        termCount: row.length,
        termsRoot,
        rowPath: merkleProof(opTree, j),
      })
      if (row.length === 0) {
        await expect(call('foldRow', () => executor.foldRow(q, rowProof))).rejects.toMatchObject({ errorName })
        continue
      }
      expect(await call<unknown[]>('foldRow', () => executor.foldRow(q, rowProof))).toEqual([INT256_MIN, 2n, termsRoot])
      // Term 1 is column 11, past the 11 operand elements: no opening can place it.
      const honestX = decodeProof(
        FOLD_TERM,
        buildFoldStepProof({ model, params, trace, stepIndex: MAX_STEP, element: j, term: 0 }),
      )[3] as { x: unknown }
      const termProof = encodeProof(FOLD_TERM, h.kind, forged.headers[MAX_STEP], headerPath, {
        col: 11n,
        val: 0n,
        termPath: merkleProof(termTree, 1),
        x: honestX.x,
      })
      await expect(
        call('foldStep', () => executor.foldStep({ step: q, term: 1, termCount: 2, termsRoot, acc: 0n }, termProof)),
      ).rejects.toMatchObject({ errorName })
    }
    // Constants on a max header make it malformed.
    const withConst = withHeader(params, MAX_STEP, { ...h, consts: [1n] })
    const proof = buildFoldRowProof({ model, params: withConst, trace, stepIndex: MAX_STEP, element: j })
    await expect(
      call('foldRow', () =>
        executor.foldRow({ ...stepQuery(params, trace, MAX_STEP, j), paramsRoot: withConst.paramsRoot }, proof),
      ),
    ).rejects.toMatchObject({
      errorName: 'MalformedHeader',
    })
  })

  it('lookup: a forged or misplaced table entry, a forged x, an x outside the table are refused', async () => {
    const j = 1 // x = 127: the last entry
    const q = stepQuery(params, trace, LOOKUP_STEP, j)
    const proof = buildOneStepProof({ model, params, trace, stepIndex: LOOKUP_STEP, element: j })
    expect(await valueAt(q, proof)).toBe(INT8_TABLE[255])
    const [kind, header, headerPath, body] = decodeProof(LOOKUP_BODY, proof)
    const b = body as { x: { value: bigint; elementPath: Hex[]; statePath: Hex[] }; entry: bigint; entryPath: Hex[] }
    const forge = (edit: Partial<typeof b>) => encodeProof(LOOKUP_BODY, kind, header, headerPath, { ...b, ...edit })
    await rejects(q, forge({ entry: b.entry + 1n }), 'EntryNotInModel', [127n, 255n])
    // A true entry of the table, with its own valid path, but at another position.
    const table = params.opTrees[LOOKUP_STEP]!
    await rejects(q, forge({ entry: INT8_TABLE[254], entryPath: merkleProof(table, 254) }), 'EntryNotInModel', [
      127n,
      255n,
    ])
    await rejects(q, forge({ x: { ...b.x, value: 126n } }), 'OperandNotInPreState')
    // An input outside the lane (and the whole-lane table) cannot even be posted.
    expect(() =>
      traceFromStates(
        trace.layout,
        trace.states.map((v, t) => (t === 0 ? [-129n, ...v.slice(1)] : v)),
      ),
    ).toThrow(InputEncodingError)
    // A pre-state (as if agreed) holding an x outside the table: no entry can be proven for it.
    for (const [s, x, offset, length] of [
      [SMALL_LOOKUP_STEP, CLAMP.hi + 1n, CLAMP.lo, 41n],
      [SMALL_LOOKUP_STEP, CLAMP.lo - 1n, CLAMP.lo, 41n],
    ] as const) {
      const states = trace.states.map((v) => [...v])
      const source = params.headers[s].inputStates[0]
      states[source][0] = x
      const bad: Trace = traceFromStates(trace.layout, states)
      await rejects(
        stepQuery(params, bad, s, 0),
        buildOneStepProof({ model, params, trace: bad, stepIndex: s, element: 0 }),
        'LookupOutOfDomain',
        [x, offset, length],
      )
    }
  })

  it('lookup and half-even requant: headers other than the committed ones, or malformed ones, are refused', async () => {
    for (const [s, type] of [
      [LOOKUP_STEP, LOOKUP_BODY],
      [REQUANT_STEP, ELEMENT_OPENING],
    ] as const) {
      const q = stepQuery(params, trace, s, 2)
      const [kind, , headerPath, body] = decodeProof(
        type,
        buildOneStepProof({ model, params, trace, stepIndex: s, element: 2 }),
      )
      const h = params.headers[s]
      // Half-even posing as half up (7 constants), or the table's length changed.
      const consts = s === REQUANT_STEP ? h.consts.slice(0, 7) : [h.consts[0], h.consts[1] + 1n]
      await rejects(q, encodeProof(type, kind, { ...h, consts }, headerPath, body), 'HeaderNotInModel')
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
      await rejects({ ...stepQuery(params, trace, s, 2), paramsRoot: forged.paramsRoot }, proof, 'MalformedHeader', [
        BigInt(s),
      ])
    }
  })
})
