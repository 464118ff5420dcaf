import { fileURLToPath } from 'node:url'
import type { Contract } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { divElement, divValue, isqrtValue } from '../../src/ir/ops.js'
import type { DivOp, IrModel } from '../../src/ir/types.js'
import { DIV_BODY, divPairLeaf, ELEMENT_OPENING, OP_KIND } from '../../src/optimistic/abi.js'
import { disputeBudget } from '../../src/optimistic/budget.js'
import { call } from '../../src/optimistic/chain/client.js'
import { OptimisticModelError } from '../../src/optimistic/errors.js'
import { merkleProof, merkleTree } from '../../src/optimistic/merkle.js'
import { buildOneStepProof, stepQuery } from '../../src/optimistic/one-step.js'
import { commitParams } from '../../src/optimistic/params.js'
import { buildTrace, type Trace, traceFromStates } from '../../src/optimistic/trace.js'
import type { Hex } from '../../src/util/hex.js'
import { executeElement, executorOnAnvil } from './chain.js'
import { DIV_ISQRT_INPUTS, DIV_PAIRS, DIV_SHIFT, divIsqrtModel } from './fixtures.js'
import { randomInputs, rng } from './models.js'
import { decodeProof, encodeProof, withHeader } from './proof-codec.js'

const _ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DIV_STEP = 1
const ISQRT_STEP = 3
const MAX = (1n << 255n) - 1n

type Opening = { value: bigint; elementPath: Hex[]; statePath: Hex[] }
type Body = { num: bigint; den: bigint; pairPath: Hex[]; a: Opening; d: Opening }
const decode = (proof: Hex) => decodeProof(DIV_BODY, proof)
const encode = (kind: unknown, header: unknown, headerPath: unknown, body: unknown) =>
  encodeProof(DIV_BODY, kind, header, headerPath, body)

/** divIsqrtModel with its div or isqrt step edited (a model the game must refuse, or accept). */
function edited(edit: (m: IrModel) => void): IrModel {
  const m = divIsqrtModel()
  edit(m)
  return m
}
const divOf = (m: IrModel) => m.steps[DIV_STEP].op as DivOp

