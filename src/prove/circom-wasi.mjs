// Runs circom2's compiler (circom as WebAssembly) under Node's own WASI, with the arguments of
// the circom CLI, in the current folder. circom2's bundled JavaScript WASI shim reads the
// compiler's pointers as signed 32-bit numbers, so once the compiler's memory passes 2 GiB
// (a ~800k-term circuit) every file it opens fails with "Start offset -… is outside the bounds
// of the buffer"; Node's WASI (libuv's uvwasi) takes the full 4 GiB of wasm32.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { WASI } from 'node:wasi'

const require = createRequire(import.meta.url)
const wasi = new WASI({ version: 'preview1', args: ['circom2', ...process.argv.slice(2)], env: process.env, preopens: { '.': process.cwd() }, returnOnExit: true })
const module = await WebAssembly.compile(await readFile(require.resolve('circom2/circom.wasm')))
process.exitCode = wasi.start(await WebAssembly.instantiate(module, wasi.getImportObject()))
