import { execFile } from 'node:child_process'
import { chmod, mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ROOT } from '../helpers/cli.js'

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** A child process to completion; never rejects (the exit code is the result). */
export function run(command: string, args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 64 * 2 ** 20, timeout: 300_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code
      resolve({ code: error ? (typeof code === 'number' ? code : null) : 0, stdout, stderr })
    })
  })
}

export interface PackReturnType {
  tarball: string
  /** Paths inside the tarball, relative to its `package/` folder. */
  files: string[]
}

/**
 * `npm pack` of the checkout. --ignore-scripts: prepack's clean build would delete dist/ under
 * any CLI another test is running; the vitest globalSetup has just built dist/ from the sources.
 */
export async function packTarball(destination: string): Promise<PackReturnType> {
  const r = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], ROOT)
  if (r.code !== 0) throw new Error(`npm pack failed (exit ${r.code}):\n${r.stderr}`)
  const [report] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[]
  return { tarball: join(destination, report.filename), files: report.files.map((f) => f.path) }
}

interface LockEntry {
  dev?: boolean
}

/**
 * The tarball installed into `app/node_modules/veriml` as npm would, without npm: extracted, its
 * bin linked into node_modules/.bin, and its declared dependencies linked to this checkout's
 * installed copies. Why not `npm install <tarball>`: offline it depends on what the npm cache
 * holds, online on the registry, and either way copies onnxruntime-node's hundreds of MB; this is
 * offline by construction and takes a second. Only the declared (and optional) dependencies are
 * linked, so a run-time import of anything else (tsx, typescript, a transitive package) fails as
 * it would for a user. For types, the production `@types/*` packages npm would hoist beside them
 * (`@types/long`, which onnx-proto's declarations use, arrives through protobufjs).
 */
export async function installTarball(tarball: string, app: string): Promise<void> {
  const modules = join(app, 'node_modules')
  await mkdir(join(modules, '.bin'), { recursive: true })
  await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module' })}\n`)
  const untar = await run('tar', ['-xzf', tarball, '-C', modules], app)
  if (untar.code !== 0) throw new Error(`tar failed (exit ${untar.code}):\n${untar.stderr}`)
  const pkg = join(modules, 'veriml')
  await rename(join(modules, 'package'), pkg)
  const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as {
    bin: Record<string, string>
    dependencies: Record<string, string>
    optionalDependencies?: Record<string, string>
  }
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>
  }
  const hoistedTypes = Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/@types\/[^/]+$/.test(path) && !entry.dev)
    .map(([path]) => path.slice('node_modules/'.length))
  const links = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.optionalDependencies ?? {})]
  for (const name of [...links, ...hoistedTypes]) {
    await mkdir(dirname(join(modules, name)), { recursive: true })
    await symlink(join(ROOT, 'node_modules', name), join(modules, name), 'dir')
  }
  // npm's bin-links: a relative symlink, its target made executable.
  for (const [name, target] of Object.entries(manifest.bin)) {
    await chmod(join(pkg, target), 0o755)
    await symlink(join('..', 'veriml', target), join(modules, '.bin', name))
  }
}
