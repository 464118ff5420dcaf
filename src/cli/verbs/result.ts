import { lazyVerb, type Verb } from '../verb.js'
import { OP_FLAG, OP_RPC_HINT } from './op-common.js'

/** `veriml result` (issue 17): the registry's one result record of a statement, whichever path settled it. */
export const result: Verb = lazyVerb(
  {
    usage: 'veriml result DIR --input input.json [--rpc URL] [--registry ADDRESS]',
    summary:
      "prints how the statement (DIR's model, the input) was settled (proof, optimistic, on chain, none) and its outputs",
    flags: {
      rpc: OP_FLAG.rpc,
      input: OP_FLAG.input,
      registry: {
        type: 'string',
        help: "the registry to ask (default: the one DIR's optimistic.json or deployment.json names)",
      },
    },
    rpcHint: OP_RPC_HINT,
    arity: 1,
  },
  async () => (await import('../actions/result.js')).result,
)
