import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { promisify } from 'node:util'

const ROOT = join(import.meta.dirname, '..')

/**
 * Tests spawn `bin/veriml.mjs`, which runs the compiled CLI in dist/: build it first, so no test
 * can exercise a stale dist. `tsc -b` compares source timestamps with dist/.tsbuildinfo: about 1 s
 * when nothing changed, 10 s after an edit, 10 s of CPU (23 s wall, loaded) from nothing.
 */
export default async function buildDist(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  await promisify(execFile)(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT }).catch(
    (error: { stdout?: string; stderr?: string }) => {
      throw new Error(`npm run build failed before the tests:\n${error.stdout ?? ''}${error.stderr ?? ''}`)
    },
  )
}
