import { spawn } from 'node:child_process'
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeError } from '../../src/cli/format.js'
import { ToolError } from '../../src/prove/errors.js'
import { registerSecret } from '../../src/util/secrets.js'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { compileModel } from '../../src/prove/compile.js'
import { proveModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { buildModel } from '../../src/onnx/write.js'
import { shutdown } from '../../src/shutdown.js'
import {
  ANVIL_KEY0,
  BIG_KEY,
  BIN,
  type Graph,
  HANG_MS,
  INPUT,
  OTHER,
  SECRET,
  SHORT_KEY,
  STACK,
  TINY,
  UNFUNDED_KEY,
  type Verdict,
  expectClear,
  float32,
  inProcess,
  listing,
  mutateTiny,
  prng,
  tally,
  veriml,
} from './hostile-harness.js'

/**
 * Hostile input through the real CLI (`node bin/veriml.mjs …`): every case asserts the exit
 * code, a message naming the culprit, no stack trace, no secret, and no file left behind.
 * Read-only cases share one compiled, set-up tiny build; cases that damage a build get a copy.
 * Counts of the classes (tried / clear / vague / stack / wrong success / hang) are
 * printed at the end.
 */

let work: string
let build: string
let proof: string
let other: string
let anvil: AnvilInstance
let caseCount = 0

/** A fresh folder for one case, with the given files written into it. */
async function caseDir(files: Record<string, string | Uint8Array> = {}): Promise<string> {
  const dir = join(work, `case-${++caseCount}`)
  await mkdir(dir, { recursive: true })
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content)
  return dir
}

/** A copy of the shared build (and proof) for cases that damage it. */
async function buildCopy(): Promise<{ dir: string; b: string; p: string }> {
  const dir = await caseDir()
  await cp(build, join(dir, 'b'), { recursive: true })
  await cp(proof, join(dir, 'p'), { recursive: true })
  return { dir, b: join(dir, 'b'), p: join(dir, 'p') }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'veriml-hostile-'))
  build = join(work, 'build')
  proof = join(work, 'proof')
  other = join(work, 'other')
  await compileModel({ onnxPath: TINY, outDir: build })
  await setupModel({ model: build, dev: true })
  await proveModel({ model: build, input: INPUT, outDir: proof })
  await compileModel({ onnxPath: OTHER, outDir: other })
  await setupModel({ model: other, dev: true })
  await shutdown()
  anvil = await startAnvil()
})

afterAll(async () => {
  await anvil?.stop()
  console.log(`hostile input: ${JSON.stringify(tally)}`)
  await rm(work, { recursive: true, force: true })
})

interface Case {
  name: string
  /** Files of the case folder (the working directory). */
  files?: () => Promise<Record<string, string | Uint8Array>> | Record<string, string | Uint8Array>
  args: (dir: string) => string[]
  env?: () => Record<string, string>
  code: number | readonly number[]
  message: RegExp
  secrets?: string[]
}

/** Runs a table of cases in their own folders; each must leave its folder as it found it. */
function table(cases: Case[]): void {
  it.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const dir = await caseDir(await c.files?.())
    const before = await listing(dir)
    const buildBefore = await listing(build)
    const r = await veriml(c.args(dir), { cwd: dir, env: c.env?.() })
    expectClear(r, c)
    expect(await listing(dir)).toEqual(before)
    expect(await listing(build)).toEqual(buildBefore)
  })
}

describe('secrets: no private key reaches any output, in any form', () => {
  const keyCases = (verb: string, args: (dir: string) => string[]): Case[] => [
    {
      name: `${verb}: --private-key with non-hex characters`,
      args: (d) => [...args(d), '--private-key', SECRET],
      code: 2,
      message: /--private-key is not a private key: it contains characters that are not hex digits/,
      secrets: [SECRET],
    },
    {
      name: `${verb}: --private-key=… one hex digit short`,
      args: (d) => [...args(d), `--private-key=${SHORT_KEY}`],
      code: 2,
      message: /not a private key: it has 63 hex digits/,
      secrets: [SHORT_KEY],
    },
    {
      name: `${verb}: VERIML_PRIVATE_KEY malformed`,
      args,
      env: () => ({ VERIML_PRIVATE_KEY: SECRET }),
      code: 2,
      message: /VERIML_PRIVATE_KEY is not a private key/,
      secrets: [SECRET],
    },
  ]
  table([
    ...keyCases('deploy', () => ['deploy', build, '--rpc', anvil.rpcUrl]),
    ...keyCases('verify --rpc', () => ['verify', build, proof, '--rpc', anvil.rpcUrl]),
    // The op verbs sign through src/chain/rpc.ts walletFor; the CLI's printer redacts whatever they throw.
    ...keyCases('op deploy', () => ['op', 'deploy', build, '--rpc', anvil.rpcUrl]).map((c) => ({
      ...c,
      code: 1,
      message: /no usable private key: the key from (--private-key|VERIML_PRIVATE_KEY) is not a private key/,
    })),
    ...['claim', 'challenge', 'watch', 'finalize', 'withdraw'].map(
      (verb): Case => ({
        name: `op ${verb}: a malformed key is never echoed`,
        args: () => [
          'op',
          verb,
          ...(verb === 'challenge' ? ['0x01'] : []),
          build,
          '--rpc',
          anvil.rpcUrl,
          '--private-key',
          SECRET,
          '--input',
          'missing.json',
        ],
        // finalize/withdraw come with the optimistic-path branch: until then an unknown subcommand (2).
        code: [1, 2],
        message: /error: /,
        secrets: [SECRET],
      }),
    ),
    {
      name: 'deploy: a key above the curve order',
      args: () => ['deploy', build, '--rpc', anvil.rpcUrl, '--private-key', BIG_KEY],
      code: 1,
      message: /not a valid secp256k1 private key/,
      secrets: [BIG_KEY],
    },
    {
      name: 'deploy: an unfunded key names the account and its balance, not the transaction',
      args: () => ['deploy', build, '--rpc', anvil.rpcUrl, '--private-key', UNFUNDED_KEY],
      code: 1,
      message: /account 0x[0-9a-fA-F]{40} has insufficient funds \(balance 0 wei on chain 31337\)/,
      secrets: [UNFUNDED_KEY],
    },
    {
      name: 'deploy: --registry 0x1234 is not an ENS lookup',
      args: () => ['deploy', build, '--rpc', anvil.rpcUrl, '--private-key', ANVIL_KEY0, '--registry', '0x1234'],
      code: 2,
      message: /--registry must be a 0x-prefixed 20-byte address/,
      secrets: [ANVIL_KEY0],
    },
    {
      name: 'deploy: --rpc not a URL',
      args: () => ['deploy', build, '--rpc', 'localhost-8545'],
      code: 2,
      message: /--rpc must be a URL/,
    },
    {
      name: 'setup contribute: --entropy never echoed',
      args: () => ['setup', 'contribute', '--entropy', 'mySECRETentropy42'],
      code: 2,
      message: /expected 2 arguments/,
      secrets: ['mySECRETentropy42'],
    },
  ])
})

