/**
 * The direct backend's hashed parts against circom: hashed input and output visibility
 * (`<p>_pk`, the Poseidon chain, `<p>_hash`) and hashed weights (private inputs w/b, products,
 * lane range checks, `wt_pk`, the chain, `wt_hash` last): the same wires, constraints and names,
 * each witness satisfies the other system, and the public signals are publicSignals'. Then the
 * tamper check on a hashed-weights build. A Groth16 proof of a hashed-weights build through the
 * default (direct) compiler: test/prove/weights-e2e.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { buildDirect } from '../../../src/circuit/direct/build.js'
import { MissingPoseidonTablesError } from '../../../src/circuit/direct/errors.js'
import { loadPoseidonTables } from '../../../src/circuit/direct/gadgets/poseidon-constants.js'
import type { Visibility } from '../../../src/circuit/layout.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import type { IrModel, LinearOp, Step } from '../../../src/ir/types.js'
import { shutdown } from '../../../src/shutdown.js'
import { randInt, rng } from '../../helpers/circuit.js'
import { expectEquivalent, freeWires } from '../../helpers/direct-equivalence.js'
import { weightsModel } from '../../helpers/op-models.js'
import { halfEvenModel, halfUpModel } from '../../helpers/requant-models.js'

afterAll(shutdown)

const HASHED_IN: Visibility = { input: 'hashed', output: 'public' }
const HASHED_OUT: Visibility = { input: 'public', output: 'hashed' }
const BOTH: Visibility = { input: 'hashed', output: 'hashed' }
const PUBLIC: Visibility = { input: 'public', output: 'public' }

const lin = (inputs: number[], rows: bigint[][], bias: bigint[]): LinearOp => ({
  op: 'linear',
  inputs,
  bias,
  vals: rows.flat(),
  rowPtr: Int32Array.from({ length: rows.length + 1 }, (_, i) => rows.slice(0, i).reduce((s, r) => s + r.length, 0)),
  cols: Int32Array.from(rows.flatMap((r) => r.map((_, c) => c))),
})

const int8 = (id: number, n: number) => ({
  id,
  name: 'x',
  shape: [n],
  quant: { scale: 1, zeroPoint: 0 },
  lo: -128n,
  hi: 127n,
})

/**
 * Nine small linear layers in a row (x[2] → 2 → … → 2): 18 committed tensors, each packed on
 * its own, so `wt_pk` has 18 elements and the weight chain two links. One bias row is a lone
 * bias (`l[j] <== b[j]`: O1 merges l into the input b).
 */
