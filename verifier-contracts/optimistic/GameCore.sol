// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {
    ClaimSlot,
    ClaimStatus,
    Dispute,
    IOptimisticGameErrors,
    IOptimisticGameEvents,
    InputLayout,
    ModelConfig,
    Phase
} from "./GameTypes.sol";
import {LaneLayout, StepQuery} from "./IOneStepExecutor.sol";

/// @notice Storage and the shared rules of the optimistic game: whose move it is, the clocks,
/// and how a dispute pays out (protocol §4). `OptimisticGame` and `FoldGame` build on it.
///
/// Bond accounting (conservation): a claim locks claimBond, a dispute locks challengeBond.
/// balance == Σ credit + Σ locked bonds + burned at all times.
abstract contract GameCore is IOptimisticGameEvents, IOptimisticGameErrors {
    mapping(bytes32 => ModelConfig) internal _models;
    mapping(bytes32 => ClaimSlot) internal _claims;
    mapping(bytes32 => Dispute) internal _disputes;
    /// @notice Wei each account may withdraw.
    mapping(address => uint256) public credit;
    /// @notice Wei of rejected claim bonds that nobody can ever withdraw.
    // INVARIANT (§4.5): every wei received is a locked bond (claim or dispute) until it moves,
    // exactly once, to a credit or to `burned`; withdraw only pays out credit. So
    // balance == Σ credit + Σ locked bonds + burned in every outcome.
    uint256 public burned;

    /// @notice A claim's record (ClaimRecord's fields); all zero when there is no such claim.
    /// @param claimId The claim.
    /// @return claimant Who posted it.
    /// @return createdAt When (seconds).
    /// @return openDisputes Its live disputes.
    /// @return status None, Pending, Finalized or Rejected.
    function claims(bytes32 claimId)
        external
        view
        returns (address claimant, uint64 createdAt, uint64 openDisputes, ClaimStatus status)
    {
        ClaimSlot storage r = _claims[claimId];
        return (r.claimant, r.createdAt, r.openDisputes, r.status);
    }

    /// The live dispute `disputeId` in phase `expected`, its claim pending, before its deadline.
    function _live(bytes32 disputeId, Phase expected) internal view returns (Dispute storage d) {
        d = _disputes[disputeId];
        Phase phase = d.phase;
        if (phase == Phase.None || phase == Phase.Resolved) revert WrongPhase(expected, phase);
        // INVARIANT: once its claim is settled a dispute only closes moot (closeMoot): a move
        // can no longer change who is paid.
        if (_claims[d.claimId].status != ClaimStatus.Pending) revert ClaimSettled(d.claimId);
        // INVARIANT: a move is made once, in its phase (replays fail), on time.
        if (phase != expected) revert WrongPhase(expected, phase);
        if (block.timestamp > d.deadline) revert ClockExpired(d.deadline);
    }

    /// `_live`, and the sender is the player to move.
    function _turn(bytes32 disputeId, Phase expected) internal view returns (Dispute storage d, ModelConfig storage m) {
        d = _live(disputeId, expected);
        address mover = _claimantMoves(expected) ? _claims[d.claimId].claimant : d.challenger;
        // INVARIANT: only the player to move chooses; proofs (step, startFold, foldStep) are open to anyone.
        if (msg.sender != mover) revert NotYourTurn(mover, msg.sender);
        m = _models[d.modelId];
    }

    function _claimantMoves(Phase p) internal pure returns (bool) {
        return p == Phase.Propose || p == Phase.Reveal || p == Phase.Open || p == Phase.FoldPropose;
    }

    function _advance(Dispute storage d, bytes32 disputeId, ModelConfig storage m, Phase next) internal {
        (d.phase, d.deadline) = (next, uint64(block.timestamp) + m.moveTimeout);
        emit Moved(disputeId, next, d.lo, d.hi, d.pos);
    }

    /// The executor's question about the disputed element (level 2 leaf).
    function _query(Dispute storage d, ModelConfig storage m) internal view returns (StepQuery memory q) {
        uint256 stateCount = m.stateSizes.length;
        uint256 inputCount = m.inputCount;
        uint256 hi = d.hi;
        q.paramsRoot = m.paramsRoot;
        q.stepCount = stateCount - inputCount;
        q.stateCount = stateCount;
        q.stepIndex = hi - inputCount;
        q.statePosition = hi;
        q.preStateRoot = d.rootLo;
        q.element = d.pos.indexAtDepth();
        q.outputSize = m.stateSizes[hi];
        q.inputCount = inputCount;
        q.inputLayouts = _inputLayouts(m, inputCount);
    }

    /// Each input's (laneBits, lo), read straight from its storage slot: registration fixed
    /// inputLayouts.length = inputCount, so the array's length is not read again (one cold
    /// storage read, 2,100 gas, fewer a one-step move). InputLayout's first slot packs laneBits
    /// (bits 0..7) and the int248 lo above it; `hi` (its second slot) is not read.
    function _inputLayouts(ModelConfig storage m, uint256 inputCount) private view returns (LaneLayout[] memory l) {
        l = new LaneLayout[](inputCount);
        InputLayout[] storage layouts = m.inputLayouts;
        uint256 base;
        assembly ("memory-safe") {
            mstore(0x00, layouts.slot)
            base := keccak256(0x00, 0x20)
        }
        for (uint256 s; s < inputCount; ++s) {
            uint256 w;
            assembly ("memory-safe") {
                w := sload(add(base, shl(1, s)))
            }
            (l[s].laneBits, l[s].lo) = (uint8(w), int256(w) >> 8);
        }
    }

    /// Pays out a dispute decided by the game on a PENDING claim (every caller checked it).
    function _resolve(Dispute storage d, bytes32 disputeId, ModelConfig storage m, bool claimantWins) internal {
        ClaimSlot storage r = _claims[d.claimId];
        (d.phase, d.claimantWon) = (Phase.Resolved, claimantWins);
        r.openDisputes -= 1;
        if (claimantWins) {
            // INVARIANT (§4.1): a dispute the claimant wins pays it the challenge bond; the
            // claim stays pending (other disputes may still reject it).
            credit[r.claimant] += m.challengeBond;
        } else {
            // INVARIANT (§4.2): the winning challenger gets its bond back and, as the first to
            // win, half the claim bond; the other half is burned. A claimant that wins its
            // own (sybil) dispute first so still loses claimBond - claimBond / 2 > 0.
            uint256 claimBond = m.claimBond;
            uint256 reward = claimBond / 2;
            r.status = ClaimStatus.Rejected;
            burned += claimBond - reward;
            // INVARIANT (§4.4): paid to the recorded challenger, never to msg.sender.
            credit[d.challenger] += m.challengeBond + reward;
            emit ClaimRejected(d.claimId, disputeId, reward, claimBond - reward);
        }
        emit DisputeResolved(disputeId, d.claimId, claimantWins);
    }
}
