import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel } from '../../src/ir/types.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness } from '../helpers/gadgets.js'
import { violated } from '../helpers/r1cs.js'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const q = { scale: 1, zeroPoint: 0 }

/** Every constrained kind once: linear 6×8 → requant → max of pairs, tanh lookup, products; outputs gathered. */
function model(): IrModel {
  const r = rng(5)
  const rowPtr = Int32Array.from(range(7), (j) => 8 * j)
  const cols = Int32Array.from(range(48), (k) => k % 8)
  const tanh = range(256).map((v) => BigInt(Math.round(127 * Math.tanh((v - 128) / 16))))
  return {
    name: 'steps',
    inputs: [{ id: 0, name: 'x', shape: [8], quant: q, lo: -128n, hi: 127n }],
    steps: [
      {
        origin: 'fc',
        output: { id: 1, name: 'fc', shape: [6] },
        op: {
          op: 'linear',
          inputs: [0],
          rowPtr,
          cols,
          vals: range(48).map(() => randInt(r, -3n, 3n)),
          bias: range(6).map(() => randInt(r, -50n, 50n)),
        },
      },
      {
        origin: 'rq',
        output: { id: 2, name: 'rq', shape: [6] },
        op: {
          op: 'requant',
          inputs: [1],
          mul: 1n,
          shift: 3,
          zeroPoint: 0n,
          lo: -128n,
          hi: 127n,
          rounding: 'half-even',
        },
      },
      {
        origin: 'pool',
        output: { id: 3, name: 'pool', shape: [3] },
        op: { op: 'max', inputs: [2], rowPtr: Int32Array.of(0, 2, 4, 6), cols: Int32Array.of(0, 1, 2, 3, 4, 5) },
      },
      {
        origin: 'tanh',
        output: { id: 4, name: 'tanh', shape: [6] },
        op: { op: 'lookup', inputs: [2], offset: -128n, table: tanh },
      },
      {
        origin: 'mul',
        output: { id: 5, name: 'mul', shape: [3] },
        op: { op: 'mul', inputs: [2], left: Int32Array.of(0, 1, 2), right: Int32Array.of(3, 4, 5) },
      },
      {
        origin: 'concat',
        output: { id: 6, name: 'y', shape: [12] },
        op: { op: 'gather', inputs: [3, 4, 5], index: Int32Array.from(range(12)), fill: 0n },
      },
    ],
    outputs: [{ tensor: 6, name: 'y', quant: q }],
  }
}

/**
 * Each step is its own circom template (its own wasm function in the witness generator, so
 * no function grows past V8's limit), and a step whose text is long is split into chunks of
 * its outputs. Forced here with a tiny text limit: the circuit must not change.
 */
describe('step templates and chunks', () => {
  const ir = model()
  let whole: Awaited<ReturnType<typeof buildCircuit>>
  let split: Awaited<ReturnType<typeof buildCircuit>>
  beforeAll(async () => {
    ;[whole, split] = await Promise.all([buildCircuit(ir), buildCircuit(ir, undefined, { templateTextLimit: 100 })])
  })
  afterAll(shutdown)

  it('emits one template per constrained step, split into chunks past the text limit', () => {
    const templates = (source: string) => [...source.matchAll(/^template (Step\d+(?:_\d+)?)\(\)/gm)].map((m) => m[1])
    expect(templates(whole.emitted.source)).toEqual(['Step1', 'Step2', 'Step3', 'Step4', 'Step5'])
    const chunked = templates(split.emitted.source)
    for (const id of [1, 2, 3, 4, 5])
      expect(chunked.filter((t) => t.startsWith(`Step${id}_`)).length, `step ${id}`).toBeGreaterThan(1)
    // The gather costs nothing and is not a template; main holds only wiring, packing and range checks.
    const main = whole.emitted.source.slice(whole.emitted.source.indexOf('template Model()'))
    expect(main).not.toMatch(/Requant\(|Max2\(|Lookup\(| \* /)
  })

  it('has the same constraints, wires and cost split or whole: every template input is its source wire', async () => {
    expect(split.emitted.cost).toEqual(whole.emitted.cost)
    expect(split.r1cs.constraints.length).toBe(whole.r1cs.constraints.length)
    expect(split.r1cs.nVars).toBe(whole.r1cs.nVars)
    expect(split.emitted.layout).toEqual(whole.emitted.layout)
    // A template input connected with <-- (not <==) would be a wire of its own: every x[k] of
    // a step or chunk must have been merged (wire -1) into the signal it is connected to.
    for (const c of [whole, split]) {
      const inputs = readFileSync(join(c.dir, 'model.sym'), 'utf8')
        .split('\n')
        .map((l) => l.split(','))
        .filter(([, , , n]) => /^main\.s\d+\.(c\d+\.)?x\[\d+\]$/.test(n ?? ''))
      expect(inputs.length).toBeGreaterThan(0)
      expect(inputs.filter(([, wire]) => wire !== '-1').map(([, , , n]) => n)).toEqual([])
    }
  })

  it('computes the reference executor exactly, with every wire constrained', async () => {
    const r = rng(8)
    const [ww, ws] = await Promise.all([cachedWitness(whole), cachedWitness(split)])
    for (let k = 0; k < 40; k++) {
      const x = [range(8).map(() => (k < 2 ? (k === 0 ? -128n : 127n) : randInt(r, -128n, 127n)))]
      const expected = await publicSignals(whole.emitted.layout, x, execute(ir, x).outputs)
      for (const [c, witness] of [
        [whole, ww],
        [split, ws],
      ] as const) {
        const w = await witness(x)
        expect(w.slice(1, 1 + expected.length)).toEqual(expected)
        expect(violated(c.r1cs, w)).toEqual([])
        if (k < 3) expect(unconstrainedWires(c, w)).toEqual([])
      }
    }
  })
})