describe('commitParams for div and isqrt', () => {
  it('commits one (num, den) leaf per element and the shift; isqrt no tree and no constants', () => {
    const params = commitParams(divIsqrtModel())
    const h = params.headers[DIV_STEP]
    expect(h.kind).toBe(6)
    expect(h.consts).toEqual([BigInt(DIV_SHIFT)])
    expect(h.inputSizes).toEqual([6, 3])
    expect(h.opRoot).toBe(merkleTree(DIV_PAIRS.map(([n, d]) => divPairLeaf(n, d))).root)
    const s = params.headers[ISQRT_STEP]
    expect([s.kind, s.consts, s.inputSizes, params.opTrees[ISQRT_STEP]]).toEqual([7, [], [6], null])
    expect(s.opRoot).toBe(`0x${'0'.repeat(64)}`)
    // A reciprocal is its own commitment: (-1, 6) and (0, 6) differ.
    expect(divPairLeaf(-1, 6)).not.toBe(divPairLeaf(0, 6))
  })

  it('refuses columns outside the operands, maps of the wrong length and shifts outside [0, 253]', () => {
    const refused = (edit: (op: DivOp) => void) => () => commitParams(edited((m) => edit(divOf(m))))
    expect(refused((op) => (op.den[2] = 9))).toThrow(/div element 2 reads x\[2\] \/ x\[9\], outside its 9 operand/)
    expect(refused((op) => (op.num[0] = -2))).toThrow(OptimisticModelError)
    expect(refused((op) => (op.den[0] = -1))).toThrow(OptimisticModelError)
    expect(refused((op) => (op.num = op.num.subarray(1)))).toThrow(/div index maps do not match its output size/)
    expect(refused((op) => (op.shift = 254))).toThrow(/div shift 254 is outside \[0, 253\]/)
    expect(refused((op) => (op.shift = -1))).toThrow(/div shift -1/)
    const wrongSize = edited((m) => (m.steps[ISQRT_STEP].output.shape = [5]))
    expect(() => commitParams(wrongSize)).toThrow(/isqrt is elementwise/)
  })

  it('refuses a divisor or a root operand out of domain, or an intermediate beyond the field, for some declared input', () => {
    /** The largest shift keeping 2^(shift+1)·a + d within 240 bits here: a, d ≤ 2^17, so 2^(shift+18) ≤ 2^240. */
    const WIDEST = 222
    // Divisors straight from the int8 input (may be ≤ 0), a root of the int8 input (may be < 0).
    const rawDivisor = edited((m) => {
      divOf(m).inputs = [0, 1]
    })
    expect(() => commitParams(rawDivisor)).toThrow(/divisor of element 0 may take values in \[-128, 127\]/)
    const rawRoot = edited((m) => {
      m.steps[ISQRT_STEP].op.inputs = [0]
    })
    expect(() => commitParams(rawRoot)).toThrow(/square-root operand of element 0 may take values in \[-128, 127\]/)
    // The declared domain is the game's (a claim cannot post a value outside it): divisors
    // declared in [1, 5] are always defined.
    rawDivisor.inputs[1] = { ...rawDivisor.inputs[1], lo: 1n, hi: 5n }
    expect(commitParams(rawDivisor).headers[DIV_STEP].kind).toBe(OP_KIND.div)
    // Divisors in [2^16, 127·2^10]: the IR's bounds keep 2^(shift+1)·a + d of every element under
    // the field's safe 2^240 (src/ir/bounds.ts, which the circuit needs too), far inside int256.
    const wide = (shift: number) =>
      edited((m) => {
        const clamp = m.steps[0].op
        if (clamp.op !== 'requant') throw new Error('fixture changed')
        Object.assign(clamp, { mul: 1n << 10n, lo: 1n << 16n, hi: 1n << 17n })
        divOf(m).shift = shift
      })
    expect(commitParams(wide(WIDEST)).headers[DIV_STEP].consts).toEqual([BigInt(WIDEST)])
    expect(() => commitParams(wide(WIDEST + 1))).toThrow(/values may need 241 bits, beyond the safe 240 bits/)
  })

  it('the calldata of every div and isqrt proof is at most its step bound, the largest equal to it', () => {
    const model = divIsqrtModel()
    const params = commitParams(model)
    const budget = disputeBudget(params)
    expect(budget.fits).toBe(true)
    const trace = buildTrace(model, DIV_ISQRT_INPUTS)
    for (const s of [DIV_STEP, ISQRT_STEP]) {
      const bound = budget.steps[s].step!.calldataBytes
      let largest = 0
      for (let j = 0; j < params.headers[s].outputSize; j++) {
        const proof = buildOneStepProof({ model, params, trace, stepIndex: s, element: j })
        const bytes = 4 + 3 * 32 + 32 * Math.ceil((proof.length - 2) / 64)
        expect(bytes, `step ${s} element ${j}`).toBeLessThanOrEqual(bound)
        largest = Math.max(largest, bytes)
      }
      expect(largest, `step ${s}`).toBe(bound)
    }
  })
})

