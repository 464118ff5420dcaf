// veriml's library surface: everything the CLI does, as typed functions.
// Pipeline order: onnx → ir → quantize → circuit → prove → chain.

export { BaseError, walkError, type ErrorParameters } from './errors.js'

export { parseOnnx, OnnxParseError, type OnnxModel } from './onnx/parse.js'
export { ExternalDataError, type ExternalDataResolver } from './onnx/external.js'
export { readOnnxFile, type ReadOnnxFileReturnType } from './onnx/file.js'
export { lowerOnnx, OPS as SUPPORTED_ONNX_OPS, UnsupportedOpsError, LoweringError } from './onnx/lower.js'
export type { LowerOnnxOptions } from './onnx/lower.js'
export { DynamicQuantizationError } from './onnx/ops/quantized.js'
export { executeFloat, type FloatGraph } from './onnx/graph.js'
export { runOnnxruntime, compareOutputs, type AccuracyReport } from './onnx/runtime.js'
export { buildModel as buildOnnxModel } from './onnx/write.js'

export type * from './ir/types.js'
export { execute, type ExecuteReturnType } from './ir/execute.js'
export { applyOp, requantValue } from './ir/ops.js'
export { analyzeBounds, SAFE_BITS } from './ir/bounds.js'
export { irToJson, irFromJson, modelId } from './ir/serialize.js'
export { IrInputError, FieldOverflowError, LookupDomainError, OperandRangeError } from './ir/errors.js'
export { DivisionError } from './quantize/division.js'
export { CircuitSourceTooLargeError } from './circuit/emit.js'

export {
  quantize,
  CalibrationError,
  BitWidthError,
  BIT_RANGE,
  DEFAULT_BITS,
  type QuantizeOptions,
} from './quantize/quantize.js'
export { parseInputs, quantizeInputs, dequantize } from './quantize/input.js'
export { FixedScaleError } from './quantize/fixed.js'
export { applyPostprocess } from './quantize/postprocess.js'
export {
  exportQdq,
  exposeTensors,
  type ExportQdqParameters,
  type ExportQdqReturnType,
} from './quantize/qdq/export.js'
export {
  calibrationTensors,
  QuantizeUnsupportedOpsError,
  QuantizeModelError,
  MissingCalibrationError,
} from './quantize/qdq/plan.js'
export {
  quantizeOnnxFile,
  calibrateRanges,
  QuantizeFileError,
  type QuantizeFileParameters,
  type QuantizeFileReturnType,
} from './quantize/qdq/file.js'
export {
  activationQuant,
  quantizeWeights,
  quantizeBias,
  QdqRangeError,
  BiasOverflowError,
  type TensorRange,
} from './quantize/qdq/params.js'

export {
  emitCircuit,
  type EmitCircuitParameters,
  type EmitCircuitReturnType,
} from './circuit/emit.js'
export type { PublicLayout, Visibility, WeightVisibility, InputVisibility, OutputVisibility } from './circuit/layout.js'
export {
  pack,
  unpack,
  packLayout,
  publicSignalCount,
  sideSignalCount,
  type PackLayout,
  type PublicSignalCountParameters,
  type SignalVisibility,
} from './circuit/packing.js'
export { publicSignals, decodeOutputs, hashChain } from './circuit/public.js'
export { planRequant } from './circuit/requant.js'
export { weightCommitment } from './circuit/weights.js'

