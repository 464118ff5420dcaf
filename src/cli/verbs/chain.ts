import { startAnvil } from '../../chain/anvil.js'
import { deployBuild } from '../../chain/model.js'
import { FLAG, addressFlag, privateKeyFlag, urlFlag } from '../flags.js'
import { UsageError, table } from '../format.js'
import { type Verb, positional } from '../verb.js'

/** The chain verbs of the zk path: a local node, and deploying a build's verifier and registry. */

export const node: Verb = {
  usage: 'veriml node [--port 8545] [--block-time 1]',
  summary: 'a persistent local chain (anvil on 127.0.0.1), like `hardhat node`',
  flags: {
    port: { type: 'string', help: 'port, 1..65535 (default 8545)' },
    'block-time': {
      type: 'string',
      help: 'seconds between mined blocks (default 1; 0: a block per transaction only). Interval mining keeps the clock moving on a quiet node, so windows and move timeouts expire',
    },
  },
  async run(args, flags) {
    positional(args, 0, this.usage)
    const integer = (name: string, fallback: number, min: number, max: number) => {
      const v = flags[name] ?? String(fallback)
      if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
        throw new UsageError(`--${name} must be an integer in ${min}..${max}; got "${String(v)}"`, {
          details: [`usage: ${this.usage}`],
        })
      return Number(v)
    }
    const port = integer('port', 8545, 1, 65_535)
    const blockTime = integer('block-time', 1, 0, 86_400)
    const node = await startAnvil({ port, blockTime: blockTime === 0 ? undefined : blockTime })
    console.log(
      `anvil listening on ${node.rpcUrl} (chain id ${node.chainId}, ${blockTime === 0 ? 'a block per transaction' : `a block every ${blockTime} s`}); funded dev accounts (anvil's public test mnemonic):`,
    )
    for (const a of node.accounts.slice(0, 3)) console.log(`  ${a.address}`)
    console.log('Ctrl-C to stop.')
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await node.stop()
    return 0
  },
}

export const deploy: Verb = {
  usage: 'veriml deploy DIR --rpc URL [--private-key KEY] [--registry ADDRESS] [--allow-insecure-setup]',
  summary: 'deploys the verifier (and a registry), registers the model, writes DIR/deployment.json',
  flags: {
    rpc: FLAG.rpc,
    'private-key': { ...FLAG['private-key'], help: 'deployer key (else env VERIML_PRIVATE_KEY); never printed' },
    registry: { type: 'string', help: 'register in this existing registry instead of deploying one' },
    'allow-insecure-setup': { type: 'boolean', help: 'allow dev keys on a non-local chain' },
  },
  rpcHint: 'Check --rpc, or start a local chain with `veriml node` and pass its URL.',
  async run(args, flags) {
    const [dir] = positional(args, 1, this.usage)
    if (flags.rpc === undefined)
      throw new UsageError('--rpc URL is required (or use `verify --onchain` for the embedded chain)')
    const rpcUrl = urlFlag(flags, 'rpc', { required: true })!
    const privateKey = privateKeyFlag(flags)
    const d = await deployBuild({
      model: dir,
      rpcUrl,
      privateKey,
      registryAddress: addressFlag(flags, 'registry'),
      allowInsecureSetup: Boolean(flags['allow-insecure-setup']),
    })
    console.log(
      table([
        ['chain id', String(d.chainId)],
        ['registry', `${d.registry.address}${d.registry.reused ? ' (existing)' : ` (gas ${d.registry.gasUsed})`}`],
        ['verifier', `${d.verifier.address} (gas ${d.verifier.gasUsed})`],
        ['registered', `model ${d.modelId} (gas ${d.registration.gasUsed})`],
        ['written', `${dir}/deployment.json`],
      ]),
    )
    return 0
  },
}
