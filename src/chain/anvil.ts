import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { HDNodeWallet, JsonRpcProvider, Network } from 'ethers'
import { AnvilNotFoundError, AnvilStartError } from './errors.js'
import { rpcRequest } from './rpc.js'

/**
 * anvil's well-known development mnemonic. Passed explicitly (rather than relying on
 * anvil's default) so the keys derived here are the node's funded accounts by
 * construction. These keys are public: they are only ever used on this embedded node.
 */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export interface StartAnvilParameters {
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number
  chainId?: number
  accounts?: number
  /**
   * Seconds between mined blocks (anvil `--block-time`). Unset: a block per transaction only,
   * so a quiet node's latest timestamp stands still and no window or timeout ever expires on it.
   */
  blockTime?: number
  /** Overrides the binary resolved from `@foundry-rs/anvil-<os>-<arch>`. */
  binaryPath?: string
  startTimeoutMs?: number
}

export interface AnvilAccount {
  address: string
  privateKey: string
}

export interface AnvilInstance {
  rpcUrl: string
  chainId: bigint
  port: number
  pid: number
  provider: JsonRpcProvider
  /** Funded development accounts (public keys of the dev mnemonic: local use only). */
  accounts: readonly AnvilAccount[]
  /** Kills the node and waits for it to exit. Idempotent. */
  stop(): Promise<void>
}

const PLATFORM_NAMES: Partial<Record<string, string>> = { linux: 'linux', darwin: 'darwin', win32: 'win32' }
const ARCH_NAMES: Partial<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' }

/** Resolves the native binary the `@foundry-rs/anvil` package ships per platform. */
export function resolveAnvilBinary(): string {
  const os = PLATFORM_NAMES[process.platform] ?? process.platform
  const arch = ARCH_NAMES[process.arch] ?? process.arch
  const packageName = `@foundry-rs/anvil-${os}-${arch}`
  const require = createRequire(import.meta.url)
  try {
    return require.resolve(`${packageName}/bin/anvil${process.platform === 'win32' ? '.exe' : ''}`)
  } catch (error) {
    throw new AnvilNotFoundError({ packageName, cause: error })
  }
}

/** Asks the OS for a free loopback port. Another process may take it before anvil binds; start retries. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** Nodes started by this process and not yet stopped. */
const liveNodes = new Set<ChildProcess>()
let exitHooksInstalled = false

/**
 * A node must not outlive this process, however it ends: normal exit, or a termination
 * signal (on which Node exits without running 'exit' listeners). Test runners stop their
 * workers with SIGTERM, so this is the common case, not a corner case.
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return
  exitHooksInstalled = true
  const killAll = () => {
    for (const child of liveNodes) child.kill('SIGKILL')
    liveNodes.clear()
  }
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll()
      // Keep the signal's default effect (terminate) unless the host handles it itself.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, onSignal)
  }
}

/** Starts a local anvil node on 127.0.0.1 and returns once it answers JSON-RPC. */
export async function startAnvil(parameters: StartAnvilParameters = {}): Promise<AnvilInstance> {
  const binary = parameters.binaryPath ?? resolveAnvilBinary()
  // A picked port can be raced by another process between probe and bind: retry then.
  const attempts = parameters.port === undefined ? 3 : 1
  for (let attempt = 1; ; attempt++) {
    const port = parameters.port ?? (await freePort())
    try {
      return await startOnce(binary, port, parameters)
    } catch (error) {
      const portTaken = error instanceof AnvilStartError && /address already in use|AddrInUse/i.test(error.stderrTail)
      if (!portTaken || attempt >= attempts) throw error
    }
  }
}

async function startOnce(binary: string, port: number, parameters: StartAnvilParameters): Promise<AnvilInstance> {
  const chainId = parameters.chainId ?? 31337
  const accountCount = parameters.accounts ?? 10
  const argv = [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--chain-id',
    String(chainId),
    '--accounts',
    String(accountCount),
    '--mnemonic',
    DEV_MNEMONIC,
    ...(parameters.blockTime === undefined ? [] : ['--block-time', String(parameters.blockTime)]),
  ]
  const child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let spawnError: Error | undefined
  child.on('error', (error) => (spawnError = error))
  liveNodes.add(child)
  installExitHooks()

  let provider: JsonRpcProvider | undefined
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    liveNodes.delete(child)
    provider?.destroy()
    child.kill('SIGTERM')
    if (!(await waitForExit(child, 3_000))) {
      child.kill('SIGKILL')
      await waitForExit(child, 3_000)
    }
  }
  const shownArgv = [binary, ...argv.map((a) => (a === DEV_MNEMONIC ? '<dev mnemonic>' : a))]
  const fail = async (reason: string, cause?: unknown): Promise<never> => {
    await stop()
    throw new AnvilStartError({ reason, argv: shownArgv, stderrTail: output.trim(), cause })
  }

  const rpcUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (parameters.startTimeoutMs ?? 15_000)
  let lastError: unknown
  for (;;) {
    if (spawnError) return fail(`cannot spawn ${binary}`, spawnError)
    if (child.exitCode !== null || child.signalCode !== null) {
      return fail(`exited with ${child.exitCode ?? child.signalCode} before answering`)
    }
    // Another process may already serve this port (anvil then exits with "Address already in
    // use"): only an answer after our own child reported listening counts.
    if (output.includes(`Listening on 127.0.0.1:${port}`)) {
      try {
        await rpcRequest(rpcUrl, 'eth_chainId', [], 500)
        if (child.exitCode === null && child.signalCode === null) break
      } catch (error) {
        lastError = error
      }
    }
    if (Date.now() > deadline) return fail(`no JSON-RPC answer on ${rpcUrl}`, lastError)
    await new Promise((r) => setTimeout(r, 50))
  }

  // Only now that the port answers: a provider created earlier would start its own
  // network detection retries; staticNetwork skips detection altogether.
  provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: Network.from(chainId), cacheTimeout: -1 })
  const root = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0")
  const accounts = Array.from({ length: accountCount }, (_, i) => {
    const wallet = root.deriveChild(i)
    return { address: wallet.address, privateKey: wallet.privateKey }
  })
  return { rpcUrl, chainId: BigInt(chainId), port, pid: child.pid ?? -1, provider, accounts, stop }
}
