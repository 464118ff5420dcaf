import { BaseError } from '../errors.js'
import { identity } from './affine.js'
import type { FloatGraph } from './graph.js'
import type { OnnxModel } from './parse.js'
import { type Ctx, type Handler, LoweringError, type Sym, constOf, materialize } from './ops/common.js'
import { AveragePool, BatchNormalization, Conv, GlobalAveragePool } from './ops/conv.js'
import { Add, Gemm, MatMul, Mul, Sub } from './ops/linear.js'
import { Concat, Flatten, Gather, Pad, Reshape, Slice, Squeeze, Transpose, Unsqueeze } from './ops/movement.js'
import { Cast, Clip, Constant, Identity, Relu, Shape } from './ops/tensor.js'

export { LoweringError, type Sym }

export class UnsupportedOpsError extends BaseError {
  override name = 'UnsupportedOpsError'
  readonly nodes: { name: string; opType: string; opset: number }[]
  constructor(nodes: { name: string; opType: string; opset: number }[]) {
    super(`${nodes.length} unsupported ONNX node${nodes.length === 1 ? '' : 's'}: ${nodes.map((n) => `${n.name} (${n.opType}, opset ${n.opset})`).join(', ')}`, {
      details: [`Supported ops: ${Object.keys(OPS).sort().join(', ')}.`],
    })
    this.nodes = nodes
  }
}

/** The one table mapping ONNX ops to lowering rules. */
export const OPS: Record<string, Handler> = {
  // Values and constants.
  Identity,
  Dropout: Identity,
  Constant,
  Shape,
  Cast,
  // Non-linear: clamp steps.
  Relu,
  Clip,
  // Constant linear maps: composed into the pending affine map.
  Add,
  Sub,
  Mul,
  Gemm,
  MatMul,
  Conv,
  AveragePool,
  GlobalAveragePool,
  BatchNormalization,
  // Movement: index maps.
  Flatten,
  Reshape,
  Transpose,
  Squeeze,
  Unsqueeze,
  Pad,
  Slice,
  Concat,
  Gather,
}

/**
 * Lowers a parsed ONNX model to the float graph. Fails with ONE error listing every
 * unsupported node before doing any work.
 */
export function lowerOnnx(model: OnnxModel): FloatGraph {
  const unsupported = model.nodes.filter((n) => !(n.opType in OPS) || (n.domain && n.domain !== 'ai.onnx'))
  if (unsupported.length > 0) throw new UnsupportedOpsError(unsupported.map((n) => ({ name: n.name, opType: n.opType, opset: model.opset })))
  const syms = new Map<string, Sym>()
  for (const [name, t] of model.initializers) syms.set(name, constOf(t))
  const inputs = model.inputs.map((v, id) => ({ id, name: v.name, shape: v.shape }))
  for (const i of inputs) syms.set(i.name, { kind: 'affine', a: identity(i.id, i.shape) })
  const ctx: Ctx = { steps: [], nextId: inputs.length, node: model.nodes[0], opset: model.opset }
  for (const node of model.nodes) {
    ctx.node = node
    const ins = node.inputs.map((n) => (n === '' ? undefined : syms.get(n)))
    const outs = OPS[node.opType](ctx, ins)
    // Pending affine maps remember which nodes they fuse (those that changed the map).
    const before = ins.flatMap((x) => (x?.kind === 'affine' && x.origin ? x.origin : []))
    node.outputs.forEach((name, i) => {
      const out = outs[i]
      if (!out) return
      if (out.kind === 'affine' && !ins.includes(out) && out.origin === undefined) out.origin = [...new Set([...before, node.name])]
      syms.set(name, out)
    })
  }
  const outputs = model.outputs.map((o) => {
    const s = syms.get(o.name)
    ctx.node = model.nodes.find((n) => n.outputs.includes(o.name)) ?? ctx.node
    if (!s) throw new LoweringError(ctx.node, `graph output "${o.name}" is never produced`)
    return { id: materialize(ctx, s), name: o.name }
  })
  return { name: model.name, inputs, steps: ctx.steps, outputs }
}
