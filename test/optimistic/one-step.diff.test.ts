import { fileURLToPath } from 'node:url'
import { Contract, ContractFactory, type InterfaceAbi, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { floorShift, linearElement, maxElement, requantValue } from '../../src/ir/ops.js'
import type { LinearOp } from '../../src/ir/types.js'
import { abi, ELEMENT_OPENING, FOLD_ROW, FOLD_TERM, STEP_HEADER } from '../../src/optimistic/abi.js'
import { call } from '../../src/optimistic/chain/client.js'
import { deployOptimistic, optimisticArtifacts } from '../../src/optimistic/chain/contracts.js'
import { GameRevertError } from '../../src/optimistic/chain/errors.js'
import { merkleProof, rootFrom, tensorTree, wordOf } from '../../src/optimistic/merkle.js'
import {
  buildFoldRowProof,
  buildFoldStepProof,
  buildOneStepProof,
  foldAccs,
  stepQuery,
} from '../../src/optimistic/one-step.js'
import { commitParams } from '../../src/optimistic/params.js'
import { buildTrace, traceFromStates } from '../../src/optimistic/trace.js'
import { executeElement, startQuickAnvil } from './chain.js'
import { randomInputs, randomModel, rng, tinyModel } from './models.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A signed integer of up to `bits` bits, biased towards edge values. */
function signed(r: ReturnType<typeof rng>, bits: number): bigint {
  const magnitude =
    r.next() < 0.2
      ? (1n << BigInt(bits)) - 1n
      : BigInt.asUintN(bits, BigInt(Math.floor(r.next() * 2 ** 52)) * BigInt(Math.floor(r.next() * 2 ** 52)) * 7919n)
  return r.next() < 0.5 ? -magnitude : magnitude
}

describe('Solidity one-step executor equals src/ir/ops.ts', () => {
  let anvil: AnvilInstance
  let harness: Contract
  let executor: Contract
  beforeAll(async () => {
    anvil = await startQuickAnvil()
    const wallet = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
    const { contracts } = compileSolidity({ baseDir: ROOT, files: ['test/optimistic/OpsHarness.sol'] })
    const h = contracts.OpsHarness
    harness = (await (
      await new ContractFactory(h.abi as InterfaceAbi, h.bytecode, wallet).deploy()
    ).waitForDeployment()) as Contract
    const { executorAddress } = await deployOptimistic(wallet)
    executor = new Contract(executorAddress, optimisticArtifacts().executor.abi as InterfaceAbi, anvil.provider)
  })
  afterAll(async () => anvil?.stop())

  it('requant: random operands, negative values, shifts 0..255, optional clamps', async () => {
    const r = rng(11)
    const shifts = [0, 1, 2, 31, 63, 64, 127, 128, 200, 254, 255]
    for (let i = 0; i < 300; i++) {
      const op = {
        mul: signed(r, r.int(1, 120)),
        shift: i < shifts.length ? shifts[i] : r.int(0, 255),
        zeroPoint: signed(r, 16),
        lo: r.next() < 0.4 ? signed(r, 20) : null,
        hi: r.next() < 0.4 ? signed(r, 20) : null,
      }
      const x = signed(r, r.int(1, 120))
      const consts = [
        op.mul,
        BigInt(op.shift),
        op.zeroPoint,
        op.lo === null ? 0n : 1n,
        op.lo ?? 0n,
        op.hi === null ? 0n : 1n,
        op.hi ?? 0n,
      ]
      const what = `x=${x} ${JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`
      expect(await harness.requant(x, consts), what).toBe(requantValue(x, op))
      expect(await harness.requantHalfEven(x, [...consts, 1n]), `half-even ${what}`).toBe(
        requantValue(x, { ...op, rounding: 'half-even' }),
      )
    }
  })

  it('requant half-even: exact ties of both signs and both parities, shifts 1..255, next to non-ties', async () => {
    const r = rng(15)
    let ties = 0
    let differs = 0
    for (let i = 0; i < 240; i++) {
      const shift = i < 12 ? [1, 2, 3, 8, 63, 64, 127, 128, 200, 253, 254, 255][i] : r.int(1, 255)
      // x·mul = q·2^shift + 2^(shift-1) (+ d ≠ 0: not a tie), split as x·2^j when possible so
      // the product is formed on chain from two factors.
      const j = r.int(0, Math.min(shift - 1, 40))
      // t = x·mul + 2^(shift-1) = (q+1)·2^shift must stay an int256: q = -1 at the largest shifts.
      const qBits = Math.min(100, 253 - shift)
      const q = qBits < 1 ? -1n : signed(r, r.int(1, qBits))
      // d = -2^(shift-1): an exact quotient q, which must not move (only the low shift bits decide a tie).
      const d = r.pick([0n, 0n, 0n, 1n, -1n, -(1n << BigInt(shift - 1))])
      const product = (q << BigInt(shift)) + (1n << BigInt(shift - 1)) + d
      const [x, mul] =
        d === 0n && j > 0 && product % (1n << BigInt(j)) === 0n
          ? [product >> BigInt(j), 1n << BigInt(j)]
          : [product, 1n]
      const op = {
        mul,
        shift,
        zeroPoint: signed(r, 8),
        lo: r.next() < 0.2 ? signed(r, 10) : null,
        hi: r.next() < 0.2 ? signed(r, 10) : null,
      }
      const consts = [
        op.mul,
        BigInt(op.shift),
        op.zeroPoint,
        op.lo === null ? 0n : 1n,
        op.lo ?? 0n,
        op.hi === null ? 0n : 1n,
        op.hi ?? 0n,
      ]
      const even = requantValue(x, { ...op, rounding: 'half-even' })
      if (d === 0n) ties++
      if (even !== requantValue(x, op)) differs++
      expect(await harness.requantHalfEven(x, [...consts, 1n]), `x=${x} mul=${mul} shift=${shift}`).toBe(even)
      expect(await harness.requant(x, consts), `x=${x} mul=${mul} shift=${shift}`).toBe(requantValue(x, op))
    }
    // The cases are ties often enough that half-even and half-up really disagree on many of them.
    expect(ties).toBeGreaterThan(90)
    expect(differs).toBeGreaterThan(30)
  })

  it('lookup index: x - offset inside [0, length), with no int256 overflow at the extremes', async () => {
    const r = rng(16)
    const MIN = -(1n << 255n)
    const MAX = (1n << 255n) - 1n
    const cases: [bigint, bigint, bigint][] = [
      [MAX, MIN + 1n, (1n << 256n) - 1n],
      [MAX, MIN, (1n << 256n) - 1n],
      [MIN, MIN, 1n],
      [MIN, MAX, 5n],
    ]
    for (let i = 0; i < 60; i++) {
      const offset = signed(r, r.int(1, 40))
      const length = BigInt(r.int(1, 300))
      cases.push([offset + r.pick([0n, length - 1n, -1n, length, BigInt(r.int(0, 299))]), offset, length])
    }
    for (const [x, offset, length] of cases) {
      const at = x - offset
      if (at >= 0n && at < length) expect(await harness.lookupIndex(x, offset, length)).toBe(at)
      else
        await expect(
          harness.lookupIndex(x, offset, length),
          `x=${x} offset=${offset} length=${length}`,
        ).rejects.toMatchObject({ revert: { name: 'LookupOutOfDomain', args: [x, offset, length] } })
    }
  })

  it('>> on int256 floors like bigint >>, including shifts of 256 and more', async () => {
    const r = rng(12)
    for (let i = 0; i < 100; i++) {
      const a = i === 0 ? -(1n << 255n) : signed(r, r.int(1, 254))
      const shift = r.pick([0, 1, 7, 64, 200, 254, 255, 256, 300, r.int(0, 400)])
      expect(await harness.floorShift(a, shift)).toBe(floorShift(a, shift))
    }
    expect(await harness.floorShift(-1n, 1)).toBe(-1n)
    expect(await harness.floorShift(-3n, 1)).toBe(-2n)
  })

  it('linear: dot products of sparse rows with negative weights and operands', async () => {
    const r = rng(13)
    for (let i = 0; i < 60; i++) {
      const n = r.int(1, 40)
      const x = Array.from({ length: n }, () => signed(r, 60))
      const cols = Array.from({ length: r.int(0, 50) }, () => r.int(0, n - 1))
      const vals = cols.map(() => signed(r, 60))
      const bias = signed(r, 100)
      const op: LinearOp = {
        op: 'linear',
        inputs: [0],
        rowPtr: Int32Array.from([0, cols.length]),
        cols: Int32Array.from(cols),
        vals,
        bias: [bias],
      }
      expect(await harness.dot(bias, cols, vals, x)).toBe(linearElement(op, x, 0))
    }
  })

  it('Merkle roots and proofs equal the TypeScript commitments', async () => {
    const r = rng(14)
    for (let n = 1; n <= 40; n += r.int(1, 4)) {
      const values = Array.from({ length: n }, () => signed(r, r.int(1, 255)))
      const tree = tensorTree(values)
      expect(await harness.tensorRoot(values)).toBe(tree.root)
      const i = r.int(0, n - 1)
      const path = merkleProof(tree, i)
      expect(await harness.rootFrom(wordOf(values[i]), i, path)).toBe(rootFrom(wordOf(values[i]), i, path))
      expect(rootFrom(wordOf(values[i]), i, path)).toBe(tree.root)
    }
  })

  it('valueAt, foldRow + foldStep: every element of every step of random models, through the committed proofs', async () => {
    const checked = new Map<string, number>()
    for (let seed = 1; seed <= 12; seed++) {
      const model = randomModel(seed, 7)
      const params = commitParams(model)
      const trace = buildTrace(model, randomInputs(model, rng(seed * 31)))
      for (let s = 0; s < model.steps.length; s++) {
        const pos = params.layout.inputCount + s
        const op = model.steps[s].op
        const kind = op.op === 'requant' && op.rounding ? `requant ${op.rounding}` : op.op
        checked.set(kind, (checked.get(kind) ?? 0) + trace.states[pos].length)
        for (let j = 0; j < trace.states[pos].length; j++) {
          const value = await executeElement(executor, model, params, trace, s, j)
          expect(value, `seed ${seed} step ${s} (${kind}) element ${j}`).toBe(trace.states[pos][j])
        }
      }
    }
    // Every primitive (and both roundings) was exercised.
    expect([...checked.keys()].sort()).toEqual([
      'gather',
      'linear',
      'lookup',
      'max',
      'mul',
      'requant',
      'requant half-even',
    ])
    console.log(`elements checked per kind: ${JSON.stringify(Object.fromEntries(checked))}`)
  })

  it('foldStep: linear and max rows over random large operands equal linearElement and maxElement', async () => {
    const r = rng(17)
    let rows = 0
    for (let seed = 30; seed < 42; seed++) {
      const model = randomModel(seed, 7)
      const params = commitParams(model)
      const honest = buildTrace(model, randomInputs(model, rng(seed)))
      // Step states as if agreed, of up to 100 bits with both signs (inputs stay in their lane).
      const states = honest.states.map((v, t) => (t < params.layout.inputCount ? v : v.map(() => signed(r, 100))))
      const trace = traceFromStates(honest.layout, states)
      for (let s = 0; s < model.steps.length; s++) {
        const op = model.steps[s].op
        if (op.op !== 'linear' && op.op !== 'max') continue
        const x = op.inputs.flatMap((id) => states[params.layout.positionOf.get(id)!])
        for (let j = 0; j < params.headers[s].outputSize; j++) {
          const expected = op.op === 'linear' ? linearElement(op, x, j) : maxElement(op, x, j)
          expect(
            await executeElement(executor, model, params, trace, s, j),
            `seed ${seed} step ${s} (${op.op}) row ${j}`,
          ).toBe(expected)
          rows++
        }
      }
    }
    expect(rows).toBeGreaterThan(40)
  })

  it('foldRow and foldStep reject rows, terms and operands that are not the committed ones', async () => {
    const model = tinyModel()
    const params = commitParams(model)
    const trace = buildTrace(model, [[3n, -7n, 120n, -128n, 0n, 55n]])
    const [s, j, term] = [0, 2, 4] // linear over the int8 input state (operands are lanes of packed words)
    const p = { model, params, trace, stepIndex: s, element: j }
    const q = stepQuery(params, trace, s, j)
    const row = abi.decode(['uint8', STEP_HEADER, 'bytes32[]', FOLD_ROW], buildFoldRowProof(p))
    const encodeRow = (body: unknown) =>
      abi.encode(['uint8', STEP_HEADER, 'bytes32[]', FOLD_ROW], [row[0], row[1], row[2], body])
    const r = row[3]
    const [init, termCount, termsRoot] = await call<[bigint, bigint, string]>('foldRow', () =>
      executor.foldRow(q, buildFoldRowProof(p)),
    )
    expect([init, termCount]).toEqual([(model.steps[s].op as LinearOp).bias[j], 6n])
    await expect(
      call('foldRow', () => executor.foldRow(q, encodeRow([r.bias + 1n, r.termCount, r.termsRoot, r.rowPath]))),
    ).rejects.toMatchObject({ errorName: 'RowNotInModel' })
    await expect(
      call('foldRow', () => executor.foldRow(q, encodeRow([r.bias, r.termCount - 1n, r.termsRoot, r.rowPath]))),
    ).rejects.toMatchObject({ errorName: 'RowNotInModel' })
    await expect(
      call('foldRow', () => executor.foldRow({ ...q, element: j + 1 }, buildFoldRowProof(p))),
    ).rejects.toMatchObject({ errorName: 'RowNotInModel' })
    await expect(call('valueAt', () => executor.valueAt(q, buildFoldRowProof(p)))).rejects.toMatchObject({
      errorName: 'FoldRequired',
      args: [0n],
    })

    const accs = foldAccs(model, params, trace, s, j)
    const f = { step: q, term, termCount, termsRoot, acc: accs[term] }
    const proof = buildFoldStepProof({ ...p, term })
    expect(await call('foldStep', () => executor.foldStep(f, proof))).toBe(accs[term + 1])
    const [kind, header, headerPath, t] = abi.decode(['uint8', STEP_HEADER, 'bytes32[]', FOLD_TERM], proof)
    const forge = (edit: Record<string, unknown>) =>
      abi.encode(
        ['uint8', STEP_HEADER, 'bytes32[]', FOLD_TERM],
        [
          kind,
          header,
          headerPath,
          { col: t.col, val: t.val, termPath: t.termPath, x: [t.x.value, t.x.elementPath, t.x.statePath], ...edit },
        ],
      )
    const rejects = (fq: typeof f, pr: string, errorName: string) =>
      expect(call('foldStep', () => executor.foldStep(fq, pr))).rejects.toMatchObject({ errorName })
    await rejects(f, forge({ val: t.val + 1n }), 'TermNotInRow')
    await rejects(f, forge({ col: t.col + 1n }), 'TermNotInRow')
    // The word holding x with another lane changed: not the committed input.
    await rejects(f, forge({ x: [t.x.value ^ 1n, t.x.elementPath, t.x.statePath] }), 'OperandNotInPreState')
    // Term `term` proven as another term, a term past the row, another row's root.
    await rejects({ ...f, term: term + 1 }, proof, 'TermNotInRow')
    await rejects({ ...f, term: 6 }, proof, 'TermOutOfRange')
    await rejects({ ...f, termsRoot: row[3].rowPath[0] }, proof, 'TermNotInRow')
    // The accumulator is the query's: a wrong one gives a wrong next, never a revert.
    expect(await call('foldStep', () => executor.foldStep({ ...f, acc: accs[term] + 5n }, proof))).toBe(
      accs[term + 1] + 5n,
    )
  })

  it('valueAt rejects operands, headers and parameters that are not the committed ones', async () => {
    const model = randomModel(5, 7)
    const params = commitParams(model)
    const trace = buildTrace(model, randomInputs(model, rng(99)))
    const s = model.steps.findIndex((st) => st.op.op === 'requant')
    expect(s).toBeGreaterThanOrEqual(0)
    const q = stepQuery(params, trace, s, 0)
    const proof = buildOneStepProof({ model, params, trace, stepIndex: s, element: 0 })
    const [kind, header, headerPath, x] = abi.decode(['uint8', STEP_HEADER, 'bytes32[]', ELEMENT_OPENING], proof)
    const forgedValue = abi.encode(
      ['uint8', STEP_HEADER, 'bytes32[]', ELEMENT_OPENING],
      [kind, header, headerPath, [x.value + 1n, x.elementPath, x.statePath]],
    )
    await expect(call('valueAt', () => executor.valueAt(q, forgedValue))).rejects.toMatchObject({
      errorName: 'OperandNotInPreState',
    })
    const h = params.headers[s]
    const forgedHeader = abi.encode(
      ['uint8', STEP_HEADER, 'bytes32[]', ELEMENT_OPENING],
      [kind, { ...h, consts: [h.consts[0] + 1n, ...h.consts.slice(1)] }, headerPath, x],
    )
    await expect(call('valueAt', () => executor.valueAt(q, forgedHeader))).rejects.toThrow(GameRevertError)
    await expect(call('valueAt', () => executor.valueAt(q, forgedHeader))).rejects.toMatchObject({
      errorName: 'HeaderNotInModel',
    })
    await expect(
      call('valueAt', () => executor.valueAt({ ...q, preStateRoot: trace.prefixRoots[0] }, proof)),
    ).rejects.toMatchObject({ errorName: 'OperandNotInPreState' })
    await expect(call('valueAt', () => executor.valueAt({ ...q, element: q.outputSize }, proof))).rejects.toMatchObject(
      { errorName: 'ElementOutOfRange' },
    )
  })
})
