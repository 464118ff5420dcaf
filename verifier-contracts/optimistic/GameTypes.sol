// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOneStepExecutor, LaneLayout} from "./IOneStepExecutor.sol";
import {Position} from "./Position.sol";

/// @notice How a claim posts one input: its LaneLayout (the circuit's input PackLayout, so
/// laneBits is the bit length of hi - lo) and the top `hi` of its declared domain [lo, hi]: the
/// game accepts lanes 0 ..= hi - lo only, the domain the outputs' layouts are proven for.
/// `lo` is an int248 so (laneBits, lo) share one storage slot: each one-step reads them (|lo| <=
/// 2^240 at registration).
struct InputLayout {
    uint8 laneBits;
    int248 lo;
    int256 hi;
}

/// @notice Per-model parameters of the optimistic game, registered under the hub's model id
/// (the IR hash) by the hub's owner, final: a model cannot be re-registered with other bonds
/// or another executor.
struct ModelConfig {
    /// Merkle root over the keccak of each step's ABI-encoded `StepHeader`.
    bytes32 paramsRoot;
    IOneStepExecutor executor;
    /// Trace states 0 .. inputCount-1 are the model inputs; state inputCount + i is step i's output.
    uint32 inputCount;
    /// The trace states holding the model outputs (each produced by a step).
    uint32[] outputStates;
    /// How a claim posts each output (one per output state, the circuit's output layout).
    LaneLayout[] outputLayouts;
    /// How a claim posts each input state (one per input, the circuit's input layout).
    InputLayout[] inputLayouts;
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
/// `inputRoot` (the trace tree holding only the input states' word roots) and `inputHash`
/// (keccak256 of the packed input) are computed by the game from the posted input;
/// `outputsHash` = keccak256 of the packed outputs (each output in its LaneLayout, in order:
/// the output part of a zk proof's public signals), each output's tensor root proven inside
/// `traceRoot` at claim time.
struct ClaimKey {
    bytes32 modelId;
    bytes32 inputRoot;
    bytes32 inputHash;
    bytes32 traceRoot;
    bytes32 outputsHash;
    address claimant;
}

enum ClaimStatus {
    None,
    Pending,
    Finalized,
    Rejected,
    /// Finalised after another claim of its statement with other outputs (bond returned, not the result).
    Superseded
}

/// @notice Dispute phases. Level 1 bisects trace positions (lo agreed, hi disputed) over
/// prefix roots; Reveal binds the disputed state's tensor root to level 1; level 2 descends
/// that tensor's Merkle tree to one element; Step re-executes it, or (linear, max) opens its
/// row and level 3 bisects the row's partial folds down to one term.
enum Phase {
    None,
    Propose, // claimant: prefix root at mid = (lo + hi) / 2
    Choose, // challenger: agree or disagree with it
    Reveal, // claimant: tensor root of state hi, proven against both prefix roots
    Open, // claimant: the two children of the disputed node
    Pick, // challenger: the child it disputes
    Step, // challenger's clock (anyone may send): one-step proof, or startFold for linear / max
    FoldPropose, // claimant: the partial fold at mid = (foldLo + foldHi) / 2
    FoldChoose, // challenger: agree or disagree with it
    FoldStep, // challenger's clock (anyone may send): one term of the fold
    Resolved
}

/// @notice A claim's record as `claims(id)` returns it.
struct ClaimRecord {
    address claimant;
    uint64 createdAt;
    uint64 openDisputes;
    ClaimStatus status;
}

/// @notice ClaimRecord as stored: one slot, so a claim writes 20k gas of storage, not 40k.
/// uint40 seconds last until the year 36812; 2^48 disputes would need 2^48 funded addresses.
struct ClaimSlot {
    address claimant;
    uint40 createdAt;
    uint48 openDisputes;
    ClaimStatus status;
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
    /// The claimant's prefix root at hi; from Reveal on, the disputed node of level 2
    /// (at the leaf, the claimed element as a raw word).
    bytes32 rootHi;
    /// Claimant's proposal: the midpoint root (level 1) or the left child (level 2).
    bytes32 left;
    bytes32 right;
    /// Level 3: terms foldLo .. foldHi of the disputed row; accLo (agreed) and accHi (claimed)
    /// are the fold of the first foldLo and foldHi terms; accMid the claimant's proposal.
    uint32 foldLo;
    uint32 foldHi;
    uint32 termCount;
    bytes32 termsRoot;
    int256 accLo;
    int256 accHi;
    int256 accMid;
}

interface IOptimisticGameEvents {
    event ModelRegistered(bytes32 indexed modelId, address executor, bytes32 paramsRoot);
    /// `input`: the input states packed (see ModelConfig); key.inputHash = keccak256(input).
    /// `outputs`: the outputs packed (see LaneLayout); key.outputsHash = keccak256(outputs).
    event ClaimSubmitted(bytes32 indexed claimId, bytes32 indexed modelId, ClaimKey key, bytes input, bytes outputs);
    event ClaimFinalized(bytes32 indexed claimId);
    /// `reward` credited to the winning challenger, `burned` kept forever by the game.
    event ClaimRejected(bytes32 indexed claimId, bytes32 indexed disputeId, uint256 reward, uint256 burned);
    event Challenged(bytes32 indexed disputeId, bytes32 indexed claimId, address challenger);
    event Moved(bytes32 indexed disputeId, Phase phase, uint32 lo, uint32 hi, Position pos);
    event DisputeResolved(bytes32 indexed disputeId, bytes32 indexed claimId, bool claimantWon);
    event DisputeClosedMoot(bytes32 indexed disputeId, bytes32 indexed claimId);
    event Withdrawn(address indexed account, uint256 amount);
}

interface IOptimisticGameErrors {
    /// @notice A bond of the model config is zero.
    /// @param claimBond The configured claim bond.
    /// @param challengeBond The configured challenge bond.
    error InvalidBond(uint256 claimBond, uint256 challengeBond);
    /// @notice A clock of the model config is outside its bounds.
    /// @param value The configured seconds.
    /// @param min The smallest allowed.
    /// @param max The largest allowed.
    error InvalidClock(uint256 value, uint256 min, uint256 max);
    /// @notice An input layout is not the circuit's for a domain the compiler accepts: hi < lo,
    /// |lo| or |hi| above 2^240, laneBits not the bit length of hi - lo, or not one per input.
    /// @param index The input (inputCount when the counts differ).
    /// @param laneBits Its lane width.
    /// @param lo Its domain's lower end.
    /// @param hi Its domain's upper end.
    error InvalidInputLayout(uint256 index, uint256 laneBits, int256 lo, int256 hi);
    /// @notice An output state is not a step state (or there is none: index 0, state 0).
    /// @param index Its position in outputStates.
    /// @param state The configured state.
    error InvalidOutputState(uint256 index, uint256 state);
    /// @notice The model needs at least one input state and one step.
    /// @param inputCount The configured input count.
    /// @param stateCount The number of state sizes.
    error InvalidStateCount(uint256 inputCount, uint256 stateCount);
    /// @notice A trace state has no element.
    /// @param state The empty state.
    error EmptyState(uint256 state);
    /// @notice The executor is the zero address.
    /// @param executor The configured executor.
    error InvalidExecutor(address executor);
    /// @notice The packed input would exceed MAX_INPUT_BYTES.
    /// @param inputBytes Its size in bytes.
    /// @param max MAX_INPUT_BYTES.
    error InputTooLarge(uint256 inputBytes, uint256 max);
    /// @notice The model is already registered.
    /// @param modelId Its id.
    error ModelAlreadyRegistered(bytes32 modelId);
    /// @notice No model has this id.
    /// @param modelId The id.
    error ModelNotRegistered(bytes32 modelId);
    /// @notice msg.value is not the bond the model asks.
    /// @param expected The bond.
    /// @param actual msg.value.
    error WrongBond(uint256 expected, uint256 actual);
    /// @notice The claim posts another number of outputs (or output paths) than the model has.
    /// @param expected outputStates.length.
    /// @param actual The posted count.
    error OutputCountMismatch(uint256 expected, uint256 actual);
    /// @notice The packed outputs do not have the length the model's output layouts give.
    /// @param expected Bytes: 32 per packed word of every output.
    /// @param actual Bytes posted.
    error OutputsSizeMismatch(uint256 expected, uint256 actual);
    /// @notice A bit above the last lane of a packed output word is not zero.
    /// @param index The output.
    /// @param word The word inside that output's words.
    error OutputPaddingNotZero(uint256 index, uint256 word);
    /// @notice An output layout is not one the zk circuit could expose: laneBits outside
    /// 1..252, |lo| above 2^240, or not one layout per output.
    /// @param index The output (outputStates.length when the counts differ).
    /// @param laneBits Its lane width.
    /// @param lo Its lower bound.
    error InvalidOutputLayout(uint256 index, uint256 laneBits, int256 lo);
    /// @notice The model's claim calldata (input, outputs, output paths, ABI overhead) would
    /// exceed MAX_CLAIM_CALLDATA.
    /// @param inputBytes The packed input's bytes.
    /// @param outputBytes The packed outputs' bytes.
    /// @param calldataBytes The whole claim's calldata.
    /// @param max MAX_CLAIM_CALLDATA.
    error ClaimTooLarge(uint256 inputBytes, uint256 outputBytes, uint256 calldataBytes, uint256 max);
    /// @notice A posted output's tensor root is not in the trace root at its state.
    /// @param index The output.
    error OutputNotInTrace(uint256 index);
    /// @notice The packed input does not have the model's length.
    /// @param expected Bytes the model's input states take, padded to words.
    /// @param actual Bytes posted.
    error InputSizeMismatch(uint256 expected, uint256 actual);
    /// @notice A bit above the last lane of a packed input word is not zero.
    /// @param state The input state.
    /// @param word The word inside that state's words.
    error InputPaddingNotZero(uint256 state, uint256 word);
    /// @notice A posted input lane is above hi - lo: the value is outside the declared domain.
    /// @param state The input state.
    /// @param index The element.
    /// @param lane Its lane.
    /// @param maxLane hi - lo.
    error InputOutOfDomain(uint256 state, uint256 index, uint256 lane, uint256 maxLane);
    /// @notice The claim already exists.
    /// @param claimId Its id.
    error ClaimExists(bytes32 claimId);
    /// @notice The claim is not pending (challenge, finalize).
    /// @param claimId Its id.
    /// @param status Its status.
    error ClaimNotPending(bytes32 claimId, ClaimStatus status);
    /// @notice The dispute's claim is no longer pending: only closeMoot may touch it.
    /// @param claimId The claim.
    error ClaimSettled(bytes32 claimId);
    /// @notice closeMoot on a dispute whose claim is not Rejected.
    /// @param claimId The claim.
    /// @param status Its status.
    error ClaimNotRejected(bytes32 claimId, ClaimStatus status);
    /// @notice The challenge window has closed.
    /// @param claimId The claim.
    /// @param closedAt When it closed.
    error ChallengeWindowClosed(bytes32 claimId, uint256 closedAt);
    /// @notice The challenge window is still open.
    /// @param claimId The claim.
    /// @param closesAt When it closes.
    error ChallengeWindowOpen(bytes32 claimId, uint256 closesAt);
    /// @notice Disputes are still open on the claim.
    /// @param claimId The claim.
    /// @param openDisputes How many.
    error DisputesOpen(bytes32 claimId, uint256 openDisputes);
    /// @notice A claimant cannot challenge its own claim from the same address.
    error SelfChallenge();
    /// @notice This challenger already disputed this claim.
    /// @param disputeId The dispute.
    error DisputeExists(bytes32 disputeId);
    /// @notice The dispute does not exist or is resolved.
    /// @param phase Its phase.
    error DisputeNotLive(Phase phase);
    /// @notice timeout on a dispute that does not exist or is resolved.
    /// @param phase Its phase.
    error NoMoveToTimeOut(Phase phase);
    /// @notice The move is not the dispute's current phase.
    /// @param expected The move's phase.
    /// @param actual The dispute's phase.
    error WrongPhase(Phase expected, Phase actual);
    /// @notice The sender is not the player to move.
    /// @param expected The player to move.
    /// @param actual msg.sender.
    error NotYourTurn(address expected, address actual);
    /// @notice The mover's clock has run out.
    /// @param deadline Its deadline.
    error ClockExpired(uint256 deadline);
    /// @notice The mover's clock is still running.
    /// @param deadline Its deadline.
    error ClockRunning(uint256 deadline);
    /// @notice The revealed state root does not bind both prefix roots.
    /// @param state The revealed state.
    error RevealMismatch(uint256 state);
    /// @notice The opened children do not hash to the disputed node.
    /// @param node The disputed node.
    error ChildrenMismatch(bytes32 node);
    /// @notice The disputed element is padding (index >= size): use step.
    /// @param element Its index.
    /// @param size The state's size.
    error PaddingElement(uint256 element, uint256 size);
    /// @notice A row has more terms than a uint32 counts.
    /// @param termCount The row's term count.
    error RowTooLong(uint256 termCount);
    /// @notice withdraw with no credit.
    error NothingToWithdraw();
    /// @notice The withdrawal transfer failed.
    /// @param account The payee.
    /// @param amount The amount.
    error PaymentFailed(address account, uint256 amount);
}