export {
  loadModel,
  resolveModel,
  requireZk,
  type CompiledModel,
  type ZkModel,
  type ModelSource,
  type LoadModelOptions,
} from './model.js'
export {
  compileModel,
  CompileOptionError,
  type CompileModelParameters,
  type CompileModelReturnType,
} from './prove/compile.js'
export {
  setupModel,
  PtauError,
  type SetupModelParameters,
  type SetupModelReturnType,
  type ContributionRecord,
} from './prove/setup.js'
export {
  contributeSetup,
  beaconSetup,
  verifySetup,
  CeremonyError,
  ZkeyChangedError,
  type ContributeSetupParameters,
  type ContributeSetupReturnType,
  type BeaconSetupParameters,
  type BeaconSetupReturnType,
  type VerifySetupParameters,
  type VerifySetupReturnType,
} from './prove/ceremony.js'
export { devSetup, DevSetupError, type DevSetupParameters, type DevSetupReturnType } from './prove/dev-setup.js'
export {
  proveModel,
  runModel,
  WitnessMismatchError,
  type RunModelParameters,
  type RunModelReturnType,
  type ProveModelParameters,
  type ProveModelReturnType,
} from './prove/prove.js'
export {
  verifyProof,
  type VerifyProofParameters,
  type VerifyProofReturnType,
} from './prove/verify.js'
export { loadWitnessCalculator, type WitnessCalculator } from './prove/witness.js'
export { artifactPaths, proofPaths, type ArtifactPaths } from './prove/paths.js'
export {
  readManifest,
  readBuildManifest,
  loadBuild,
  BuildTargetError,
  ManifestError,
  BUILD_TARGETS,
  type BuildTarget,
  type BuildManifest,
  type Manifest,
  type OptimisticManifest,
  type SetupRecord,
} from './prove/manifest.js'
export { InconsistentBuildError, BuildFolderError, type ArtifactName } from './prove/build-folder.js'
export { ToolError, MissingArtifactError } from './prove/errors.js'
export {
  proofArguments,
  ProofFormatError,
  type SnarkjsGroth16Proof,
  type Groth16Arguments,
  type ProofFormatErrorParameters,
} from './prove/proof.js'

export { startAnvil, type AnvilInstance } from './chain/anvil.js'
export { compileSolidity } from './chain/solc.js'
export { exportVerifier, type ExportVerifierParameters, type ExportVerifierReturnType } from './chain/verifier.js'
export { deployModel, loadDeployment, registrationSignalCount, type Deployment } from './chain/deploy.js'
export { calldata, inferenceId } from './chain/calldata.js'
export { verifyOnChain } from './chain/verify-on-chain.js'
export {
  deployBuild,
  verifyBuildOnChain,
  InsecureSetupError,
  type DeployBuildParameters,
  type DeployBuildReturnType,
  type VerifyBuildOnChainParameters,
  type VerifyBuildOnChainReturnType,
} from './chain/model.js'
export {
  verimlRegistryAbi,
  inferenceConsumerAbi,
  groth16VerifierAbi,
  verimlRegistry,
  inferenceConsumer,
} from './chain/contracts.js'

export { inspectModel, type InspectModelParameters, type InspectModelReturnType } from './inspect.js'
export { shutdown } from './shutdown.js'

// The optimistic path (also the subpath `veriml/optimistic`): claims, disputes, agents, deployment.
export * as optimistic from './optimistic/index.js'

// onchain (issue 17): tiny models executed wholly on chain, one transaction, no proof.
export {
  deployOnchainModel,
  type DeployOnchainModelParameters,
  type DeployOnchainModelReturnType,
} from './onchain/deploy.js'
export {
  executeOnchain,
  runOnchain,
  onchainResultOf,
  onchainProgramMatches,
} from './onchain/client.js'
// One statement for every path (issue 17): the packed words' commitments, and the registry's record of it.
export { inputCommitment, statementCommitments, type StatementCommitments } from './ir/commitment.js'
export { readResult, type ReadResultParameters, type ReadResultReturnType } from './chain/result.js'
export { estimateOnchainGas, type OnchainGasEstimate, ONCHAIN_GAS_BUDGET } from './onchain/gas.js'
export { encodeProgram as encodeOnchainProgram } from './onchain/encode.js'
export { OnchainEncodeError, OnchainRevertError } from './onchain/errors.js'

// serve (issue 18): proving as a service — an HTTP prover with a job queue, embedded or on Redis (BullMQ).
export { proveInMemory, type ProveInMemoryParameters, type ProveInMemoryReturnType } from './prove/prove.js'
export {
  createProverService,
  startWorker,
  jobId as proofJobId,
  type ProverService,
  type ProverServiceOptions,
  type WorkerOptions as ProofWorkerOptions,
  type WorkerHandle as ProofWorkerHandle,
  type JobView as ProofJobView,
  type JobResult as ProofJobResult,
  QueueFullError,
  JobTimeoutError,
  UnknownModelError,
} from './serve/index.js'