describe('files and folders: named, never a stack trace', () => {
  table([
    {
      name: 'compile: missing model',
      args: (d) => ['compile', 'missing.onnx', '--out', join(d, 'out')],
      code: 1,
      message: /model missing\.onnx: does not exist/,
    },
    {
      name: 'compile: a folder as the model',
      files: () => ({}),
      args: (d) => ['compile', d, '--out', join(d, 'out')],
      code: 1,
      message: /model .*: is a folder, not a file/,
    },
    {
      name: 'inspect: a folder as the model',
      args: (d) => ['inspect', d],
      code: 1,
      message: /is a folder, not a file/,
    },
    {
      name: 'compile: missing calibration',
      args: (d) => ['compile', TINY, '--out', join(d, 'out'), '--calibration', 'nope.json'],
      code: 1,
      message: /calibration nope\.json: does not exist/,
    },
    {
      name: 'compile: calibration not JSON',
      files: () => ({ 'cal.json': '{"input_data": [[1,' }),
      args: (d) => ['compile', TINY, '--out', join(d, 'out'), '--calibration', 'cal.json'],
      code: 1,
      message: /calibration cal\.json is not valid JSON/,
    },
    {
      name: 'compile: --out is a file',
      files: () => ({ f: 'x' }),
      args: (d) => ['compile', TINY, '--out', join(d, 'f')],
      code: 1,
      message: /--out .*f: is a file, not a folder/,
    },
    {
      name: 'compile: --out is a folder of other files',
      files: () => ({ 'notes.txt': 'keep me' }),
      args: (d) => ['compile', TINY, '--out', d],
      code: 1,
      message: /not a veriml build \(no manifest\.json; it holds notes\.txt\)/,
    },
    {
      name: 'compile: --out under a parent that cannot hold folders',
      args: () => ['compile', TINY, '--out', '/sys/veriml-hostile/b'],
      code: 1,
      message: /--out: cannot create a folder in \/sys: operation not permitted/,
    },
    {
      name: "compile: --out ''",
      args: () => ['compile', TINY, '--out', ''],
      code: 2,
      message: /--out must be a non-empty DIR/,
    },
    {
      name: 'run: not a build folder',
      args: (d) => ['run', d, '--input', 'in.json'],
      files: () => ({ 'in.json': JSON.stringify(INPUT) }),
      code: 1,
      message: /is not a compiled model/,
    },
    {
      name: 'run: missing input file',
      args: () => ['run', build, '--input', 'none.json'],
      code: 1,
      message: /input none\.json: does not exist/,
    },
    {
      name: 'run: input is a folder',
      args: (d) => ['run', build, '--input', d],
      code: 1,
      message: /input .*: is a folder, not a file/,
    },
    {
      name: 'prove: --out is a file',
      files: () => ({ 'in.json': JSON.stringify(INPUT), f: '' }),
      args: (d) => ['prove', build, '--input', 'in.json', '--out', join(d, 'f')],
      code: 1,
      message: /--out .*f: is not a folder/,
    },
    {
      name: 'verify --rpc without deployment.json',
      args: () => ['verify', build, proof, '--rpc', anvil.rpcUrl, '--private-key', ANVIL_KEY0],
      code: 1,
      message: /deployment .*deployment\.json: file not found/,
      secrets: [ANVIL_KEY0],
    },
    {
      name: 'verify: proof folder missing',
      args: (d) => ['verify', build, join(d, 'none')],
      code: 1,
      message: /missing .*proof\.json/,
    },
    {
      name: 'calldata: proof folder missing',
      args: (d) => ['calldata', join(d, 'none')],
      code: 1,
      message: /proof .*proof\.json: does not exist/,
    },
    {
      name: 'setup: missing ptau',
      args: () => ['setup', build, '--ptau', 'missing.ptau', '--force'],
      code: 1,
      message: /missing\.ptau/,
    },
    {
      name: 'setup: a ptau of garbage',
      files: () => ({ 'g.ptau': 'garbage, not a ceremony file' }),
      args: () => ['setup', build, '--ptau', 'g.ptau', '--force'],
      code: 1,
      message: /g\.ptau is not a usable powers-of-tau file: bad magic/,
    },
    {
      name: 'setup: not a build folder',
      args: (d) => ['setup', d, '--dev'],
      code: 1,
      message: /is not a compiled model/,
    },
    {
      name: 'quantize: missing model',
      files: () => ({ 'cal.json': JSON.stringify(INPUT) }),
      args: (d) => ['quantize', 'none.onnx', '--calibration', 'cal.json', '--out', join(d, 'q.onnx')],
      code: 1,
      message: /none\.onnx/,
    },
    {
      name: 'export-verifier: --out is a file',
      files: () => ({ f: '' }),
      args: (d) => ['export-verifier', build, '--out', join(d, 'f')],
      code: 1,
      message: /f: (is not a folder|already exists)/,
    },
    {
      name: 'run: --out under a file',
      files: () => ({ 'in.json': JSON.stringify(INPUT), f: '' }),
      args: (d) => ['run', build, '--input', 'in.json', '--out', join(d, 'f', 'out.json')],
      code: 1,
      message: /the folder of .*f: is not a folder/,
    },
    {
      name: 'inspect: calibration with Infinity',
      files: () => ({ 'cal.json': `{"input_data": [[1e999, 0, 0, 0, 0, 0, 0, 0]]}` }),
      args: () => ['inspect', TINY, '--calibration', 'cal.json'],
      code: 1,
      message: /expected finite numbers, found Infinity at \[0\]/,
    },
  ])
})

