import { lazyVerb, type Group, type Verb } from '../verb.js'

/** `veriml setup`: Groth16 keys, then the phase-2 ceremony steps on them. */

const NAME_FLAG = { type: 'string', help: 'name recorded in the key' } as const

const keys: Verb = lazyVerb(
  {
    usage: 'veriml setup DIR [--dev | --ptau FILE [--ptau-hash HEX]] [--force]   (no flag: a cached ceremony ptau)',
    summary: 'Groth16 keys (--dev fast and INSECURE; --ptau a ceremony file)',
    flags: {
      dev: { type: 'boolean', help: 'fast local setup; its keys are insecure by construction' },
      ptau: { type: 'string', help: 'ceremony .ptau file, prepared for phase 2' },
      'ptau-hash': {
        type: 'string',
        help: "pinned blake2b-512 (hex) of the --ptau file, from the ceremony's published list",
      },
      force: { type: 'boolean', help: 'redo even if keys exist' },
    },
    arity: 1,
  },
  async () => (await import('../actions/setup.js')).keys,
)

const contribute: Verb = lazyVerb(
  {
    usage: 'veriml setup contribute DIR [--name N] [--entropy E]',
    summary: 'adds a phase-2 contribution to the keys',
    flags: {
      name: NAME_FLAG,
      entropy: { type: 'string', help: 'extra entropy (default: random)' },
    },
  },
  async () => (await import('../actions/setup.js')).contribute,
)

const beacon: Verb = lazyVerb(
  {
    usage: 'veriml setup beacon DIR --hash HEX [--name N] [--iterations N]',
    summary: 'closes phase 2 with a public random beacon',
    flags: {
      name: NAME_FLAG,
      hash: { type: 'string', help: 'the beacon value, hex' },
      iterations: { type: 'string', help: 'log2 of the hash iterations, 10 … 63 (default 10)' },
    },
  },
  async () => (await import('../actions/setup.js')).beacon,
)

const verify: Verb = lazyVerb(
  {
    usage: 'veriml setup verify DIR',
    summary: 'checks the keys and their contribution chain with snarkjs zkey verify',
    flags: {},
  },
  async () => (await import('../actions/setup.js')).verify,
)

export const setup: Group = {
  summary: 'Groth16 keys and the phase-2 ceremony on them',
  fallback: keys,
  children: { contribute, beacon, verify },
}
