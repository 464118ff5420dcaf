/**
 * Dependency rules for the target layout (STYLE.md "Layout"): no import cycles in src/, nothing
 * imports src/cli, pure stages touch no file system, network, chain or process, imports point
 * down the pipeline, and bench/ and models/ never import test/.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { graphFromSources, readGraph } from './import-graph.js'
import { type Rules, violations } from './rules.js'

const ROOT = join(import.meta.dirname, '..', '..')

/** The pure stages, and the files in their folders that are I/O edges on purpose. */
const PURE = ['src/onnx/', 'src/ir/', 'src/quantize/', 'src/circuit/', 'src/optimistic/']
const PURE_EXCEPTIONS = [
  { path: 'src/onnx/runtime.ts', reason: "onnxruntime-node is the float yardstick: the one place it's loaded" },
  {
    path: 'src/onnx/file.ts',
    reason: "reads an ONNX file and its external data (only from the model's folder): the parser stays bytes-in",
  },
  { path: 'src/quantize/qdq/', reason: 'the QDQ writer writes ONNX files and runs onnxruntime to calibrate' },
  { path: 'src/optimistic/chain/', reason: "the optimistic path's chain I/O: game client, watcher, defender" },
  {
    path: 'src/optimistic/index.ts',
    reason: 'the veriml/optimistic entry point re-exports the whole path, chain I/O too',
  },
]

/** ethers names that talk to (or stand for) a node, a key or a deployed contract; type-only imports count too. */
const CHAIN_TALKING = [
  'Contract',
  'BaseContract',
  'ContractFactory',
  'ContractRunner',
  'ContractTransaction',
  'ContractTransactionResponse',
  'ContractTransactionReceipt',
  'Provider',
  'AbstractProvider',
  'JsonRpcProvider',
  'JsonRpcApiProvider',
  'WebSocketProvider',
  'BrowserProvider',
  'FallbackProvider',
  'Signer',
  'AbstractSigner',
  'JsonRpcSigner',
  'VoidSigner',
  'Wallet',
  'BaseWallet',
  'HDNodeWallet',
  'NonceManager',
  'TransactionRequest',
  'TransactionResponse',
  'TransactionReceipt',
]

const RULES: Rules = {
  forbid: [
    {
      id: 'cli-is-a-leaf',
      reason: 'the CLI parses arguments and prints; logic lives in the library, so nothing may depend on it',
      files: ['src/', 'bench/', 'models/'],
      except: [{ path: 'src/cli/', reason: 'the CLI itself' }],
      forbid: ['src/cli/'],
    },
    {
      id: 'pure-stage-io',
      reason: 'pure stages are functions of their inputs: I/O lives at the edges, so they run anywhere (browser too)',
      files: PURE,
      except: PURE_EXCEPTIONS,
      forbid: [
        'node:fs',
        'node:fs/promises',
        'node:child_process',
        'node:net',
        'node:http',
        'node:https',
        'node:http2',
        'node:tls',
        'node:dgram',
        'node:worker_threads',
        'node:wasi',
        'onnxruntime-node',
        'src/util/fs.ts',
        'src/chain/',
        'src/prove/',
        'src/cli/',
        'src/optimistic/chain/',
        'src/quantize/qdq/',
      ],
      forbidNames: { from: 'ethers', names: CHAIN_TALKING },
    },
    {
      id: 'bench-models-not-test',
      reason: 'benchmarks and model scripts ship without test/: what they share with tests lives in models/',
      files: ['bench/', 'models/'],
      forbid: ['test/'],
    },
  ],
  layers: {
    id: 'pipeline-order',
    reason: 'imports point one way down the pipeline (onnx → ir → quantize → circuit → prove → chain)',
    within: 'src/',
    // Entry points and folders inside folders first: the first matching layer wins.
    layers: [
      { name: 'api', files: ['src/index.ts', 'src/optimistic/index.ts'] },
      { name: 'quantize/qdq', files: ['src/quantize/qdq/'] },
      { name: 'optimistic/chain', files: ['src/optimistic/chain/'] },
      { name: 'onnx', files: ['src/onnx/'] },
      { name: 'ir', files: ['src/ir/'] },
      { name: 'quantize', files: ['src/quantize/'] },
      { name: 'circuit', files: ['src/circuit/'] },
      { name: 'prove', files: ['src/prove/', 'src/model.ts'] },
      { name: 'chain', files: ['src/chain/'] },
      { name: 'optimistic', files: ['src/optimistic/'] },
      // onchain (issue 17): tiny models executed wholly on chain.
      { name: 'onchain', files: ['src/onchain/'] },
      { name: 'inspect', files: ['src/inspect.ts'] },
      // web (issue 19): the veriml/browser entry (nothing Node-only; scripts/build-browser.mjs checks).
      { name: 'browser', files: ['src/browser/'] },
      // web (issue 19): the Node side of the page: the site `veriml web` serves and `veriml bundle` writes.
      { name: 'site', files: ['src/site/'] },
      // serve (issue 18): the prover service, over the proving library and chain calldata.
      { name: 'serve', files: ['src/serve/'] },
      { name: 'cli', files: ['src/cli/'] },
      { name: 'util', files: ['src/util/'] },
      { name: 'base', files: ['src/errors.ts', 'src/shutdown.ts', 'src/types/'] },
    ],
    always: ['base'],
    allowed: {
      util: [],
      onnx: ['util'],
      ir: ['onnx', 'util'],
      quantize: ['onnx', 'ir', 'util'],
      'quantize/qdq': ['onnx', 'ir', 'quantize', 'util'],
      circuit: ['onnx', 'ir', 'quantize', 'util'],
      prove: ['onnx', 'ir', 'quantize', 'quantize/qdq', 'circuit', 'util'],
      chain: ['onnx', 'ir', 'quantize', 'circuit', 'prove', 'util'],
      optimistic: ['ir', 'quantize', 'util'],
      'optimistic/chain': ['optimistic', 'ir', 'quantize', 'prove', 'chain', 'util'],
      // onchain (issue 17): its program is IR; it deploys with src/chain's compiler.
      onchain: ['ir', 'chain', 'util'],
      inspect: ['onnx', 'ir', 'quantize', 'circuit', 'prove', 'util', 'onchain'],
      // web (issue 19): the browser entry loads, runs, proves and records with the pure stages, prove's pure parts and chain's encoder.
      browser: ['ir', 'quantize', 'circuit', 'prove', 'chain', 'util'],
      site: ['circuit', 'prove', 'chain', 'browser', 'util'],
      // serve (issue 18): validates inputs (quantize), proves (prove), encodes calldata (chain).
      serve: ['ir', 'quantize', 'prove', 'chain', 'util'],
      // Entry points (src/index.ts, src/optimistic/index.ts): everything but the CLI.
      api: [
        'onnx',
        'ir',
        'quantize',
        'quantize/qdq',
        'circuit',
        'prove',
        'chain',
        'optimistic',
        'optimistic/chain',
        'inspect',
        'util',
        'onchain',
        // serve (issue 18)
        'serve',
      ],
      // The top: argument parsing and printing over the whole library.
      cli: [
        'onnx',
        'ir',
        'quantize',
        'quantize/qdq',
        'circuit',
        'prove',
        'chain',
        'optimistic',
        'optimistic/chain',
        'inspect',
        'api',
        'util',
        // web (issue 19): `veriml web` and `veriml bundle` over src/site.
        'browser',
        'site',
        // serve (issue 18)
        'serve',
      ],
    },
  },
  cycles: {
    id: 'no-cycles',
    reason: 'a cycle makes two modules one: neither can be read, tested or moved alone',
    // Type-only imports count: a type cycle (lookup/max ↔ emit) is the same tangle for a reader.
    ignoreTypeOnly: false,
    within: 'src/',
  },
}

