/**
 * A small builder of ONNX node lists for the transformers in models/ (ViT and GPT), in the
 * node forms `torch.onnx.export` writes at opset 17: Linear as MatMul + Add, LayerNormalization,
 * exact GELU decomposed. Each node's output is `<node name>.out` unless named.
 */
import type { NodeSpec, TensorSpec } from '../src/onnx/write.js'

/** The node list, and the constants (shapes, scalars) it reads, added as nodes need them. */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = []
  readonly constants: (TensorSpec & { name: string })[] = []

  shape(name: string, dims: number[]): string {
    this.constants.push({ name, dims: [dims.length], data: BigInt64Array.from(dims.map(BigInt)) })
    return name
  }

  /** A float32 scalar constant; naming one twice keeps the first. */
  scalar(name: string, value: number): string {
    if (!this.constants.some((t) => t.name === name))
      this.constants.push({ name, dims: [], data: Float32Array.of(value) })
    return name
  }

  node(
    op: string,
    name: string,
    inputs: string[],
    attributes?: NodeSpec['attributes'],
    output = `${name}.out`,
  ): string {
    this.nodes.push({ op, name, inputs, outputs: [output], ...(attributes && { attributes }) })
    return output
  }

  linear(prefix: string, x: string, output?: string): string {
    const product = this.node('MatMul', `${prefix}.matmul`, [x, `${prefix}.weight`])
    return this.node('Add', `${prefix}.add`, [product, `${prefix}.bias`], undefined, output)
  }

  /** `linear` without the bias (GPT's lm_head). */
  matmul(prefix: string, x: string, output?: string): string {
    return this.node('MatMul', `${prefix}.matmul`, [x, `${prefix}.weight`], undefined, output)
  }

  layerNorm(prefix: string, x: string): string {
    return this.node('LayerNormalization', prefix, [x, `${prefix}.weight`, `${prefix}.bias`], {
      axis: { int: -1 },
      epsilon: { float: 1e-5 },
    })
  }

  /** PyTorch's exact GELU at opset 17: x · (erf(x / √2) + 1) · 0.5. */
  gelu(prefix: string, x: string): string {
    const div = this.node('Div', `${prefix}.div`, [x, this.scalar('const.sqrt2', Math.SQRT2)])
    const erf = this.node('Erf', `${prefix}.erf`, [div])
    const add = this.node('Add', `${prefix}.add`, [erf, this.scalar('const.one', 1)])
    const mul = this.node('Mul', `${prefix}.mul`, [x, add])
    return this.node('Mul', `${prefix}.half`, [mul, this.scalar('const.half', 0.5)])
  }
}
