// veriml/browser: load a compiled model from URLs, run, prove and verify in a browser (or a
// Web Worker). Nothing Node-only: scripts/build-browser.mjs bundles this entry for the
// browser platform and fails on any node: builtin.

export { loadModel, ARTIFACT_FILES, POSEIDON_FILE, type BrowserModel, type LoadModelOptions } from './model.js'
export {
  runModel,
  proveModel,
  verifyProof,
  type BrowserProveReturnType,
  type BrowserVerifyReturnType,
  type Groth16Proof,
} from './prove.js'
export { ArtifactIntegrityError, ArtifactFetchError, BrowserModelError } from './errors.js'
export { sha256Hex } from './fetch.js'
export { decodeOutputs } from '../circuit/public.js'
export { WitnessMismatchError } from '../prove/errors.js'
export { ToolError } from '../prove/errors.js'
export type { RawPoseidonConstants } from '../circuit/direct/gadgets/poseidon-constants.js'
export type { Manifest } from '../prove/manifest.js'
export type { RunModelReturnType } from '../prove/prove.js'
export type { IrModel } from '../ir/types.js'
export type { WitnessCalculator } from '../prove/witness.js'
export type { Progress } from '../util/progress.js'
export { BaseError } from '../errors.js'
export {
  recordOnChain,
  BrowserChainError,
  type RecordOnChainParameters,
  type RecordOnChainReturnType,
} from './chain.js'
export type { PageConfig } from './page.js'
