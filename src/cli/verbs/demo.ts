import { type Verb, lazyVerb } from '../verb.js'

export const demo: Verb = lazyVerb(
  {
    usage: 'veriml demo [--model mlp|vit]',
    summary: 'the whole flow on a bundled MNIST model (the MLP, or the vision transformer)',
    flags: { model: { type: 'string', help: 'mlp (default) or vit' } },
    arity: 0,
  },
  async () => (await import('../actions/demo.js')).demo,
)
