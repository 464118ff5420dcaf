/**
 * Softmax's max → x − max → index requant → exp lookup as one fused gadget
 * (src/circuit/softmax-fused.ts): chosen only on the exact pattern, cheaper than the four
 * gadgets, the direct build equals circom's, every wire of the executor's witness is
 * constrained, and the targeted cheats fail: a max not in its row, a max below a row value,
 * index bits that do not match m − a.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { buildDirect } from '../../../src/circuit/direct/build.js'
import { emitCircuit } from '../../../src/circuit/emit.js'
import type { Visibility } from '../../../src/circuit/layout.js'
import { checkWitness } from '../../../src/circuit/r1cs/witness.js'
import { fusedConstraints, planFused, softmaxChains } from '../../../src/circuit/softmax-fused.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import { execute } from '../../../src/ir/execute.js'
import type { IrModel, RequantOp } from '../../../src/ir/types.js'
import { shutdown } from '../../../src/shutdown.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { expectEquivalent, freeWires, inputsOf } from '../../helpers/direct-equivalence.js'
import { terminateSnarkjs } from '../../helpers/tiny-circuit.js'

afterAll(async () => {
  await terminateSnarkjs()
  await shutdown()
})

const PUBLIC: Visibility = { input: 'public', output: 'public' }
const q = { scale: 1, zeroPoint: 0 }

/**
 * x: 2 rows of `n` scores in [xlo, xhi] → m = row max → c = x − m (one row per max entry) →
 * requant (shift) clamped to [lo, 0] → exp table at 2^11 (half a unit a step, as the ViT's).
 */
function chain({ n = 5, xlo = -260096n, xhi = 262144n, shift = 9, lo = -17n } = {}): IrModel {
  const REQ: RequantOp = { op: 'requant', inputs: [2], mul: 1n, shift, zeroPoint: 0n, lo, hi: 0n }
  const cols: number[] = []
  const vals: bigint[] = []
  for (let c = 0; c < 2 * n; c++) cols.push(c, 2 * n + Math.floor(c / n))
  for (let k = 0; k < 2 * n; k++) vals.push(1n, -1n)
  return {
    name: 'softmax-fused',
    inputs: [{ id: 0, name: 'x', shape: [2 * n], quant: q, lo: xlo, hi: xhi }],
    steps: [
      {
        origin: 'max',
        op: {
          op: 'max',
          inputs: [0],
          rowPtr: Int32Array.of(0, n, 2 * n),
          cols: Int32Array.from({ length: 2 * n }, (_, i) => i),
        },
        output: { id: 1, name: 'm', shape: [2] },
      },
      {
        origin: 'centre',
        op: {
          op: 'linear',
          inputs: [0, 1],
          rowPtr: Int32Array.from({ length: 2 * n + 1 }, (_, j) => 2 * j),
          cols: Int32Array.from(cols),
          vals,
          bias: Array(2 * n).fill(0n),
        },
        output: { id: 2, name: 'c', shape: [2 * n] },
      },
      { origin: 'clamp', op: REQ, output: { id: 3, name: 'k', shape: [2 * n] } },
      {
        origin: 'exp',
        op: {
          op: 'lookup',
          inputs: [3],
          offset: lo,
          table: Array.from({ length: Number(1n - lo) }, (_, i) =>
            BigInt(Math.round(Math.exp((i + Number(lo)) / 2) * 2048)),
          ),
        },
        output: { id: 4, name: 'e', shape: [2 * n] },
      },
    ],
    outputs: [{ tensor: 4, name: 'e', quant: q }],
  }
}

/** Rows with ties, values on both sides of the rounding edge (d = 256, 257) and past the clamp. */
const CORNERS: bigint[][][] = [
  [[5n, 5n, 5n, -260096n, 262144n, 0n, -256n, -257n, -255n, -8960n]],
  [[1000n, 744n, 743n, 488n, -7704n, 262144n, 262144n, -260096n, 261888n, 261887n]],
]

