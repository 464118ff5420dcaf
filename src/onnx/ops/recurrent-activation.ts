import { sigmoid, unary } from './activation.js'
import { type Ctx, LoweringError, type Sym, isNumbers, linear } from './common.js'
import { clamp } from './tensor.js'

/**
 * The activation functions of ONNX RNN, GRU and LSTM (the `activations` attribute), each with
 * the parameters it reads from `activation_alpha` / `activation_beta` and their defaults (those
 * of the ONNX operator of the same name, as the spec says; onnxruntime takes 0 where it lists
 * none: ThresholdedRelu, Affine and ScaledTanh without their parameters differ there).
 */
interface ActivationSpec {
  alpha?: number
  beta?: number
  f: (alpha: number, beta: number) => (x: number) => number
}

const ACTIVATIONS: Record<string, ActivationSpec> = {
  Sigmoid: { f: () => sigmoid },
  Tanh: { f: () => Math.tanh },
  Relu: { f: () => (x) => Math.max(0, x) },
  Affine: { alpha: 1, beta: 0, f: (a, b) => (x) => a * x + b },
  LeakyRelu: { alpha: 0.01, f: (a) => (x) => (x >= 0 ? x : a * x) },
  ThresholdedRelu: { alpha: 1, f: (a) => (x) => (x > a ? x : 0) },
  ScaledTanh: { alpha: 1, beta: 1, f: (a, b) => (x) => a * Math.tanh(b * x) },
  HardSigmoid: { alpha: 0.2, beta: 0.5, f: (a, b) => (x) => Math.min(1, Math.max(0, a * x + b)) },
  Elu: { alpha: 1, f: (a) => (x) => (x >= 0 ? x : a * Math.expm1(x)) },
  Softsign: { f: () => (x) => x / (1 + Math.abs(x)) },
  // log(1 + eˣ) without overflow: x + log(1 + e⁻ˣ) for positive x.
  Softplus: { f: () => (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))) },
}

/** One activation of a recurrent cell, its parameters resolved. */
export interface Activation {
  name: string
  alpha: number
  beta: number
}

/**
 * The activations of every direction: `perDirection` names per direction (f for RNN; f, g for
 * GRU; f, g, h for LSTM) with ONNX's defaults, or the attribute's list (all directions' in
 * order, forward first). Alphas and betas are consumed in list order by the activations that
 * take them, as onnxruntime does.
 */
export function activationsOf(ctx: Ctx, defaults: string[], dirs: number): Activation[][] {
  const attr = ctx.node.attributes.activations
  let names: string[] = []
  for (let d = 0; d < dirs; d++) names.push(...defaults)
  if (attr !== undefined) {
    if (!Array.isArray(attr) || !attr.every((s) => typeof s === 'string'))
      throw new LoweringError({ node: ctx.node, problem: 'attribute "activations" must be a list of strings' })
    // A bidirectional node may list one direction's activations; both use them.
    if (attr.length === defaults.length) names = Array.from({ length: dirs }, () => attr as string[]).flat()
    else if (attr.length === defaults.length * dirs) names = attr as string[]
    else
      throw new LoweringError({
        node: ctx.node,
        problem: `attribute "activations" lists ${attr.length} functions; ${ctx.node.opType} takes ${defaults.length} per direction (${defaults.length * dirs} in all)`,
      })
  }
  const alphas = floatsOf(ctx, 'activation_alpha'),
    betas = floatsOf(ctx, 'activation_beta')
  const acts = names.map((given) => {
    const name = Object.keys(ACTIVATIONS).find((k) => k.toLowerCase() === given.toLowerCase())
    if (!name)
      throw new LoweringError({
        node: ctx.node,
        problem: `activation "${given}" is not supported`,
        details: [`Supported: ${Object.keys(ACTIVATIONS).join(', ')}.`],
      })
    const spec = ACTIVATIONS[name]
    const alpha = spec.alpha === undefined ? 0 : (alphas.shift() ?? spec.alpha)
    const beta = spec.beta === undefined ? 0 : (betas.shift() ?? spec.beta)
    return { name, alpha, beta }
  })
  return Array.from({ length: dirs }, (_, d) => acts.slice(d * defaults.length, (d + 1) * defaults.length))
}

function floatsOf(ctx: Ctx, name: string): number[] {
  const v = ctx.node.attributes[name]
  if (v === undefined) return []
  if (!isNumbers(v))
    throw new LoweringError({ node: ctx.node, problem: `attribute "${name}" must be a list of floats` })
  return [...v]
}

/**
 * act(clip(x)): `clip` bounds the activation's input to [-clip, clip] (ONNX's cell clip).
 * Relu is a clamp step (exact in the integer IR; with a clip, clamp(x, 0, clip)); Affine is
 * linear and composes into the next map; every other function is one unary step (a table
 * once quantised) with the clip folded into the function, so it costs no step of its own.
 */
export function activate(ctx: Ctx, x: Sym, act: Activation, clipAt: number | null): Sym {
  if (act.name === 'Relu') return clamp(ctx, x, 0, clipAt)
  if (act.name === 'Affine') {
    const v = clipAt === null ? x : clamp(ctx, x, -clipAt, clipAt)
    const one = [0],
      w = [act.alpha]
    return linear(v, x.kind === 'const' ? x.dims : x.a.shape, (o) => {
      one[0] = o
      return { idx: one, w, bias: act.beta }
    })
  }
  const f = ACTIVATIONS[act.name].f(act.alpha, act.beta)
  const spec = ACTIVATIONS[act.name]
  const params = [
    spec.alpha !== undefined ? `alpha=${act.alpha}` : '',
    spec.beta !== undefined ? `beta=${act.beta}` : '',
  ]
  const clipped = clipAt === null ? '' : `clip=${clipAt}`
  const args = [...params, clipped].filter(Boolean).join(', ')
  const name = `${ctx.node.opType}.${act.name}${args ? `(${args})` : ''}`
  const g = clipAt === null ? f : (v: number) => f(Math.min(Math.max(v, -clipAt), clipAt))
  return unary(ctx, x, name, g)[0]
}
