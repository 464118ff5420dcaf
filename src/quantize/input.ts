import { IrInputError } from '../ir/errors.js'
import { roundHalfEven } from '../onnx/graph.js'
import type { IrInput } from '../ir/types.js'
import { sizeOf } from '../util/shape.js'

interface InputSpec { name: string; shape: number[] }

function flatten(input: string, v: unknown, out: number[], path: string): void {
  if (Array.isArray(v)) { v.forEach((x, i) => flatten(input, x, out, `${path}[${i}]`)); return }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new IrInputError({ input, expected: 'finite numbers', actual: `${JSON.stringify(v)} at ${path || 'top level'}` })
  }
  out.push(v)
}

/**
 * Reads model inputs from JSON: EZKL's `{"input_data": [[...flat...], ...]}` (one flat list
 * per model input, in order) or the named form `{"<input name>": nested array}`. Several
 * samples may be concatenated (calibration files): returns samples × inputs.
 */
export function parseInputs(json: unknown, specs: readonly InputSpec[], { many = false } = {}): Float64Array[][] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new IrInputError({ input: '(file)', expected: 'a JSON object {"input_data": [[...]]} or {"<input name>": [...]}', actual: Array.isArray(json) ? 'an array' : typeof json })
  }
  const obj = json as Record<string, unknown>
  let lists: unknown[]
  if ('input_data' in obj) {
    const data = obj.input_data
    if (!Array.isArray(data) || data.length !== specs.length) {
      throw new IrInputError({ input: 'input_data', expected: `a list of ${specs.length} flat list(s), one per model input (${specs.map((s) => s.name).join(', ')})`, actual: Array.isArray(data) ? `${data.length} list(s)` : typeof data })
    }
    lists = data
  } else {
    const unknown = Object.keys(obj).filter((k) => !specs.some((s) => s.name === k))
    const missing = specs.filter((s) => !(s.name in obj)).map((s) => s.name)
    if (missing.length > 0 || unknown.length > 0) {
      throw new IrInputError({ input: missing[0] ?? unknown[0], expected: `keys ${specs.map((s) => `"${s.name}"`).join(', ')} (or "input_data")`, actual: `keys ${Object.keys(obj).map((k) => `"${k}"`).join(', ') || 'none'}` })
    }
    lists = specs.map((s) => obj[s.name])
  }
  const flat = specs.map((s, i) => { const out: number[] = []; flatten(s.name, lists[i], out, ''); return out })
  let samples = -1
  specs.forEach((s, i) => {
    const n = sizeOf(s.shape)
    const count = flat[i].length / n
    const ok = many ? Number.isInteger(count) && count >= 1 : count === 1
    if (!ok) throw new IrInputError({ input: s.name, expected: `${many ? 'a multiple of ' : ''}${n} values (shape [${s.shape}])`, actual: `${flat[i].length} values` })
    if (samples !== -1 && count !== samples) throw new IrInputError({ input: s.name, expected: `${samples} samples like the other inputs`, actual: `${count}` })
    samples = count
  })
  return Array.from({ length: samples }, (_, k) => specs.map((s, i) => Float64Array.from(flat[i].slice(k * sizeOf(s.shape), (k + 1) * sizeOf(s.shape)))))
}

/**
 * Quantises one sample to the model's integer input domains, as ONNX QuantizeLinear does and
 * onnxruntime computes it: q = roundHalfEven(float32(float32(x) / scale)) + zeroPoint (inputs
 * reach onnxruntime as float32, and it divides in float32). With the calibrated path's
 * power-of-two scales and zero point 0 this is round(x · 2^exp), ties to even.
 * Out-of-domain values are an error (QuantizeLinear would saturate them silently).
 */
export function quantizeInputs(inputs: readonly IrInput[], sample: readonly Float64Array[]): bigint[][] {
  return inputs.map((info, i) => Array.from(sample[i], (x, k) => {
    const v = roundHalfEven(Math.fround(Math.fround(x) / info.quant.scale)) + info.quant.zeroPoint
    // A value beyond float32 becomes ±Infinity: out of the domain like any other.
    if (!Number.isFinite(v) || v < Number(info.lo) || v > Number(info.hi)) {
      const [a, b] = [(Number(info.lo) - info.quant.zeroPoint) * info.quant.scale, (Number(info.hi) - info.quant.zeroPoint) * info.quant.scale]
      throw new IrInputError({ input: info.name, expected: `values in the calibrated range [${a}, ${b}]`, actual: `${x} at index ${k}`, details: ['Recompile with calibration samples that cover this input.'] })
    }
    return BigInt(v)
  }))
}

/** Real value of integer outputs: (q - zeroPoint) · scale. */
export function dequantize(values: readonly bigint[], quant: { scale: number; zeroPoint: number }): number[] {
  return values.map((q) => (Number(q) - quant.zeroPoint) * quant.scale)
}