describe('fused softmax chain', () => {
  it('is recognised only on the exact pattern, and costs less than the four gadgets', () => {
    const ir = chain()
    expect([...softmaxChains(ir).values()]).toEqual([{ max: 0, centre: 1, clamp: 2, exp: 3 }])
    // An extra centred value from another row (softmax-chain.test.ts's model): no chain.
    const other = chain()
    const lin = other.steps[1].op as Extract<IrModel['steps'][number]['op'], { op: 'linear' }>
    other.steps[1].op = {
      ...lin,
      bias: [...lin.bias, 0n],
      rowPtr: Int32Array.of(...lin.rowPtr, lin.rowPtr.at(-1)! + 2),
      cols: Int32Array.of(...lin.cols, 0, 11),
      vals: [...lin.vals, 1n, -1n],
    }
    expect(softmaxChains(other).size).toBe(0)
    // The max read by another step too, or a half-even index requant: no chain either.
    const shared = chain()
    shared.steps.push({
      origin: 'reuse',
      op: { op: 'requant', inputs: [1], mul: 1n, shift: 0, zeroPoint: 0n, lo: null, hi: null },
      output: { id: 5, name: 'r', shape: [2] },
    })
    expect(softmaxChains(shared).size).toBe(0)
    const even = chain()
    even.steps[2].op = { ...(even.steps[2].op as RequantOp), rounding: 'half-even' }
    expect(softmaxChains(even).size).toBe(0)
    const total = (fuseSoftmax: boolean) => {
      const c = emitCircuit({
        model: ir,
        bounds: analyzeBounds(ir),
        visibility: PUBLIC,
        source: false,
        fuseSoftmax,
      }).cost
      return c.max + c.lookup + c.requant + c.linear
    }
    const bounds = analyzeBounds(ir)
    const x = Array.from({ length: 10 }, (_, i) => ({ sig: `x${i}`, mul: 1n, add: 0n }))
    const plan = planFused(ir, bounds, softmaxChains(ir).get(0)!, x)!
    // K = 19 bits (e ≤ 2·262144 + 255), 5 index bits, a 5-value row: 32 an element + 4/5 a row.
    expect([plan.K, plan.L, fusedConstraints(plan)]).toEqual([19, 5, 10 * 32 + 2 * 4])
    expect(total(true)).toBe(fusedConstraints(plan))
    expect([total(true), total(false)]).toEqual([328, 526])
  })

  it('direct backend = circom (O1), on random rows and corners', async () => {
    const ir = chain()
    await expectEquivalent(ir, PUBLIC, inputsOf(ir, 3, 5, CORNERS))
  })

  it.each(CORNERS.map((x, i) => [i, x] as const))(
    'corner %i: the executor’s values, every wire constrained',
    (_, x) => {
      const ir = chain()
      const { system, witness } = buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility: PUBLIC, inputs: x })
      expect(checkWitness(system, witness!)).toBeNull()
      expect(freeWires(system, witness!)).toEqual([])
      expect(execute(ir, x).outputs[0]).toEqual(fusedOutputs(system, witness!, 10))
    },
  )
})

/** The fused gadget's outputs read back from the witness (fy[j], through its o[j] copy). */
function fusedOutputs(system: ReturnType<typeof buildDirect>['system'], w: readonly bigint[], n: number): bigint[] {
  const names = Array.from({ length: system.wireCount }, (_, i) => system.nameOf(i))
  return Array.from({ length: n }, (_, j) => w[names.indexOf(`main.s4.o[${j}]`)]!)
}

