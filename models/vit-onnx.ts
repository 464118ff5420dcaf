/**
 * The ViT of models/vit-model.ts as an opset-17 ONNX graph, node for node what
 * `torch.onnx.export` writes for such a model: patches by Reshape → Transpose → Reshape,
 * Linear layers as MatMul + Add, heads split and merged by Reshape/Transpose, scores scaled by
 * a Mul, Softmax on the last axis, LayerNormalization, and the exact GELU decomposed as
 * opset < 20 exports it (Div √2, Erf, Add 1, Mul x, Mul 0.5).
 */
import { buildModel } from '../src/onnx/write.js'
import { GraphBuilder } from './vit-graph.js'
import { patchPixelsOf, tokensOf, type Vit, type VitConfig, vitTensors } from './vit-model.js'

export const VIT_OPSET = 17
export const VIT_INPUT = 'input'
export const VIT_OUTPUT = 'logits'

export interface VitOnnxParameters {
  config: VitConfig
  model: Vit
  name: string
  docString: string
  metadata: Record<string, string>
}

function attention(g: GraphBuilder, prefix: string, x: string): string {
  // [1, n, dim] → [1, n, heads, hd] → the permutation `perm` (heads first).
  const split = (which: string, perm: number[]) => {
    const projected = g.linear(`${prefix}.${which}`, x)
    const perHead = g.node('Reshape', `${prefix}.${which}.split`, [projected, 'shape.heads'])
    return g.node('Transpose', `${prefix}.${which}.heads`, [perHead], { perm: { ints: perm } })
  }
  const q = split('q', [0, 2, 1, 3]) // [1, heads, n, hd]
  const kT = split('k', [0, 2, 3, 1]) // [1, heads, hd, n]
  const v = split('v', [0, 2, 1, 3])
  const scores = g.node('Mul', `${prefix}.scale`, [g.node('MatMul', `${prefix}.scores`, [q, kT]), 'const.scale'])
  const probs = g.node('Softmax', `${prefix}.softmax`, [scores], { axis: { int: -1 } })
  const heads = g.node('MatMul', `${prefix}.context`, [probs, v])
  const merged = g.node('Reshape', `${prefix}.merge`, [
    g.node('Transpose', `${prefix}.merge.transpose`, [heads], { perm: { ints: [0, 2, 1, 3] } }),
    'shape.tokens',
  ])
  return g.linear(`${prefix}.proj`, merged)
}

/** ONNX bytes of the model; same weights, same bytes. */
export function vitOnnx({ config: c, model, name, docString, metadata }: VitOnnxParameters): Uint8Array {
  const grid = c.side / c.patch
  const n = tokensOf(c)
  const g = new GraphBuilder()
  g.shape('shape.grid', [1, 1, grid, c.patch, grid, c.patch])
  g.shape('shape.patches', [1, n, patchPixelsOf(c)])
  g.shape('shape.heads', [1, n, c.heads, c.dim / c.heads])
  g.shape('shape.tokens', [1, n, c.dim])
  g.scalar('const.scale', 1 / Math.sqrt(c.dim / c.heads))

  // [1,1,H,W] → [1,1,gy,p,gx,p] → [1,gy,gx,1,p,p] → [1, patches, p²]
  const grid6 = g.node('Reshape', 'patchify.reshape', [VIT_INPUT, 'shape.grid'])
  const moved = g.node('Transpose', 'patchify.transpose', [grid6], { perm: { ints: [0, 2, 4, 1, 3, 5] } })
  const patches = g.node('Reshape', 'patchify.flatten', [moved, 'shape.patches'])
  let h = g.node('Add', 'pos_embed.add', [g.linear('patch_embed', patches), 'pos_embed'])
  for (let i = 0; i < c.blocks; i++) {
    const b = `blocks.${i}`
    h = g.node('Add', `${b}.attn.residual`, [h, attention(g, `${b}.attn`, g.layerNorm(`${b}.norm1`, h))])
    const hidden = g.gelu(`${b}.mlp.gelu`, g.linear(`${b}.mlp.fc1`, g.layerNorm(`${b}.norm2`, h)))
    h = g.node('Add', `${b}.mlp.residual`, [h, g.linear(`${b}.mlp.fc2`, hidden)])
  }
  const pooled = g.node('ReduceMean', 'pool', [h], { axes: { ints: [1] }, keepdims: { int: 0 } })
  g.linear('head', g.layerNorm('fc_norm', pooled), VIT_OUTPUT)

  return buildModel({
    name,
    opset: VIT_OPSET,
    inputs: [{ name: VIT_INPUT, shape: [1, 1, c.side, c.side] }],
    outputs: [{ name: VIT_OUTPUT, shape: [1, c.classes] }],
    initializers: [...vitTensors(c, model), ...g.constants],
    nodes: g.nodes,
    docString,
    metadata,
  })
}
