#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` and `npm install` run as `prepare`):
// plain Node, no TypeScript loader at start-up.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  // A source checkout that was never built (installed packages always carry dist/).
  console.error('veriml: dist/cli/main.js is missing: run `npm run build` in the veriml checkout first')
  process.exit(1)
}
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