const mod = (v: bigint) => ((v % P) + P) % P
const inv = (v: bigint) => {
  let r = 1n
  let b = mod(v)
  for (let e = P - 2n; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P
  return r
}

/**
 * A cheat: every signal of the fused gadget recomputed from chosen row maxima `m` (and, per
 * element, a chosen e), so that only the constraints the cheat breaks can
 * fail; the public packed outputs follow the forged ones (`repack`), so they do not give it away instead.
 */
function cheat(ir: IrModel, x: bigint[], m: bigint[], override: { e?: Map<number, bigint> } = {}) {
  const bounds = analyzeBounds(ir)
  const { system, witness } = buildDirect({ model: ir, bounds, visibility: PUBLIC, inputs: [x] })
  const refs = x.map((_, i) => ({ sig: `x${i}`, mul: 1n, add: 0n }))
  const plan = planFused(ir, bounds, softmaxChains(ir).get(0)!, refs)!
  const wire = new Map(Array.from({ length: system.wireCount }, (_, i) => [system.nameOf(i), i] as const))
  const w = [...witness!]
  const set = (name: string, v: bigint) => {
    const at = wire.get(`main.s4.${name}`)
    if (at === undefined) throw new Error(`no wire ${name}`)
    w[at] = mod(v)
  }
  let q = 0
  for (const [r, row] of plan.rows.entries()) {
    set(`fm[${r}]`, m[r]!)
    let p = (m[r]! - x[row[0]!]!) * (m[r]! - x[row[1]!]!)
    for (let k = 2; k < row.length; k++, q++) {
      set(`fq[${q}]`, p)
      p *= m[r]! - x[row[k]!]!
    }
  }
  for (const [j, { row, col }] of plan.elements.entries()) {
    const e = override.e?.get(j) ?? m[row]! - x[col]! + plan.beta
    if (e < 0n) throw new Error('the cheat needs e ≥ 0')
    const b = Array.from({ length: plan.K }, (_, k) => (e >> BigInt(k)) & 1n)
    b.forEach((v, k) => set(`fe[${j}][${k}]`, v))
    const sh = b.slice(plan.S - 1).reduce((s, v) => s + v, 0n)
    const so = b.slice(plan.S + plan.L).reduce((s, v) => s + v, 0n)
    const sl = b.slice(0, plan.S - 1).reduce((s, v) => s + 1n - v, 0n)
    set(`fzi[${j}]`, sh === 0n ? 0n : sl * inv(sh))
    set(`foi[${j}]`, so === 0n ? 0n : inv(so))
    const o = so === 0n ? 1n : 0n
    set(`fo[${j}]`, o)
    const v = Number((e >> BigInt(plan.S)) & BigInt(2 ** plan.L - 1))
    const bit = (pos: number) => b[pos]!
    const monos: bigint[][] = [[], []]
    const mono = (mn: (typeof plan.low)[number]['left']) =>
      mn.kind === 'bit' ? bit(mn.pos) : monos[mn.kind === 'low' ? 0 : 1]![mn.i]!
    for (const [i, p] of plan.low.entries()) set(`fl[${j}][${i}]`, (monos[0]![i] = mono(p.left) * mono(p.right)))
    for (const [i, p] of plan.high.entries()) set(`fh[${j}][${i}]`, (monos[1]![i] = mono(p.left) * mono(p.right)))
    for (const [i, p] of plan.products.entries())
      set(`fp[${j}][${i}]`, mono(p.mono) * p.lc.terms.reduce((s, t) => s + t.c * mono(t.mono), p.lc.c0))
    set(`o[${j}]`, o === 1n ? plan.table[v]! : plan.tailValue)
  }
  repack(system, w)
  return { system, honest: witness!, forged: w }
}

/** Sets each packed output to what its defining linear constraint gives for the (forged) outputs. */
function repack(system: ReturnType<typeof buildDirect>['system'], w: bigint[]): void {
  for (let i = 0; i < system.constraintCount; i++) {
    const [a, b, c] = system.constraint(i)
    const at = c.find(([wire]) => system.nameOf(wire).startsWith('main.out_packed['))
    if (a.length > 0 || b.length > 0 || at === undefined) continue
    const rest = c.reduce((s, [wire, k]) => (wire === at[0] ? s : s + k * w[wire]!), 0n)
    w[at[0]] = mod(-rest * inv(at[1]))
  }
}

describe('fused softmax chain: cheats', () => {
  const ir = chain()
  // Row 0's top two values 100 apart (a max 100 too low still has e = β − 100 ≥ 0).
  const x = [40000n, 39900n, -3000n, 0n, 39400n, 7n, 7n, -9000n, 1n, 6n]
  const honest = [40000n, 7n]

  it('recomputed from the honest maxima, the cheat is the honest witness (so it can only fail where it cheats)', () => {
    const { system, honest: w, forged } = cheat(ir, x, honest)
    expect(forged).toEqual(w)
    expect(checkWitness(system, forged)).toBeNull()
  })

  it('a max that is no row value (above them all) breaks the running product', () => {
    const { system, forged } = cheat(ir, x, [40001n, 7n])
    // Row 0's last factor: fq[2]·(m − a_4) = 0.
    expect(checkWitness(system, forged)?.signals).toEqual(['main.in0[4]', 'main.s4.fm[0]', 'main.s4.fq[2]'])
  })

  it('a max below one value of its row (a row value, so e ≥ 0 still) breaks sl = sh·w', () => {
    const { system, forged } = cheat(ir, x, [39900n, 7n])
    const sl = Array.from({ length: 8 }, (_, k) => `main.s4.fe[0][${k}]`)
    const sh = Array.from({ length: 11 }, (_, k) => `main.s4.fe[0][${8 + k}]`)
    expect(checkWitness(system, forged)?.signals).toEqual(['one', ...sl, ...sh, 'main.s4.fzi[0]'])
  })

  it('index bits that do not match m − a (one index step lower) break the recomposition', () => {
    const e = 40000n - 39400n + 255n - 512n
    const { system, forged } = cheat(ir, x, honest, { e: new Map([[4, e]]) })
    const v = checkWitness(system, forged)
    expect(v?.signals).toEqual(expect.arrayContaining(['main.s4.fm[0]', 'main.in0[4]', 'main.s4.fe[4][18]']))
    expect(v?.signals).toHaveLength(3 + 19) // one (β), a_4, m and the 19 bits
  })
})
