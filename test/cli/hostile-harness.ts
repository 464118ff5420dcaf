import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import onnxProto from 'onnx-proto'
import { expect } from 'vitest'
import { BIN, cliInProcess, cliSpawn, ROOT } from '../helpers/cli.js'

/** The harness of test/cli/hostile.test.ts: the CLI spawned or in-process, and the verdicts. */
const { onnx } = onnxProto
export { BIN, ROOT }
export const TINY = join(ROOT, 'test', 'fixtures', 'tiny-mlp.onnx')
export const OTHER = join(ROOT, 'test', 'fixtures', 'matmul-add.onnx')
export const INPUT = { input_data: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]] }
/** A CLI call that takes longer than this is a hang. */
export const HANG_MS = 60_000

export const SECRET = '0xdeadbeefSECRETKEYnotvalid1234'
/** A real-looking key one hex digit short. */
export const SHORT_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff8'
/** 64 hex digits, but above the secp256k1 group order: well formed, still not a key. */
export const BIG_KEY = `0x${'f'.repeat(64)}`
/** anvil's first dev account (its public test mnemonic): funded. */
export const ANVIL_KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
/** A valid key of an account with no funds. */
export const UNFUNDED_KEY = `0x${'11'.repeat(32)}`

export type Result = Awaited<ReturnType<typeof cliSpawn>>

/** The binary with no key in its environment (a test sets the one it means). */
export const veriml = (
  args: string[],
  { env = {}, cwd = ROOT }: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Result> =>
  cliSpawn(args, { env: { VERIML_PRIVATE_KEY: '', VERIML_DEBUG: '', ...env }, cwd, timeoutMs: HANG_MS })

export type Verdict = 'clear' | 'vague' | 'stack' | 'wrong success' | 'hang'
export const tally: Record<Verdict, number> & { tried: number } = {
  tried: 0,
  clear: 0,
  vague: 0,
  stack: 0,
  'wrong success': 0,
  hang: 0,
}

export const STACK = [
  /^\s+at /m,
  /TypeError/,
  /RangeError/,
  /SyntaxError/,
  /ReferenceError/,
  /Error: Error:/,
  /unexpected internal error/,
  /node:internal/,
]

/** Classifies a result as the issue does, then asserts it is clear. */
export function expectClear(
  r: Result,
  want: { code: number | readonly number[]; message: RegExp; secrets?: string[] },
): void {
  const all = `${r.stdout}\n${r.stderr}`
  const codes = typeof want.code === 'number' ? [want.code] : want.code
  const verdict: Verdict = r.timedOut
    ? 'hang'
    : STACK.some((p) => p.test(all))
      ? 'stack'
      : !codes.includes(0) && r.code === 0
        ? 'wrong success'
        : want.message.test(all) && codes.includes(r.code ?? -1)
          ? 'clear'
          : 'vague'
  tally.tried++
  tally[verdict]++
  expect(r.timedOut, 'hang').toBe(false)
  for (const p of STACK) expect(all).not.toMatch(p)
  for (const s of want.secrets ?? []) {
    expect(all.toLowerCase()).not.toContain(s.toLowerCase())
    expect(all.toLowerCase()).not.toContain(s.toLowerCase().replace(/^0x/, '').slice(0, 20))
  }
  expect(all).toMatch(want.message)
  expect(codes, all).toContain(r.code)
  // A refusal is a few lines, not a screen (of frames, transaction hex or wasm).
  if (r.code !== 0) expect(r.stderr.length, r.stderr).toBeLessThan(2_000)
}

/** The CLI's entry in this process, with what it prints captured. */
export const inProcess = (argv: string[]) => cliInProcess(...argv)

/** Every file under `dir`, relative, for "nothing left behind". */
export async function listing(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      out.push(join(rel, e.name))
      if (e.isDirectory()) await walk(join(d, e.name), join(rel, e.name))
    }
  }
  await walk(dir, '')
  return out.sort()
}

/** tiny-mlp.onnx decoded, changed by `edit`, re-encoded without any check. */
export type Graph = InstanceType<typeof onnx.GraphProto> & {
  node: InstanceType<typeof onnx.NodeProto>[]
  initializer: InstanceType<typeof onnx.TensorProto>[]
  input: InstanceType<typeof onnx.ValueInfoProto>[]
  output: InstanceType<typeof onnx.ValueInfoProto>[]
}

export async function mutateTiny(edit: (m: { graph: Graph }) => void): Promise<Uint8Array> {
  const m = onnx.ModelProto.decode(await readFile(TINY))
  edit(m as unknown as { graph: Graph })
  return onnx.ModelProto.encode(m).finish()
}

export const float32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer)

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}
