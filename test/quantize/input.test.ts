import { describe, expect, it } from 'vitest'
import { IrInputError } from '../../src/ir/errors.js'
import { parseInputs, quantizeInputs } from '../../src/quantize/input.js'
import type { IrInput } from '../../src/ir/types.js'

const specs = [{ name: 'x', shape: [1, 2, 2] }]
const domain: IrInput[] = [
  { id: 0, name: 'x', shape: [1, 2, 2], quant: { scale: 1 / 64, zeroPoint: 0 }, lo: -128n, hi: 127n },
]

describe('input files', () => {
  it('reads EZKL input_data and the named nested form alike', () => {
    const a = parseInputs({ input_data: [[0.5, -1, 0.25, 1]] }, specs)
    const b = parseInputs(
      {
        x: [
          [
            [0.5, -1],
            [0.25, 1],
          ],
        ],
      },
      specs,
    )
    expect(a).toEqual(b)
    expect(Array.from(a[0][0])).toEqual([0.5, -1, 0.25, 1])
  })

  it('splits concatenated calibration samples', () => {
    expect(parseInputs({ input_data: [[1, 2, 3, 4, 5, 6, 7, 8]] }, specs, { many: true })).toHaveLength(2)
  })

  it.each([
    [{ input_data: [[1, 2, 3]] }, /input "x": expected 4 values \(shape \[1,2,2\]\), found 3 values/],
    [{ input_data: [[1, 2, 3, 'a']] }, /input "x": expected finite numbers, found "a" at \[3\]/],
    [{ input_data: [[1, 2, 3, null]] }, /found null/],
    [{ y: [1, 2, 3, 4] }, /input "x": expected keys "x"/],
    [{ input_data: [[1, 2, 3, 4], [5]] }, /a list of 1 flat list/],
    [[1, 2], /expected a JSON object/],
  ])('names the input, the expected shape and what was found: %j', (json, message) => {
    expect(() => parseInputs(json, specs)).toThrow(IrInputError)
    expect(() => parseInputs(json, specs)).toThrow(message)
  })

  it('rejects NaN passed programmatically', () => {
    expect(() => parseInputs({ input_data: [[1, Number.NaN, 0, 0]] }, specs)).toThrow(/finite numbers/)
  })

  it('rounds ties to even and adds the zero point, as QuantizeLinear does', () => {
    const qdq: IrInput[] = [{ ...domain[0], quant: { scale: 0.5, zeroPoint: 10 }, lo: 0n, hi: 255n }]
    expect(quantizeInputs(qdq, [Float64Array.of(0.25, 0.75, -0.25, -0.75)])).toEqual([[10n, 12n, 10n, 8n]])
    expect(() => quantizeInputs(qdq, [Float64Array.of(0, 0, 0, -5.5)])).toThrow(
      /expected values in the calibrated range \[-5, 122.5\], found -5.5 at index 3/,
    )
    expect(() => quantizeInputs(qdq, [Float64Array.of(0, 0, 0, 1e300)])).toThrow(/found 1e\+300 at index 3/)
  })

  it('quantises to the calibrated domain and rejects values outside it', () => {
    expect(quantizeInputs(domain, [Float64Array.of(0.5, -1, 0.25, 1)])).toEqual([[32n, -64n, 16n, 64n]])
    expect(() => quantizeInputs(domain, [Float64Array.of(0, 0, 2.5, 0)])).toThrow(
      /input "x": expected values in the calibrated range \[-2, 1.984375\], found 2.5 at index 2/,
    )
  })
})