describe('flags are parsed by type before use', () => {
  const compile = (d: string, ...flags: string[]) => ['compile', TINY, '--out', join(d, 'out'), ...flags]
  table([
    {
      name: '--activation-bits abc',
      args: (d) => compile(d, '--activation-bits', 'abc'),
      code: 2,
      message: /--activation-bits must be an integer from 2 to 32; got "abc"/,
    },
    {
      name: '--activation-bits 2.5',
      args: (d) => compile(d, '--activation-bits', '2.5'),
      code: 2,
      message: /--activation-bits must be an integer from 2 to 32; got "2\.5"/,
    },
    {
      name: '--weight-bits 0',
      args: (d) => compile(d, '--weight-bits', '0'),
      code: 2,
      message: /--weight-bits must be an integer from 2 to 32; got 0/,
    },
    {
      name: '--activation-bits 1000 names the flag',
      args: (d) => compile(d, '--activation-bits', '1000'),
      code: 2,
      message: /--activation-bits must be an integer from 2 to 32; got 1000/,
    },
    {
      name: '--input-visibility wrong',
      args: (d) => compile(d, '--input-visibility', 'secret'),
      code: 2,
      message: /--input-visibility must be one of public, hashed, private/,
    },
    {
      name: '--dim malformed',
      args: (d) => compile(d, '--dim', 'N'),
      code: 2,
      message: /--dim must be NAME=SIZE pairs/,
    },
    {
      name: 'unknown flag',
      args: (d) => compile(d, '--frobnicate'),
      code: 2,
      message: /Unknown option '--frobnicate'/,
    },
    {
      name: 'setup --dev --ptau conflict',
      args: () => ['setup', build, '--dev', '--ptau', 'missing.ptau'],
      code: 2,
      message: /--dev and --ptau conflict/,
    },
    {
      name: 'setup beacon --iterations 5',
      args: () => ['setup', 'beacon', build, '--hash', 'ab', '--iterations', '5'],
      code: 2,
      message: /--iterations must be an integer from 10 to 63/,
    },
    {
      name: 'setup beacon --hash not hex',
      args: () => ['setup', 'beacon', build, '--hash', 'xyz'],
      code: 2,
      message: /--hash must be hexadecimal/,
    },
    { name: 'run: --input missing', args: () => ['run', build], code: 2, message: /--input FILE is required/ },
    {
      name: 'prove: --out empty',
      files: () => ({ 'in.json': JSON.stringify(INPUT) }),
      args: () => ['prove', build, '--input', 'in.json', '--out', ''],
      code: 2,
      message: /--out must be a non-empty DIR/,
    },
  ])
})

