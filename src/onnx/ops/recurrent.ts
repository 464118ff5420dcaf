import { sizeOf } from '../graph.js'
import {
  type ConstSym,
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  attrNum,
  attrString,
  emit,
  fresh,
  linear,
  need,
  needConst,
  remap,
  shapeOf,
  sumPlaced,
} from './common.js'
import { elementwise, operandOf } from './linear.js'
import { type Activation, activate, activationsOf } from './recurrent-activation.js'
import { keep, sequenceLens, timeAt } from './recurrent-lens.js'

/**
 * ONNX RNN, GRU and LSTM, unrolled over the static sequence length into the float graph's own
 * ops: each gate's pre-activation X_t·Wᵀ + H_{t-1}·Rᵀ + biases (+ peepholes) is a pending
 * affine map (constant weights, so it fuses into one linear step per group of gates sharing an
 * activation), the activation a unary step (a table once quantised), the gate products mul
 * steps. Nothing here is new semantics: the unrolled graph of existing ops is what is proven,
 * so every soundness argument is theirs. Constant initial states fold into the first timestep.
 */

/** One recurrent node's constants and geometry, checked against each other. */
interface Cell {
  ctx: Ctx
  seq: number
  batch: number
  input: number
  hidden: number
  dirs: number
  /** Gate blocks in W and R: 1 (RNN), 3 (GRU: z, r, h), 4 (LSTM: i, o, f, c). */
  gates: number
  layout: number
  X: Sym
  W: Float64Array
  R: Float64Array
  /** [dirs, 2·gates·hidden]: Wb then Rb per direction; zeros when B is omitted. */
  B: Float64Array
  acts: Activation[][]
  clip: number | null
  /** Per batch entry, its number of timesteps (constant sequence_lens); null: all `seq`. */
  lens: number[] | null
}

const DIRECTIONS: Record<string, number[]> = { forward: [0], reverse: [1], bidirectional: [0, 1] }

function cellOf(ctx: Ctx, inputs: (Sym | undefined)[], gates: number, defaults: string[]): Cell {
  const X = need(ctx, inputs[0], 'input X')
  const W = needConst(ctx, inputs[1], 'input W'),
    R = needConst(ctx, inputs[2], 'input R')
  const layout = attrNum(ctx, 'layout', 0)
  const direction = attrString(ctx, 'direction', 'forward')
  if (!DIRECTIONS[direction])
    throw new LoweringError({
      node: ctx.node,
      problem: `direction "${direction}" is not one of forward, reverse, bidirectional`,
    })
  const dirs = DIRECTIONS[direction].length
  const xs = shapeOf(X)
  if (xs.length !== 3 || (layout !== 0 && layout !== 1))
    throw new LoweringError({
      node: ctx.node,
      problem: `X must be 3-D with layout 0 or 1, got [${xs}], layout ${layout}`,
    })
  const [seq, batch] = layout === 0 ? [xs[0], xs[1]] : [xs[1], xs[0]]
  const input = xs[2]
  const hidden = attrNum(ctx, 'hidden_size', W.dims[1] / gates)
  const expect = (what: string, s: ConstSym, dims: number[]) => {
    if (s.dims.length !== dims.length || s.dims.some((d, i) => d !== dims[i]))
      throw new LoweringError({
        node: ctx.node,
        problem: `${what} has shape [${s.dims}], expected [${dims}] (hidden_size ${hidden}, ${gates} gate${gates > 1 ? 's' : ''}, input size ${input}, ${dirs} direction${dirs > 1 ? 's' : ''})`,
      })
  }
  expect('W', W, [dirs, gates * hidden, input])
  expect('R', R, [dirs, gates * hidden, hidden])
  let B: Float64Array = new Float64Array(dirs * 2 * gates * hidden)
  if (inputs[3]) {
    const b = needConst(ctx, inputs[3], 'input B')
    expect('B', b, [dirs, 2 * gates * hidden])
    B = b.data
  }
  const lens = inputs[4] ? sequenceLens(ctx, inputs[4], seq, batch) : null
  const clipAttr = ctx.node.attributes.clip
  const clip = typeof clipAttr === 'number' ? clipAttr : null
  const acts = activationsOf(ctx, defaults, dirs)
  return { ctx, seq, batch, input, hidden, dirs, gates, layout, X, W: W.data, R: R.data, B, acts, clip, lens }
}

