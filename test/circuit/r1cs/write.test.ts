import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { concatChunks } from '../../../src/circuit/r1cs/chunks.js'
import { CoefficientTable, writeBigLE } from '../../../src/circuit/r1cs/coefficients.js'
import { SignalOrderError, UnknownWireError } from '../../../src/circuit/r1cs/errors.js'
import { ConstraintSystem } from '../../../src/circuit/r1cs/system.js'
import { r1csByteLength, r1csBytes, r1csChunks } from '../../../src/circuit/r1cs/write-r1cs.js'
import { symText } from '../../../src/circuit/r1cs/write-sym.js'
import { parseR1cs } from '../../../src/prove/r1cs.js'
import { writeSystemFiles } from '../../../src/prove/r1cs-files.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { readSym } from '../../helpers/r1cs.js'
import { loadSnarkjs, terminateSnarkjs } from '../../helpers/tiny-circuit.js'

afterAll(terminateSnarkjs)

const BIG = 2n ** 200n + 12345n

interface SnarkjsR1cs {
  info(
    path: string,
  ): Promise<Record<'nVars' | 'nOutputs' | 'nPubInputs' | 'nPrvInputs' | 'nLabels' | 'nConstraints', number>>
  exportJson(path: string): Promise<{ constraints: Record<string, string>[][]; map: number[] }>
}

/** Every kind of coefficient and every role: small, negative, large, merged duplicates, a linear constraint. */
function sample(): ConstraintSystem {
  const s = new ConstraintSystem()
  const [y, z] = s.signals('output', 'main.out', 2)
  const a = s.signal('publicInput', 'main.a')
  const [b, c] = s.signals('privateInput', 'main.in', 2)
  const t = s.signal('internal', 'main.t')
  const u = s.signal('internal', 'main.sub.u')
  s.constrain([[a, 1n]], [[b, 1n]], [[t, 1n]])
  // Unsorted and repeated wires: stored sorted, merged, zero dropped.
  s.constrain(
    new Map([
      [c, -3n],
      [0, 5n],
    ]),
    [
      [t, BIG],
      [u, 2n],
      [u, -2n],
    ],
    [
      [z!, 1n],
      [z!, P - 1n],
      [y!, P + 7n],
    ],
  )
  s.linear([
    [u, 1n],
    [t, -1n],
    [c, BIG],
    [0, -7n],
  ])
  return s
}

describe('ConstraintSystem', () => {
  it('numbers wires one, outputs, public, private, internal and names them as circom does', () => {
    const s = sample()
    expect([s.wireCount, s.outputCount, s.publicInputCount, s.privateInputCount, s.constraintCount]).toEqual([
      8, 2, 1, 2, 3,
    ])
    expect(Array.from({ length: 8 }, (_, w) => s.nameOf(w))).toEqual([
      'one',
      'main.out[0]',
      'main.out[1]',
      'main.a',
      'main.in[0]',
      'main.in[1]',
      'main.t',
      'main.sub.u',
    ])
    // 3 + (2 + 1 + 1) + 4 non-zero terms: u·2 − u·2 and z − z cancel.
    expect(s.termCount).toBe(11)
    expect(s.constraint(1)).toEqual([
      [
        [0, 5n],
        [5, P - 3n],
      ],
      [[6, BIG]],
      [[1, 7n]],
    ])
    expect(s.constraint(2)).toEqual([
      [],
      [],
      [
        [0, P - 7n],
        [5, BIG],
        [6, P - 1n],
        [7, 1n],
      ],
    ])
  })

  it('refuses a signal declared after a later role, and a wire it does not have', () => {
    const s = new ConstraintSystem()
    s.signal('privateInput', 'main.x')
    expect(() => s.signal('output', 'main.y')).toThrow(SignalOrderError)
    expect(() => s.constrain([[2, 1n]], [], [])).toThrow(UnknownWireError)
    expect(() => s.linear([[-1, 1n]])).toThrow(UnknownWireError)
  })

  it('stores small, negative and large coefficients exactly and writes their 32-byte encodings', () => {
    const table = new CoefficientTable()
    for (const c of [1n, 2n ** 51n - 1n, 2n ** 51n, P - 1n, P - (2n ** 51n - 1n), P - 2n ** 51n, BIG, P - BIG]) {
      const slot = table.encode(c)
      expect(table.decode(slot)).toBe(c)
      const got = new Uint8Array(32)
      table.writeLE(got, new DataView(got.buffer), 0, slot)
      const want = new Uint8Array(32)
      writeBigLE(want, 0, c)
      expect(got).toEqual(want)
    }
    expect(table.encode(BIG)).toBe(table.encode(BIG))
    expect(table.tableSize).toBe(4)
  })
})

