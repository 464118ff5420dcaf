import { lazyVerb, type Verb } from '../verb.js'
import { FLAG } from '../flags.js'

/** The proof verbs: usage, summary and flags. What they do is in actions/proof.ts, imported when one runs. */

export const run: Verb = lazyVerb(
  {
    usage: 'veriml run DIR --input input.json [--out out.json]',
    summary: 'reference executor only: the exact integer outputs, as real values',
    flags: {
      input: FLAG.input,
      out: { type: 'string', help: 'write {"output_data": ...} here' },
    },
    arity: 1,
  },
  async () => (await import('../actions/proof.js')).run,
)

export const prove: Verb = lazyVerb(
  {
    usage: 'veriml prove DIR --input input.json --out PROOF_DIR',
    summary: 'Groth16 proof (snarkjs proof.json, public.json) and output.json',
    flags: { input: FLAG.input, out: { type: 'string', help: 'proof folder' } },
    arity: 1,
  },
  async () => (await import('../actions/proof.js')).prove,
)

export const verify: Verb = lazyVerb(
  {
    usage: 'veriml verify DIR PROOF_DIR [--onchain [--rpc URL] [--private-key KEY]]',
    summary: 'checks a proof off-chain, or on chain through the model registry; exit 0 only if valid',
    flags: {
      onchain: {
        type: 'boolean',
        help: 'verify with the Solidity verifier: an embedded anvil on 127.0.0.1 unless --rpc is given',
      },
      rpc: { type: 'string', help: 'JSON-RPC endpoint with a deployment (veriml deploy) in DIR/deployment.json' },
      'private-key': FLAG['private-key'],
    },
    rpcHint: 'Check the URL, or omit --rpc: `verify --onchain` alone uses an embedded anvil.',
    arity: 2,
  },
  async () => (await import('../actions/proof.js')).verify,
)

export const calldata: Verb = lazyVerb(
  {
    usage: 'veriml calldata PROOF_DIR [--build DIR]',
    summary: 'the ABI-encoded registry call (and the verifier arguments) for any other tool',
    flags: {
      build: { type: 'string', help: 'check the proof off-chain against this build first (refuses an invalid one)' },
    },
    arity: 1,
  },
  async () => (await import('../actions/proof.js')).calldata,
)

export const exportVerifierVerb: Verb = lazyVerb(
  {
    usage: 'veriml export-verifier DIR --out FOLDER [--verifier veriml|snarkjs]',
    summary: 'Solidity sources (verifier, registry, example consumer) that compile on their own',
    flags: {
      out: { type: 'string', help: 'output folder' },
      verifier: { type: 'string', help: 'Groth16 verifier template: veriml (default, less gas) or snarkjs' },
    },
    arity: 1,
  },
  async () => (await import('../actions/proof.js')).exportVerifierVerb,
)