/** The per-direction state given as input `s` ([dirs, batch, hidden], layout 1 [batch, dirs, hidden]), or zeros. */
function initialState(c: Cell, s: Sym | undefined, what: string, d: number): Sym {
  const { batch, hidden, dirs, layout } = c
  const shape = [batch, hidden]
  if (!s) return { kind: 'const', dims: shape, data: new Float64Array(batch * hidden) }
  const want = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]
  if (shapeOf(s).join() !== want.join())
    throw new LoweringError({ node: c.ctx.node, problem: `${what} has shape [${shapeOf(s)}], expected [${want}]` })
  return remap(s, shape, (o) => {
    const b = Math.floor(o / hidden),
      j = o % hidden
    return layout === 0 ? (d * batch + b) * hidden + j : (b * dirs + d) * hidden + j
  })
}

/** X at each batch entry's timestep `timeOf(b)` (zeros where it is -1): [batch, input]. */
function inputAt(c: Cell, timeOf: (b: number) => number): Sym {
  const { seq, batch, input, layout } = c
  return remap(c.X, [batch, input], (o) => {
    const b = Math.floor(o / input),
      k = o % input
    const t = timeOf(b)
    if (t < 0) return -1
    return layout === 0 ? (t * batch + b) * input + k : (b * seq + t) * input + k
  })
}

/**
 * v·Mᵀ for the rows of `gates` (gate blocks of W when `m` is 'W', of R when 'R') of direction
 * d, plus that matrix's bias when `bias`: [batch, gates.length·hidden], gates side by side.
 */
function term(c: Cell, d: number, m: 'W' | 'R', v: Sym, gates: number[], bias: boolean): Sym {
  const { batch, hidden, gates: G } = c
  const width = m === 'W' ? c.input : hidden
  const M = m === 'W' ? c.W : c.R
  const n = gates.length * hidden
  const idx = new Int32Array(width),
    w = new Float64Array(width)
  return linear(v, [batch, n], (o) => {
    const b = Math.floor(o / n),
      r = o % n
    const row = gates[Math.floor(r / hidden)] * hidden + (r % hidden)
    const at = (d * G * hidden + row) * width
    for (let k = 0; k < width; k++) {
      idx[k] = b * width + k
      w[k] = M[at + k]
    }
    const biasAt = d * 2 * G * hidden + (m === 'W' ? 0 : G * hidden) + row
    return { idx, w, bias: bias ? c.B[biasAt] : 0 }
  })
}

/** Gate `k` of a [batch, n·hidden] tensor of gates side by side: [batch, hidden] (an index map). */
function gate(c: Cell, s: Sym, k: number, of: number): Sym {
  const { hidden } = c
  return remap(s, [c.batch, hidden], (o) => Math.floor(o / hidden) * of * hidden + k * hidden + (o % hidden))
}

/**
 * Elementwise products of same-shape pairs. Pairs of two input-dependent values reading the
 * same two tensors share ONE mul step (its operands read through index maps where they are
 * slices, so no gather is emitted). A mul step takes every left operand from its first input
 * and every right one from its last, each at one scale (the quantiser's product scale is the
 * sum of the two): pairs over other tensors get steps of their own. A constant side (an
 * initial state) makes the product linear instead.
 */
