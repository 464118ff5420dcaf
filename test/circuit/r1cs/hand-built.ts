/**
 * A small system built by hand with the direct builder, for the witness and proof tests: a
 * product x·y = z, an 8-bit range check of v (bits b·(b − 1) = 0 and Σ 2^i·b_i = v) and a
 * linear output s = x + 3y − 2z + 5 (negative for the sample values: a field element p − 52).
 * Public signals: s (output), x (public input).
 */
import { ConstraintSystem, type Wire } from '../../../src/circuit/r1cs/system.js'

export const BITS = 8

export interface HandBuilt {
  system: ConstraintSystem
  wires: { s: Wire; x: Wire; y: Wire; v: Wire; z: Wire; bits: Wire[] }
  /** Every wire's value for x, y, v. */
  values(x: bigint, y: bigint, v: bigint): Map<Wire, bigint>
}

export function handBuilt(): HandBuilt {
  const system = new ConstraintSystem()
  const s = system.signal('output', 'main.s')
  const x = system.signal('publicInput', 'main.x')
  const y = system.signal('privateInput', 'main.y')
  const v = system.signal('privateInput', 'main.v')
  const z = system.signal('internal', 'main.z')
  const bits = system.signals('internal', 'main.bits.out', BITS)
  system.constrain([[x, 1n]], [[y, 1n]], [[z, 1n]])
  for (const b of bits)
    system.constrain(
      [[b, 1n]],
      [
        [b, 1n],
        [0, -1n],
      ],
      [],
    )
  system.linear([...bits.map((b, i): [Wire, bigint] => [b, 1n << BigInt(i)]), [v, -1n]])
  system.linear([
    [s, 1n],
    [x, -1n],
    [y, -3n],
    [z, 2n],
    [0, -5n],
  ])
  const values = (xv: bigint, yv: bigint, vv: bigint) => {
    const zv = xv * yv
    return new Map<Wire, bigint>([
      [s, xv + 3n * yv - 2n * zv + 5n],
      [x, xv],
      [y, yv],
      [v, vv],
      [z, zv],
      ...bits.map((b, i): [Wire, bigint] => [b, (vv >> BigInt(i)) & 1n]),
    ])
  }
  return { system, wires: { s, x, y, v, z, bits }, values }
}