describe('malformed ONNX: refused with the culprit named', () => {
  const model = (bytes: () => Promise<Uint8Array> | Uint8Array, verb: 'inspect' | 'compile' = 'compile') => ({
    files: async () => ({ 'm.onnx': await bytes() }),
    args: (d: string) => (verb === 'inspect' ? ['inspect', 'm.onnx'] : ['compile', 'm.onnx', '--out', join(d, 'out')]),
  })
  const symbolic = () =>
    buildModel({
      name: 'sym',
      inputs: [{ name: 'x', shape: ['N', 8] }],
      outputs: [{ name: 'y', shape: ['N', 8] }],
      nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }],
    })
  table([
    { name: 'empty file', ...model(() => new Uint8Array()), code: 1, message: /has no graph/ },
    {
      name: 'not protobuf',
      ...model(() => new TextEncoder().encode('hello, this is not a model')),
      code: 1,
      message: /not a valid ONNX (protobuf|model)/,
    },
    {
      name: 'truncated to half',
      ...model(async () => (await readFile(TINY)).subarray(0, 600)),
      code: 1,
      message: /not a valid ONNX protobuf/,
    },
    {
      name: 'symbolic input dimension',
      ...model(symbolic),
      code: 1,
      message: /input "x": dimension 0 is symbolic \("N"\).*\n.*--dim N=1/,
    },
    {
      name: 'symbolic input dimension (inspect)',
      ...model(symbolic, 'inspect'),
      code: 1,
      message: /input "x": dimension 0 is symbolic/,
    },
    {
      name: 'input dimension 1e9 (108-byte model): refused before allocating',
      ...model(
        () =>
          buildModel({
            name: 'huge',
            inputs: [{ name: 'x', shape: [1, 1e9] }],
            outputs: [{ name: 'y', shape: [1, 1e9] }],
            nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }],
          }),
        'inspect',
      ),
      code: 1,
      message: /input "x" .*over veriml's limit of 16777216 \(dimension\)/,
    },
    {
      name: 'input of 2^30 elements over several dims',
      ...model(() =>
        buildModel({
          name: 'huge',
          inputs: [{ name: 'x', shape: [1024, 1024, 1024] }],
          outputs: [{ name: 'y' }],
          nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }],
        }),
      ),
      code: 1,
      message: /input "x" \[1024, 1024, 1024\] is 1073741824 elements, over veriml's limit/,
    },
    {
      name: 'input rank 12',
      ...model(() =>
        buildModel({
          name: 'rank',
          inputs: [{ name: 'x', shape: Array(12).fill(1) }],
          outputs: [{ name: 'y' }],
          nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }],
        }),
      ),
      code: 1,
      message: /the rank of input "x" is 12, over veriml's limit of 8/,
    },
    {
      name: 'input dimension 0',
      ...model(() =>
        buildModel({
          name: 'zero',
          inputs: [{ name: 'x', shape: [1, 0] }],
          outputs: [{ name: 'y' }],
          nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }],
        }),
      ),
      code: 1,
      message: /input "x": dimension 1 has no size/,
    },
    {
      name: 'two nodes with the same name',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.node[1].name = 'fc1'
        }),
      ),
      code: 1,
      message: /node name "fc1" is used by more than one node/,
    },
    {
      name: 'a tensor defined twice',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.node[1].output = ['fc1.out']
          m.graph.node[2].input[0] = 'fc1.out'
        }),
      ),
      code: 1,
      message: /tensor "fc1\.out" is defined more than once/,
    },
    {
      name: 'an undefined tensor',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.node[1].input = ['B']
        }),
      ),
      code: 1,
      message: /node "relu1" \(Relu\) reads tensor "B", which no graph input, initializer or node defines/,
    },
    {
      name: 'a graph cycle',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.node[0].input[0] = 'relu1.out'
          m.graph.input = []
        }),
      ),
      code: 1,
      message: /the graph has a cycle through nodes "fc1", "relu1"/,
    },
    {
      name: 'nodes out of order still compile-check (sorted)',
      ...model(
        () =>
          mutateTiny((m) => {
            m.graph.node.reverse()
          }),
        'inspect',
      ),
      code: 0,
      message: /supported: every node lowers/,
    },
    {
      name: 'NaN weight, named',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.initializer[0].rawData = float32([...Array(127).fill(0.1), Number.NaN])
        }),
      ),
      code: 1,
      message: /tensor "fc1\.weight": element 127 is NaN/,
    },
    {
      name: 'Infinity bias, named',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.initializer[1].rawData = float32([Infinity, ...Array(15).fill(0)])
        }),
      ),
      code: 1,
      message: /tensor "fc1\.bias": element 0 is Infinity/,
    },
    {
      name: 'weight dims disagree with its data',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.initializer[0].dims = [16, 9]
        }),
      ),
      code: 1,
      message: /tensor "fc1\.weight": dims \[16, 9\] need 576 bytes of data, the file holds 512/,
    },
    {
      name: 'weight dims of 10^12 elements',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.initializer[0].dims = [1e6, 1e6]
        }),
      ),
      code: 1,
      message: /tensor "fc1\.weight" .*over veriml's limit/,
    },
    {
      name: 'raw data not a whole number of floats',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.initializer[1].rawData = new Uint8Array(63)
        }),
      ),
      code: 1,
      message: /tensor "fc1\.bias": dims \[16\] need 64 bytes of data, the file holds 63/,
    },
    {
      name: 'unsupported tensor type (string)',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.initializer[1].dataType = 8
        }),
      ),
      code: 1,
      message: /tensor "fc1\.bias": data type 8 is not supported/,
    },
    {
      name: 'graph output nothing produces',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.output[0].name = 'ghost'
        }),
      ),
      code: 1,
      message: /graph output "ghost" is not defined by any node/,
    },
    {
      name: 'Gemm with a wrong-rank weight',
      ...model(() =>
        mutateTiny((m) => {
          m.graph.initializer[0].dims = [128]
        }),
      ),
      code: 1,
      message: /node "fc1" \(Gemm\)/,
    },
    {
      name: 'unsupported op',
      ...model(
        () =>
          mutateTiny((m) => {
            m.graph.node[1].opType = 'Frobnicate'
          }),
        'inspect',
      ),
      code: 1,
      message: /NOT SUPPORTED: 1 unsupported ONNX node: relu1 \(Frobnicate/,
    },
  ])
})