function products(c: Cell, pairs: [Sym, Sym][]): Sym[] {
  const n = c.batch * c.hidden
  const groups = new Map<string, { inputs: number[]; lefts: number[][]; rights: number[][]; at: number[] }>()
  const out: Sym[] = pairs.map(([a, b], i) => {
    if (a.kind === 'const' || b.kind === 'const') return elementwise(c.ctx, [a, b], 'Mul')
    const l = operandOf(c.ctx, a),
      r = operandOf(c.ctx, b)
    const key = `${l.id} ${r.id}`
    if (!groups.has(key))
      groups.set(key, { inputs: l.id === r.id ? [l.id] : [l.id, r.id], lefts: [], rights: [], at: [] })
    const g = groups.get(key)!
    const offset = l.id === r.id ? 0 : l.size
    g.lefts.push(Array.from({ length: n }, (_, e) => (l.index ? l.index[e] : e)))
    g.rights.push(Array.from({ length: n }, (_, e) => offset + (r.index ? r.index[e] : e)))
    g.at.push(i)
    return a
  })
  for (const g of groups.values()) {
    const shape = [g.at.length * n]
    const op = {
      kind: 'mul' as const,
      inputs: g.inputs,
      left: Int32Array.from(g.lefts.flat()),
      right: Int32Array.from(g.rights.flat()),
    }
    const all = fresh(emit(c.ctx, op, shape), shape)
    g.at.forEach((i, p) => {
      out[i] = remap(all, [c.batch, c.hidden], (e) => p * n + e)
    })
  }
  return out
}

const negate = (s: Sym): Sym => {
  const one = [0],
    minus = [-1]
  return linear(s, shapeOf(s), (o) => {
    one[0] = o
    return { idx: one, w: minus, bias: 0 }
  })
}

/** Hidden (and cell) state after one timestep of direction d. */
type Step = (c: Cell, d: number, x: Sym, h: Sym, cs: Sym) => { h: Sym; c: Sym }

/** RNN: H = f(X·Wᵀ + H·Rᵀ + Wb + Rb). */
const rnnStep: Step = (c, d, x, h, cs) => {
  const pre = sumPlaced([term(c, d, 'W', x, [0], true), term(c, d, 'R', h, [0], true)], [c.batch, c.hidden])
  return { h: activate(c.ctx, pre, c.acts[d][0], c.clip), c: cs }
}

/**
 * GRU (gates z, r, h): z and r share one pre-activation step and one f step. The new state
 * (1 - z)⊙h̃ + z⊙H is written h̃ + z⊙(H - h̃): one product instead of two.
 */
function gruStep(linearBeforeReset: boolean): Step {
  return (c, d, x, h, cs) => {
    const [f, g] = c.acts[d]
    const shape = [c.batch, 2 * c.hidden]
    const zr = activate(
      c.ctx,
      sumPlaced([term(c, d, 'W', x, [0, 1], true), term(c, d, 'R', h, [0, 1], true)], shape),
      f,
      c.clip,
    )
    const z = gate(c, zr, 0, 2),
      r = gate(c, zr, 1, 2)
    const hs = [c.batch, c.hidden]
    let pre: Sym
    if (linearBeforeReset) {
      const [rh] = products(c, [[r, term(c, d, 'R', h, [2], true)]])
      pre = sumPlaced([term(c, d, 'W', x, [2], true), rh], hs)
    } else {
      const [rH] = products(c, [[r, h]])
      pre = sumPlaced([term(c, d, 'W', x, [2], true), term(c, d, 'R', rH, [2], true)], hs)
    }
    const candidate = activate(c.ctx, pre, g, c.clip)
    const [kept] = products(c, [[z, sumPlaced([h, negate(candidate)], hs)]])
    return { h: sumPlaced([candidate, kept], hs), c: cs }
  }
}

/** Peephole terms P⊙C for gates `which` (0 i, 1 o, 2 f in P's layout), side by side: [batch, n·hidden]. */
function peephole(c: Cell, P: Float64Array, d: number, cs: Sym, which: number[]): Sym {
  const { hidden } = c
  const n = which.length * hidden
  const one = [0],
    w = [0]
  return linear(cs, [c.batch, n], (o) => {
    const b = Math.floor(o / n),
      r = o % n
    one[0] = b * hidden + (r % hidden)
    w[0] = P[(d * 3 + which[Math.floor(r / hidden)]) * hidden + (r % hidden)]
    return { idx: one, w, bias: 0 }
  })
}

