import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness } from '../helpers/gadgets.js'
import { stepsModel } from '../helpers/op-models.js'
import { violated } from '../helpers/r1cs.js'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/**
 * Each step is its own circom template (its own wasm function in the witness generator, so
 * no function grows past V8's limit), and a step whose text is long is split into chunks of
 * its outputs. Forced here with a tiny text limit: the circuit must not change.
 */
describe('step templates and chunks', () => {
  const ir = stepsModel()
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
