// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOneStepExecutor} from "./IOneStepExecutor.sol";
import {Position} from "./Position.sol";

/// @notice Per-model parameters of the optimistic game. The model id is the keccak of the
/// ABI-encoded config, so a model cannot be re-registered with other bonds or another executor.
struct ModelConfig {
    /// Merkle root over the keccak of each step's ABI-encoded `StepHeader`.
    bytes32 paramsRoot;
    IOneStepExecutor executor;
    /// Trace states 0 .. inputCount-1 are the model inputs; state inputCount + i is step i's output.
    uint32 inputCount;
    /// The trace state holding the model output (produced by a step).
    uint32 outputState;
    /// Claims post the input values packed: each value one big-endian lane of
    /// `inputLaneBytes` bytes (1..32), two's complement when `inputSigned` (an unsigned lane
    /// is at most 31 bytes, so every lane decodes to an int256).
    uint8 inputLaneBytes;
    bool inputSigned;
    /// Element count of every trace state.
    uint32[] stateSizes;
    uint96 claimBond;
    uint96 challengeBond;
    /// Seconds after a claim during which it can be challenged.
    uint64 challengeWindow;
    /// Seconds each player has for each move.
    uint64 moveTimeout;
}

/// @notice What a claim commits to; claimId = keccak256(abi.encode(ClaimKey)).
/// `inputRoot` is the trace tree holding only the input states (zeros after them), as posted by
/// the claimant: it is not checked at claim time, but `proveInputMismatch` rejects the claim if
/// it is not the root of the posted input, whose keccak256 is `inputHash`.
/// `outputRoot` is the tensor root of the output, proven inside `traceRoot` at claim time.
struct ClaimKey {
    bytes32 modelId;
    bytes32 inputRoot;
    bytes32 inputHash;
    bytes32 traceRoot;
    bytes32 outputRoot;
    address claimant;
}

enum ClaimStatus {
    None,
    Pending,
    Finalized,
    Rejected
}

/// @notice Dispute phases. Level 1 bisects trace positions (lo agreed, hi disputed) over
/// prefix roots; Reveal binds the disputed state's tensor root to level 1; level 2 descends
/// that tensor's Merkle tree to one element; Step re-executes it.
enum Phase {
    None,
    Propose, // claimant: prefix root at mid = (lo + hi) / 2
    Choose, // challenger: agree or disagree with it
    Reveal, // claimant: tensor root of state hi, proven against both prefix roots
    Open, // claimant: the two children of the disputed node
    Pick, // challenger: the child it disputes
    Step, // challenger (or anyone): one-step proof of the disputed element
    Resolved
}

struct ClaimRecord {
    address claimant;
    uint64 createdAt;
    uint16 openDisputes;
    ClaimStatus status;
    /// Rejected by `proveInputMismatch`: its open disputes are moot and return the challengers' bonds.
    bool inputMismatch;
}

struct Dispute {
    address challenger;
    uint64 deadline;
    Phase phase;
    bool claimantWon;
    uint32 lo;
    uint32 hi;
    Position pos;
    bytes32 claimId;
    bytes32 modelId;
    /// Agreed prefix root at lo; after level 1, the agreed pre-state of the disputed step.
    bytes32 rootLo;
    /// The claimant's prefix root at hi; from Reveal on, the disputed node of level 2.
    bytes32 rootHi;
    /// Claimant's proposal: the midpoint root (level 1) or the left child (level 2).
    bytes32 left;
    bytes32 right;
}

interface IOptimisticGameEvents {
    event ModelRegistered(bytes32 indexed modelId, address executor, bytes32 paramsRoot);
    /// `input`: the input states' values, concatenated in trace order and packed in the model's
    /// input lanes (see OptimisticGame.claim); key.inputHash = keccak256(input).
    event ClaimSubmitted(bytes32 indexed claimId, bytes32 indexed modelId, ClaimKey key, bytes input, int256[] output);
    /// `inputRoot`: the root of the posted input, which the claim's key.inputRoot is not.
    event InputMismatchProven(bytes32 indexed claimId, address prover, bytes32 inputRoot);
    event ClaimFinalized(bytes32 indexed claimId);
    event Challenged(bytes32 indexed disputeId, bytes32 indexed claimId, address challenger);
    event Moved(bytes32 indexed disputeId, Phase phase, uint32 lo, uint32 hi, Position pos);
    event DisputeResolved(bytes32 indexed disputeId, bytes32 indexed claimId, bool claimantWon);
    event Withdrawn(address indexed account, uint256 amount);
}

interface IOptimisticGameErrors {
    error InvalidModelConfig(string reason);
    error ModelAlreadyRegistered(bytes32 modelId);
    error ModelNotRegistered(bytes32 modelId);
    error WrongBond(uint256 expected, uint256 actual);
    error OutputSizeMismatch(uint256 expected, uint256 actual);
    /// Sizes in bytes of the packed input.
    error InputSizeMismatch(uint256 expected, uint256 actual);
    error InputHashMismatch(bytes32 expected, bytes32 actual);
    error InputRootMatches(bytes32 inputRoot);
    error NoInputMismatch(bytes32 claimId);
    error DisputeNotLive(Phase phase);
    error OutputNotInTrace();
    error ClaimExists(bytes32 claimId);
    error ClaimNotPending(bytes32 claimId, ClaimStatus status);
    error ChallengeWindowClosed(bytes32 claimId, uint256 closedAt);
    error ChallengeWindowOpen(bytes32 claimId, uint256 closesAt);
    error DisputesOpen(bytes32 claimId, uint256 openDisputes);
    error SelfChallenge();
    error DisputeExists(bytes32 disputeId);
    error WrongPhase(Phase expected, Phase actual);
    error NotYourTurn(address expected, address actual);
    error ClockExpired(uint256 deadline);
    error ClockRunning(uint256 deadline);
    error NoMoveToTimeOut(Phase phase);
    error RevealMismatch();
    error ChildrenMismatch();
    error NothingToWithdraw();
    error PaymentFailed(address account, uint256 amount);
}