describe('inputs and calibration: exact shapes and keys, nothing silently ignored', () => {
  const run = (json: unknown) => ({
    files: () => ({ 'in.json': typeof json === 'string' ? json : JSON.stringify(json) }),
    args: () => ['run', build, '--input', 'in.json'],
  })
  const eight = [0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]
  table([
    {
      name: 'shape [4, 2] for [1, 8]',
      ...run({
        input: [
          [0.5, -0.25],
          [0.75, 0.1],
          [-0.6, 0.3],
          [0.9, -0.8],
        ],
      }),
      code: 1,
      message:
        /input "input": expected a nested list of shape \[1,8\], or a flat list of 8 values, found shape \[4,2\]/,
    },
    { name: 'shape [1, 1, 8] for [1, 8]', ...run({ input: [[eight]] }), code: 1, message: /found shape \[1,1,8\]/ },
    { name: 'ragged list', ...run({ input: [[0.5, 1], [2]] }), code: 1, message: /a ragged list/ },
    {
      name: 'input_data plus a named input',
      ...run({ input_data: [eight], input: [eight] }),
      code: 1,
      message: /input "input": expected only the key "input_data"/,
    },
    {
      name: 'an extra key "foo"',
      ...run({ input_data: [eight], foo: 1 }),
      code: 1,
      message: /input "foo": expected only the key "input_data"/,
    },
    {
      name: 'named form with an unknown key',
      ...run({ input: [eight], foo: 1 }),
      code: 1,
      message: /input "foo": expected keys "input"/,
    },
    {
      name: '1e999 in an input',
      ...run(`{"input_data": [[1e999, 0, 0, 0, 0, 0, 0, 0]]}`),
      code: 1,
      message: /expected finite numbers, found Infinity at \[0\]/,
    },
    {
      name: 'top-level null',
      ...run('null'),
      code: 1,
      message: /input "\(file\)": expected a JSON object .* found null/,
    },
    {
      name: 'input_data null',
      ...run({ input_data: null }),
      code: 1,
      message: /input "input_data": expected a list of 1 flat list\(s\).* found null/,
    },
    {
      name: 'a string value',
      ...run({ input_data: [[...eight.slice(0, 7), '1']] }),
      code: 1,
      message: /expected finite numbers, found "1" at \[7\]/,
    },
    {
      name: 'too few values',
      ...run({ input_data: [eight.slice(0, 3)] }),
      code: 1,
      message: /expected 8 values \(shape \[1,8\]\), found 3 values/,
    },
    {
      name: 'out of the calibrated range',
      ...run({ input_data: [[5, 0, 0, 0, 0, 0, 0, 0]] }),
      code: 1,
      message: /expected values in the calibrated range .* found 5 at index 0/,
    },
    { name: 'not JSON', ...run('{"input_data": [[0.5,'), code: 2, message: /input in\.json is not valid JSON/ },
    {
      name: 'nested 50 deep',
      ...run(`{"input": ${'['.repeat(50)}1${']'.repeat(50)}}`),
      code: 1,
      message: /lists nested at most 9 deep/,
    },
    {
      name: 'calibration: one all-zero sample',
      files: () => ({ 'cal.json': JSON.stringify({ input_data: [Array(8).fill(0)] }) }),
      args: (d) => ['compile', TINY, '--out', join(d, 'out'), '--calibration', 'cal.json'],
      code: 1,
      message: /input "input" is 0 in every calibration sample: its range cannot be calibrated/,
    },
    {
      name: 'calibration: wrong count',
      files: () => ({ 'cal.json': JSON.stringify({ input_data: [Array(12).fill(0.5)] }) }),
      args: (d) => ['compile', TINY, '--out', join(d, 'out'), '--calibration', 'cal.json'],
      code: 1,
      message: /expected a multiple of 8 values/,
    },
  ])
})

