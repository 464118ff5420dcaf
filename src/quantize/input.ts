import { IrInputError } from '../ir/errors.js'
import { roundHalfEven } from '../onnx/graph.js'
import type { IrInput } from '../ir/types.js'
import { sizeOf } from '../util/shape.js'

interface InputSpec {
  name: string
  shape: number[]
}

/** Deepest nesting read: a tensor has at most 8 dimensions, plus one for a sample list. */
const MAX_NESTING = 9

/** A JSON value for a message: numbers as JS prints them (JSON.stringify turns Infinity into "null"). */
const show = (v: unknown) =>
  typeof v === 'number' ? String(v) : v === undefined ? 'nothing' : (JSON.stringify(v)?.slice(0, 40) ?? String(v))

/** Flattens a nested list of numbers and returns its shape (rank 1 for a flat list); ragged lists are refused. */
function flatten(input: string, v: unknown, out: number[], path: string, depth = 0): number[] {
  if (Array.isArray(v)) {
    if (depth >= MAX_NESTING)
      throw new IrInputError({
        input,
        expected: `lists nested at most ${MAX_NESTING} deep`,
        actual: `deeper nesting at ${path}`,
      })
    const inner = v.map((x, i) => flatten(input, x, out, `${path}[${i}]`, depth + 1))
    for (let i = 1; i < inner.length; i++) {
      if (inner[i].join() !== inner[0].join())
        throw new IrInputError({
          input,
          expected: 'a rectangular nested list',
          actual: `a ragged list: ${path || 'top level'}[0] has shape [${inner[0]}], ${path}[${i}] has shape [${inner[i]}]`,
        })
    }
    return [v.length, ...(inner[0] ?? [])]
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    const why = typeof v === 'number' ? ' (a number too large for a double, or not a number)' : ''
    throw new IrInputError({ input, expected: 'finite numbers', actual: `${show(v)} at ${path || 'top level'}${why}` })
  }
  out.push(v)
  return []
}

/**
 * Reads model inputs from JSON: EZKL's `{"input_data": [[...flat...], ...]}` (one flat list
 * per model input, in order) or the named form `{"<input name>": nested array}`. Several
 * samples may be concatenated (calibration files): returns samples × inputs. A nested list
 * must have the input's exact shape (or, for several samples, [samples, ...shape]): only
 * a flat list is matched by its count alone. Unknown or mixed keys are refused.
 */
export function parseInputs(json: unknown, specs: readonly InputSpec[], { many = false } = {}): Float64Array[][] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new IrInputError({
      input: '(file)',
      expected: 'a JSON object {"input_data": [[...]]} or {"<input name>": [...]}',
      actual: json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json,
    })
  }
  const obj = json as Record<string, unknown>
  let lists: unknown[]
  if ('input_data' in obj) {
    const extra = Object.keys(obj).filter((k) => k !== 'input_data')
    if (extra.length > 0)
      throw new IrInputError({
        input: extra[0],
        expected: 'only the key "input_data" (or only input names, not both)',
        actual: `keys ${Object.keys(obj)
          .map((k) => `"${k}"`)
          .join(', ')}`,
      })
    const data = obj.input_data
    if (!Array.isArray(data) || data.length !== specs.length) {
      throw new IrInputError({
        input: 'input_data',
        expected: `a list of ${specs.length} flat list(s), one per model input (${specs.map((s) => s.name).join(', ')})`,
        actual: Array.isArray(data) ? `${data.length} list(s)` : data === null ? 'null' : typeof data,
      })
    }
    lists = data
  } else {
    const unknown = Object.keys(obj).filter((k) => !specs.some((s) => s.name === k))
    const missing = specs.filter((s) => !(s.name in obj)).map((s) => s.name)
    if (missing.length > 0 || unknown.length > 0) {
      throw new IrInputError({
        input: missing[0] ?? unknown[0],
        expected: `keys ${specs.map((s) => `"${s.name}"`).join(', ')} (or "input_data")`,
        actual: `keys ${
          Object.keys(obj)
            .map((k) => `"${k}"`)
            .join(', ') || 'none'
        }`,
      })
    }
    lists = specs.map((s) => obj[s.name])
  }
  const flat = specs.map((s, i) => {
    const out: number[] = []
    if (!Array.isArray(lists[i]))
      throw new IrInputError({
        input: s.name,
        expected: `a list of numbers (shape [${s.shape}])`,
        actual: show(lists[i]),
      })
    const shape = flatten(s.name, lists[i], out, '')
    const exact = shape.join() === s.shape.join()
    const batched = many && shape.length === s.shape.length + 1 && shape.slice(1).join() === s.shape.join()
    if (shape.length > 1 && !exact && !batched) {
      throw new IrInputError({
        input: s.name,
        expected: `a nested list of shape [${s.shape}]${many ? ` (or [samples, ${s.shape}])` : ''}, or a flat list of ${sizeOf(s.shape)} values`,
        actual: `shape [${shape}]`,
      })
    }
    return out
  })
  let samples = -1
  specs.forEach((s, i) => {
    const n = sizeOf(s.shape)
    const count = flat[i].length / n
    const ok = many ? Number.isInteger(count) && count >= 1 : count === 1
    if (!ok)
      throw new IrInputError({
        input: s.name,
        expected: `${many ? 'a multiple of ' : ''}${n} values (shape [${s.shape}])`,
        actual: `${flat[i].length} values`,
      })
    if (samples !== -1 && count !== samples)
      throw new IrInputError({
        input: s.name,
        expected: `${samples} samples like the other inputs`,
        actual: `${count}`,
      })
    samples = count
  })
  return Array.from({ length: samples }, (_, k) =>
    specs.map((s, i) => Float64Array.from(flat[i].slice(k * sizeOf(s.shape), (k + 1) * sizeOf(s.shape)))),
  )
}

