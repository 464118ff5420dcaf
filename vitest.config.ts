import { configDefaults, defineConfig } from 'vitest/config'

/**
 * Two projects. `fast` is the pure pipeline (import, IR, quantisation, the optimistic core) and
 * the guardrails: no circom compile, no snarkjs setup or prove, no anvil, no Solidity, so it
 * runs in well under a minute (`npm run test:fast`). `slow` is everything else. A new test file
 * is slow until listed here: list it only if it does none of those things and runs in seconds.
 */
const FAST = [
  'test/guardrails/**/*.test.ts',
  'test/exports.test.ts',
  'test/inspect.test.ts',
  'test/prove/proof.test.ts',
  'test/ir/**/*.test.ts',
  'test/onnx/activation.test.ts',
  'test/onnx/attention-structure.test.ts',
  'test/onnx/attention-structure-fold.test.ts',
  'test/onnx/attention-structure-quant.test.ts',
  'test/onnx/attributes.test.ts',
  'test/onnx/lower.test.ts',
  'test/onnx/movement.test.ts',
  'test/onnx/mul.test.ts',
  'test/onnx/normalization.test.ts',
  'test/onnx/pool.test.ts',
  'test/onnx/quantized.test.ts',
  'test/onnx/quantized-contrib.test.ts',
  'test/onnx/quantized-errors.test.ts',
  'test/quantize/bit-width.test.ts',
  'test/quantize/fixed.test.ts',
  'test/quantize/input.test.ts',
  'test/quantize/nonlinear.test.ts',
  'test/quantize/normalization.test.ts',
  'test/quantize/transformer-ops.test.ts',
  'test/quantize/qdq-export.test.ts',
  'test/quantize/qdq-mnist-cnn.test.ts',
  'test/optimistic/params.test.ts',
  'test/optimistic/trace.test.ts',
  'test/models/fixtures.test.ts',
  // RNN, GRU, LSTM lowering against onnxruntime and quantised (issue 16, rnn).
  'test/onnx/recurrent.test.ts',
  // Elementwise closures fused into one table (issue 16, s8-fuse): float graphs and one small quantisation.
  'test/onnx/fuse-elementwise.test.ts',
  // Token ids (issue 16, s8-ids): Gather by int64 ids, import and quantisation only.
  'test/onnx/embedding.test.ts',
  // attn (issue 16): attention normalised after the value product.
  'test/quantize/softmax-values.test.ts',
  // Requant clamps narrowed to where a table varies (exact; smaller tables in the circuit).
  'test/quantize/lookup-clamps.test.ts',
  // onchain (issue 17): the on-chain program's encoding and the IR-only gas estimate (no chain).
  'test/onchain/encode.test.ts',
  // attn (session 9): attention's exp index one bit coarser than its scores (quantiser only).
  'test/quantize/attention-index.test.ts',
  // misc16 (issue 16): a 0/1 attention_mask input, float and quantised against onnxruntime.
  'test/onnx/attention-mask.test.ts',
  'test/onnx/attention-mask-paths.test.ts',
  // misc16: Sqrt in a QDQ model, one table, against onnxruntime.
  'test/quantize/fixed-sqrt.test.ts',
  // web (issue 19): the browser bundle's Node-only check (esbuild only) and the artifact checks (no browser).
  'test/browser/bundle.test.ts',
  'test/browser/integrity.test.ts',
  // serve (issue 18): the prover service's pure parts (API keys, job ids, metrics text).
  'test/serve/parts.test.ts',
]

export default defineConfig({
  test: {
    // Circuit compilation, setup and proving are CPU-bound and slow on 2 cores.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    projects: [
      // Not isolated: the fast files share one module graph, so snarkjs, onnxruntime and src/ load
      // once (26 s wall against 78 s isolated, both measured at a load average of 20 on 2 cores).
      // A fast test must therefore restore whatever it mocks and keep no state in modules between
      // files (checked: the fast files pass in shuffled file orders).
      { extends: true, test: { name: 'fast', include: FAST, isolate: false } },
      {
        extends: true,
        test: {
          name: 'slow',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...FAST],
          // Slow tests spawn bin/veriml.mjs, which runs dist/: rebuild it first (tsc -b, a no-op when current).
          globalSetup: ['test/global-setup.ts'],
          // speed (session 8): solc-js compiles cached by content across files (test/solc-cache-setup.ts).
          setupFiles: ['test/solc-cache-setup.ts'],
        },
      },
    ],
  },
})
