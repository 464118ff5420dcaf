import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { compileModel } from '../../src/prove/compile.js'
import { runModel } from '../../src/prove/prove.js'
import { gameContract, readClaim, send, submitClaim } from '../../src/optimistic/chain/client.js'
import { claimKeyOf, packedOutputsOf } from '../../src/optimistic/config.js'
import { cheatingTrace } from '../../src/optimistic/cheat.js'
import {
  loadOptimisticDeployment,
  loadOptimisticModel,
  type OptimisticDeployment,
  type OptimisticModel,
} from '../../src/optimistic/chain/deployment.js'
import { ClaimNotFoundError } from '../../src/optimistic/chain/errors.js'
import { mostExpensiveElement } from '../../src/optimistic/cheat.js'
import { claimStatus } from '../../src/optimistic/chain/status.js'
import type { IrModel } from '../../src/ir/types.js'
import { startQuickAnvil } from './chain.js'
import { inputTensor } from './models.js'
import { packInputStates } from '../../src/optimistic/input.js'
import { merkleProof } from '../../src/optimistic/merkle.js'
import { prefixTree } from '../../src/optimistic/trace.js'
import { claimsOf, findClaim } from '../../src/optimistic/chain/remote.js'
import { buildTrace, type Trace } from '../../src/optimistic/trace.js'
import { defendClaim, type GameContext, type WatchEvent, watchClaims } from '../../src/optimistic/chain/watch.js'
import { cliInProcess, cliSpawn, ROOT } from '../helpers/cli.js'

const INPUT = { input_data: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]] }
const POLL = ['--poll-ms', '50']

const cli = cliInProcess

