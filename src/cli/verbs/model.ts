import { lazyVerb, type Verb } from '../verb.js'
import { FLAG } from '../flags.js'

/** The model verbs: usage, summary and flags. What they do is in actions/model.ts, imported when one runs. */

export const inspect: Verb = lazyVerb(
  {
    usage: 'veriml inspect model.onnx [--calibration samples.json] [--dim N=1]',
    summary: 'ops, shapes, parameter count, what is supported, and the estimated circuit cost',
    flags: {
      calibration: { type: 'string', help: 'calibration samples (JSON) for the cost and accuracy estimate' },
      dim: FLAG.dim,
    },
    arity: 1,
  },
  async () => (await import('../actions/model.js')).inspect,
)

export const quantize: Verb = lazyVerb(
  {
    usage: 'veriml quantize model.onnx --calibration samples.json --out model.int8.onnx [--full-range-weights]',
    summary: 'static int8 quantisation to standard QDQ ONNX (per-channel weights, calibrated activations)',
    flags: {
      calibration: FLAG.calibration,
      out: { type: 'string', help: 'the QDQ model to write' },
      'full-range-weights': {
        type: 'boolean',
        help: "weights in [-127, 127] instead of onnxruntime's reduce_range [-64, 64] (which avoids its int16 saturation on CPUs without VNNI)",
      },
    },
    arity: 1,
  },
  async () => (await import('../actions/model.js')).quantize,
)

export const compile: Verb = lazyVerb(
  {
    usage:
      'veriml compile model.onnx --out DIR [--target zk|optimistic] [--calibration samples.json] [--input-visibility public|hashed|private] [--output-visibility public|hashed] [--weights constant|hashed] [--compiler direct|circom] [--final-softmax probabilities|logits]',
    summary: 'ONNX → integer IR → circom circuit → r1cs and witness generator',
    flags: {
      out: { type: 'string', help: 'build folder' },
      calibration: FLAG.calibration,
      'input-visibility': { type: 'string', help: 'public (packed, default) | hashed (Poseidon) | private' },
      'output-visibility': { type: 'string', help: 'public (packed, default) | hashed (Poseidon)' },
      'activation-bits': { type: 'string', help: 'bits per activation (default 8)' },
      'weight-bits': { type: 'string', help: 'bits per weight (default 8)' },
      weights: {
        type: 'string',
        help: 'constant (circuit constants, default) | hashed (private inputs, Poseidon commitment as the last public signal)',
      },
      force: { ...FLAG.force, help: 'recompile even if nothing changed' },
      target: {
        type: 'string',
        help: 'zk (circuit for setup/prove, default) | optimistic (the integer IR only, for `veriml op`: no circom)',
      },
      dim: FLAG.dim,
      compiler: {
        type: 'string',
        help: 'direct (default: the R1CS and witness written from the IR, no circom run) | circom (circom compiles the emitted source; wasm witness generator)',
      },
      'final-softmax': {
        type: 'string',
        help: "probabilities (default: a final Softmax proves the model's own output) | logits (proves its input, fewer constraints, same argmax; probabilities reported in float)",
      },
    },
    arity: 1,
  },
  async () => (await import('../actions/model.js')).compile,
)