/**
 * LSTM (gates i, o, f, c in W and R): i and f (and o, without peepholes) share one
 * pre-activation step and one f step; f⊙C, i⊙c̃ and o⊙h(C) are a mul step each (their
 * operands lie in different tensors, see products; f⊙C₀ of a constant C₀ is linear). With
 * `input_forget` the forget gate is 1 - i (coupled gates), as onnxruntime computes it.
 */
function lstmStep(P: Float64Array | null, inputForget: boolean): Step {
  return (c, d, x, h, cs) => {
    const [f, g, hAct] = c.acts[d]
    const hs = [c.batch, c.hidden]
    // Gates in W/R order i=0, o=1, f=2, c=3; P is ordered i, o, f.
    const first = inputForget ? [0] : [0, 2]
    if (!P) first.push(1)
    const n = first.length
    const parts = [term(c, d, 'W', x, first, true), term(c, d, 'R', h, first, true)]
    // P's order i, o, f is W's first three gate blocks: the same indexes.
    if (P) parts.push(peephole(c, P, d, cs, first))
    const acted = activate(c.ctx, sumPlaced(parts, [c.batch, n * c.hidden]), f, c.clip)
    const i = gate(c, acted, 0, n)
    const fg = inputForget
      ? sumPlaced([{ kind: 'const', dims: hs, data: new Float64Array(sizeOf(hs)).fill(1) }, negate(i)], hs)
      : gate(c, acted, 1, n)
    const cand = activate(
      c.ctx,
      sumPlaced([term(c, d, 'W', x, [3], true), term(c, d, 'R', h, [3], true)], hs),
      g,
      c.clip,
    )
    const [fc, ic] = products(c, [
      [fg, cs],
      [i, cand],
    ])
    const cell = sumPlaced([fc, ic], hs)
    let o: Sym
    if (P) {
      const pre = sumPlaced(
        [term(c, d, 'W', x, [1], true), term(c, d, 'R', h, [1], true), peephole(c, P, d, cell, [1])],
        hs,
      )
      o = activate(c.ctx, pre, f, c.clip)
    } else o = gate(c, acted, n - 1, n)
    const [hNew] = products(c, [[o, activate(c.ctx, cell, hAct, null)]])
    return { h: hNew, c: cell }
  }
}

/**
 * Runs `step` over every timestep of every direction (reverse: from the last timestep down)
 * and assembles Y ([seq, dirs, batch, hidden]; layout 1 [batch, seq, dirs, hidden]), Y_h and
 * Y_c ([dirs, batch, hidden]; layout 1 [batch, dirs, hidden]), those of them the node writes.
 * With constant sequence_lens a batch entry's steps past its length leave its state as it was
 * (Y_h, Y_c: the state at its last step; zeros for length 0) and its Y there is zero, as
 * onnxruntime computes it.
 */