/**
 * Quantises one sample to the model's integer input domains, as ONNX QuantizeLinear does and
 * onnxruntime computes it: q = roundHalfEven(float32(float32(x) / scale)) + zeroPoint (inputs
 * reach onnxruntime as float32, and it divides in float32). With the calibrated path's
 * power-of-two scales and zero point 0 this is round(x · 2^exp), ties to even.
 * Out-of-domain values are an error (QuantizeLinear would saturate them silently).
 */
export function quantizeInputs(inputs: readonly IrInput[], sample: readonly Float64Array[]): bigint[][] {
  return inputs.map((info, i) => {
    if (info.integer) return checkTokenIds(info.name, sample[i], info.lo, info.hi).map(BigInt)
    return Array.from(sample[i], (x, k) => {
      const v = roundHalfEven(Math.fround(Math.fround(x) / info.quant.scale)) + info.quant.zeroPoint
      // A value beyond float32 becomes ±Infinity: out of the domain like any other.
      if (!Number.isFinite(v) || v < Number(info.lo) || v > Number(info.hi)) {
        const [a, b] = [
          (Number(info.lo) - info.quant.zeroPoint) * info.quant.scale,
          (Number(info.hi) - info.quant.zeroPoint) * info.quant.scale,
        ]
        throw new IrInputError({
          input: info.name,
          expected: `values in the calibrated range [${a}, ${b}]`,
          actual: `${x} at index ${k}`,
          details: ['Recompile with calibration samples that cover this input.'],
        })
      }
      return BigInt(v)
    })
  })
}

/**
 * Token ids as given: integers in [lo, hi] (the rows of the table they index). A fraction or an
 * id outside the table is the input's error, by position — never rounded or wrapped (a negative
 * id, which ONNX Gather would count from the end, is outside: src/onnx/ops/embedding.ts).
 */
export function checkTokenIds(
  input: string,
  values: ArrayLike<number>,
  lo: bigint | number,
  hi: bigint | number,
  where = '',
): number[] {
  const [a, b] = [Number(lo), Number(hi)]
  // [0, 1] is also an attention mask's domain (src/onnx/ops/input-mask.ts).
  const what =
    a === 0 && b === 1
      ? '0 or 1 (an attention mask, or the ids of a 2-row table)'
      : `token ids: integers in [${a}, ${b}] (the rows of the table the input indexes)`
  return Array.from(values, (x, k) => {
    if (Number.isInteger(x) && x >= a && x <= b) return x
    throw new IrInputError({
      input,
      expected: what,
      actual: `${x} at index ${k}${where}`,
      details: [
        Number.isInteger(x) && x < 0
          ? 'Negative ids (counted from the end in ONNX) are not accepted: give the row number itself.'
          : 'Give the token ids the tokenizer produced, as JSON integers.',
      ],
    })
  })
}

/** The IR input of token ids: scale 1, the table's rows as its domain; every calibration sample must hold valid ids. */
export function tokenIdInput(
  info: { name: string; shape: number[] },
  domain: { lo: number; hi: number },
  id: number,
  calibration: readonly (readonly Float64Array[])[],
  position: number,
): IrInput {
  calibration.forEach((sample, s) =>
    checkTokenIds(info.name, sample[position], domain.lo, domain.hi, ` of sample ${s}`),
  )
  return {
    id,
    name: info.name,
    shape: info.shape,
    quant: { scale: 1, zeroPoint: 0 },
    lo: BigInt(domain.lo),
    hi: BigInt(domain.hi),
    integer: true,
  }
}

/** Real value of integer outputs: (q - zeroPoint) · scale. */
export function dequantize(values: readonly bigint[], quant: { scale: number; zeroPoint: number }): number[] {
  return values.map((q) => (Number(q) - quant.zeroPoint) * quant.scale)
}
