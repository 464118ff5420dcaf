import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { main } from '../../src/cli/main.js'
import { compileModel } from '../../src/prove/compile.js'
import { runModel } from '../../src/prove/prove.js'
import { finalizeClaim, gameContract, readClaim, send, submitClaim } from '../../src/optimistic/client.js'
import { claimKeyOf } from '../../src/optimistic/config.js'
import { cheatingTrace } from '../../src/optimistic/demo.js'
import { loadOptimisticDeployment, loadOptimisticModel, type OptimisticDeployment, type OptimisticModel } from '../../src/optimistic/deployment.js'
import { ClaimNotFoundError } from '../../src/optimistic/op-errors.js'
import { runOptimisticDemo } from '../../src/optimistic/demo.js'
import { packInput } from '../../src/optimistic/input.js'
import { merkleProof } from '../../src/optimistic/merkle.js'
import { prefixTree } from '../../src/optimistic/trace.js'
import { claimsOf, findClaim } from '../../src/optimistic/remote.js'
import { buildTrace, type Trace } from '../../src/optimistic/trace.js'
import { defendClaim, type GameContext, type WatchEvent, watchClaims } from '../../src/optimistic/watch.js'

const ROOT = join(import.meta.dirname, '..', '..')
const INPUT = { input_data: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]] }
const POLL = ['--poll-ms', '50']

