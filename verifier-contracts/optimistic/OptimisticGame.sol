// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ClaimKey, ClaimRecord, ClaimStatus, Dispute, IOptimisticGameErrors, IOptimisticGameEvents, ModelConfig, Phase}
    from "./GameTypes.sol";
import {IOneStepExecutor, StepQuery} from "./IOneStepExecutor.sol";
import {MerkleLib} from "./MerkleLib.sol";
import {Position, PositionLib} from "./Position.sol";

/// @notice Optimistic fraud-proof game for integer-IR inference, generic over a one-step
/// executor. A claim posts (model, input root, trace root, output) with a bond; unchallenged
/// for the window, it finalises. Each challenger opens its own dispute against the claim (so a
/// colluding challenger that loses on purpose cannot shield a false claim): level 1 bisects
/// the trace over prefix roots, level 2 descends the disputed tensor's Merkle tree, and the
/// executor re-executes one element. Payouts are pull-based credits.
///
/// Bond accounting (conservation): a claim locks claimBond, a dispute locks challengeBond.
/// A dispute the claimant wins credits the challengeBond to the claimant. A dispute the
/// challenger wins credits its challengeBond back, plus the claimBond if the claim was still
/// pending (the claim becomes Rejected). A claim finalises only with no dispute open; then
/// the claimBond returns to the claimant. A proven input mismatch rejects a pending claim and
/// credits its claimBond to the prover; each dispute still open on it is then moot and, when
/// closed (`releaseDispute`, or a step or timeout), credits its challengeBond back to its
/// challenger.
///
/// Inputs travel packed (one lane per value, see ModelConfig) and the claimant posts the input
/// root itself, so a claim builds no Merkle tree over its input. The root is checked lazily: a
/// claim whose input root is not that of its posted input is rejected by `proveInputMismatch`,
/// a one-shot proof anyone can send while the claim is pending.
contract OptimisticGame is IOptimisticGameEvents, IOptimisticGameErrors {
    mapping(bytes32 => ModelConfig) internal _models;
    mapping(bytes32 => ClaimRecord) public claims;
    mapping(bytes32 => Dispute) internal _disputes;
    mapping(address => uint256) public credit;

    // ---------------------------------------------------------------- models and claims

    function registerModel(ModelConfig calldata c) external returns (bytes32 modelId) {
        uint256 states = c.stateSizes.length;
        // INVARIANT: at least one input and one step; the output is a step's output.
        if (address(c.executor) == address(0)) revert InvalidModelConfig("executor");
        if (c.inputCount == 0 || states <= c.inputCount) revert InvalidModelConfig("state count");
        if (c.outputState < c.inputCount || c.outputState >= states) revert InvalidModelConfig("output state");
        // INVARIANT: clocks are positive, so every phase can be timed out.
        if (c.moveTimeout == 0 || c.challengeWindow == 0) revert InvalidModelConfig("clock");
        // INVARIANT: a lane is 1..32 bytes and every lane decodes to an int256 (unsigned: at most 31 bytes).
        if (c.inputLaneBytes == 0 || c.inputLaneBytes > (c.inputSigned ? 32 : 31)) revert InvalidModelConfig("input lane");
        for (uint256 i; i < states; ++i) if (c.stateSizes[i] == 0) revert InvalidModelConfig("empty state");
        modelId = keccak256(abi.encode(c));
        // INVARIANT: a model's parameters never change once registered.
        if (address(_models[modelId].executor) != address(0)) revert ModelAlreadyRegistered(modelId);
        ModelConfig storage m = _models[modelId];
        (m.paramsRoot, m.executor, m.inputCount, m.outputState) = (c.paramsRoot, c.executor, c.inputCount, c.outputState);
        (m.inputLaneBytes, m.inputSigned) = (c.inputLaneBytes, c.inputSigned);
        (m.claimBond, m.challengeBond, m.challengeWindow, m.moveTimeout) =
            (c.claimBond, c.challengeBond, c.challengeWindow, c.moveTimeout);
        m.stateSizes = c.stateSizes;
        emit ModelRegistered(modelId, address(c.executor), c.paramsRoot);
    }

    function model(bytes32 modelId) external view returns (ModelConfig memory) {
        return _models[modelId];
    }

    /// `inputPacked` is every input state's values, concatenated in trace order, one lane each
    /// (see ModelConfig). The game emits it, so any watcher can recompute the claimed trace (a
    /// claim whose input nobody knows could never be challenged), and keeps only its keccak256.
    /// `inputRoot` is the claimant's word: `proveInputMismatch` rejects the claim if it is wrong.
    function claim(
        bytes32 modelId,
        bytes calldata inputPacked,
        bytes32 inputRoot,
        bytes32 traceRoot,
        int256[] calldata output,
        bytes32[] calldata outputPath
    ) external payable returns (bytes32 claimId) {
        ModelConfig storage m = _model(modelId);
        // INVARIANT: the claim locks exactly the model's claim bond.
        if (msg.value != m.claimBond) revert WrongBond(m.claimBond, msg.value);
        uint256 inputBytes = _inputBytes(m);
        // INVARIANT: the posted input is exactly the model's input states, one lane per element.
        if (inputPacked.length != inputBytes) revert InputSizeMismatch(inputBytes, inputPacked.length);
        ClaimKey memory key = ClaimKey(
            modelId, inputRoot, keccak256(inputPacked), traceRoot, _outputRoot(m, traceRoot, output, outputPath), msg.sender
        );
        claimId = keccak256(abi.encode(key));
        if (claims[claimId].status != ClaimStatus.None) revert ClaimExists(claimId);
        claims[claimId] = ClaimRecord(msg.sender, uint64(block.timestamp), 0, ClaimStatus.Pending, false);
        emit ClaimSubmitted(claimId, modelId, key, inputPacked, output);
    }

    /// One-shot fraud proof against a claim's input root: `inputPacked` is the claim's posted
    /// input (its keccak256 is in the key); if the root of its values is not `key.inputRoot`, the
    /// claim is rejected and its bond credited to the sender. Open disputes do not block it
    /// (they were played from the wrong input root); they are closed by `releaseDispute`.
    function proveInputMismatch(ClaimKey calldata key, bytes calldata inputPacked) external {
        bytes32 claimId = keccak256(abi.encode(key));
        ClaimRecord storage r = claims[claimId];
        // INVARIANT: only a pending claim can be rejected (the key is then the claim's own).
        if (r.status != ClaimStatus.Pending) revert ClaimNotPending(claimId, r.status);
        bytes32 inputHash = keccak256(inputPacked);
        // INVARIANT: the proof is about the input the claim posted, byte for byte.
        if (inputHash != key.inputHash) revert InputHashMismatch(key.inputHash, inputHash);
        ModelConfig storage m = _models[key.modelId];
        bytes32 inputRoot = _inputRoot(m, inputPacked);
        // INVARIANT: a claim whose input root is right cannot be rejected this way.
        if (inputRoot == key.inputRoot) revert InputRootMatches(inputRoot);
        (r.status, r.inputMismatch) = (ClaimStatus.Rejected, true);
        credit[msg.sender] += m.claimBond;
        emit InputMismatchProven(claimId, msg.sender, inputRoot);
    }

    /// Closes a dispute left open on a claim rejected for an input mismatch: anyone may call it,
    /// the challenger's bond is credited back to it.
    function releaseDispute(bytes32 disputeId) external {
        Dispute storage d = _disputes[disputeId];
        // INVARIANT: only a live dispute, only on a claim rejected by proveInputMismatch.
        if (d.phase == Phase.None || d.phase == Phase.Resolved) revert DisputeNotLive(d.phase);
        if (!claims[d.claimId].inputMismatch) revert NoInputMismatch(d.claimId);
        _resolve(d, disputeId, _models[d.modelId], false);
    }

    function finalize(ClaimKey calldata key) external {
        bytes32 claimId = keccak256(abi.encode(key));
        ClaimRecord storage r = claims[claimId];
        if (r.status != ClaimStatus.Pending) revert ClaimNotPending(claimId, r.status);
        ModelConfig storage m = _models[key.modelId];
        uint256 closesAt = uint256(r.createdAt) + m.challengeWindow;
        // INVARIANT: a claim finalises only after its window, with no dispute left open.
        if (block.timestamp <= closesAt) revert ChallengeWindowOpen(claimId, closesAt);
        if (r.openDisputes != 0) revert DisputesOpen(claimId, r.openDisputes);
        r.status = ClaimStatus.Finalized;
        credit[r.claimant] += m.claimBond;
        emit ClaimFinalized(claimId);
    }

    function challenge(ClaimKey calldata key) external payable returns (bytes32 disputeId) {
        bytes32 claimId = keccak256(abi.encode(key));
        ClaimRecord storage r = claims[claimId];
        ModelConfig storage m = _models[key.modelId];
        // INVARIANT: only a pending claim inside its window can be challenged, with the exact bond.
        if (r.status != ClaimStatus.Pending) revert ClaimNotPending(claimId, r.status);
        uint256 closesAt = uint256(r.createdAt) + m.challengeWindow;
        if (block.timestamp > closesAt) revert ChallengeWindowClosed(claimId, closesAt);
        if (msg.value != m.challengeBond) revert WrongBond(m.challengeBond, msg.value);
        if (msg.sender == r.claimant) revert SelfChallenge();
        disputeId = keccak256(abi.encode(claimId, msg.sender));
        Dispute storage d = _disputes[disputeId];
        // INVARIANT: one dispute per (claim, challenger); a resolved one is never reopened.
        if (d.phase != Phase.None) revert DisputeExists(disputeId);
        r.openDisputes += 1;
        // Level 1 starts with the input prefix agreed (it defines the claim) and the full trace disputed.
        uint32 lo = m.inputCount - 1;
        uint32 hi = uint32(m.stateSizes.length - 1);
        (d.challenger, d.claimId, d.modelId) = (msg.sender, claimId, key.modelId);
        (d.lo, d.hi, d.rootLo, d.rootHi) = (lo, hi, key.inputRoot, key.traceRoot);
        emit Challenged(disputeId, claimId, msg.sender);
        _advance(d, disputeId, m, hi - lo == 1 ? Phase.Reveal : Phase.Propose);
    }

    // ---------------------------------------------------------------- level 1: trace bisection

    function propose(bytes32 disputeId, bytes32 midRoot) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Propose);
        d.left = midRoot;
        _advance(d, disputeId, m, Phase.Choose);
    }

    function choose(bytes32 disputeId, bool agree) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Choose);
        uint32 mid = (d.lo + d.hi) / 2;
        // The challenger agrees with the claimant's prefix root at mid, or disputes it.
        if (agree) (d.lo, d.rootLo) = (mid, d.left);
        else (d.hi, d.rootHi) = (mid, d.left);
        _advance(d, disputeId, m, d.hi - d.lo == 1 ? Phase.Reveal : Phase.Propose);
    }

    /// The claimant reveals the tensor root of state hi: the prefix root at hi must be the
    /// agreed prefix root at lo = hi - 1 with leaf hi (zero there) set to `stateRoot`.
    function reveal(bytes32 disputeId, bytes32 stateRoot, bytes32[] calldata path) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Reveal);
        uint256 depth = MerkleLib.depthFor(m.stateSizes.length);
        // INVARIANT: level 2 is bound to level 1: same siblings, leaf hi empty before and stateRoot after.
        if (MerkleLib.rootFrom(bytes32(0), d.hi, path, depth) != d.rootLo) revert RevealMismatch();
        if (MerkleLib.rootFrom(stateRoot, d.hi, path, depth) != d.rootHi) revert RevealMismatch();
        (d.rootHi, d.pos) = (stateRoot, PositionLib.root());
        _advance(d, disputeId, m, _leafDepth(m, d) == 0 ? Phase.Step : Phase.Open);
    }

    // ---------------------------------------------------------------- level 2: element bisection

    function open(bytes32 disputeId, bytes32 left, bytes32 right) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Open);
        // INVARIANT: the children are the claimant's committed node.
        if (keccak256(abi.encode(left, right)) != d.rootHi) revert ChildrenMismatch();
        (d.left, d.right) = (left, right);
        _advance(d, disputeId, m, Phase.Pick);
    }

    function pick(bytes32 disputeId, bool right) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Pick);
        (d.rootHi, d.pos) = (right ? d.right : d.left, d.pos.child(right));
        _advance(d, disputeId, m, d.pos.depth() == _leafDepth(m, d) ? Phase.Step : Phase.Open);
    }

    /// Re-executes the disputed element. Anyone may call it (the result is fixed by the
    /// proofs); only the challenger's clock runs. A padding element (index >= size) must be 0.
    function step(bytes32 disputeId, bytes calldata proof) external {
        Dispute storage d = _disputes[disputeId];
        _checkPhase(d, Phase.Step);
        if (block.timestamp > d.deadline) revert ClockExpired(d.deadline);
        ModelConfig storage m = _models[d.modelId];
        uint256 element = d.pos.indexAtDepth();
        uint256 size = m.stateSizes[d.hi];
        int256 expected;
        if (element < size) {
            StepQuery memory q = StepQuery({
                paramsRoot: m.paramsRoot,
                stepCount: m.stateSizes.length - m.inputCount,
                stateCount: m.stateSizes.length,
                stepIndex: d.hi - m.inputCount,
                statePosition: d.hi,
                preStateRoot: d.rootLo,
                element: element,
                outputSize: size
            });
            expected = m.executor.valueAt(q, proof);
        }
        _resolve(d, disputeId, m, expected == int256(uint256(d.rootHi)));
    }

    /// The player to move let its clock run out: it loses.
    function timeout(bytes32 disputeId) external {
        Dispute storage d = _disputes[disputeId];
        // INVARIANT: only a live dispute, only after the mover's deadline.
        if (d.phase == Phase.None || d.phase == Phase.Resolved) revert NoMoveToTimeOut(d.phase);
        if (block.timestamp <= d.deadline) revert ClockRunning(d.deadline);
        _resolve(d, disputeId, _models[d.modelId], !_claimantMoves(d.phase));
    }

    // ---------------------------------------------------------------- payouts

    function withdraw() external {
        uint256 amount = credit[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        // INVARIANT: the credit is cleared before the external call (no re-entrant double pay).
        credit[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert PaymentFailed(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    function dispute(bytes32 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    // ---------------------------------------------------------------- internals

    function _model(bytes32 modelId) private view returns (ModelConfig storage m) {
        m = _models[modelId];
        if (address(m.executor) == address(0)) revert ModelNotRegistered(modelId);
    }

    function _outputRoot(ModelConfig storage m, bytes32 traceRoot, int256[] calldata output, bytes32[] calldata outputPath)
        private
        view
        returns (bytes32 outputRoot)
    {
        uint256 outputState = m.outputState;
        uint256 size = m.stateSizes[outputState];
        if (output.length != size) revert OutputSizeMismatch(size, output.length);
        // INVARIANT: the posted output is the output state of the committed trace.
        outputRoot = MerkleLib.tensorRoot(output);
        uint256 depth = MerkleLib.depthFor(m.stateSizes.length);
        if (MerkleLib.rootFrom(outputRoot, outputState, outputPath, depth) != traceRoot) revert OutputNotInTrace();
    }

    /// Bytes of a packed input: one lane per element of every input state.
    function _inputBytes(ModelConfig storage m) private view returns (uint256 total) {
        uint256 inputCount = m.inputCount;
        for (uint256 i; i < inputCount; ++i) total += m.stateSizes[i];
        total *= m.inputLaneBytes;
    }

    /// The trace tree holding only the input states' tensor roots (zero leaves after them).
    function _inputRoot(ModelConfig storage m, bytes calldata inputPacked) private view returns (bytes32) {
        uint256 inputBytes = _inputBytes(m);
        // INVARIANT: lanes are read only inside the packed input.
        if (inputPacked.length != inputBytes) revert InputSizeMismatch(inputBytes, inputPacked.length);
        (uint256 laneBytes, bool signed) = (m.inputLaneBytes, m.inputSigned);
        // A tensor root is a raw word, so the trace tree is the tensor tree of the roots.
        int256[] memory leaves = new int256[](m.stateSizes.length);
        uint256 offset;
        for (uint256 i; i < m.inputCount; ++i) {
            uint256 size = m.stateSizes[i];
            leaves[i] = int256(uint256(MerkleLib.tensorRoot(_unpack(inputPacked, offset, size, laneBytes, signed))));
            offset += size * laneBytes;
        }
        return MerkleLib.tensorRoot(leaves);
    }

    /// `count` lanes of `laneBytes` bytes from byte `offset` of `packed`, as int256 values: a
    /// lane is the top bytes of the calldata word at its start, shifted down (sign-extended when
    /// signed), as `unpackInput` in src/optimistic/input.ts.
    function _unpack(bytes calldata packed, uint256 offset, uint256 count, uint256 laneBytes, bool signed)
        private
        pure
        returns (int256[] memory values)
    {
        values = new int256[](count);
        uint256 shift = 256 - 8 * laneBytes;
        assembly ("memory-safe") {
            let src := add(packed.offset, offset)
            let dst := add(values, 0x20)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let word := calldataload(add(src, mul(i, laneBytes)))
                switch signed
                case 0 { word := shr(shift, word) }
                default { word := sar(shift, word) }
                mstore(add(dst, mul(i, 0x20)), word)
            }
        }
    }

    function _claimantMoves(Phase p) private pure returns (bool) {
        return p == Phase.Propose || p == Phase.Reveal || p == Phase.Open;
    }

    function _checkPhase(Dispute storage d, Phase expected) private view {
        if (d.phase != expected) revert WrongPhase(expected, d.phase);
    }

    /// Checks phase, mover and clock for a player's move.
    function _turn(bytes32 disputeId, Phase expected) private view returns (Dispute storage d, ModelConfig storage m) {
        d = _disputes[disputeId];
        // INVARIANT: a move is made once, in its phase (replays fail), by the player to move, on time.
        _checkPhase(d, expected);
        address mover = _claimantMoves(expected) ? claims[d.claimId].claimant : d.challenger;
        if (msg.sender != mover) revert NotYourTurn(mover, msg.sender);
        if (block.timestamp > d.deadline) revert ClockExpired(d.deadline);
        m = _models[d.modelId];
    }

    function _advance(Dispute storage d, bytes32 disputeId, ModelConfig storage m, Phase next) private {
        (d.phase, d.deadline) = (next, uint64(block.timestamp) + m.moveTimeout);
        emit Moved(disputeId, next, d.lo, d.hi, d.pos);
    }

    function _leafDepth(ModelConfig storage m, Dispute storage d) private view returns (uint256) {
        return MerkleLib.depthFor(m.stateSizes[d.hi]);
    }

    function _resolve(Dispute storage d, bytes32 disputeId, ModelConfig storage m, bool claimantWins) private {
        ClaimRecord storage r = claims[d.claimId];
        // A dispute over a claim rejected for its input root is moot: the challenger's bond returns.
        if (r.inputMismatch) claimantWins = false;
        (d.phase, d.claimantWon) = (Phase.Resolved, claimantWins);
        r.openDisputes -= 1;
        if (claimantWins) {
            credit[r.claimant] += m.challengeBond;
        } else {
            uint256 payout = m.challengeBond;
            // The first dispute won against a pending claim rejects it and takes its bond.
            if (r.status == ClaimStatus.Pending) {
                r.status = ClaimStatus.Rejected;
                payout += m.claimBond;
            }
            credit[d.challenger] += payout;
        }
        emit DisputeResolved(disputeId, d.claimId, claimantWins);
    }
}
