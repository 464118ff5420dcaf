/**
 * Constraints, wires and non-zero coefficients of an iden3 `.r1cs` file, read by scanning the
 * binary (header section 1, constraints section 2) instead of parsing every term into objects:
 * the ≥ 5M-term models would need more memory for the parse than for their compile.
 */
import { readFile } from 'node:fs/promises'

export interface R1csCounts {
  constraints: number
  wires: number
  nonZeroCoefficients: number
}

export async function r1csCounts(path: string): Promise<R1csCounts> {
  const bytes = await readFile(path)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.toString('latin1', 0, 4) !== 'r1cs') throw new Error(`${path}: not an r1cs file`)
  const sections = view.getUint32(8, true)
  let fieldSize = 0
  let wires = 0
  let constraints = 0
  let constraintsAt = -1
  let at = 12
  for (let s = 0; s < sections; s++) {
    const type = view.getUint32(at, true)
    const size = Number(view.getBigUint64(at + 4, true))
    const body = at + 12
    if (type === 1) {
      fieldSize = view.getUint32(body, true)
      const after = body + 4 + fieldSize
      wires = view.getUint32(after, true)
      constraints = view.getUint32(after + 4 * 4 + 8, true)
    } else if (type === 2) constraintsAt = body
    at = body + size
  }
  if (constraintsAt < 0 || fieldSize === 0) throw new Error(`${path}: no header or constraints section`)
  // Each constraint is three linear combinations A, B, C: a term count, then (wire u32, coefficient) pairs.
  let nonZeroCoefficients = 0
  at = constraintsAt
  for (let c = 0; c < constraints * 3; c++) {
    const n = view.getUint32(at, true)
    nonZeroCoefficients += n
    at += 4 + n * (4 + fieldSize)
  }
  return { constraints, wires, nonZeroCoefficients }
}
