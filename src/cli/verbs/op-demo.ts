import { type Verb, lazyVerb } from '../verb.js'
import { OP_FLAG } from './op-common.js'

/** `veriml op demo`: honest and cheating claims played out on an embedded chain. */
export const demo: Verb = lazyVerb(
  {
    usage: 'veriml op demo [--model model.onnx --input input.json [--calibration samples.json]] [--json]',
    summary: 'honest and cheating claims of a model on an embedded anvil, every transaction and bond shown',
    flags: {
      model: { type: 'string', help: 'ONNX model (default: test/fixtures/tiny-mlp.onnx with a fixed input)' },
      input: OP_FLAG.input,
      calibration: { type: 'string', help: 'calibration samples (JSON), as for `veriml compile`' },
      json: {
        type: 'boolean',
        help: 'print one JSON object {transactions, outcome, bonds} and nothing else on stdout',
      },
      'poll-ms': OP_FLAG['poll-ms'],
    },
    arity: 0,
  },
  async () => (await import('../actions/op-demo.js')).demo,
)
