/**
 * Backpropagation through the ViT of models/vit-model.ts, one image at a time, from softmax
 * cross-entropy down to the patch embedding: every tensor's gradient, checked against finite
 * differences by test/models/vit.test.ts.
 */
import {
  type BlockCache,
  patchPixelsOf,
  tokensOf,
  type Vit,
  type VitBlockOf,
  type VitConfig,
  type VitOf,
  type VitWorkspace,
  vitForward,
} from './vit-model.js'
import { denseBackward, geluGrad, layerNormBackward, softmaxRowsBackward } from './vit-ops.js'

function attentionBackward(c: VitConfig, bc: BlockCache, dO: Float64Array, ws: VitWorkspace): void {
  const n = tokensOf(c)
  const { dim: d, heads } = c
  const hd = d / heads
  const scale = 1 / Math.sqrt(hd)
  const { q, k, v, p } = bc
  const { dq, dk, dv, dp } = ws
  dq.fill(0)
  dk.fill(0)
  dv.fill(0)
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const w = p[(h * n + i) * n + j]
        let acc = 0
        for (let e = 0; e < hd; e++) {
          const g = dO[i * d + h * hd + e]
          acc += g * v[j * d + h * hd + e]
          dv[j * d + h * hd + e] += w * g
        }
        dp[(h * n + i) * n + j] = acc
      }
  softmaxRowsBackward(p, dp, heads * n, n)
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const ds = dp[(h * n + i) * n + j] * scale
        for (let e = 0; e < hd; e++) {
          dq[i * d + h * hd + e] += ds * k[j * d + h * hd + e]
          dk[j * d + h * hd + e] += ds * q[i * d + h * hd + e]
        }
      }
}

/** From the gradient of the block's output (ws.dh, overwritten) to that of its input (ws.dh again). */
function blockBackward(
  c: VitConfig,
  b: VitBlockOf<Float32Array>,
  g: VitBlockOf<Float64Array>,
  bc: BlockCache,
  ws: VitWorkspace,
) {
  const n = tokensOf(c)
  const { dim: d, mlp } = c
  const { dh, dMid, dTokens, dTokens2, dHidden } = ws
  // output = mid + fc2(gelu(fc1(LN2(mid))))
  dHidden.fill(0)
  denseBackward(bc.g, dh, n, mlp, d, b.fc2Weight, g.fc2Weight, g.fc2Bias, dHidden)
  for (let i = 0; i < n * mlp; i++) dHidden[i] *= geluGrad(bc.f[i])
  dTokens.fill(0)
  denseBackward(bc.ln2, dHidden, n, d, mlp, b.fc1Weight, g.fc1Weight, g.fc1Bias, dTokens)
  layerNormBackward(dTokens, n, d, b.ln2Scale, bc.xhat2, bc.inv2, g.ln2Scale, g.ln2Bias, dTokens2)
  for (let i = 0; i < n * d; i++) dMid[i] = dh[i] + dTokens2[i]
  // mid = input + proj(attention(LN1(input)))
  dTokens.fill(0)
  denseBackward(bc.o, dMid, n, d, d, b.projWeight, g.projWeight, g.projBias, dTokens)
  attentionBackward(c, bc, dTokens, ws)
  dTokens.fill(0)
  denseBackward(bc.ln1, ws.dq, n, d, d, b.qWeight, g.qWeight, g.qBias, dTokens)
  denseBackward(bc.ln1, ws.dk, n, d, d, b.kWeight, g.kWeight, g.kBias, dTokens)
  denseBackward(bc.ln1, ws.dv, n, d, d, b.vWeight, g.vWeight, g.vBias, dTokens)
  layerNormBackward(dTokens, n, d, b.ln1Scale, bc.xhat1, bc.inv1, g.ln1Scale, g.ln1Bias, dTokens2)
  for (let i = 0; i < n * d; i++) dh[i] = dMid[i] + dTokens2[i]
}

/**
 * Softmax cross-entropy of one image: accumulates the gradient of every tensor into `grads`
 * and returns the loss.
 */
export function vitBackward(
  m: Vit,
  pixels: Float32Array,
  label: number,
  grads: VitOf<Float64Array>,
  ws: VitWorkspace,
): number {
  const c = ws.config
  const n = tokensOf(c)
  const d = c.dim
  const logits = vitForward(m, pixels, ws)
  let max = -Infinity
  for (const l of logits) if (l > max) max = l
  let sum = 0
  for (const l of logits) sum += Math.exp(l - max)
  for (let k = 0; k < c.classes; k++) ws.dLogits[k] = Math.exp(logits[k] - max) / sum - (k === label ? 1 : 0)
  ws.dNormed.fill(0)
  denseBackward(ws.normed, ws.dLogits, 1, d, c.classes, m.headWeight, grads.headWeight, grads.headBias, ws.dNormed)
  layerNormBackward(ws.dNormed, 1, d, m.normScale, ws.xhatF, ws.invF, grads.normScale, grads.normBias, ws.dPooled)
  for (let t = 0; t < n; t++) for (let e = 0; e < d; e++) ws.dh[t * d + e] = ws.dPooled[e] / n
  for (let i = c.blocks - 1; i >= 0; i--) blockBackward(c, m.blocks[i], grads.blocks[i], ws.blocks[i], ws)
  for (let i = 0; i < n * d; i++) grads.pos[i] += ws.dh[i]
  denseBackward(ws.patches, ws.dh, n, patchPixelsOf(c), d, m.patchWeight, grads.patchWeight, grads.patchBias, null)
  return Math.log(sum) + max - logits[label]
}
