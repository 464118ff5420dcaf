import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { r1csCounts } from '../../bench/compile/r1cs-counts.js'
import { mlpModel } from '../../bench/sweep/models.js'
import { buildDirect } from '../../src/circuit/direct/build.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { defaultCalibration } from '../../src/prove/compile.js'
import { parseR1cs } from '../../src/prove/r1cs.js'
import { writeSystemFiles } from '../../src/prove/r1cs-files.js'
import { quantize } from '../../src/quantize/quantize.js'

describe('r1csCounts (the compile benchmark reads counts without parsing terms)', () => {
  it('gives the constraint, wire and non-zero-coefficient counts the full parser gives', async () => {
    const graph = lowerOnnx(parseOnnx(mlpModel([6, 5, 3], 3).onnx as Uint8Array))
    const ir = quantize(graph, defaultCalibration(graph.inputs))
    const { system } = buildDirect({
      model: ir,
      bounds: analyzeBounds(ir),
      visibility: { input: 'public', output: 'public' },
    })
    const dir = await mkdtemp(join(tmpdir(), 'veriml-r1cs-counts-'))
    const r1csPath = join(dir, 'model.r1cs')
    await writeSystemFiles({ system, r1csPath, symPath: join(dir, 'model.sym') })
    const parsed = parseR1cs(await readFile(r1csPath))
    const terms = parsed.constraints.reduce((n, abc) => n + abc.reduce((m, lc) => m + lc.length, 0), 0)
    expect(terms).toBeGreaterThan(parsed.nConstraints)
    expect(await r1csCounts(r1csPath)).toEqual({
      constraints: parsed.nConstraints,
      wires: parsed.nVars,
      nonZeroCoefficients: terms,
    })
  })

  it('refuses a file that is not an r1cs', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'veriml-r1cs-counts-')), 'x.r1cs')
    await writeFile(path, 'not an r1cs file at all')
    await expect(r1csCounts(path)).rejects.toThrow(/not an r1cs file/)
  })
})
