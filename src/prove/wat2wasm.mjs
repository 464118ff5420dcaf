// wat → wasm for circom's witness generator: `node wat2wasm.mjs model.wat model.wasm`, in a
// process of its own (it needs ~10 bytes of memory per byte of text). circom's own conversion
// runs inside the compiler's 4 GiB and fails past ~200 MB of text (a ~800k-term circuit), so
// veriml compiles with --wat and converts here with wabt. circom writes a few instructions in
// their pre-2020 names, which wabt no longer reads; they are renamed first (same opcodes).
import { readFile, rename, writeFile } from 'node:fs/promises'
import initWabt from 'wabt'

const [from, to] = process.argv.slice(2)
const text = (await readFile(from, 'utf8'))
  .replace(/\b(get|set|tee)_(local|global)\b/g, (_, op, kind) => `${kind}.${op}`)
  .replace(/\bi32\.wrap\/i64\b/g, 'i32.wrap_i64')
  .replace(/\bi64\.extend_([su])\/i32\b/g, 'i64.extend_i32_$1')
const wabt = await initWabt()
const module = wabt.parseWat(from, text, { mutable_globals: true, sat_float_to_int: true, sign_extension: true, bulk_memory: true })
module.validate()
await writeFile(`${to}.partial`, module.toBinary({}).buffer)
await rename(`${to}.partial`, to)