describe('Solidity div and isqrt', () => {
  let anvil: AnvilInstance
  let executor: Contract
  let harness: Contract
  const model = divIsqrtModel()
  const params = commitParams(model)
  const trace = buildTrace(model, DIV_ISQRT_INPUTS)
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

  it('IntegerOps.div equals divValue: random operands, negative numerators, ties, d = 1, shifts 0 to 253', async () => {
    const r = rng(61)
    const bits = (n: number) => (n === 0 ? 0n : BigInt.asUintN(n, BigInt(Math.floor(r.next() * 2 ** 52)) ** 5n + 1n))
    const cases: [bigint, bigint, number][] = []
    for (let i = 0; i < 300; i++) {
      const shift = r.pick([0, 1, 2, 7, 16, r.int(0, 100)])
      const aBits = r.int(0, 250 - shift)
      const a = r.next() < 0.5 ? -bits(aBits) : bits(aBits)
      const d = r.next() < 0.15 ? 1n : bits(r.int(1, 200)) || 1n
      cases.push([a, d, shift])
    }
    // Ties either sign (a·2^s/d = k + ½ rounds up to k + 1, towards +∞), d = 1, shift 0 and the
    // largest, the intermediate at its int256 edges, a reciprocal's numerator 1.
    for (const a of [-7n, -5n, -3n, -1n, 1n, 3n, 5n, 7n]) cases.push([a, 2n, 0], [a, 8n, 2], [a, 1n << 20n, 19])
    for (const a of [0n, 1n, -1n, 12345n, -12345n]) cases.push([a, 1n, 0], [a, 1n, 30], [a, 3n, 240 - 14])
    for (const a of [0n, 1n, -1n]) cases.push([a, 3n, 253])
    cases.push([(1n << 253n) - 1n, 1n, 0], [-(1n << 253n), 1n, 0], [(1n << 253n) - 1n, MAX >> 1n, 0])
    cases.push([-(1n << 252n), (1n << 200n) + 7n, 1], [1n, (1n << 254n) - 1n, 253], [-1n, (1n << 254n) - 1n, 253])
    const got = (await harness.divAll(
      cases.map((c) => c[0]),
      cases.map((c) => c[1]),
      cases.map((c) => c[2]),
    )) as bigint[]
    expect(cases.filter((c) => c[0] < 0n && (c[0] << BigInt(c[2] + 1)) % (2n * c[1]) !== 0n).length).toBeGreaterThan(80)
    cases.forEach(([a, d, shift], i) => expect(got[i], `div(${a}, ${d}, ${shift})`).toBe(divValue(a, d, shift)))
    expect([divValue(-3n, 2n, 0), divValue(3n, 2n, 0), divValue(-5n, 8n, 2)]).toEqual([-1n, 2n, -2n])
  })

  it('IntegerOps.div refuses a divisor below 1, a shift above 253 and an intermediate beyond int256', async () => {
    for (const d of [0n, -1n, -(1n << 255n)]) {
      await expect(harness.div(5n, d, 2n)).rejects.toMatchObject({ revert: { name: 'DivisorBelowOne', args: [d] } })
    }
    await expect(harness.div(1n, 3n, 254n)).rejects.toMatchObject({ revert: { name: 'ShiftTooLarge', args: [254n] } })
    for (const [a, d, shift] of [
      [1n << 253n, 1n, 1n],
      [-(1n << 200n), 1n, 60n],
      [1n, MAX, 0n],
    ]) {
      await expect(harness.div(a, d, shift)).rejects.toMatchObject({ revert: { name: 'Panic', args: [0x11] } })
    }
  })

  it('IntegerOps.isqrt equals isqrtValue: 0, 1, perfect squares ± 1 of every size, 2^255 − 1, random', async () => {
    const r = rng(62)
    const xs = [0n, 1n, 2n, 3n, 4n, 5n, 8n, 9n, 10n, MAX, MAX - 1n, 1n << 254n, (1n << 254n) - 1n]
    for (let k = 1; k < 128; k += r.int(1, 6)) {
      const root = (1n << BigInt(k)) - BigInt(r.int(0, 3))
      for (const x of [root * root - 1n, root * root, root * root + 1n]) if (x >= 0n) xs.push(x)
    }
    const root = isqrtValue(MAX)
    // The largest root's square and its neighbour; every x up to MAX has a root ≤ root.
    xs.push(root * root, root * root - 1n)
    for (let i = 0; i < 150; i++) xs.push(BigInt.asUintN(r.int(1, 255), BigInt(Math.floor(r.next() * 2 ** 52)) ** 5n))
    const got = (await harness.isqrtAll(xs)) as bigint[]
    xs.forEach((x, i) => expect(got[i], `isqrt(${x})`).toBe(isqrtValue(x)))
    expect(root * root <= MAX && (root + 1n) * (root + 1n) > MAX).toBe(true)
    for (const x of [-1n, -(1n << 255n)]) {
      await expect(harness.isqrt(x)).rejects.toMatchObject({ revert: { name: 'NegativeSquareRoot', args: [x] } })
    }
    const [y, gas] = (await harness.isqrtGas(MAX)) as [bigint, bigint]
    console.log(`IntegerOps.isqrt(2^255 − 1): ${gas} gas`)
    expect(y).toBe(root)
    expect(gas).toBeLessThan(5_000n)
  })

  it('valueAt equals the reference executor on every div and isqrt element, for fixed and random inputs', async () => {
    for (const inputs of [DIV_ISQRT_INPUTS, ...[1, 2, 3].map((seed) => randomInputs(model, rng(seed)))]) {
      const t = buildTrace(model, inputs)
      for (const s of [DIV_STEP, ISQRT_STEP]) {
        for (let j = 0; j < t.states[pos(s)].length; j++) {
          expect(
            await executeElement(executor, model, params, t, s, j),
            `inputs ${inputs} step ${s} element ${j}`,
          ).toBe(t.states[pos(s)][j])
        }
      }
    }
    // The fixture's ties: t2[0] = 8, shift 2: -7/2 → -3, 127/2 → 64, 5/2 → 3, -1/2 → 0.
    expect(trace.states[pos(DIV_STEP)].slice(0, 6)).toEqual([-64n, 64n, -3n, 0n, 3n, 0n])
  })

  it('valueAt equals the reference on a random large pre-state, and reverts on a divisor < 1 or a negative root operand', async () => {
    const r = rng(63)
    const op = divOf(model)
    const big = (lo: bigint) => lo + BigInt.asUintN(r.int(1, 120), BigInt(Math.floor(r.next() * 2 ** 52)) ** 3n)
    for (let round = 0; round < 3; round++) {
      // A pre-state (as if agreed) with large step states: divisors ≥ 1, squares ≥ 0.
      const states = trace.states.map((v, st) =>
        st < params.layout.inputCount ? v.map(() => BigInt(r.int(-128, 127))) : v.map(() => big(1n)),
      )
      const t: Trace = traceFromStates(trace.layout, states)
      const x = op.inputs.flatMap((id) => states[params.layout.positionOf.get(id)!])
      for (let j = 0; j < op.num.length; j++) {
        const proof = buildOneStepProof({ model, params, trace: t, stepIndex: DIV_STEP, element: j })
        expect(await valueAt(stepQuery(params, t, DIV_STEP, j), proof)).toBe(divElement(op, x, j))
      }
      const roots = states[pos(ISQRT_STEP - 1)]
      const proof = buildOneStepProof({ model, params, trace: t, stepIndex: ISQRT_STEP, element: 4 })
      expect(await valueAt(stepQuery(params, t, ISQRT_STEP, 4), proof)).toBe(isqrtValue(roots[4]))
    }
    // A pre-state no honest trace holds: t2[0] = 0, t4[2] = -5.
    const states = trace.states.map((v) => [...v])
    states[pos(0)][0] = 0n
    states[pos(ISQRT_STEP - 1)][2] = -5n
    const bad = traceFromStates(trace.layout, states)
    const divProof = buildOneStepProof({ model, params, trace: bad, stepIndex: DIV_STEP, element: 0 })
    await rejects(stepQuery(params, bad, DIV_STEP, 0), divProof, 'DivisorBelowOne', [0n])
    const rootProof = buildOneStepProof({ model, params, trace: bad, stepIndex: ISQRT_STEP, element: 2 })
    await rejects(stepQuery(params, bad, ISQRT_STEP, 2), rootProof, 'NegativeSquareRoot', [-5n])
  })

  it('a forged pair, a reciprocal posed as a division or back, a wrong operand, forged constants are refused', async () => {
    const j = 8 // t2[2] / t2[0] = 127 / 8
    const q = stepQuery(params, trace, DIV_STEP, j)
    const proof = buildOneStepProof({ model, params, trace, stepIndex: DIV_STEP, element: j })
    expect(await valueAt(q, proof)).toBe(64n)
    const [kind, header, headerPath, body] = decode(proof)
    const b = body as Body
    const forge = (edit: Partial<Body>, at = q) => rejectsWith(at, encode(kind, header, headerPath, { ...b, ...edit }))
    const rejectsWith = (at: typeof q, p: Hex) => ({
      as: (name: string, args?: unknown[]) => rejects(at, p, name, args),
    })
    // Numerator and divisor swapped (honest openings, swapped columns), or the numerator dropped to 1.
    await forge({ num: b.den, den: b.num, a: b.d, d: b.a }).as('PairNotInModel', [BigInt(j)])
    await forge({ num: -1n }).as('PairNotInModel', [BigInt(j)])
    // A reciprocal (element 6: 1 / t2[0]) posed as a division by its own divisor.
    const q6 = stepQuery(params, trace, DIV_STEP, 6)
    const b6 = decode(buildOneStepProof({ model, params, trace, stepIndex: DIV_STEP, element: 6 }))[3] as Body
    expect([b6.num, b6.a.elementPath]).toEqual([-1n, []])
    await rejects(q6, encode(kind, header, headerPath, { ...b6, num: 6n, a: b6.d }), 'PairNotInModel', [6n])
    // Wrong operand values under the honest pair; the pair of element 0 for element 8.
    await forge({ a: { ...b.a, value: 1n } }).as('OperandNotInPreState', [2n])
    await forge({ d: { ...b.d, value: 2n } }).as('OperandNotInPreState', [2n])
    const b0 = decode(buildOneStepProof({ model, params, trace, stepIndex: DIV_STEP, element: 0 }))[3] as Body
    await forge(b0).as('PairNotInModel', [BigInt(j)])
    // Committed but malformed: a numerator column below -1, no shift, a shift above 253.
    const h = params.headers[DIV_STEP]
    const op = divOf(model)
    const opTree = merkleTree(Array.from(op.num, (n, i) => divPairLeaf(i === j ? -2 : n, op.den[i])))
    const forged = withHeader(params, DIV_STEP, { ...h, opRoot: opTree.root })
    const p = encodeProof(DIV_BODY, kind, forged.headers[DIV_STEP], merkleProof(forged.headerTree, DIV_STEP), {
      ...b,
      num: -2n,
      pairPath: merkleProof(opTree, j),
    })
    await rejects({ ...q, paramsRoot: forged.paramsRoot }, p, 'NumeratorOutOfRange', [-2n])
    for (const consts of [[], [254n], [-1n], [2n, 0n]]) {
      const c = withHeader(params, DIV_STEP, { ...h, consts })
      const cp = buildOneStepProof({ model, params: c, trace, stepIndex: DIV_STEP, element: j })
      const name = consts[0] === 254n ? 'ShiftTooLarge' : 'MalformedHeader'
      await rejects({ ...q, paramsRoot: c.paramsRoot }, cp, name)
    }
    // isqrt with a constant; an isqrt proof (an opening) against the div step.
    const hs = params.headers[ISQRT_STEP]
    const c = withHeader(params, ISQRT_STEP, { ...hs, consts: [1n] })
    const qs = stepQuery(params, trace, ISQRT_STEP, 0)
    const sp = buildOneStepProof({ model, params: c, trace, stepIndex: ISQRT_STEP, element: 0 })
    await rejects({ ...qs, paramsRoot: c.paramsRoot }, sp, 'MalformedHeader', [BigInt(ISQRT_STEP)])
    const [, , hp, opening] = decodeProof(
      ELEMENT_OPENING,
      buildOneStepProof({ model, params, trace, stepIndex: ISQRT_STEP, element: 0 }),
    )
    const asDiv = encodeProof(ELEMENT_OPENING, 7, h, hp, opening)
    await rejects(stepQuery(params, trace, DIV_STEP, 0), asDiv, 'ProofKindMismatch', [7n, 6n])
  })
})
