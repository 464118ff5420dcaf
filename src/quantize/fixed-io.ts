import type { IrInput, IrOutput } from '../ir/types.js'
import type { FloatQuant } from '../onnx/graph.js'
import { rowFactor } from './dyadic.js'
import { clampOp, type FixedBuild, FixedScaleError, inPlace, onGrid, push, uniformIndexMap } from './fixed-state.js'

/**
 * The fixed-scale path's graph inputs and outputs (src/quantize/fixed.ts): which integers an
 * IR input holds, and how each graph output reads back as reals.
 */

/**
 * Inputs: an int8/uint8 input is its own integers; a float input must go straight into
 * QuantizeLinear (all its uses with the same parameters), and the IR input is that quantised tensor.
 * Numbers the IR inputs first (ids 0, 1, …) and records their states and ranges in `b`.
 */
export function fixedInputs(b: FixedBuild): IrInput[] {
  const { graph } = b
  return graph.inputs.map((info) => {
    const id = b.nextId++
    b.state.set(info.id, { kind: 'int', id })
    if (info.integer) {
      b.range.set(id, [BigInt(info.integer.lo), BigInt(info.integer.hi)])
      return {
        id,
        name: info.name,
        shape: info.shape,
        quant: { scale: 1, zeroPoint: 0 },
        lo: BigInt(info.integer.lo),
        hi: BigInt(info.integer.hi),
      }
    }
    const uses = graph.steps.filter((s) => s.op.inputs.includes(info.id))
    const quants = uses.map((s) => s.op).filter((op): op is FloatQuant => op.kind === 'quant')
    const q = quants[0]
    if (
      !q ||
      quants.length !== uses.length ||
      graph.outputs.some((o) => o.id === info.id) ||
      quants.some((o) => o.scale !== q.scale || o.zeroPoint !== q.zeroPoint || o.lo !== q.lo || o.hi !== q.hi)
    ) {
      throw new FixedScaleError({
        step: info.name,
        problem:
          'a float input of a quantised model must go straight into QuantizeLinear (all its uses with the same scale and zero point)',
        details: [
          'The model carries its own scales, so veriml proves it from the quantised input; float arithmetic before the first QuantizeLinear has no fixed integer form.',
        ],
      })
    }
    for (const s of uses) b.quantOf.set(s.id, q)
    b.range.set(id, [BigInt(q.lo), BigInt(q.hi)])
    return {
      id,
      name: info.name,
      shape: info.shape,
      quant: { scale: q.scale, zeroPoint: q.zeroPoint },
      lo: BigInt(q.lo),
      hi: BigInt(q.hi),
    }
  })
}

/** A graph output: an integer tensor as it is, a dequantised one as its integers with that scale and zero point. */
export function fixedOutput(b: FixedBuild, t: number, name: string): IrOutput {
  const s = b.state.get(t)!
  if (s.kind === 'int') return { tensor: s.id, name, quant: { scale: 1, zeroPoint: 0 } }
  if (s.kind === 'func')
    throw new FixedScaleError({
      step: s.name,
      problem: "a float function's result is a graph output without a QuantizeLinear",
      details: ['Quantise the output, or end the model before the function (its float result has no integer form).'],
    })
  const origin = b.graph.steps.find((x) => x.id === t)?.origin ?? name
  const shape = b.shapes.get(t)!
  const u = uniformIndexMap(s.a)
  const z = u ? -u.b / u.s : NaN
  if (u && s.a.bases.length === 1 && Number.isInteger(z) && u.b === -z * u.s) {
    // (q - z)·s: the output is q itself, moved, with real = (q - z)·s; a clamp becomes integer bounds when it lands on the grid.
    let id = s.a.bases[0].id
    if (!inPlace(s.a))
      id = push(b, origin, `${origin}:out`, shape, { op: 'gather', inputs: [id], index: s.a.cols, fill: 0n })
    if (s.clamp) {
      const qlo = s.clamp.lo / u.s + z,
        qhi = s.clamp.hi / u.s + z
      if (!onGrid(qlo) || !onGrid(qhi))
        throw new FixedScaleError({
          step: origin,
          problem: `output clamp [${s.clamp.lo}, ${s.clamp.hi}] does not fall on the output's quantisation grid`,
        })
      id = push(b, origin, `${origin}:clamp`, shape, clampOp(id, qlo, qhi))
    }
    return { tensor: id, name, quant: { scale: u.s, zeroPoint: z } }
  }
  if (s.clamp)
    throw new FixedScaleError({
      step: origin,
      problem: 'a clamped float output must be one DequantizeLinear of an integer tensor',
      details: ['Quantise the output (QuantizeLinear) or drop the Relu/Clip.'],
    })
  // A float output of integer tensors (MatMulInteger, a dequantised Gemm…): one factor for the whole tensor.
  const f = rowFactor([...s.a.vals, ...s.a.bias])
  const nv = s.a.vals.length
  const id = push(b, origin, `${origin}:out`, shape, {
    op: 'linear',
    inputs: s.a.bases.map((base) => base.id),
    rowPtr: s.a.rowPtr,
    cols: s.a.cols,
    vals: f.ints.slice(0, nv),
    bias: f.ints.slice(nv),
  })
  return { tensor: id, name, quant: { scale: f.g, zeroPoint: 0 } }
}
