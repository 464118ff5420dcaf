import { type Affine, isIndexMap } from '../affine.js'
import { type FloatGraph, type FloatStep, sizeOf } from '../graph.js'
import type { OnnxNode } from '../parse.js'
import {
  type AffineSym,
  type Ctx,
  LoweringError,
  type Sym,
  type TokenIdState,
  attrNum,
  emit,
  materialize,
  normalizeAxis,
} from './common.js'

/**
 * Token and position embeddings: ONNX Gather of a constant table by input-dependent indices
 * (token ids, an int32/int64 graph input), with no new IR primitive. Row `id` of the table,
 * column c, is a function of the id alone, f_c(id) = data[…, id, …][c]: one unary step per
 * column, which the quantiser turns into a `lookup` over the input's integer domain (scale 1,
 * one table entry per id). The columns are then interleaved into ONNX's output layout by a
 * pending index map, which composes for free with what follows (the position embedding's Add).
 *
 * The domain of a token-id input is [0, rows − 1] of the (smallest) table it indexes. ONNX also
 * allows negative indices (counting from the end), but no tokenizer emits them and admitting
 * them would double every table: a negative id in an input file is refused by name, position and
 * range (src/quantize/input.ts), never wrapped.
 *
 * Circuit cost: one Lookup gadget per (index, column), 2A + B constraints with A·B ≥ rows (23
 * for 65 rows), so a [T] sequence over a [V, D] table costs T·D·(2A + B).
 */

/** ONNX TensorProto.DataType of the graph inputs that may hold token ids: Gather's Tind (int32, int64). */
export const TOKEN_ID_TYPES: ReadonlySet<number> = new Set([6, 7])

export function tokenIdState(inputs: readonly { id: number; name: string; elemType?: number }[]): TokenIdState {
  return {
    candidates: new Map(inputs.filter((i) => TOKEN_ID_TYPES.has(i.elemType ?? 0)).map((i) => [i.id, i.name])),
    domains: new Map(),
    readers: new Set(),
  }
}

/** Gather(data = constant table, indices = token ids moved or reshaped): lookups per column, interleaved. */
export function gatherByTokenIds(ctx: Ctx, data: Sym, indices: AffineSym): Sym {
  if (data.kind !== 'const')
    throw new LoweringError({
      node: ctx.node,
      problem: 'both the data and the indices depend on the model input',
      details: ['Input-dependent indices may only select rows of a constant table (a token or position embedding).'],
    })
  const a = indices.a
  const notIds = a.bases.find((b) => !ctx.tokenIds.candidates.has(b.id))
  if (notIds || !isIndexMap(a))
    throw new LoweringError({
      node: ctx.node,
      problem: notIds
        ? 'the indices are computed from the model input, not read from an int32/int64 graph input'
        : 'the indices are arithmetic on the token ids, not the ids themselves',
      details: [
        'A Gather by input-dependent indices needs the integer token ids as the model receives them (reshaped, transposed or sliced only).',
      ],
    })
  const s = data.dims
  const axis = normalizeAxis(ctx, attrNum(ctx, 'axis', 0), s.length)
  const rows = s[axis]
  const table = ctx.node.inputs[0]
  for (const b of a.bases) {
    const known = ctx.tokenIds.domains.get(b.id)
    if (!known || rows < known.rows) ctx.tokenIds.domains.set(b.id, { rows, table })
  }
  // Clamped to the table's rows: free in the circuit, where the input is range-checked to that
  // domain so the clamp cannot act (planRequant makes it a linear expression, no constraint),
  // but the optimistic game replays any value a claim posts in the input's byte lane, and the
  // lookups must be defined there too (src/optimistic/lane-check.ts).
  const ids = emit(ctx, { kind: 'clamp', inputs: [materialize(ctx, indices)], lo: 0, hi: rows - 1 }, a.shape)
  ctx.tokenIds.readers.add(ids)
  const outer = sizeOf(s.slice(0, axis)),
    inner = sizeOf(s.slice(axis + 1)),
    n = sizeOf(a.shape)
  const values = data.data
  let outMaxAbs = 0
  for (const v of values) outMaxAbs = Math.max(outMaxAbs, Math.abs(v))
  const bases: Affine['bases'] = []
  for (let c = 0; c < outer * inner; c++) {
    const at = Math.floor(c / inner) * rows * inner + (c % inner)
    // Outside [0, rows) there is no entry: NaN, so a float run on such an id cannot pass unnoticed.
    const f = (id: number) => (Number.isInteger(id) && id >= 0 && id < rows ? values[at + id * inner] : Number.NaN)
    const id = emit(ctx, { kind: 'unary', inputs: [ids], name: `Gather(${table})`, f, outMaxAbs }, a.shape)
    ctx.tokenIds.readers.add(id)
    bases.push({ id, size: n })
  }
  // Output [outer…, indices…, inner…]: element (b, k, i) is column b·inner + i's lookup of index k.
  const shape = [...s.slice(0, axis), ...a.shape, ...s.slice(axis + 1)]
  const size = sizeOf(shape)
  const cols = Int32Array.from({ length: size }, (_, o) => {
    const i = o % inner,
      k = Math.floor(o / inner) % n,
      b = Math.floor(o / (inner * n))
    return (b * inner + i) * n + k
  })
  const map: Affine = {
    shape,
    bases,
    rowPtr: Int32Array.from({ length: size + 1 }, (_, o) => o),
    cols,
    vals: new Float64Array(size).fill(1),
    bias: new Float64Array(size),
  }
  return { kind: 'affine', a: map, origin: [ctx.node.name] }
}

/**
 * Token ids are integers of a table's domain only where they index that table: any other use
 * (arithmetic, a comparison building a mask, a graph output) would read them as activations,
 * which they are not. Refused, naming the step that reads them. Gathers that only move the ids
 * (a reshape the lookups read through) pass them on.
 */
export function checkTokenIdUses(graph: FloatGraph, nodes: readonly OnnxNode[], state: TokenIdState): void {
  const ids = new Set(state.domains.keys())
  const refuse = (step: Pick<FloatStep, 'origin'>, problem: string) => {
    // A fused step names every node it implements; the last one is the reader.
    const names = step.origin.split('+').reverse()
    const node = names.map((n) => nodes.find((x) => x.name === n)).find((x) => x !== undefined) ?? {
      name: step.origin,
      opType: 'output',
    }
    throw new LoweringError({
      node,
      problem,
      details: [
        'Token ids (an int32/int64 input indexing a constant table) can only be Gather indices; compute masks and positions from constants.',
      ],
    })
  }
  for (const step of graph.steps) {
    const read = step.op.inputs.filter((i) => ids.has(i))
    if (read.length === 0 || state.readers.has(step.id)) continue
    if (step.op.kind === 'gather' && read.length === step.op.inputs.length && step.op.index.every((i) => i >= 0)) {
      ids.add(step.id)
      continue
    }
    const input = graph.inputs.find((i) => read.includes(i.id))?.name ?? 'the token ids'
    refuse(step, `reads the token ids "${input}" as values; they are only valid as the indices of a Gather`)
  }
  for (const o of graph.outputs)
    if (ids.has(o.id)) refuse({ origin: o.name }, `graph output "${o.name}" is the token ids themselves`)
}