describe('veriml op: deployment, watcher, claims and status on anvil', () => {
  let anvil: AnvilInstance
  let dir: string
  let inputPath: string
  let d: OptimisticDeployment
  let m: OptimisticModel
  let honest: Trace
  let wallets: Wallet[]
  const ctx = (w: Wallet): GameContext => ({
    game: gameContract(d.gameAddress, w),
    modelId: d.modelId,
    model: m.model,
    params: m.params,
    challengeBond: d.challengeBond,
    challengeWindow: d.challengeWindow,
  })
  const key = (i: number) => anvil.accounts[i].privateKey

  beforeAll(async () => {
    anvil = await startQuickAnvil({ accounts: 8 })
    wallets = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
    dir = await mkdtemp(join(tmpdir(), 'veriml-op-test-'))
    await compileModel({ onnxPath: join(ROOT, 'test', 'fixtures', 'tiny-mlp.onnx'), outDir: join(dir, 'm') })
    inputPath = join(dir, 'input.json')
    await writeFile(inputPath, JSON.stringify(INPUT))
    const r = await cli(
      'op',
      'deploy',
      join(dir, 'm'),
      '--rpc',
      anvil.rpcUrl,
      '--private-key',
      key(0),
      '--claim-bond',
      '1000',
      '--challenge-bond',
      '400',
      '--move-timeout',
      '300',
    )
    expect(r.code, r.stderr).toBe(0)
    d = await loadOptimisticDeployment(join(dir, 'm'))
    m = await loadOptimisticModel({ model: join(dir, 'm') })
    honest = buildTrace(m.model, (await runModel({ model: join(dir, 'm'), input: INPUT })).inputs)
  }, 60_000)
  afterAll(async () => {
    await anvil?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('op deploy writes optimistic.json with the given bonds, clocks and defaults', () => {
    expect(d).toMatchObject({
      chainId: anvil.chainId,
      claimBond: 1000n,
      challengeBond: 400n,
      moveTimeout: 300n,
      challengeWindow: 3_600n,
    })
    expect(d.modelId).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('a watcher catches a wrong claim, plays the dispute to the end, and the cheater loses its bond', async () => {
    const [cheater, watcher] = [wallets[2], wallets[3]]
    const controller = new AbortController()
    const events: WatchEvent[] = []
    const fromBlock = await anvil.provider.getBlockNumber()
    const watching = watchClaims({
      ...ctx(watcher),
      fromBlock,
      pollMs: 50,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    })
    const lie = cheatingTrace(m.model, honest, m.params.layout.inputCount, 0, 50n)
    const { claimId } = await submitClaim(ctx(cheater).game, d.modelId, lie, d.claimBond)
    const defended = await defendClaim({
      ...ctx(cheater),
      claimId,
      key: claimKeyOf(d.modelId, lie, cheater.address),
      trace: lie,
      fromBlock,
      pollMs: 50,
      maxPolls: 400,
    })
    controller.abort()
    const summary = await watching
    expect(defended.status).toBe('Rejected')
    expect(summary.disputes).toEqual([expect.objectContaining({ claimId, claimantWon: false })])
    expect(events).toContainEqual({ type: 'claim', claimId, verdict: 'wrong' })
    // The lie is in a linear layer: the dispute ends in a fold bisection over the row's terms.
    expect(events.filter((e) => e.type === 'move').map((e) => e.type === 'move' && e.sent.move)).toEqual(
      expect.arrayContaining(['startFold', 'foldStep']),
    )
    const game = ctx(watcher).game
    expect(await game.credit(watcher.address)).toBe(d.claimBond / 2n + d.challengeBond)
    expect(await game.credit(cheater.address)).toBe(0n)
    const status = await cli('op', 'status', claimId, join(dir, 'm'), '--rpc', anvil.rpcUrl)
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/status\s+Rejected/)
    expect(status.stdout).toContain('resolved: challenger won')
  }, 60_000)

  it('an honest claim posted with op claim is left alone by the watcher and finalises after the window', async () => {
    const [claimant, watcher] = [wallets[1], wallets[4]]
    const controller = new AbortController()
    const events: WatchEvent[] = []
    const fromBlock = await anvil.provider.getBlockNumber()
    const watching = watchClaims({
      ...ctx(watcher),
      fromBlock,
      pollMs: 50,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    })
    const resultOf = () => cli('result', join(dir, 'm'), '--input', inputPath, '--rpc', anvil.rpcUrl)
    const before = await resultOf()
    expect(before.code, before.stderr).toBe(0)
    expect(before.stdout).toMatch(/status\s+not settled/)
    const posted = await cli(
      'op',
      'claim',
      join(dir, 'm'),
      '--input',
      inputPath,
      '--rpc',
      anvil.rpcUrl,
      '--private-key',
      key(1),
    )
    expect(posted.code, posted.stderr).toBe(0)
    const claimId = /claim (0x[0-9a-f]{64})/.exec(posted.stdout)![1]
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'claim'); i++) await new Promise((r) => setTimeout(r, 50))
    expect(events).toEqual([{ type: 'claim', claimId, verdict: 'correct' }])
    const pending = await cli('op', 'status', claimId, '--game', d.gameAddress, '--rpc', anvil.rpcUrl)
    expect(pending.stdout).toMatch(/status\s+Pending/)
    expect(pending.stdout).toMatch(/open disputes\s+0/)
    // `op challenge` on a correct claim recomputes it and does not dispute it.
    const checked = await cli(
      'op',
      'challenge',
      claimId,
      join(dir, 'm'),
      '--rpc',
      anvil.rpcUrl,
      '--private-key',
      key(5),
    )
    expect(checked.code).toBe(0)
    expect(checked.stdout).toContain(`claim ${claimId}: correct`)
    const early = await cli('op', 'finalize', claimId, join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(5))
    expect(early.code).toBe(1)
    expect(early.stdout).toMatch(/the challenge window is still open for \d+ s/)
    await anvil.provider.send('evm_increaseTime', [Number(d.challengeWindow) + 1])
    await anvil.provider.send('evm_mine', [])
    // Anyone may finalise; the bond goes to the claimant.
    const finalized = await cli(
      'op',
      'finalize',
      claimId,
      join(dir, 'm'),
      '--rpc',
      anvil.rpcUrl,
      '--private-key',
      key(5),
    )
    expect(finalized.code, finalized.stderr).toBe(0)
    expect(finalized.stdout).toContain(`claim ${claimId} finalised`)
    controller.abort()
    expect((await watching).disputes).toEqual([])
    expect((await readClaim(ctx(claimant).game, claimId)).status).toBe('Finalized')
    expect(await ctx(claimant).game.credit(claimant.address)).toBe(d.claimBond)
    const again = await cli('op', 'finalize', claimId, join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(5))
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('already Finalized') })
    const withdrawn = await cli('op', 'withdraw', join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(1))
    expect(withdrawn.code, withdrawn.stderr).toBe(0)
    expect(withdrawn.stdout).toContain(`(${d.claimBond} wei) to ${claimant.address}`)
    expect(await ctx(claimant).game.credit(claimant.address)).toBe(0n)
    expect(
      (await cli('op', 'withdraw', join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(1))).stdout,
    ).toContain('nothing to withdraw')
    expect((await cli('op', 'status', claimId, join(dir, 'm'), '--rpc', anvil.rpcUrl)).stdout).toMatch(
      /status\s+Finalized/,
    )
    // The hub's one record of the statement: `veriml result` finds it by the model id and the input.
    const after = await resultOf()
    expect(after.code, after.stderr).toBe(0)
    expect(after.stdout).toMatch(/status\s+settled by optimistic at /)
    expect(after.stdout).toContain(d.modelId)
    expect(after.stdout).toContain("recorded, equal to the reference executor's")
  }, 60_000)

  /**
   * The honest trace on the input with its first value moved by k (inside the domain): another
   * statement, for claims after the one on INPUT finalised (a settled statement takes no claim).
   */
  const shifted = (k: bigint) => {
    const { lo } = m.params.layout.inputLayouts[0]
    const input = honest.states[0].map((v, i) => (i > 0 ? v : v - k >= lo ? v - k : v + k))
    return buildTrace(m.model, [input])
  }

  it('op challenge disputes a wrong claim and wins against a defending cheater', async () => {
    const cheater = wallets[6]
    const lie = cheatingTrace(m.model, shifted(1n), m.params.layout.outputStates[0], 1, 1n)
    const fromBlock = await anvil.provider.getBlockNumber()
    const { claimId } = await submitClaim(ctx(cheater).game, d.modelId, lie, d.claimBond)
    const defending = defendClaim({
      ...ctx(cheater),
      claimId,
      key: claimKeyOf(d.modelId, lie, cheater.address),
      trace: lie,
      fromBlock,
      pollMs: 50,
      maxPolls: 400,
    })
    const r = await cli(
      'op',
      'challenge',
      claimId,
      join(dir, 'm'),
      '--rpc',
      anvil.rpcUrl,
      '--private-key',
      key(7),
      ...POLL,
    )
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('WRONG')
    expect(r.stdout).toContain('the challenger won')
    expect((await defending).status).toBe('Rejected')
    // The status `op status` prints, from the library: the claim rejected by the one dispute against it.
    const s = await claimStatus({ game: ctx(cheater).game, claimId, fromBlock })
    expect(s).toMatchObject({
      claimId,
      status: 'Rejected',
      claimant: cheater.address,
      modelId: d.modelId,
      openDisputes: 0,
    })
    expect(s.outputs).toEqual(lie.outputs)
    expect(s.disputes).toHaveLength(1)
    expect(s.disputes[0]).toMatchObject({ challenger: wallets[7].address, phase: 'Resolved', claimantWon: false })
  }, 60_000)

  it('fails with a specific error for an unknown claim id, a missing optimistic.json, or another model', async () => {
    const unknown = `0x${'ab'.repeat(32)}`
    const r = await cli('op', 'status', unknown, join(dir, 'm'), '--rpc', anvil.rpcUrl)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`claim ${unknown} not found`)
    await expect(findClaim(ctx(wallets[0]).game, unknown, m.params.layout, { fromBlock: 0 })).rejects.toThrow(
      ClaimNotFoundError,
    )
    await expect(claimStatus({ game: ctx(wallets[0]).game, claimId: unknown })).rejects.toThrow(ClaimNotFoundError)
    const ch = await cli('op', 'challenge', unknown, join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(5))
    expect(ch.code).toBe(1)
    expect(ch.stderr).toContain(`claim ${unknown} not found`)

    const other = join(dir, 'other')
    await compileModel({ onnxPath: join(ROOT, 'test', 'fixtures', 'matmul-add.onnx'), outDir: other })
    const missing = await cli('op', 'watch', other, '--rpc', anvil.rpcUrl, '--private-key', key(5))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/optimistic\.json: no such file/)
    await copyFile(join(dir, 'm', 'optimistic.json'), join(other, 'optimistic.json'))
    const wrong = await cli('op', 'claim', other, '--input', inputPath, '--rpc', anvil.rpcUrl, '--private-key', key(5))
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/is for compiled model 0x[0-9a-f]+, but found 0x/)
  }, 60_000)

  it("a claim must post exactly the model's input states packed as the circuit's signals, padding bits zero (watchers unpack them from the event)", async () => {
    const game = ctx(wallets[5]).game
    const honest = shifted(2n)
    const full = prefixTree(honest, honest.layout.stateCount - 1)
    const paths = honest.layout.outputStates.map((s) => merkleProof(full, s))
    const input = honest.states[0]
    const post = (packed: string) =>
      send('claim', () =>
        game.claim(d.modelId, packed, honest.traceRoot, packedOutputsOf(honest), paths, { value: d.claimBond }),
      )
    const packed = packInputStates(m.params.layout.inputLayouts, [input])
    const bytes = (packed.length - 2) / 2
    await expect(post(packed.slice(0, -64))).rejects.toMatchObject({
      errorName: 'InputSizeMismatch',
      args: [BigInt(bytes), BigInt(bytes - 32)],
    })
    // The top bit of the last word: above its lanes (at most 252 bits of a word hold lanes).
    await expect(post(`${packed.slice(0, -64)}80${packed.slice(-62)}`)).rejects.toMatchObject({
      errorName: 'InputPaddingNotZero',
      args: [0n, BigInt(bytes / 32 - 1)],
    })
    const fromBlock = await anvil.provider.getBlockNumber()
    await post(packed)
    const [claim] = await claimsOf(game, d.modelId, m.params.layout, fromBlock, await anvil.provider.getBlockNumber())
    expect(claim.inputs).toEqual([input])
    expect(claim.inputPacked).toBe(packed)
    expect(claim.outputs).toEqual(honest.outputs)
    expect(claim.key).toEqual(claimKeyOf(d.modelId, honest, wallets[5].address))
  })

  it('each op command has its own usage, flags and --help; node validates its port and block time', async () => {
    const foreign = await cli('op', 'status', `0x${'ab'.repeat(32)}`, join(dir, 'm'), '--claim-bond', '5')
    expect(foreign.code).toBe(2)
    expect(foreign.stderr).toContain('op status takes no --claim-bond')
    expect(foreign.stderr).toContain('usage: veriml op status CLAIM_ID')
    const help = await cli('op', 'status', '--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^usage: veriml op status CLAIM_ID/)
    expect(help.stdout).toContain('--game VALUE')
    expect(help.stdout).not.toContain('--claim-bond')
    expect((await cli('op', 'help', 'withdraw')).stdout).toMatch(/^usage: veriml op withdraw DIR[\s\S]*--private-key/)
    expect((await cli('op', '--help')).stdout).toMatch(/op finalize CLAIM_ID DIR[\s\S]*op withdraw DIR/)
    expect((await cli('op', 'finalize', 'x')).code).toBe(2)
    for (const bad of [
      ['--port', 'abc'],
      ['--port', '0'],
      ['--port', '65536'],
      ['--block-time', '1.5'],
    ]) {
      const r = await cli('node', ...bad)
      expect(r.code, bad.join(' ')).toBe(2)
      expect(r.stderr).toMatch(
        new RegExp(`${bad[0]} must be an integer in \\d+\\.\\.\\d+; got "${bad[1].replace('.', '\\.')}"`),
      )
    }
  })

  it('the installed binary exits non-zero naming the unknown claim', async () => {
    const unknown = `0x${'cd'.repeat(32)}`
    const error = await cliSpawn(['op', 'status', unknown, '--game', d.gameAddress, '--rpc', anvil.rpcUrl])
    expect(error?.code).toBe(1)
    expect(error?.stderr).toContain(`claim ${unknown} not found in the game at ${d.gameAddress}`)
    // The child process compiles the game and executor with solc-js (20–25 s
    // measured on 2 shared cores under load, before it makes its first call).
  }, 90_000)
})

