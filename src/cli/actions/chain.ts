import { startAnvil } from '../../chain/anvil.js'
import { deployBuild } from '../../chain/model.js'
import { VERIFIER_TEMPLATES } from '../../chain/verifier.js'
import { addressFlag, privateKeyFlag } from '../chain-flags.js'
import { type Flags, choiceFlag, urlFlag } from '../flags.js'
import { UsageError, table } from '../format.js'
import { type Verb, positional } from '../verb.js'

/** The chain verbs of the zk path: a local node, and deploying a build's verifier and registry. */

export async function node(args: string[], flags: Flags, verb: Verb): Promise<number> {
  positional(args, 0, verb.usage)
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const v = flags[name] ?? String(fallback)
    if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new UsageError({
        problem: `--${name} must be an integer in ${min}..${max}; got "${String(v)}"`,
        details: [`usage: ${verb.usage}`],
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
}

export async function deploy(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(args, 1, verb.usage)
  if (flags.rpc === undefined)
    throw new UsageError({ problem: '--rpc URL is required (or use `verify --onchain` for the embedded chain)' })
  const rpcUrl = urlFlag(flags, 'rpc', { required: true })!
  const privateKey = privateKeyFlag(flags)
  const d = await deployBuild({
    model: dir,
    rpcUrl,
    privateKey,
    registryAddress: addressFlag(flags, 'registry'),
    allowInsecureSetup: Boolean(flags['allow-insecure-setup']),
    verifier: choiceFlag(flags, 'verifier', VERIFIER_TEMPLATES),
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
}
