import { DEFAULT_GAME_PARAMETERS } from '../../optimistic/defaults.js'
import { FLAG } from '../flags.js'
import { type Group, type Verb, lazyVerb } from '../verb.js'
import { OP_FLAG, OP_RPC_HINT } from './op-common.js'
import { demo } from './op-demo.js'

/** `veriml op`: the optimistic path's verbs (what each does: actions/op.ts). */

const rpcFlags = { rpc: OP_FLAG.rpc, 'private-key': OP_FLAG['private-key'] }

const deployVerb: Verb = lazyVerb(
  {
    usage:
      'veriml op deploy DIR --rpc URL [--private-key KEY] [--registry ADDRESS] [--claim-bond WEI] [--challenge-bond WEI] [--challenge-window S] [--move-timeout S]',
    summary: 'deploys the game and executor, registers the compiled model under its id, writes DIR/optimistic.json',
    flags: {
      rpc: FLAG.rpc,
      'private-key': OP_FLAG['private-key'],
      registry: {
        type: 'string',
        help: 'the game follows this registry (its owner registers; the key must be it) instead of a new one',
      },
      'claim-bond': { type: 'string', help: `claim bond in wei (default ${DEFAULT_GAME_PARAMETERS.claimBond})` },
      'challenge-bond': {
        type: 'string',
        help: `challenge bond in wei (default ${DEFAULT_GAME_PARAMETERS.challengeBond})`,
      },
      'challenge-window': {
        type: 'string',
        help: `seconds a claim can be challenged (default ${DEFAULT_GAME_PARAMETERS.challengeWindow})`,
      },
      'move-timeout': {
        type: 'string',
        help: `seconds per dispute move (default ${DEFAULT_GAME_PARAMETERS.moveTimeout})`,
      },
    },
    rpcHint: 'Check --rpc, or start a local chain with `veriml node` and pass its URL.',
    arity: 1,
  },
  async () => (await import('../actions/op.js')).deploy,
)

const claimVerb: Verb = lazyVerb(
  {
    usage: 'veriml op claim DIR --input input.json [--rpc URL] [--private-key KEY] [--defend] [--poll-ms MS]',
    summary: "posts a claim of the model's output on an input (and defends it with --defend)",
    flags: {
      ...rpcFlags,
      input: OP_FLAG.input,
      defend: { type: 'boolean', help: 'keep running: answer every dispute, finalise after the window' },
      'poll-ms': OP_FLAG['poll-ms'],
    },
    rpcHint: OP_RPC_HINT,
    arity: 1,
  },
  async () => (await import('../actions/op.js')).claim,
)

const challengeVerb: Verb = lazyVerb(
  {
    usage: 'veriml op challenge CLAIM_ID DIR [--rpc URL] [--private-key KEY] [--poll-ms MS]',
    summary: 'recomputes a claim; if it is wrong, disputes it and plays the dispute to the end',
    flags: { ...rpcFlags, 'poll-ms': OP_FLAG['poll-ms'] },
    rpcHint: OP_RPC_HINT,
    arity: 2,
  },
  async () => (await import('../actions/op.js')).challenge,
)

const watchVerb: Verb = lazyVerb(
  {
    usage: 'veriml op watch DIR [--rpc URL] [--private-key KEY] [--from-block N] [--poll-ms MS]',
    summary: 'checks every claim of the model and disputes the wrong ones, until Ctrl-C',
    flags: {
      ...rpcFlags,
      'from-block': { type: 'string', help: 'first block to scan (default: the deployment block)' },
      'poll-ms': OP_FLAG['poll-ms'],
    },
    rpcHint: OP_RPC_HINT,
    arity: 1,
  },
  async () => (await import('../actions/op.js')).watch,
)

const statusVerb: Verb = lazyVerb(
  {
    usage: 'veriml op status CLAIM_ID (DIR | --game ADDRESS) [--rpc URL]',
    summary: "a claim's status, window and disputes",
    flags: { rpc: OP_FLAG.rpc, game: { type: 'string', help: 'game address, when no build folder is given' } },
    rpcHint: OP_RPC_HINT,
  },
  async () => (await import('../actions/op.js')).status,
)

const finalizeVerb: Verb = lazyVerb(
  {
    usage: 'veriml op finalize CLAIM_ID DIR [--rpc URL] [--private-key KEY]',
    summary: 'finalises a claim once its window has closed with no live dispute (anyone may)',
    flags: rpcFlags,
    rpcHint: OP_RPC_HINT,
    arity: 2,
  },
  async () => (await import('../actions/op.js')).finalize,
)

const settleVerb: Verb = lazyVerb(
  {
    usage: 'veriml op settle CLAIM_ID DIR [--proof PROOF_DIR] [--dispute ID] [--rpc URL] [--private-key KEY]',
    summary:
      "settles a pending claim at once by the registry's proof of its statement: agreeing outputs finalise it, others reject it (anyone may)",
    flags: {
      ...rpcFlags,
      proof: {
        type: 'string',
        help: "a proof folder (veriml prove) of the claim's input: verified through DIR/deployment.json's registry first, unless a proof is recorded already",
      },
      dispute: {
        type: 'string',
        help: 'the live dispute whose challenger a rejecting proof pays (default: the earliest opened one)',
      },
    },
    rpcHint: OP_RPC_HINT,
    arity: 2,
  },
  async () => (await import('../actions/op.js')).settle,
)

const withdrawVerb: Verb = lazyVerb(
  {
    usage: 'veriml op withdraw DIR [--rpc URL] [--private-key KEY]',
    summary: "withdraws this account's credit (bonds won or returned) from the game",
    flags: rpcFlags,
    rpcHint: OP_RPC_HINT,
    arity: 1,
  },
  async () => (await import('../actions/op.js')).withdraw,
)

export const op: Group = {
  summary: 'the optimistic path: deploy the fraud-proof game, claim, challenge, watch, status, demo',
  children: {
    deploy: deployVerb,
    claim: claimVerb,
    challenge: challengeVerb,
    watch: watchVerb,
    status: statusVerb,
    finalize: finalizeVerb,
    settle: settleVerb,
    withdraw: withdrawVerb,
    demo,
  },
}
