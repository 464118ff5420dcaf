#!/usr/bin/env node
// Debian packages some tests use (the prover service's Redis, the browser tests' Chromium).
// `npm test` runs this first: a missing package is installed when it can be (root with
// apt-get); otherwise the tests that need it skip, naming the package (test/helpers/system.ts),
// except in CI (CI=true), where .ci/run installs them and nothing may skip.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** binary → Debian package. Keep in step with test/helpers/system.ts. */
const NEEDED = { 'redis-server': 'redis-server', chromium: 'chromium' }

const onPath = (bin) => process.env.PATH.split(':').some((dir) => existsSync(`${dir}/${bin}`))
const missing = Object.entries(NEEDED).filter(([bin]) => !onPath(bin))
if (missing.length > 0) {
  const packages = missing.map(([, pkg]) => pkg)
  const canInstall = process.getuid?.() === 0 && onPath('apt-get')
  if (canInstall) {
    console.error(`veriml tests: installing ${packages.join(', ')} with apt-get`)
    const run = (args) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'] })
    try {
      run(['install', '-y', '--no-install-recommends', ...packages])
    } catch {
      // A machine whose package lists are stale or absent: refresh once and retry.
      run(['update'])
      run(['install', '-y', '--no-install-recommends', ...packages])
    }
  } else {
    console.error(
      `veriml tests: ${packages.join(', ')} not installed and not root with apt-get: the tests that need ` +
        `${packages.length > 1 ? 'them' : 'it'} will skip (apt-get install ${packages.join(' ')} to run them).`,
    )
  }
}