describe('r1cs writer', () => {
  it('streams the same bytes in any chunk size, of the size it announces', () => {
    const s = sample()
    const whole = r1csBytes(s)
    expect(whole.byteLength).toBe(r1csByteLength(s))
    expect(concatChunks(r1csChunks(s, 80))).toEqual(whole)
  })

  it("round-trips through veriml's reader and snarkjs's r1cs.info and exportJson", async () => {
    const s = sample()
    const dir = await mkdtemp(join(tmpdir(), 'veriml-r1cs-'))
    const r1csPath = join(dir, 'c.r1cs')
    const written = await writeSystemFiles({ system: s, r1csPath, symPath: join(dir, 'c.sym') })
    expect(written.r1csBytes).toBe(r1csByteLength(s))

    const ours = parseR1cs(await readFile(r1csPath))
    expect([ours.nVars, ours.nOutputs, ours.nPubInputs, ours.nPrvInputs, ours.nConstraints]).toEqual([8, 2, 1, 2, 3])
    const asPairs = (lc: { wire: number; coefficient: bigint }[]) => lc.map((t) => [t.wire, t.coefficient])
    for (let k = 0; k < 3; k++) expect(ours.constraints[k]!.map(asPairs)).toEqual(s.constraint(k))

    // src/types/vendor.d.ts types r1cs.info without nLabels and lacks exportJson.
    const { r1cs } = (await loadSnarkjs()) as unknown as { r1cs: SnarkjsR1cs }
    const info = await r1cs.info(r1csPath)
    expect([info.nVars, info.nOutputs, info.nPubInputs, info.nPrvInputs, info.nLabels, info.nConstraints]).toEqual([
      8, 2, 1, 2, 8, 3,
    ])
    const json = await r1cs.exportJson(r1csPath)
    expect(json.map).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    const fromJson = json.constraints.map((abc) =>
      abc.map((lc) =>
        Object.entries(lc)
          .map(([w, c]) => [Number(w), BigInt(c)])
          .sort((x, y) => Number(x[0]) - Number(y[0])),
      ),
    )
    expect(fromJson).toEqual([0, 1, 2].map((k) => s.constraint(k)))
  })

  it('writes .sym lines label,wire,component,name from label 1, names by component path', async () => {
    const s = sample()
    expect(symText(s).split('\n').slice(0, 3)).toEqual(['1,1,0,main.out[0]', '2,2,0,main.out[1]', '3,3,0,main.a'])
    expect(symText(s).split('\n').at(-2)).toBe('7,7,1,main.sub.u')
    expect(symText(s).endsWith('\n')).toBe(true)
    const dir = await mkdtemp(join(tmpdir(), 'veriml-sym-'))
    await writeSystemFiles({ system: s, r1csPath: join(dir, 'c.r1cs'), symPath: join(dir, 'c.sym') })
    const sym = await readSym(join(dir, 'c.sym'))
    expect([...sym]).toEqual(Array.from({ length: 7 }, (_, i) => [i + 1, s.nameOf(i + 1)]))
  })
})
