import { lazyVerb, type Verb } from '../verb.js'
import { FLAG } from '../flags.js'

/** The chain verbs of the zk path: usage, summary and flags. What they do is in actions/chain.ts, imported when one runs. */

export const node: Verb = lazyVerb(
  {
    usage: 'veriml node [--port 8545] [--block-time 1]',
    summary: 'a persistent local chain (anvil on 127.0.0.1), like `hardhat node`',
    flags: {
      port: { type: 'string', help: 'port, 1..65535 (default 8545)' },
      'block-time': {
        type: 'string',
        help: 'seconds between mined blocks (default 1; 0: a block per transaction only). Interval mining keeps the clock moving on a quiet node, so windows and move timeouts expire',
      },
    },
    arity: 0,
  },
  async () => (await import('../actions/chain.js')).node,
)

export const deploy: Verb = lazyVerb(
  {
    usage:
      'veriml deploy DIR --rpc URL [--private-key KEY] [--registry ADDRESS] [--allow-insecure-setup] [--verifier veriml|snarkjs]',
    summary: 'deploys the verifier (and a registry), registers the model, writes DIR/deployment.json',
    flags: {
      rpc: FLAG.rpc,
      'private-key': { ...FLAG['private-key'], help: 'deployer key (else env VERIML_PRIVATE_KEY); never printed' },
      registry: { type: 'string', help: 'register in this existing registry instead of deploying one' },
      'allow-insecure-setup': { type: 'boolean', help: 'allow dev keys on a non-local chain' },
      verifier: { type: 'string', help: 'Groth16 verifier template: veriml (default, less gas) or snarkjs' },
    },
    rpcHint: 'Check --rpc, or start a local chain with `veriml node` and pass its URL.',
    arity: 1,
  },
  async () => (await import('../actions/chain.js')).deploy,
)
