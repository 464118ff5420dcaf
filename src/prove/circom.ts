import { spawn } from 'node:child_process'
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageVersion } from '../util/versions.js'
import { ToolError } from './errors.js'

const require = createRequire(import.meta.url)
const HERE = dirname(fileURLToPath(import.meta.url))
// dist/ mirrors src/, so the package root is two levels up from either.
const ROOT = join(HERE, '..', '..')

/** circomlib templates the generated circuits include (their include closure). */
const CIRCOMLIB = ['bitify', 'comparators', 'aliascheck', 'compconstant', 'binsum', 'poseidon', 'poseidon_constants']

export interface CompileCircomReturnType {
  constraintCount: number
  compileMs: number
  version: string
}

export interface CompileCircomParameters {
  /** The circuit is `<dir>/<name>.circom`; outputs are `<name>.r1cs`, `<name>.sym`, `<name>_js/`. */
  name?: string
  /** circom's simplification level: O1 keeps linear constraints, O2 substitutes them away. */
  optimization?: 'O1' | 'O2'
  onLine?: (line: string) => void
}

/**
 * Compiles `<dir>/<name>.circom` with the circom2 package (circom as WebAssembly), run under
 * Node's WASI by circom-wasi.mjs (circom2's own runner fails past 2 GiB of compiler memory);
 * circom writes its witness generator as text and wat2wasm.mjs converts it (circom's own
 * conversion runs out of the compiler's 4 GiB on ~800k-term circuits).
 * circom2 cannot read through `..`, so the templates it includes are copied next to the
 * circuit and it runs with the circuit folder as its working directory.
 */
export async function compileCircom(
  dir: string,
  { name = 'model', optimization = 'O1', onLine }: CompileCircomParameters = {},
): Promise<CompileCircomReturnType> {
  await copyFile(join(ROOT, 'circuits', 'veriml.circom'), join(dir, 'veriml.circom'))
  const lib = join(dir, 'circomlib', 'circuits')
  await mkdir(lib, { recursive: true })
  const circomlibDir = dirname(require.resolve('circomlib/package.json'))
  for (const f of CIRCOMLIB) await copyFile(join(circomlibDir, 'circuits', `${f}.circom`), join(lib, `${f}.circom`))
  await rm(join(dir, `${name}_js`), { recursive: true, force: true })
  const args = [`${name}.circom`, '--r1cs', '--wat', '--sym', `--${optimization}`, '-o', '.']
  // --no-turbo-fast-api-calls: Node's WASI can crash V8 when a fast call grows memory and
  // triggers a GC (nodejs/node#46777); seen here twice in ~1,000 compiles under load.
  let argv = [
    '--no-turbo-fast-api-calls',
    '--disable-warning=ExperimentalWarning',
    join(HERE, 'circom-wasi.mjs'),
    ...args,
  ]
  const started = performance.now()
  let { stdout, stderr, code } = await run(process.execPath, argv, dir, onLine)
  if (code !== 0 && /v8::internal|Fatal error|Check failed/.test(stderr)) {
    // A crash of the host, not a circom error: once more with circom2's own runner (fine below 2 GiB).
    argv = [require.resolve('circom2/cli.js'), ...args]
    ;({ stdout, stderr, code } = await run(process.execPath, argv, dir, onLine))
  }
  if (code !== 0) {
    // The compiler is wasm32: 4 GiB of memory whatever the machine has.
    const outOfMemory = /memory allocation of \d+ bytes failed|cannot be run on WebAssembly/.test(stderr + stdout)
    throw new ToolError({
      tool: 'circom2',
      argv,
      stderr: stderr || stdout,
      problem: outOfMemory
        ? 'ran out of memory: circom as WebAssembly has 4 GiB, and this circuit needs more'
        : `compilation failed (exit ${code})`,
      details: outOfMemory
        ? [
            "The compiler's memory grows with the weight terms of the linear layers (790k compiled here, 1.07M did not). Use a smaller model, or prune weights (zero weights are not terms).",
          ]
        : [],
    })
  }
  const wat = join(`${name}_js`, `${name}.wat`)
  const convertArgv = [join(HERE, 'wat2wasm.mjs'), wat, join(`${name}_js`, `${name}.wasm`)]
  const converted = await run(process.execPath, convertArgv, dir)
  if (converted.code !== 0)
    throw new ToolError({
      tool: 'wabt',
      argv: convertArgv,
      stderr: converted.stderr,
      problem: `could not convert circom's witness generator to wasm (exit ${converted.code})`,
    })
  await rm(join(dir, wat))
  // circom's witness_calculator.js is CommonJS; mark its folder so Node loads it as such
  // whatever the enclosing package's module type is.
  await writeFile(join(dir, `${name}_js`, 'package.json'), '{ "type": "commonjs" }\n')
  const match = /non-linear constraints: (\d+)[\s\S]*?linear constraints: (\d+)/.exec(stdout)
  const constraintCount = match ? Number(match[1]) + Number(match[2]) : NaN
  return { constraintCount, compileMs: performance.now() - started, version: packageVersion('circom2') }
}

function run(
  cmd: string,
  argv: string[],
  cwd: string,
  onLine?: (line: string) => void,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
      if (onLine) for (const l of d.toString().split('\n')) if (l.trim()) onLine(l)
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.on('error', (cause) => reject(new ToolError({ tool: 'circom2', argv, problem: 'could not start', cause })))
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 1 }))
  })
}
