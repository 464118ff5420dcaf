import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as source from '../../src/index.js'
import { cliInProcess, ROOT } from '../helpers/cli.js'
import { installTarball, type PackReturnType, packTarball, run } from './install.js'

/**
 * What a user of the published package gets: `npm pack` of this checkout, installed into an empty
 * ESM project, used from plain Node 20 (no TypeScript loader) and from TypeScript. The subpath
 * exports are `veriml`, `veriml/optimistic` and `veriml/browser` (web, issue 19: also its one-file bundle and the page).
 */
let tmp: string
let app: string
let pack: PackReturnType
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const bin = () => join(app, 'node_modules', '.bin', 'veriml')

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'veriml-pack-'))
  app = join(tmp, 'app')
  pack = await packTarball(tmp)
  await installTarball(pack.tarball, app)
})

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

describe('the npm tarball', () => {
  it('carries dist (JS and .d.ts), bin, circuits, contracts and the demo models; no src, test, bench or .ci', () => {
    expect(pack.files.filter((f) => /^(src|test|bench|\.ci|build|node_modules)\//.test(f))).toEqual([])
    expect(pack.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    expect(pack.files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/veriml.mjs',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/optimistic/index.js',
        'dist/optimistic/index.d.ts',
        'dist/cli/main.js',
        // web (issue 19): the browser entry, its one-file bundle, and the page `veriml web` serves.
        'dist/browser/index.js',
        'dist/browser/index.d.ts',
        'dist/browser/veriml.esm.js',
        'dist/web/index.html',
        'dist/web/main.js',
        'dist/web/worker.js',
        // Spawned by compile, located beside their importer (src/prove/circom.ts → dist/prove/circom.js).
        'dist/prove/circom-wasi.mjs',
        'dist/prove/wat2wasm.mjs',
        'circuits/veriml.circom',
        'verifier-contracts/VerimlRegistry.sol',
        'verifier-contracts/optimistic/OptimisticGame.sol',
        // `veriml demo` and `veriml op demo`.
        'models/mnist-mlp.onnx',
        'models/mnist-mlp.json',
        'models/mnist-vit.onnx',
        'models/mnist-vit.json',
        'models/data/mnist-calibration.json',
        'models/data/mnist-input.json',
        'models/tiny-mlp.onnx',
      ]),
    )
  })
})

describe('installed into a fresh project', () => {
  it('imports in plain Node: `veriml` has the source surface from dist/, `veriml/optimistic` resolves, internals are closed', async () => {
    const script = [
      "const m = await import('veriml')",
      "const o = await import('veriml/optimistic')",
      "const b = await import('veriml/browser')",
      "const internal = await import('veriml/dist/cli/main.js').then(() => 'resolved', (e) => e.code)",
      "console.log(JSON.stringify({ keys: Object.keys(m), optimistic: typeof o.buildTrace, browser: typeof b.loadModel, internal, url: import.meta.resolve('veriml') }))",
    ].join('\n')
    const r = await run(process.execPath, ['--input-type=module', '-e', script], app)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {
      keys: string[]
      optimistic: string
      browser: string
      internal: string
      url: string
    }
    expect(out.keys.sort()).toEqual(Object.keys(source).sort())
    expect(out.keys).toEqual(expect.arrayContaining(['proveModel', 'compileModel']))
    expect(out.optimistic).toBe('function')
    expect(out.browser).toBe('function')
    expect(out.internal).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED')
    expect(out.url).toBe(`file://${join(app, 'node_modules', 'veriml', 'dist', 'index.js')}`)
  })

  it('typechecks a TypeScript consumer against the shipped .d.ts, library checks on (skipLibCheck false)', async () => {
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        include: ['consumer.ts'],
      }),
    )
    await writeFile(
      join(app, 'consumer.ts'),
      [
        "import { compileModel, proveModel, type CompileModelParameters } from 'veriml'",
        "import { buildTrace } from 'veriml/optimistic'",
        '',
        "const parameters: CompileModelParameters = { onnxPath: 'model.onnx', outDir: 'build/m' }",
        'export const api: [CompileModelParameters, typeof compileModel, typeof proveModel, typeof buildTrace] = [',
        '  parameters, compileModel, proveModel, buildTrace,',
        ']',
        // Real types, not `any`: a wrong argument must be an error, else this directive is one.
        '// @ts-expect-error onnxPath is a string',
        'compileModel({ onnxPath: 42 })',
        '',
      ].join('\n'),
    )
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app)
    expect(r.stdout + r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  it('runs the installed bin (node_modules/.bin/veriml --help): exit 0, the usage', async () => {
    const r = await run(bin(), ['--help'], app)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('usage: veriml <command>')
  })

  it('compiles the shipped tiny model through the installed CLI (circom helpers, templates) and runs it as the source CLI does', async () => {
    const model = join(app, 'node_modules', 'veriml', 'models', 'tiny-mlp.onnx')
    // --compiler circom: the installed package's circom helpers (wasi runner, wat2wasm) and templates run.
    const compiled = await run(
      bin(),
      ['compile', model, '--out', join(app, 'build', 'tiny'), '--compiler', 'circom'],
      app,
    )
    expect(compiled.code, compiled.stderr).toBe(0)
    const manifest = JSON.parse(await readFile(join(app, 'build', 'tiny', 'manifest.json'), 'utf8'))
    expect(manifest.constraintCount).toBeGreaterThan(0)
    const input = join(app, 'input.json')
    await writeFile(input, JSON.stringify({ input: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]] }))
    const installed = await run(bin(), ['run', join(app, 'build', 'tiny'), '--input', input], app)
    expect(installed.code, installed.stderr).toBe(0)
    const fromSource = await cliInProcess('run', join(app, 'build', 'tiny'), '--input', input)
    expect(fromSource.code).toBe(0)
    expect(JSON.parse(installed.stdout)).toEqual(JSON.parse(fromSource.stdout))
  })

  it('plays `veriml op demo` from the installed package: shipped contracts and default model, honest side wins', async () => {
    const r = await run(bin(), ['op', 'demo', '--json', '--poll-ms', '50'], app)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).outcome).toMatchObject({
      ok: true,
      honestClaim: 'Finalized',
      cheatingClaim: 'Rejected',
    })
  })
})