describe('veriml op demo', () => {
  it('--json prints one object: every transaction with its gas and calldata, the outcome, and bond flows where the honest side loses nothing', async () => {
    const r = await cli('op', 'demo', '--json', ...POLL)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {
      transactions: { who: string; action: string; gas: number; calldataBytes: number }[]
      outcome: Record<string, unknown>
      bonds: Record<string, { deposited: string; withdrawn: string; net: string }>
    }
    expect(Object.keys(report)).toEqual(['transactions', 'outcome', 'bonds'])
    expect(report.outcome).toMatchObject({
      ok: true,
      honestClaim: 'Finalized',
      cheatingClaim: 'Rejected',
      watcherVerdicts: { honest: 'correct', cheating: 'wrong' },
    })
    expect(report.transactions.map((t) => t.action)).toEqual(
      expect.arrayContaining([
        'claim (honest)',
        'finalize',
        'claim (wrong)',
        'challenge',
        'reveal',
        'startFold',
        'foldPropose',
        'foldChoose',
        'foldStep',
        'withdraw',
      ]),
    )
    for (const t of report.transactions) {
      expect(Object.keys(t)).toEqual(['who', 'action', 'gas', 'calldataBytes'])
      expect(t.gas).toBeGreaterThan(21_000)
      expect(t.calldataBytes).toBeGreaterThanOrEqual(4)
    }
    // The lie sits at the widest row (fc2 reads fc1's 16 outputs): a fold bisection over its terms, 16 → 8 → 4 → 2 → 1.
    expect(report.outcome.lie).toEqual({ state: 3, element: 0, terms: 16, origin: 'fc2' })
    expect(report.transactions.filter((t) => t.action === 'foldPropose')).toHaveLength(4)
    expect(BigInt(report.bonds.claimant.net)).toBe(0n)
    expect(BigInt(report.bonds.watcher.net)).toBeGreaterThan(0n)
    expect(BigInt(report.bonds.cheater.net)).toBeLessThan(0n)
  }, 90_000)

  it('the cheater lies at the widest linear row of any model', async () => {
    const model = {
      name: 'rows',
      inputs: [inputTensor(0, 6)],
      steps: [
        {
          origin: 'narrow',
          op: {
            op: 'linear' as const,
            inputs: [0],
            rowPtr: Int32Array.from([0, 1, 2]),
            cols: Int32Array.from([0, 1]),
            vals: [1n, 1n],
            bias: [0n, 0n],
          },
          output: { id: 1, name: 't1', shape: [2] },
        },
        {
          origin: 'wide',
          op: {
            op: 'linear' as const,
            inputs: [0, 1],
            rowPtr: Int32Array.from([0, 2, 8, 9]),
            cols: Int32Array.from([0, 1, 0, 1, 2, 3, 4, 6, 7]),
            vals: Array(9).fill(1n),
            bias: [0n, 0n, 0n],
          },
          output: { id: 2, name: 't2', shape: [3] },
        },
      ],
      outputs: [{ tensor: 2, name: 'out', quant: { scale: 1, zeroPoint: 0 } }],
    } as unknown as IrModel
    expect(mostExpensiveElement(model)).toEqual({ state: 2, element: 1, terms: 6, origin: 'wide' })
  })
})
