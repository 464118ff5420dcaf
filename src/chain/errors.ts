import { BaseError, type BaseErrorParameters } from '../errors.js'

/** The anvil platform package for this OS/CPU is not installed (optional dependency skipped). */
export class AnvilNotFoundError extends BaseError {
  override name = 'AnvilNotFoundError'
  readonly packageName: string
  constructor(p: BaseErrorParameters & { packageName: string }) {
    super(`anvil binary not found: package "${p.packageName}" is not installed`, {
      details: [
        `Install it with \`npm install ${p.packageName}\`, or pass \`binaryPath\` to startAnvil.`,
        'Any JSON-RPC endpoint can be used instead of the embedded node (--rpc URL).',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.packageName = p.packageName
  }
}

/** anvil exited, or did not answer JSON-RPC, before the start timeout. */
export class AnvilStartError extends BaseError {
  override name = 'AnvilStartError'
  readonly reason: string
  readonly argv: readonly string[]
  readonly stderrTail: string
  constructor(p: BaseErrorParameters & { reason: string; argv: readonly string[]; stderrTail: string }) {
    super(`anvil did not start: ${p.reason}`, {
      details: [
        `argv: ${p.argv.join(' ')}`,
        ...(p.stderrTail ? [`output: ${p.stderrTail}`] : []),
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.reason = p.reason
    this.argv = p.argv
    this.stderrTail = p.stderrTail
  }
}

export interface SolcDiagnostic {
  file: string
  line: number
  column: number
  severity: string
  message: string
}

export class SolcCompileError extends BaseError {
  override name = 'SolcCompileError'
  readonly diagnostics: readonly SolcDiagnostic[]
  constructor(p: BaseErrorParameters & { diagnostics: readonly SolcDiagnostic[] }) {
    const first = p.diagnostics[0]
    super(
      first
        ? `solc: ${first.file}:${first.line}:${first.column}: ${first.message}`
        : 'solc: compilation failed without diagnostics',
      {
        details: [
          ...p.diagnostics.slice(1).map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`),
          ...(p.details ?? []),
        ],
        cause: p.cause,
      },
    )
    this.diagnostics = p.diagnostics
  }
}

export class RpcUnreachableError extends BaseError {
  override name = 'RpcUnreachableError'
  readonly rpcUrl: string
  readonly hint: string | undefined
  /** `hint`: what to try instead, which depends on the caller (only some CLI verbs have an embedded chain). */
  constructor(p: BaseErrorParameters & { rpcUrl: string; hint?: string }) {
    super(`JSON-RPC endpoint ${p.rpcUrl} is unreachable`, {
      details: [p.hint ?? 'Check the URL, and that a JSON-RPC node is listening there.', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.rpcUrl = p.rpcUrl
    this.hint = p.hint
  }
}

export class MissingPrivateKeyError extends BaseError {
  override name = 'MissingPrivateKeyError'
  readonly reason: string
  constructor(p: BaseErrorParameters & { reason: string }) {
    // The key itself is never part of the message: only why it was refused.
    super(`no usable private key: ${p.reason}`, {
      details: ['Pass it as a parameter or set VERIML_PRIVATE_KEY (0x-prefixed, 32 bytes).', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.reason = p.reason
  }
}

export class DeploymentNotFoundError extends BaseError {
  override name = 'DeploymentNotFoundError'
  readonly path: string
  readonly reason: string
  constructor(p: BaseErrorParameters & { path: string; reason: string }) {
    super(`deployment ${p.path}: ${p.reason}`, {
      details: ['Run the deploy step first (veriml deploy), or pass the registry address.', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.path = p.path
    this.reason = p.reason
  }
}

/** No contract code where a deployment or parameter says a contract lives. */
export class ContractNotDeployedError extends BaseError {
  override name = 'ContractNotDeployedError'
  readonly contract: string
  readonly address: string
  readonly chainId: bigint
  constructor(p: BaseErrorParameters & { contract: string; address: string; chainId: bigint }) {
    super(`no ${p.contract} code at ${p.address} on chain ${p.chainId}`, {
      details: ['The deployment may belong to another chain, or the local node was restarted.', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.contract = p.contract
    this.address = p.address
    this.chainId = p.chainId
  }
}

export class ModelNotRegisteredError extends BaseError {
  override name = 'ModelNotRegisteredError'
  readonly modelId: string
  constructor(p: BaseErrorParameters & { modelId: string }) {
    super(`model ${p.modelId} is not registered in the registry`, {
      details: [
        'The proof may belong to another model, or the model was not deployed on this chain.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.modelId = p.modelId
  }
}

export class ModelAlreadyRegisteredError extends BaseError {
  override name = 'ModelAlreadyRegisteredError'
  readonly modelId: string
  readonly verifier: string
  constructor(p: BaseErrorParameters & { modelId: string; verifier: string }) {
    super(`model ${p.modelId} is already registered with verifier ${p.verifier}`, {
      details: p.details,
      cause: p.cause,
    })
    this.modelId = p.modelId
    this.verifier = p.verifier
  }
}

/** The public signal count differs from the registered model's: a proof for another model. */
export class PublicSignalCountError extends BaseError {
  override name = 'PublicSignalCountError'
  readonly modelId: string
  readonly expected: number
  readonly actual: number
  constructor(p: BaseErrorParameters & { modelId: string; expected: number; actual: number }) {
    super(`model ${p.modelId} takes ${p.expected} public signals, the proof has ${p.actual}`, {
      details: ['The proof was made for another model (or another visibility / packing).', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.modelId = p.modelId
    this.expected = p.expected
    this.actual = p.actual
  }
}

export class ProofRejectedError extends BaseError {
  override name = 'ProofRejectedError'
  readonly modelId: string
  /** `message` and `details` replace the generic ones (a subclass that knows why, e.g. another weight commitment). */
  constructor(p: BaseErrorParameters & { modelId: string; message?: string }) {
    super(p.message ?? `the verifier of model ${p.modelId} rejected the proof`, {
      details: p.details ?? [
        'The proof or its public signals were altered, or it proves another model with the same signal count.',
      ],
      cause: p.cause,
    })
    this.modelId = p.modelId
  }
}

/** A proof of a private-weights model carries another weight commitment than the registered one: it used other weights. */
export class WeightCommitmentMismatchError extends ProofRejectedError {
  override name = 'WeightCommitmentMismatchError'
  readonly expected: bigint
  readonly actual: bigint
  constructor(p: BaseErrorParameters & { modelId: string; expected: bigint; actual: bigint }) {
    super({
      modelId: p.modelId,
      cause: p.cause,
      message: `the registry refused the proof for model ${p.modelId}: its weight commitment ${p.actual} is not the registered ${p.expected}`,
      details: [
        'The proof was made with other weights than the ones registered (or its last public signal was altered).',
        ...(p.details ?? []),
      ],
    })
    this.expected = p.expected
    this.actual = p.actual
  }
}

/** The verifier ran out of gas; snarkjs's verifier reports that as `false`, the registry tells it apart. */
export class VerifierOutOfGasError extends BaseError {
  override name = 'VerifierOutOfGasError'
  readonly modelId: string
  readonly gasLimit: bigint | undefined
  constructor(p: BaseErrorParameters & { modelId: string; gasLimit?: bigint }) {
    super(
      `the verifier of model ${p.modelId} ran out of gas${p.gasLimit === undefined ? '' : ` (gas limit ${p.gasLimit})`}`,
      {
        details: [
          'Raise the gas limit, or leave it unset so it is estimated through the registry.',
          ...(p.details ?? []),
        ],
        cause: p.cause,
      },
    )
    this.modelId = p.modelId
    this.gasLimit = p.gasLimit
  }
}

export class InferenceReplayError extends BaseError {
  override name = 'InferenceReplayError'
  readonly inferenceId: string
  constructor(p: BaseErrorParameters & { inferenceId: string }) {
    super(`inference ${p.inferenceId} is already recorded`, {
      details: [
        'The same model id and public signals were verified before; a replay records nothing new.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.inferenceId = p.inferenceId
  }
}

export class InferenceNotRecordedError extends BaseError {
  override name = 'InferenceNotRecordedError'
  readonly inferenceId: string
  constructor(p: BaseErrorParameters & { inferenceId: string }) {
    super(`inference ${p.inferenceId} is not recorded`, { details: p.details, cause: p.cause })
    this.inferenceId = p.inferenceId
  }
}

/** The sending account cannot pay for a transaction: names the account (and its balance when known), never the raw transaction. */
export class InsufficientFundsError extends BaseError {
  override name = 'InsufficientFundsError'
  readonly action: string
  /** The sending account, '' when unknown. */
  readonly account: string
  readonly balance: bigint | undefined
  readonly chainId: bigint | undefined
  constructor(p: BaseErrorParameters & { action: string; account?: string; balance?: bigint; chainId?: bigint }) {
    const who = p.account ? `account ${p.account}` : 'the sending account'
    const has =
      p.balance === undefined
        ? ''
        : ` (balance ${p.balance} wei${p.chainId === undefined ? '' : ` on chain ${p.chainId}`})`
    super(`${p.action}: ${who} has insufficient funds${has}`, {
      details: ['Fund the account, or use a funded key (--private-key or VERIML_PRIVATE_KEY).', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.action = p.action
    this.account = p.account ?? ''
    this.balance = p.balance
    this.chainId = p.chainId
  }
}

/** A transaction or call failed for a reason none of the specific errors describe. */
export class ChainTransactionError extends BaseError {
  override name = 'ChainTransactionError'
  readonly action: string
  readonly reason: string
  constructor(p: BaseErrorParameters & { action: string; reason: string }) {
    super(`${p.action} failed: ${p.reason}`, { details: p.details, cause: p.cause })
    this.action = p.action
    this.reason = p.reason
  }
}

/** An owner-only registry call from another account, or an ownership acceptance by an account that was not named. */
export class RegistryOwnerError extends ChainTransactionError {
  override name = 'RegistryOwnerError'
  readonly caller: string
  readonly role: 'owner' | 'pending owner'
  constructor(p: BaseErrorParameters & { action: string; caller: string; role: 'owner' | 'pending owner' }) {
    super({
      action: p.action,
      reason: `${p.caller} is not the registry's ${p.role}`,
      details: [
        p.role === 'owner'
          ? 'Only the owner registers models (a binding is a claim the owner vouches for): use its key, or deploy a registry of your own by giving no registry address.'
          : 'The owner must first name this account with transferOwnership; only the named account can accept.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.caller = p.caller
    this.role = p.role
  }
}

/** The registry refused a model's registration; `errorName` is its Solidity custom error, `reason` says why in words. */
export class InvalidRegistrationError extends ChainTransactionError {
  override name = 'InvalidRegistrationError'
  readonly errorName: string
  constructor(p: BaseErrorParameters & { action: string; errorName: string; reason: string }) {
    super({ action: p.action, reason: p.reason, details: p.details, cause: p.cause })
    this.errorName = p.errorName
  }
}

export class VerifierExportError extends BaseError {
  override name = 'VerifierExportError'
  readonly zkeyPath: string
  readonly reason: string
  constructor(p: BaseErrorParameters & { zkeyPath: string; reason: string }) {
    super(`cannot export the Solidity verifier of ${p.zkeyPath}: ${p.reason}`, { details: p.details, cause: p.cause })
    this.zkeyPath = p.zkeyPath
    this.reason = p.reason
  }
}
