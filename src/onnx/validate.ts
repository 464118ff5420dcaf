import type { OnnxModel, OnnxNode } from './types.js'
import { BaseError, type ErrorParameters } from '../errors.js'

/** The graph is not a well-formed ONNX graph: a name defined twice, a tensor nothing defines, a cycle. */
export class OnnxGraphError extends BaseError {
  override name = 'OnnxGraphError'
  readonly problem: string
  constructor({ problem, details, cause }: ErrorParameters<{ problem: string }>) {
    super(problem, { details, cause })
    this.problem = problem
  }
}

/**
 * ONNX graphs are in SSA form: every tensor is defined once (graph input, initializer or one
 * node output), every node name is unique, every tensor read is defined, and the nodes form a
 * DAG. Returns the nodes in a topological order (stable: a sorted graph keeps its order),
 * so lowering never meets a tensor before its producer.
 */
export function checkGraph(
  model: Pick<OnnxModel, 'inputs' | 'outputs' | 'initializers' | 'nodes'>,
  modelName: string,
): OnnxNode[] {
  const producer = new Map<string, number>()
  const external = new Set<string>()
  const define = (tensor: string, by: string) => {
    if (external.has(tensor) || producer.has(tensor))
      throw new OnnxGraphError({
        problem: `"${modelName}": tensor "${tensor}" is defined more than once (again by ${by})`,
        details: ['ONNX graphs are in SSA form: every tensor has exactly one producer.'],
      })
  }
  for (const v of model.inputs) {
    define(v.name, `graph input "${v.name}"`)
    external.add(v.name)
  }
  for (const name of model.initializers.keys()) {
    // An initializer may also be listed as a graph input (IR < 4): parse already dropped it from the inputs.
    define(name, `initializer "${name}"`)
    external.add(name)
  }
  const nodeNames = new Set<string>()
  model.nodes.forEach((n, i) => {
    if (nodeNames.has(n.name))
      throw new OnnxGraphError({
        problem: `"${modelName}": node name "${n.name}" is used by more than one node`,
        details: ['Node names must be unique (onnxruntime refuses the model too).'],
      })
    nodeNames.add(n.name)
    for (const o of n.outputs)
      if (o !== '') {
        define(o, `node "${n.name}"`)
        producer.set(o, i)
      }
  })
  for (const n of model.nodes) {
    for (const t of n.inputs) {
      if (t !== '' && !external.has(t) && !producer.has(t))
        throw new OnnxGraphError({
          problem: `"${modelName}": node "${n.name}" (${n.opType}) reads tensor "${t}", which no graph input, initializer or node defines`,
        })
    }
  }
  for (const o of model.outputs) {
    if (!external.has(o.name) && !producer.has(o.name))
      throw new OnnxGraphError({ problem: `"${modelName}": graph output "${o.name}" is not defined by any node` })
  }
  // Kahn's algorithm, taking the lowest-index ready node first.
  const deps = model.nodes.map((n) => new Set(n.inputs.filter((t) => producer.has(t)).map((t) => producer.get(t)!)))
  const users = model.nodes.map(() => [] as number[])
  deps.forEach((d, i) => {
    for (const j of d) users[j].push(i)
  })
  const pending = deps.map((d) => d.size)
  const ready = pending.flatMap((c, i) => (c === 0 ? [i] : []))
  const order: number[] = []
  while (ready.length > 0) {
    ready.sort((a, b) => a - b)
    const i = ready.shift()!
    order.push(i)
    for (const u of users[i]) if (--pending[u] === 0) ready.push(u)
  }
  if (order.length < model.nodes.length) {
    const stuck = model.nodes.filter((_, i) => pending[i] > 0).map((n) => `"${n.name}"`)
    throw new OnnxGraphError({
      problem: `"${modelName}": the graph has a cycle through node${stuck.length === 1 ? '' : 's'} ${stuck.slice(0, 6).join(', ')}${stuck.length > 6 ? ', …' : ''}`,
      details: ['An ONNX graph must be acyclic.'],
    })
  }
  return order.map((i) => model.nodes[i])
}