/**
 * ===================== KNOWN_UNTIL_MERGE — the integrator empties this =====================
 * Violations in today's tree that other issue-14 helpers remove on their branches (`fixedBy`
 * names the branch), and the few no wave-1 helper owns (`fixedBy` starts with OPEN). Each line
 * must still occur: once a merge fixes it, this test fails until the line is deleted here.
 */
const KNOWN_UNTIL_MERGE: Array<{ violation: string; fixedBy: string }> = []

describe('dependency rules', () => {
  const graph = readGraph(ROOT, ['src', 'bench', 'models'])
  const found = violations(graph, RULES)
  const known = new Set(KNOWN_UNTIL_MERGE.map((k) => k.violation))

  it('src/, bench/ and models/ keep every rule (violations listed one a line)', () => {
    expect(found.filter((v) => !known.has(v))).toEqual([])
  })

  it('every KNOWN_UNTIL_MERGE line still occurs (delete the ones a merge fixed)', () => {
    expect([...known].filter((v) => !found.includes(v))).toEqual([])
  })

  it('reads the real tree: src/ has files, each in a layer, and local imports resolve to them', () => {
    expect(graph.size).toBeGreaterThan(100)
    // Source files only: a JSON or wasm import is not in the graph and needs no layer.
    const local = [...graph.values()].flat().filter((e) => e.to.startsWith('src/') && /\.m?[jt]s$/.test(e.to))
    expect(local.length).toBeGreaterThan(300)
    expect(local.filter((e) => !graph.has(e.to)).map((e) => `${e.from} → ${e.to}`)).toEqual([])
  })
})

describe('the checker on a synthetic graph (so the rules above cannot pass by checking nothing)', () => {
  const sources = new Map([
    ['src/ir/a.ts', "import { b } from './b.js'\nexport const a = 1"],
    ['src/ir/b.ts', "import type { A } from './a.js'\n// import { x } from '../cli/main.js' (a comment, not an edge)"],
    ['src/circuit/c.ts', "import { readFile } from 'node:fs/promises'\nimport { Wallet, keccak256 } from 'ethers'"],
    ['src/onnx/d.ts', "export { c } from '../circuit/c.js'\nconst m = await import('../cli/main.js')"],
    ['src/cli/main.ts', 'export const main = 1'],
    ['bench/e.ts', "import { rng } from '../test/optimistic/models.js'"],
  ])
  const found = violations(graphFromSources(sources), RULES)

  it('reports a cycle as a path, type-only edges included', () => {
    expect(found).toContain('no-cycles: src/ir/a.ts → src/ir/b.ts → src/ir/a.ts')
  })

  it('reports forbidden imports: file system, chain-talking ethers names, the CLI, test/ from bench/', () => {
    expect(found).toContain('pure-stage-io: src/circuit/c.ts → node:fs/promises')
    expect(found).toContain('pure-stage-io: src/circuit/c.ts → ethers (Wallet, keccak256)')
    expect(found).toContain('cli-is-a-leaf: src/onnx/d.ts → src/cli/main.ts')
    expect(found).toContain('bench-models-not-test: bench/e.ts → test/optimistic/models.js')
  })

  it('reports an import up the pipeline, and nothing for comments or allowed names', () => {
    expect(found).toContain('pipeline-order: src/onnx/d.ts → src/circuit/c.ts (onnx may not import circuit)')
    expect(found.filter((v) => v.includes('src/ir/b.ts → src/cli'))).toEqual([])
    expect(found).toHaveLength(8)
  })
})
