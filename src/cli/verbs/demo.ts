import { type Verb, lazyVerb } from '../verb.js'

export const demo: Verb = lazyVerb(
  {
    usage: 'veriml demo',
    summary: 'the whole flow on the bundled MNIST model',
    flags: {},
    arity: 0,
  },
  async () => (await import('../actions/demo.js')).demo,
)
