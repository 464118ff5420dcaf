#!/usr/bin/env node
/**
 * Browser bundles (run by `npm run build` after tsc, and by test/browser/bundle.test.ts):
 * - dist/browser/veriml.esm.js: the `veriml/browser` entry as one ES module, for pages without
 *   a bundler. Building it is also the check that the entry is browser-clean: platform
 *   'browser', and any Node builtin (node:*, fs, path, crypto…) reached from it fails the build
 *   naming the importer.
 * - dist/web/: the proving page (web/index.html, main.js, worker.js, digits.json) that
 *   `veriml web` serves and `veriml bundle` copies.
 * Everything is bundled (snarkjs, ethers): the page loads nothing from a CDN.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const BUILTINS = new Set(builtinModules)

/**
 * Refuses Node builtins, naming the module that imports one: the browser entry must run
 * where there is no fs, no path, no node:crypto (crypto.subtle does the hashing).
 */
const nodeOnly = {
  name: 'veriml-node-only',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.startsWith('node:') ? args.path.slice(5) : args.path
      if (!args.path.startsWith('node:') && !BUILTINS.has(bare.split('/')[0])) return undefined
      return {
        errors: [
          {
            text: `Node-only module "${args.path}" imported by ${relative(ROOT, args.importer) || args.importer}: the browser entry must not use Node builtins`,
          },
        ],
      }
    })
  },
}

/**
 * circomlibjs (with its ethers v5 and Node streams) is reached only through hashChain
 * (src/circuit/public.ts), a dynamic import used at compile time for the weight commitment
 * and by Node's prove to predict hashed signals. The browser never calls it: the direct
 * witness hashes with the Poseidon tables, circom's wasm with its own code. It is replaced by
 * a module that fails loudly if that ever changes.
 */
const circomlibjsStub = {
  name: 'veriml-circomlibjs-stub',
  setup(build) {
    build.onResolve({ filter: /^circomlibjs$/ }, () => ({ path: 'circomlibjs', namespace: 'veriml-stub' }))
    build.onLoad({ filter: /.*/, namespace: 'veriml-stub' }, () => ({
      contents:
        "export async function buildPoseidon() { throw new Error('veriml/browser: circomlibjs is not bundled for the browser (hashChain is Node-only)') }",
      loader: 'js',
    }))
  },
}

const common = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  plugins: [nodeOnly, circomlibjsStub],
  metafile: true,
  logLevel: 'silent',
  // snarkjs's bundle checks `process.browser`-style globals in a few places.
  define: { 'process.env.NODE_DEBUG': 'false' },
}

/**
 * Builds the library bundle and the page into `outDir` (default dist/). Returns esbuild's
 * metafiles, so a test can check every input that went in. `entry` replaces the library
 * entry (the test's Node-only fixture).
 */
export async function buildBrowser({ outDir = join(ROOT, 'dist'), entry, minify = true, page = true } = {}) {
  const library = await esbuild.build({
    ...common,
    entryPoints: [entry ?? join(ROOT, 'src', 'browser', 'index.ts')],
    outfile: join(outDir, 'browser', 'veriml.esm.js'),
    minify,
  })
  if (!page) return { library: library.metafile }
  const web = join(outDir, 'web')
  const pageBuild = await esbuild.build({
    ...common,
    entryPoints: { main: join(ROOT, 'web', 'main.ts'), worker: join(ROOT, 'web', 'worker.ts') },
    outdir: web,
    minify,
  })
  await mkdir(web, { recursive: true })
  for (const f of ['index.html', 'digits.json']) await copyFile(join(ROOT, 'web', f), join(web, f))
  return { library: library.metafile, page: pageBuild.metafile }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildBrowser()
  } catch (error) {
    // esbuild's errors carry the plugin's text and the location: print them, not a stack.
    for (const e of error.errors ?? [error]) console.error(`build-browser: ${e.text ?? e.message ?? e}`)
    process.exit(1)
  }
}