function unroll(c: Cell, step: Step, h0: Sym | undefined, c0: Sym | undefined): Sym[] {
  const { seq, batch, hidden, dirs, layout } = c
  const order = DIRECTIONS[attrString(c.ctx, 'direction', 'forward')]
  const lens = c.lens ?? new Array<number>(batch).fill(seq)
  // Steps past every sequence's end change nothing: not built.
  const steps = Math.max(0, ...lens)
  const hs: Sym[][] = [],
    last: { h: Sym; c: Sym }[] = []
  for (let d = 0; d < dirs; d++) {
    const reverse = order[d] === 1
    let state = { h: initialState(c, h0, 'initial_h', d), c: initialState(c, c0, 'initial_c', d) }
    hs.push([])
    for (let k = 0; k < steps; k++) {
      const next = step(
        c,
        d,
        inputAt(c, (b) => timeAt(reverse, k, lens[b])),
        state.h,
        state.c,
      )
      hs[d].push(next.h)
      state = { h: keep(c, k, next.h, state.h), c: keep(c, k, next.c, state.c) }
    }
    last.push(state)
  }
  // Outputs the model omits are not built (a sparse array: lowerOnnx skips the holes).
  const outs: Sym[] = []
  const wanted = (k: number) => Boolean(c.ctx.node.outputs[k])
  if (wanted(0)) {
    const yShape = layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden]
    // Y[t] of batch entry b is step k's state when step k read timestep t (timeAt is its own inverse in t ↔ k).
    const pieces = hs.flatMap((row, d) =>
      row.map((h, k) =>
        remap(h, yShape, (o) => {
          const j = o % hidden
          const rest = Math.floor(o / hidden)
          const [tt, dd, b] =
            layout === 0
              ? [Math.floor(rest / (dirs * batch)), Math.floor(rest / batch) % dirs, rest % batch]
              : [Math.floor(rest / dirs) % seq, rest % dirs, Math.floor(rest / (seq * dirs))]
          return dd === d && timeAt(order[d] === 1, tt, lens[b]) === k ? b * hidden + j : -1
        }),
      ),
    )
    outs[0] =
      pieces.length > 0
        ? sumTree(pieces, yShape)
        : { kind: 'const', dims: yShape, data: new Float64Array(sizeOf(yShape)) }
  }
  const stateShape = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]
  const final = (of: (s: { h: Sym; c: Sym }) => Sym) =>
    sumPlaced(
      last.map((s, d) =>
        remap(of(s), stateShape, (o) => {
          const j = o % hidden
          const rest = Math.floor(o / hidden)
          const [dd, b] =
            layout === 0 ? [Math.floor(rest / batch), rest % batch] : [rest % dirs, Math.floor(rest / dirs)]
          // An empty sequence (length 0) ends in zeros, not its initial state: onnxruntime's Y_h and Y_c.
          return dd === d && lens[b] > 0 ? b * hidden + j : -1
        }),
      ),
      stateShape,
    )
  if (wanted(1)) outs[1] = final((s) => s.h)
  if (wanted(2)) outs[2] = final((s) => s.c)
  return outs
}

/**
 * sumPlaced of many pieces, pairwise: merging maps one at a time re-copies the growing sum
 * each time (quadratic in the sequence length: seconds for Y of 64 timesteps).
 */
function sumTree(parts: Sym[], shape: number[]): Sym {
  if (parts.length <= 2) return sumPlaced(parts, shape)
  const mid = parts.length >> 1
  return sumPlaced([sumTree(parts.slice(0, mid), shape), sumTree(parts.slice(mid), shape)], shape)
}

export const RNN: Handler = (ctx, inputs) => {
  const c = cellOf(ctx, inputs, 1, ['Tanh'])
  return unroll(c, rnnStep, inputs[5], undefined)
}

export const GRU: Handler = (ctx, inputs) => {
  const c = cellOf(ctx, inputs, 3, ['Sigmoid', 'Tanh'])
  return unroll(c, gruStep(attrNum(ctx, 'linear_before_reset', 0) !== 0), inputs[5], undefined)
}

export const LSTM: Handler = (ctx, inputs) => {
  const c = cellOf(ctx, inputs, 4, ['Sigmoid', 'Tanh', 'Tanh'])
  let P: Float64Array | null = null
  if (inputs[7]) {
    const p = needConst(ctx, inputs[7], 'input P')
    if (p.dims.join() !== [c.dirs, 3 * c.hidden].join())
      throw new LoweringError({
        node: ctx.node,
        problem: `P has shape [${p.dims}], expected [${c.dirs}, ${3 * c.hidden}]`,
      })
    P = p.data
  }
  return unroll(c, lstmStep(P, attrNum(ctx, 'input_forget', 0) !== 0), inputs[5], inputs[6])
}