function deepModel(): IrModel {
  const steps: Step[] = Array.from({ length: 9 }, (_, s) => ({
    origin: `fc${s}`,
    output: { id: s + 1, name: `h${s}`, shape: [2] },
    op: {
      ...lin(
        [s],
        [
          [1n, BigInt(s % 3) - 1n],
          [-1n, 2n],
        ],
        [BigInt(s), -3n],
      ),
      // Row 1 of the last layer without weights: its sum is its bias alone.
      ...(s === 8 ? { vals: [1n, -1n], rowPtr: Int32Array.of(0, 2, 2), cols: Int32Array.of(0, 1) } : {}),
    },
  }))
  return {
    name: 'deep',
    inputs: [int8(0, 2)],
    steps,
    outputs: [{ tensor: 9, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

/**
 * x[1] uint8 → 160 outputs of ~2^127: one output per packed element (128-bit lanes), so the
 * hashed output's chain has 11 links and link 9's hash is named `main.hout10.inputs[0]`
 * ('hout10' sorts before 'hout9'). The input's one lane has lo = 0, so `in_pk[0] <== in0[0]`
 * is a copy: O1 keeps in0[0] (the lower label) and the chain hashes it.
 */
function wideModel(): IrModel {
  const rows = Array.from({ length: 160 }, (_, j) => [(1n << 120n) + BigInt(j) * 7919n])
  return {
    name: 'wide',
    inputs: [{ ...int8(0, 1), lo: 0n, hi: 255n }],
    steps: [
      {
        origin: 'fc',
        output: { id: 1, name: 'y', shape: [160] },
        op: lin(
          [0],
          rows,
          rows.map((_, j) => BigInt(j)),
        ),
      },
    ],
    outputs: [{ tensor: 1, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

/** n random int8 vectors of `size` elements, after the two corners. */
function int8Inputs(size: number, n: number, seed = 3): bigint[][][] {
  const r = rng(seed)
  return [
    [Array.from({ length: size }, () => -128n)],
    [Array.from({ length: size }, () => 127n)],
    ...Array.from({ length: n }, () => [Array.from({ length: size }, () => randInt(r, -128n, 127n))]),
  ]
}

describe('direct backend = circom (O1), hashed visibility', () => {
  it('hashed input (in_pk, hin0, in_hash), public output', async () => {
    await expectEquivalent(halfUpModel(), HASHED_IN, int8Inputs(3, 1))
  })

  it('hashed output (out_pk, hout0, out_hash), public input', async () => {
    await expectEquivalent(halfEvenModel('half-even'), HASHED_OUT, int8Inputs(3, 0))
  })

  it('both hashed: an 11-link output chain (link 9 named by hout10, as circom keeps it), an input lane O1 copies', async () => {
    const names = await expectEquivalent(wideModel(), BOTH, [[[200n]]])
    expect(names.slice(1, 4)).toEqual(['main.in_hash', 'main.out_hash', 'main.in0[0]'])
    expect(names).not.toContain('main.in_pk[0]')
    // Not vacuous: the chain is long enough for the hx10-before-hx9 naming.
    expect(names).toContain('main.hout10.inputs[0]')
    expect(names).not.toContain('main.hout9.out')
  })
})

describe('direct backend = circom (O1), hashed weights', () => {
  it('weights.test.ts model (constant operand, zero weight, wide lanes): public in and out, wt_hash last', async () => {
    const names = await expectEquivalent(weightsModel(), PUBLIC, int8Inputs(3, 1), undefined, { weights: 'hashed' })
    expect(names.slice(1, 4)).toEqual(['main.in_packed[0]', 'main.out_packed[0]', 'main.wt_hash'])
    // No step templates with private weights: every gadget is in main.
    expect(names.some((n) => /^main\.s\d/.test(n))).toBe(false)
  })

  it('nine layers (18 tensors, a 2-link weight chain) with hashed input and output', async () => {
    const names = await expectEquivalent(deepModel(), BOTH, int8Inputs(2, 0), undefined, { weights: 'hashed' })
    expect(names.slice(1, 4)).toEqual(['main.in_hash', 'main.out_hash', 'main.wt_hash'])
    expect(names.some((n) => n.startsWith('main.hwt1.'))).toBe(true)
  })

  it('a build that hashes needs the Poseidon tables: refused by name without them', () => {
    const ir = weightsModel()
    const bounds = analyzeBounds(ir)
    expect(() => buildDirect({ model: ir, bounds, visibility: PUBLIC, weights: 'hashed' })).toThrow(
      MissingPoseidonTablesError,
    )
    expect(() => buildDirect({ model: ir, bounds, visibility: HASHED_OUT })).toThrow(/hashed output needs the Poseidon/)
    // Nothing hashed: no tables needed.
    expect(buildDirect({ model: ir, bounds, visibility: PUBLIC }).system.constraintCount).toBeGreaterThan(0)
  })
})

describe('hashed-weights witness: every wire constrained', () => {
  it('changing any single wire (weights, products, lanes, packed elements, every Poseidon signal) breaks a constraint', async () => {
    const ir = weightsModel()
    const { system, witness } = buildDirect({
      model: ir,
      bounds: analyzeBounds(ir),
      visibility: HASHED_IN,
      weights: 'hashed',
      poseidon: await loadPoseidonTables(),
      inputs: [[-128n, 127n, 3n]],
    })
    expect(system.wireCount).toBeGreaterThan(1000)
    expect(freeWires(system, witness!)).toEqual([])
  })
})
