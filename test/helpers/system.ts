import { existsSync } from 'node:fs'

/**
 * A Debian package's binary for tests that need it (scripts/system-deps.mjs installs it when
 * `npm test` runs as root). Absent: the caller's tests skip with a message naming the package;
 * under CI (CI=true) absence is an error, because CI must run every test.
 */
export function systemBinary(bin: 'redis-server' | 'chromium', pkg: string = bin): string | undefined {
  const path = (process.env.PATH ?? '')
    .split(':')
    .map((dir) => `${dir}/${bin}`)
    .find((p) => existsSync(p))
  if (path) return path
  if (process.env.CI)
    throw new Error(`${bin} is not installed: CI installs Debian's ${pkg} (.ci/run); nothing may skip there`)
  console.warn(`skipping tests that need ${bin}: install Debian's ${pkg} (apt-get install ${pkg})`)
  return undefined
}