/** Runs the CLI in-process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = []
  const stderr: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void stdout.push(a.join(' ')))
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void stderr.push(a.join(' ')))
  try {
    return { code: await main(argv), stdout: stdout.join('\n'), stderr: stderr.join('\n') }
  } finally {
    log.mockRestore()
    error.mockRestore()
  }
}

describe('veriml op: deployment, watcher, claims and status on anvil', () => {
  let anvil: AnvilInstance
  let dir: string
  let inputPath: string
  let d: OptimisticDeployment
  let m: OptimisticModel
  let honest: Trace
  let wallets: Wallet[]
  const ctx = (w: Wallet): GameContext => ({ game: gameContract(d.gameAddress, w), modelId: d.modelId, model: m.model, params: m.params, challengeBond: d.challengeBond, challengeWindow: d.challengeWindow })
  const key = (i: number) => anvil.accounts[i].privateKey

  beforeAll(async () => {
    anvil = await startAnvil({ accounts: 8 })
    wallets = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
    dir = await mkdtemp(join(tmpdir(), 'veriml-op-test-'))
    await compileModel({ onnxPath: join(ROOT, 'test', 'fixtures', 'tiny-mlp.onnx'), outDir: join(dir, 'm') })
    inputPath = join(dir, 'input.json')
    await writeFile(inputPath, JSON.stringify(INPUT))
    const r = await cli('op', 'deploy', join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(0), '--claim-bond', '1000', '--challenge-bond', '400', '--move-timeout', '300')
    expect(r.code, r.stderr).toBe(0)
    d = await loadOptimisticDeployment(join(dir, 'm'))
    m = await loadOptimisticModel(join(dir, 'm'))
    honest = buildTrace(m.model, (await runModel(join(dir, 'm'), INPUT)).inputs)
  }, 60_000)
  afterAll(async () => {
    await anvil?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('op deploy writes optimistic.json with the given bonds, clocks and defaults', () => {
    expect(d).toMatchObject({ chainId: anvil.chainId, claimBond: 1000n, challengeBond: 400n, moveTimeout: 300n, challengeWindow: 3_600n })
    expect(d.modelId).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('a watcher catches a wrong claim, plays the dispute to the end, and the cheater loses its bond', async () => {
    const [cheater, watcher] = [wallets[2], wallets[3]]
    const controller = new AbortController()
    const events: WatchEvent[] = []
    const fromBlock = await anvil.provider.getBlockNumber()
    const watching = watchClaims({ ...ctx(watcher), fromBlock, pollMs: 50, signal: controller.signal, onEvent: (e) => events.push(e) })
    const lie = cheatingTrace(m.model, honest, m.params.layout.inputCount, 0, 50n)
    const { claimId } = await submitClaim(ctx(cheater).game, d.modelId, lie, d.claimBond)
    const defended = await defendClaim({ ...ctx(cheater), claimId, key: claimKeyOf(d.modelId, lie, cheater.address), trace: lie, fromBlock, pollMs: 50, maxPolls: 400 })
    controller.abort()
    const summary = await watching
    expect(defended.status).toBe('Rejected')
    expect(summary.disputes).toEqual([expect.objectContaining({ claimId, claimantWon: false })])
    expect(events).toContainEqual({ type: 'claim', claimId, verdict: 'wrong' })
    expect(events.filter((e) => e.type === 'move').map((e) => e.type === 'move' && e.sent.move)).toContain('step')
    const game = ctx(watcher).game
    expect(await game.credit(watcher.address)).toBe(d.claimBond + d.challengeBond)
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
    const watching = watchClaims({ ...ctx(watcher), fromBlock, pollMs: 50, signal: controller.signal, onEvent: (e) => events.push(e) })
    const posted = await cli('op', 'claim', join(dir, 'm'), '--input', inputPath, '--rpc', anvil.rpcUrl, '--private-key', key(1))
    expect(posted.code, posted.stderr).toBe(0)
    const claimId = /claim (0x[0-9a-f]{64})/.exec(posted.stdout)![1]
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'claim'); i++) await new Promise((r) => setTimeout(r, 50))
    expect(events).toEqual([{ type: 'claim', claimId, verdict: 'correct' }])
    const pending = await cli('op', 'status', claimId, '--game', d.gameAddress, '--rpc', anvil.rpcUrl)
    expect(pending.stdout).toMatch(/status\s+Pending/)
    expect(pending.stdout).toMatch(/open disputes\s+0/)
    // `op challenge` on a correct claim recomputes it and does not dispute it.
    const checked = await cli('op', 'challenge', claimId, join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(5))
    expect(checked.code).toBe(0)
    expect(checked.stdout).toContain(`claim ${claimId}: correct`)
    await anvil.provider.send('evm_increaseTime', [Number(d.challengeWindow) + 1])
    await anvil.provider.send('evm_mine', [])
    await finalizeClaim(ctx(claimant).game, claimKeyOf(d.modelId, honest, claimant.address))
    controller.abort()
    expect((await watching).disputes).toEqual([])
    expect((await readClaim(ctx(claimant).game, claimId)).status).toBe('Finalized')
    expect(await ctx(claimant).game.credit(claimant.address)).toBe(d.claimBond)
    expect((await cli('op', 'status', claimId, join(dir, 'm'), '--rpc', anvil.rpcUrl)).stdout).toMatch(/status\s+Finalized/)
  }, 60_000)

  it('op challenge disputes a wrong claim and wins against a defending cheater', async () => {
    const cheater = wallets[6]
    const lie = cheatingTrace(m.model, honest, m.params.layout.outputStates[0], 1, 1n)
    const fromBlock = await anvil.provider.getBlockNumber()
    const { claimId } = await submitClaim(ctx(cheater).game, d.modelId, lie, d.claimBond)
    const defending = defendClaim({ ...ctx(cheater), claimId, key: claimKeyOf(d.modelId, lie, cheater.address), trace: lie, fromBlock, pollMs: 50, maxPolls: 400 })
    const r = await cli('op', 'challenge', claimId, join(dir, 'm'), '--rpc', anvil.rpcUrl, '--private-key', key(7), ...POLL)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('WRONG')
    expect(r.stdout).toContain('the challenger won')
    expect((await defending).status).toBe('Rejected')
  }, 60_000)

  it('fails with a specific error for an unknown claim id, a missing optimistic.json, or another model', async () => {
    const unknown = `0x${'ab'.repeat(32)}`
    const r = await cli('op', 'status', unknown, join(dir, 'm'), '--rpc', anvil.rpcUrl)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`claim ${unknown} not found`)
    await expect(findClaim(ctx(wallets[0]).game, unknown, m.params.layout, { fromBlock: 0 })).rejects.toThrow(ClaimNotFoundError)
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

  it('a claim must post exactly the model\'s input values, packed one lane each (watchers unpack them from the event)', async () => {
    const game = ctx(wallets[5]).game
    const path = merkleProof(prefixTree(honest, honest.layout.stateCount - 1), honest.layout.outputStates[0])
    const input = honest.states[0]
    const lane = m.params.layout.inputLane
    const post = (values: bigint[]) => send('claim', () => game.claim(d.modelId, packInput(lane, values), honest.inputRoot, honest.traceRoot, honest.outputs[0], path, { value: d.claimBond }))
    await expect(post(input.slice(1))).rejects.toMatchObject({ errorName: 'InputSizeMismatch', args: [BigInt(input.length * lane.bytes), BigInt((input.length - 1) * lane.bytes)] })
    const fromBlock = await anvil.provider.getBlockNumber()
    await post(input)
    const [claim] = await claimsOf(game, d.modelId, m.params.layout, fromBlock, await anvil.provider.getBlockNumber())
    expect(claim.inputs).toEqual([input])
    expect(claim.inputPacked).toBe(packInput(lane, input))
    expect(claim.key).toEqual(claimKeyOf(d.modelId, honest, wallets[5].address))
  })

  it('the installed binary exits non-zero naming the unknown claim', async () => {
    const unknown = `0x${'cd'.repeat(32)}`
    const run = promisify(execFile)
    const error = await run(process.execPath, [join(ROOT, 'bin', 'veriml.mjs'), 'op', 'status', unknown, '--game', d.gameAddress, '--rpc', anvil.rpcUrl]).then(() => null, (e) => e as { code: number; stderr: string })
    expect(error?.code).toBe(1)
    expect(error?.stderr).toContain(`claim ${unknown} not found in the game at ${d.gameAddress}`)
    // The child process starts tsx and compiles the game and executor with solc-js (20–25 s
    // measured on 2 shared cores under load, before it makes its first call).
  }, 90_000)
})

describe('veriml op demo', () => {
  it('finalises the honest claim, rejects the cheating one, and accounts for every bond', async () => {
    const r = await runOptimisticDemo({ pollMs: 50 })
    expect(r.ok).toBe(true)
    expect(r.honest).toMatchObject({ status: 'Finalized', verdict: 'correct' })
    expect(r.cheat).toMatchObject({ status: 'Rejected', verdict: 'wrong', claimantWon: false })
    expect(r.cheat.claimedOutput).not.toEqual(r.cheat.trueOutput)
    expect(r.withdrawn).toEqual({ claimant: r.deployment.claimBond, cheater: 0n, watcher: r.deployment.claimBond + r.deployment.challengeBond })
    expect(r.moves.map((m) => m.action)).toEqual(expect.arrayContaining(['claim (honest)', 'finalize', 'claim (wrong)', 'challenge', 'reveal', 'step']))
    for (const m of r.moves) expect(m.gasUsed).toBeGreaterThan(21_000n)
  }, 60_000)
})
