/**
 * The tiny nanoGPT-shaped decoder from int64 token ids (models/gpt.ts; block 8, vocab 65, embd
 * 16, 1 layer, 2 heads) on both paths, at its token embedding (src/onnx/ops/embedding.ts: one
 * lookup per table column):
 * - zk: the direct circuit accepts the executor's witness; the witness of another sequence
 *   presented under this sequence's public ids is refused, and only at the embedding lookups of
 *   the changed token (their one-hot selectors still point at the other id's row).
 * - optimistic: the Solidity one-step re-executes every embedding lookup as the trace says, and a
 *   claim lying at an embedding lookup loses the dispute at that step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GPT_DEFAULTS, type GptConfig, gptOnnx } from '../../models/gpt.js'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { buildDirect } from '../../src/circuit/direct/build.js'
import type { ConstraintSystem } from '../../src/circuit/r1cs/system.js'
import { checkWitness } from '../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import type { IrModel } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { SCALAR_FIELD as P } from '../../src/util/field.js'
import { rng } from '../helpers/circuit.js'
import { int } from '../onnx/ort-diff.js'
import { deployGame, executeElement, executorOf, registerTestModel, startChain } from '../optimistic/chain.js'
import { lieLosesAt } from '../optimistic/scenario.js'

const TINY: GptConfig = { ...GPT_DEFAULTS, block: 8, vocab: 65, layers: 1, heads: 2, embd: 16, seed: 3, input: 'ids' }

const r = rng(21)
const ids = () => [Float64Array.from({ length: TINY.block }, () => int(r, 0, TINY.vocab - 1))]
const model: IrModel = quantize(
  lowerOnnx(parseOnnx(gptOnnx(TINY))),
  Array.from({ length: 16 }, () => ids()),
)
/** The IR steps of the token embedding: one lookup per column of wte. */
const embedding = model.steps.flatMap((s, i) => (s.op.op === 'lookup' && s.origin === 'transformer.wte' ? [i] : []))
const sample = ids()
const inputs = quantizeInputs(model.inputs, sample)

/** Indices of the constraints `witness` violates. */
function violatedConstraints(system: ConstraintSystem, witness: readonly bigint[]): number[] {
  const dot = (lc: [number, bigint][]) => lc.reduce((acc, [w, k]) => acc + k * witness[w]!, 0n) % P
  return Array.from({ length: system.constraintCount }, (_, i) => i).filter((i) => {
    const [a, b, c] = system.constraint(i)
    return (dot(a) * dot(b) - dot(c)) % P !== 0n
  })
}

describe('the tiny GPT from token ids, zk path (direct circuit)', () => {
  it('accepts the executor’s witness; another sequence’s witness under these ids fails at the embedding lookups only', () => {
    expect(embedding).toHaveLength(TINY.embd)
    const bounds = analyzeBounds(model)
    const visibility = { input: 'public', output: 'public' } as const
    const honest = buildDirect({ model, bounds, visibility, inputs })
    expect(checkWitness(honest.system, honest.witness!)).toBeNull()
    // Token 0 replaced: the prover's witness for that sequence, its input wires (the public ids,
    // their unpacking and range checks from both ends: everything outside the steps) set back to these ids.
    const other = inputs.map((x) => [(x[0] + 1n) % BigInt(TINY.vocab), ...x.slice(1)])
    const lie = buildDirect({ model, bounds, visibility, inputs: other })
    const system = lie.system
    const names = Array.from({ length: system.wireCount }, (_, w) => system.nameOf(w))
    const isInput = (n: string) => /^main\.(in_packed|in0|rc0|rh0)\[/.test(n)
    const forged = lie.witness!.map((v, w) => (isInput(names[w]!) ? honest.witness![w]! : v))
    const broken = violatedConstraints(system, forged)
    expect(broken.length).toBeGreaterThan(0)
    // Every broken constraint is a lookup gadget of token 0 in an embedding step.
    const tensors = embedding.map((i) => model.steps[i]!.output.id)
    const token0 = new RegExp(`^main\\.s(${tensors.join('|')})\\.lk\\1_0\\.`)
    for (const i of broken) {
      const wires = system.constraint(i).flatMap((lc) => lc.map(([w]) => names[w]!))
      expect(
        wires.some((n) => token0.test(n)),
        `constraint ${i}: ${wires.slice(0, 6).join(', ')}`,
      ).toBe(true)
    }
    // Every embedding column of that token is caught.
    const caught = new Set(
      broken.flatMap((i) =>
        system
          .constraint(i)
          .flatMap((lc) => lc.map(([w]) => names[w]!.match(token0)?.[1]))
          .filter((x) => x !== undefined),
      ),
    )
    expect(caught.size).toBe(TINY.embd)
  })
})

describe('the tiny GPT from token ids, optimistic path', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('re-executes the embedding lookups on chain; a lie at one loses at that step', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, model)
    const trace = buildTrace(model, inputs)
    const ex = executorOf(f)
    // Two columns, every token: the one-step's lookup of each id equals the trace.
    for (const s of [embedding[0]!, embedding.at(-1)!])
      for (let j = 0; j < TINY.block; j++)
        expect(await executeElement(ex, model, m.params, trace, s, j)).toBe(
          trace.states[m.params.layout.inputCount + s]![j],
        )
    const state = m.params.layout.inputCount + embedding[3]!
    const { moves, gas } = await lieLosesAt(f, m, inputs, state, { element: 2 })
    console.log(`tiny ids GPT, lie at an embedding lookup: ${moves.length} moves, ${gas} gas in all`)
  })
})
