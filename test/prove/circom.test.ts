import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compileCircom } from '../../src/prove/circom.js'
import { ToolError } from '../../src/prove/errors.js'

const circuit = (body: string) =>
  `pragma circom 2.1.0;\ntemplate A() {\n    signal input a;\n    signal output b;\n    ${body}\n}\ncomponent main = A();\n`

/** circom2 runs under Node's WASI and writes wat, which wabt converts (src/prove/circom.ts). */
describe('compileCircom', () => {
  it('writes r1cs, sym and a wasm witness generator that computes the witness; no wat left behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veriml-circom-'))
    await writeFile(join(dir, 'model.circom'), circuit('b <== a * a + 3;'))
    const r = await compileCircom(dir)
    expect(r.constraintCount).toBe(1)
    for (const f of ['model.r1cs', 'model.sym', 'model_js/model.wasm', 'model_js/witness_calculator.js'])
      expect(existsSync(join(dir, f)), f).toBe(true)
    expect(existsSync(join(dir, 'model_js', 'model.wat'))).toBe(false)
    const builder = createRequire(import.meta.url)(join(dir, 'model_js', 'witness_calculator.js')) as (
      code: Buffer,
    ) => Promise<{ calculateWitness(input: unknown, sanityCheck: boolean): Promise<bigint[]> }>
    const calculator = await builder(readFileSync(join(dir, 'model_js', 'model.wasm')))
    expect((await calculator.calculateWitness({ a: 7 }, true)).map(BigInt)).toEqual([1n, 52n, 7n])
  })

  it("fails with circom's own message and a non-zero exit", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veriml-circom-'))
    await writeFile(join(dir, 'model.circom'), circuit('b <== a * ;'))
    const error = await compileCircom(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ToolError)
    expect((error as ToolError).message).toMatch(/^circom2: compilation failed \(exit 1\)/)
    expect((error as ToolError).stderrTail).toMatch(/illegal expression/)
  })
})
