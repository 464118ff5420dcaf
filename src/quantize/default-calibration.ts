import { sizeOf } from '../util/shape.js'

/** How many samples the default calibration draws. */
export const DEFAULT_CALIBRATION_SAMPLES = 32

interface CalibratedInput {
  shape: number[]
  tokenIds?: { lo: number; hi: number }
  binary?: true
}

/**
 * Seeded uniform samples in [-1, 1) (token ids: uniform over their rows; attention masks:
 * padded rows, see paddingMask): the calibration
 * compile uses when the user gives none, and inspect when the model reads token ids. One
 * function for both, so inspect's estimate is the one compile would build.
 */
export function defaultCalibration(specs: readonly CalibratedInput[]): Float64Array[][] {
  let s = 0x9e3779b9
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
  return Array.from({ length: DEFAULT_CALIBRATION_SAMPLES }, () =>
    specs.map((x) => {
      if (x.binary) return paddingMask(x.shape, rand)
      const ids = x.tokenIds
      return Float64Array.from({ length: sizeOf(x.shape) }, () =>
        ids ? ids.lo + Math.floor(rand() * (ids.hi - ids.lo + 1)) : rand() * 2 - 1,
      )
    }),
  )
}

/**
 * An attention mask as a tokenizer pads a batch: each row (last axis) keeps a random number
 * of leading tokens, at least one (a row masked entirely has no softmax), and masks the rest.
 */
function paddingMask(shape: readonly number[], rand: () => number): Float64Array {
  const row = shape.at(-1) ?? 1
  const out = new Float64Array(sizeOf([...shape]))
  for (let at = 0; at < out.length; at += row) out.fill(1, at, at + 1 + Math.floor(rand() * row))
  return out
}

/** What the default calibration assumed, as the manifest and inspect say it. */
export function describeDefaultCalibration(specs: readonly CalibratedInput[]): string {
  const ids = specs.some((i) => i.tokenIds) ? " (token ids: uniform over their table's rows)" : ''
  const masks = specs.some((i) => i.binary) ? ' (attention masks: 1 for a random number of leading tokens, then 0)' : ''
  return `default: ${DEFAULT_CALIBRATION_SAMPLES} seeded uniform samples in [-1, 1)${ids}${masks}`
}