describe('build folders: consistent or refused, never half-built', () => {
  it('compile without --calibration says what it assumed', async () => {
    const dir = await caseDir()
    const r = await veriml(['compile', TINY, '--out', join(dir, 'b')])
    expectClear(r, { code: 0, message: /NOTE: no --calibration given: inputs are assumed uniform in \[-1, 1\)/ })
    expect(await listing(dir)).toEqual(['b', ...(await listing(join(dir, 'b'))).map((f) => join('b', f))].sort())
  })

  it('compile of a token-id model without --calibration says the ids were drawn from the table', async () => {
    const dir = await caseDir({
      'ids.onnx': buildModel({
        name: 'ids',
        inputs: [{ name: 'ids', shape: [1, 4], type: 'int64' }],
        outputs: [{ name: 'y', shape: [1, 4, 3] }],
        initializers: [
          { name: 'wte', dims: [5, 3], data: Float32Array.from({ length: 15 }, (_, i) => (i % 7) / 7 - 0.4) },
        ],
        nodes: [{ op: 'Gather', name: 'embed', inputs: ['wte', 'ids'], outputs: ['y'] }],
      }),
    })
    const r = await veriml(['compile', join(dir, 'ids.onnx'), '--out', join(dir, 'b')])
    expectClear(r, { code: 0, message: /token ids uniform over their table's rows/ })
  })

  it('a symbolic dimension bound with --dim compiles', async () => {
    const dir = await caseDir({
      'm.onnx': buildModel({
        name: 'sym',
        inputs: [{ name: 'x', shape: ['N', 8] }],
        outputs: [{ name: 'y', shape: ['N', 4] }],
        initializers: [
          { name: 'w', dims: [8, 4], data: Float32Array.from({ length: 32 }, (_, i) => ((i % 7) - 3) / 8) },
        ],
        nodes: [{ op: 'MatMul', name: 'mm', inputs: ['x', 'w'], outputs: ['y'] }],
      }),
    })
    const r = await veriml(['inspect', 'm.onnx', '--dim', 'N=1'], { cwd: dir })
    expectClear(r, { code: 0, message: /inputs\s+x \[1,8\]/ })
  })

  it('a recompile interrupted by Ctrl-C leaves the old build or none, and no staging folder', async () => {
    const { dir, b } = await buildCopy()
    const child = spawn(process.execPath, [BIN, 'compile', TINY, '--out', b, '--force', '--activation-bits', '7'], {
      stdio: 'ignore',
    })
    let running = true
    const exited = new Promise((r) =>
      child.once('exit', () => {
        running = false
        r(null)
      }),
    )
    // Interrupt while the new build is being staged (not before it starts, whatever the machine's speed).
    const staging = async () => (await readdir(dir)).some((f) => f.includes('staging'))
    for (let i = 0; i < 1_200 && running && !(await staging()); i++) await new Promise((r) => setTimeout(r, 50))
    expect(running, 'the compile ended before its staging folder appeared').toBe(true)
    child.kill('SIGINT')
    await exited
    expect((await readdir(dir)).filter((f) => f.includes('staging'))).toEqual([])
    // Either the old build (consistent, runs) or no manifest (refused, "compile"): never new IR with an old circuit.
    await writeFile(join(dir, 'in.json'), JSON.stringify(INPUT))
    const again = await veriml(['run', b, '--input', join(dir, 'in.json')])
    expect(STACK.some((p) => p.test(again.stdout + again.stderr))).toBe(false)
    if (again.code !== 0) expect(again.stderr).toMatch(/veriml compile/)
  })

  it('new IR beside the old circuit and key: run says recompile', async () => {
    const { b, dir } = await buildCopy()
    const ir = JSON.parse(await readFile(join(b, 'ir.json'), 'utf8'))
    ir.name = 'edited'
    await writeFile(join(b, 'ir.json'), JSON.stringify(ir))
    await writeFile(join(dir, 'in.json'), JSON.stringify(INPUT))
    expectClear(await veriml(['run', b, '--input', join(dir, 'in.json')]), {
      code: 1,
      message: /ir\.json has changed since compile .* is not one consistent build\n\s+Recompile: veriml compile/,
    })
  })

  it('a truncated model.zkey: prove says redo the setup', async () => {
    const { b, dir } = await buildCopy()
    const zkey = await readFile(join(b, 'model.zkey'))
    await writeFile(join(b, 'model.zkey'), zkey.subarray(0, 1000))
    await writeFile(join(dir, 'in.json'), JSON.stringify(INPUT))
    expectClear(await veriml(['prove', b, '--input', join(dir, 'in.json'), '--out', join(dir, 'p2')]), {
      code: 1,
      message: /model\.zkey has changed since setup .*\n\s+Redo the setup/,
    })
    expect(await stat(join(dir, 'p2')).catch(() => null)).toBeNull()
  })

  it("another model's verification_key.json: verify refuses the build, not 'valid proof'", async () => {
    const { b, p } = await buildCopy()
    await cp(join(other, 'verification_key.json'), join(b, 'verification_key.json'))
    expectClear(await veriml(['verify', b, p]), { code: 1, message: /verification_key\.json has changed since setup/ })
  })

  it('a manifest that is not JSON', async () => {
    const { b, dir } = await buildCopy()
    await writeFile(join(b, 'manifest.json'), '{"generator": ')
    await writeFile(join(dir, 'in.json'), JSON.stringify(INPUT))
    expectClear(await veriml(['run', b, '--input', join(dir, 'in.json')]), {
      code: 1,
      message: /manifest\.json is not valid JSON/,
    })
  })

  it('a deleted witness generator (the wire map of a direct build): prove says recompile', async () => {
    const { b, dir } = await buildCopy()
    await rm(join(b, 'circuit', 'model.wires'))
    await writeFile(join(dir, 'in.json'), JSON.stringify(INPUT))
    expectClear(await veriml(['prove', b, '--input', join(dir, 'in.json'), '--out', join(dir, 'p2')]), {
      code: 1,
      message: /model\.wires is missing: [\s\S]*Recompile/,
    })
  })

  it('setup on a changed r1cs says recompile', async () => {
    const { b } = await buildCopy()
    const r1cs = await readFile(join(b, 'circuit', 'model.r1cs'))
    r1cs[r1cs.length - 1] ^= 1
    await writeFile(join(b, 'circuit', 'model.r1cs'), r1cs)
    expectClear(await veriml(['setup', b, '--dev', '--force']), {
      code: 1,
      message: /model\.r1cs has changed since compile/,
    })
  })

  it('a read-only build folder: compile names it', async () => {
    const { b } = await buildCopy()
    await chmod(b, 0o555)
    const r = await veriml(['compile', TINY, '--out', b, '--force'])
    await chmod(b, 0o755)
    // As root the folder stays writable: then the recompile simply succeeds.
    if (process.getuid?.() === 0) expectClear(r, { code: 0, message: /model id/ })
    else expectClear(r, { code: 1, message: /--out .*: permission denied/ })
  })
})

describe('proofs: malformed or tampered, never a false "valid"', () => {
  const tamper = async (
    edit: (files: { proof: unknown; signals: string[]; output: Record<string, unknown> }) => void,
  ) => {
    const { p, b } = await buildCopy()
    const files = {
      proof: JSON.parse(await readFile(join(p, 'proof.json'), 'utf8')),
      signals: JSON.parse(await readFile(join(p, 'public.json'), 'utf8')),
      output: JSON.parse(await readFile(join(p, 'output.json'), 'utf8')),
    }
    edit(files)
    await writeFile(join(p, 'proof.json'), JSON.stringify(files.proof))
    await writeFile(join(p, 'public.json'), JSON.stringify(files.signals))
    await writeFile(join(p, 'output.json'), JSON.stringify(files.output))
    return { p, b }
  }
  it.concurrent.each([
    [
      'proof.json = []',
      (f: { proof: unknown }) => {
        f.proof = []
      },
      /INVALID: malformed proof: pi_a\/pi_b\/pi_c: missing/,
    ],
    [
      'proof.json = null',
      (f: { proof: unknown }) => {
        f.proof = null
      },
      /INVALID: malformed proof/,
    ],
    [
      'pi_a not numbers',
      (f: { proof: unknown }) => {
        ;(f.proof as { pi_a: unknown }).pi_a = ['x', 'y', '1']
      },
      /INVALID: malformed proof: pi_a\[0\]: not an integer: x/,
    ],
    [
      'an extra public signal',
      (f: { signals: string[] }) => {
        f.signals.push('1')
      },
      /INVALID: expected 2 public signals for this model, found 3/,
    ],
    [
      'output.json with other outputs',
      (f: { output: Record<string, unknown> }) => {
        f.output.output_ints = [['1', '2', '3', '4']]
      },
      /INVALID: .*output_ints differ from the outputs the proof proves/,
    ],
    [
      'output.json with another model id',
      (f: { output: Record<string, unknown> }) => {
        f.output.model_id = `0x${'ab'.repeat(32)}`
      },
      /INVALID: .*names model 0xabab.*but the proof is for model/,
    ],
    [
      'output.json with other real values',
      (f: { output: Record<string, unknown> }) => {
        f.output.output_data = [[9, 9, 9, 9]]
      },
      /INVALID: .*output_data is not/,
    ],
  ] as const)('verify: %s', async (_, edit, message) => {
    const { p, b } = await tamper(edit as never)
    expectClear(await veriml(['verify', b, p]), { code: 1, message })
  })

  it.concurrent.each([
    [
      'an extra public signal',
      (f: { signals: string[] }) => {
        f.signals.push('1')
      },
      /public\.json has 3 public signals, but the proof was made with 2/,
    ],
    [
      'proof.json = []',
      (f: { proof: unknown }) => {
        f.proof = []
      },
      /proof\.json is not a snarkjs Groth16 proof object/,
    ],
    [
      'no model id',
      (f: { output: Record<string, unknown> }) => {
        delete f.output.model_id
      },
      /output\.json has no model_id/,
    ],
  ] as const)('calldata: %s', async (_, edit, message) => {
    const { p } = await tamper(edit as never)
    expectClear(await veriml(['calldata', p]), { code: 2, message })
  })

  it('calldata --build refuses a proof that does not verify', async () => {
    const { p, b } = await tamper((f) => {
      f.signals[0] = (BigInt(f.signals[0]) + 1n).toString()
    })
    expectClear(await veriml(['calldata', p, '--build', b]), {
      code: 2,
      message: /the proof does not verify against .*: the Groth16 pairing check failed/,
    })
  })

  it('verify says what it checked', async () => {
    expectClear(await veriml(['verify', build, proof]), {
      code: 0,
      message:
        /valid proof for model 0x[0-9a-f]{64}.*\nchecked: proof\.json and public\.json against .*verification_key\.json.*output\.json: matches/,
    })
  })
})

const MUTANTS = 40

describe(`seeded random ONNX mutants (${2 * MUTANTS}): a clear answer or a clean refusal, never a stack or a hang`, () => {
  const mutants: { name: string; bytes: Uint8Array }[] = []
  beforeAll(async () => {
    const base = new Uint8Array(await readFile(TINY))
    const rand = prng(0x5eed)
    const at = (n: number) => Math.floor(rand() * n)
    for (let i = 0; i < MUTANTS; i++) {
      const b = Uint8Array.from(base)
      const kind = i % 5
      if (kind === 0) {
        const n = 1 + at(b.length - 1)
        mutants.push({ name: `truncate to ${n} bytes`, bytes: b.subarray(0, n) })
        continue
      }
      if (kind === 1) {
        const k = at(b.length)
        const bit = at(8)
        b[k] ^= 1 << bit
        mutants.push({ name: `flip bit ${bit} of byte ${k}`, bytes: b })
        continue
      }
      if (kind === 2) {
        const k = at(b.length)
        const v = at(256)
        b[k] = v
        mutants.push({ name: `byte ${k} := ${v}`, bytes: b })
        continue
      }
      if (kind === 3) {
        const k = at(b.length - 8)
        for (let j = 0; j < 8; j++) b[k + j] = 0xff
        mutants.push({ name: `8 bytes of 0xff at ${k}`, bytes: b })
        continue
      }
      const k = at(b.length - 32)
      const n = 1 + at(32)
      mutants.push({
        name: `repeat ${n} bytes at ${k}`,
        bytes: Uint8Array.from([...b.subarray(0, k + n), ...b.subarray(k)]),
      })
    }
    // Structural mutants: a decoded model with one field set to a hostile value, re-encoded.
    const fields: [string, (g: Graph, v: number) => void][] = [
      [
        'an initializer dim',
        (g, v) => {
          g.initializer[v % 4].dims[v % 2] = [0, -1, 3, 2 ** 31, 1e9][v % 5]
        },
      ],
      [
        'an initializer data type',
        (g, v) => {
          g.initializer[v % 4].dataType = [0, 2, 3, 7, 8, 10, 16][v % 7]
        },
      ],
      [
        'an input dim',
        (g, v) => {
          ;(g.input[0].type as { tensorType: { shape: { dim: unknown[] } } }).tensorType.shape.dim[v % 2] = {
            dimValue: [0, -5, 2 ** 40, 7][v % 4],
          }
        },
      ],
      [
        'a node input',
        (g, v) => {
          g.node[v % 3].input[v % 2] = ['', 'nowhere', 'output', 'fc2.bias'][v % 4]
        },
      ],
      [
        'a node op',
        (g, v) => {
          g.node[v % 3].opType = ['Conv', 'MaxPool', 'Softmax', 'Reshape', 'Concat', 'Add'][v % 6]
        },
      ],
      [
        'a node attribute',
        (g, v) => {
          g.node[v % 2 === 0 ? 0 : 2].attribute = [
            {
              name: ['transB', 'alpha', 'beta', 'transA'][v % 4],
              type: [1, 2, 3, 7][v % 4],
              i: 3,
              f: Number.NaN,
              s: new Uint8Array([1]),
              ints: [1e9],
            },
          ] as never
        },
      ],
      [
        'the output name',
        (g, v) => {
          g.output[0].name = ['input', 'fc1.out', 'fc1.weight'][v % 3]
        },
      ],
      [
        'a node output',
        (g, v) => {
          g.node[v % 3].output = [[], ['input'], ['a', 'b']][v % 3]
        },
      ],
    ]
    for (let i = 0; i < MUTANTS; i++) {
      const [what, set] = fields[i % fields.length]
      const v = at(1000)
      mutants.push({ name: `${what} := hostile value #${v}`, bytes: await mutateTiny((m) => set(m.graph, v)) })
    }
  })

  // In-process through the CLI's own entry (main: parsing, verbs, error printer), so that 40
  // mutants cost seconds, not 40 process start-ups; the table cases above spawn the real CLI.
  it('every mutant: exit 0/1, no stack, no hang, a message', async () => {
    const dir = await caseDir()
    const cal = join(dir, 'cal.json')
    await writeFile(
      cal,
      JSON.stringify({
        input_data: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8, 0.2, 0.4, -0.1, 0.3, -0.9, 0.7, 0.6, -0.5]],
      }),
    )
    const outcomes = new Map<string, number>()
    for (const [i, m] of mutants.entries()) {
      const path = join(dir, `m${i}.onnx`)
      await writeFile(path, m.bytes)
      const started = Date.now()
      const r = await inProcess(['inspect', path, '--calibration', cal])
      const all = `${r.stdout}\n${r.stderr}`
      const timedOut = Date.now() - started > HANG_MS
      tally.tried++
      const verdict: Verdict = timedOut
        ? 'hang'
        : STACK.some((p) => p.test(all))
          ? 'stack'
          : r.code === 0 || /^error: \S/m.test(r.stderr)
            ? 'clear'
            : 'vague'
      tally[verdict]++
      expect({ name: m.name, verdict, out: all.slice(0, 400) }).toEqual({
        name: m.name,
        verdict: 'clear',
        out: all.slice(0, 400),
      })
      expect([0, 1]).toContain(r.code)
      expect(r.stderr.length).toBeLessThan(2_000)
      outcomes.set(
        r.code === 0
          ? 'accepted'
          : r.stderr
              .split('\n')[0]
              .replace(/"[^"]*"/g, '"…"')
              .slice(0, 60),
        (outcomes.get(
          r.code === 0
            ? 'accepted'
            : r.stderr
                .split('\n')[0]
                .replace(/"[^"]*"/g, '"…"')
                .slice(0, 60),
        ) ?? 0) + 1,
      )
    }
    console.log(`mutant outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`)
  })
})

describe('the error printer (in-process): the last line of defence', () => {
  it('circom running out of memory: its first line, none of the wasm frames', () => {
    const frames = Array.from(
      { length: 40 },
      (_, i) => `    at wasm://wasm/00a1b2c3:wasm-function[${i}]:0x${(4096 + i).toString(16)}`,
    )
    const error = new ToolError({
      tool: 'circom2',
      argv: ['model.circom'],
      stderr: [
        'memory allocation of 4294967296 bytes failed',
        'RuntimeError: unreachable',
        ...frames,
        'Node.js v20.19.0',
      ].join('\n'),
      problem: 'ran out of memory: circom as WebAssembly has 4 GiB, and this circuit needs more',
    })
    const text = describeError(error)
    expect(text).toMatch(/^error: circom2: ran out of memory/)
    expect(text).toMatch(/memory allocation of 4294967296 bytes failed/)
    expect(text).not.toMatch(/^\s+at |wasm-function/m)
  })

  it('an error no call site typed: one line, no stack, no registered secret in any case or prefix', () => {
    registerSecret(SECRET)
    registerSecret(SHORT_KEY)
    const raw = new TypeError(
      `invalid BytesLike value (argument="value", value="${SECRET}", also ${SHORT_KEY.slice(2).toUpperCase()}1)`,
    )
    const text = describeError(raw)
    expect(text).toMatch(/^error: unexpected internal error: invalid BytesLike value/)
    expect(text).not.toMatch(/^\s+at /m)
    expect(text.toLowerCase()).not.toContain(SECRET.toLowerCase())
    expect(text.toLowerCase()).not.toContain(SHORT_KEY.slice(2, 30).toLowerCase())
  })

  it('an errno error: the path and the reason in words', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x.json'"), {
      code: 'ENOENT',
      path: 'x.json',
      syscall: 'open',
    })
    expect(describeError(enoent)).toBe('error: x.json: does not exist')
  })
})
