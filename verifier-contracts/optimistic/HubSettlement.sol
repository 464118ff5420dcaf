// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ClaimKey, ClaimSlot, ClaimStatus, Dispute, ModelConfig, Phase} from "./GameTypes.sol";
import {FoldGame} from "./FoldGame.sol";
import {IVerimlHub} from "./IVerimlHub.sol";

/// @notice The game's side of the hub (VerimlRegistry, issue 17): the hub it follows, and the
/// settlement of a pending claim by the hub's deterministic record of its statement (a proof or
/// an on-chain run), with the disputes that record leaves moot. OptimisticGame registers models
/// and takes claims; this settles them early.
abstract contract HubSettlement is FoldGame {
    /// @notice The registry whose model ids this game uses and whose owner registers models.
    address public immutable hub;

    /// @notice The hub given at construction has no code.
    /// @param hub The address.
    error HubHasNoCode(address hub);
    /// @notice settleByProof rejecting a claim with live disputes named none of them to pay
    /// (rewardDispute zero, another claim's, or already resolved).
    /// @param claimId The claim.
    /// @param rewardDispute The dispute named.
    error RewardDisputeNotLive(bytes32 claimId, bytes32 rewardDispute);
    /// @notice A proof (or an on-chain run) of the claim's statement settled it before its window.
    /// @param claimId The claim.
    /// @param agrees Whether the proven outputs are the claimed ones (Finalized; else Rejected).
    event ClaimSettledByProof(bytes32 indexed claimId, bool agrees);
    /// @notice settleByProof without a proof or on-chain result of the statement in the hub.
    /// @param statementId The statement.
    /// @param how Its settlement (0 none, 2 optimistic).
    error NoDeterministicResult(bytes32 statementId, uint8 how);

    /// @param hub_ The registry (VerimlRegistry) whose ids and owner this game follows.
    constructor(address hub_) {
        // INVARIANT: the hub is a contract, so `owner()` answers (an empty account would make
        // every registration revert, or, worse, decode garbage).
        if (hub_.code.length == 0) revert HubHasNoCode(hub_);
        hub = hub_;
    }

    /// @notice Settles a pending claim at once from the hub's deterministic result of its
    /// statement (a Groth16 proof recorded by verifyInference, or an on-chain run): agreeing
    /// outputs finalise it (bond to the claimant), other outputs reject it. A rejected claim
    /// with live disputes pays the one the caller names exactly as a won dispute does (its
    /// challenger: bond back and half the claim bond; the rest burned); with none, the whole
    /// bond is burned. The claim's other live disputes then close by closeMoot, for the side the
    /// proof agrees with. Anyone may call it.
    /// @dev Why the game reads the hub instead of the hub calling the game: the proof is
    /// recorded on the ≤ 250k verifyInference path unchanged, the game trusts no caller (only
    /// the hub's record, which only a proof or a bound on-chain model writes), and one record
    /// settles every claim of the statement. Why the caller names the paid dispute and nothing
    /// records the first one: recording costs every first challenge a storage slot (+22k), and
    /// either rule lets a liar that challenged itself (a sybil) recover at most half its bond
    /// (it could open the first dispute as easily as name one); the burned half is the deterrent.
    /// @param key The claim's key.
    /// @param rewardDispute A live dispute of this claim (zero when it has none); read only
    /// when the proof rejects the claim.
    function settleByProof(ClaimKey calldata key, bytes32 rewardDispute) external {
        bytes32 claimId = keccak256(abi.encode(key));
        ClaimSlot storage r = _claims[claimId];
        if (r.status != ClaimStatus.Pending) revert ClaimNotPending(claimId, r.status);
        bytes32 statementId = keccak256(abi.encodePacked(key.modelId, key.inputHash));
        (uint8 how,, bytes32 provenHash) = IVerimlHub(hub).result(statementId);
        // INVARIANT: only a deterministic result (proof 1, on-chain run 3) settles a claim early;
        // an optimistic record is no evidence against another claim.
        if (how != 1 && how != 3) revert NoDeterministicResult(statementId, how);
        ModelConfig storage m = _models[key.modelId];
        // The hub keeps the top 208 bits of the outputs hash (its low 48 bits hold how and when).
        bool agrees = provenHash == key.outputsHash & ~bytes32(uint256(0xffffffffffff));
        emit ClaimSettledByProof(claimId, agrees);
        if (agrees) {
            r.status = ClaimStatus.Finalized;
            // INVARIANT (§4.4): the bond returns to the recorded claimant.
            credit[r.claimant] += m.claimBond;
            emit ClaimFinalized(claimId);
        } else if (r.openDisputes == 0) {
            r.status = ClaimStatus.Rejected;
            // INVARIANT (§4.2, §4.4): no challenger to pay: the whole bond is burned, never
            // paid to msg.sender (a proof submitter could be the claimant's sybil).
            burned += m.claimBond;
            emit ClaimRejected(claimId, bytes32(0), 0, m.claimBond);
        } else {
            Dispute storage d = _disputes[rewardDispute];
            // INVARIANT (§4.2): a claim with live disputes pays one of them, never nobody (an
            // honest challenger's reward is not burned by a caller naming none).
            if (d.claimId != claimId || d.phase == Phase.None || d.phase == Phase.Resolved) {
                revert RewardDisputeNotLive(claimId, rewardDispute);
            }
            // As if the named dispute had been won by its challenger (§4.2): bond back plus
            // half the claim bond to the recorded challenger, the rest burned, claim Rejected.
            _resolve(d, rewardDispute, m, false);
        }
    }

    /// @notice Closes a live dispute whose claim is no longer pending; anyone may call it.
    /// Rejected claim: the challenge bond returns to the challenger. Finalised claim (only a
    /// proof finalises a claim with live disputes, see settleByProof): the dispute is the
    /// claimant's, the challenge bond goes to it (§4.1).
    /// @param disputeId The dispute.
    function closeMoot(bytes32 disputeId) external {
        Dispute storage d = _disputes[disputeId];
        if (d.phase == Phase.None || d.phase == Phase.Resolved) revert DisputeNotLive(d.phase);
        ClaimSlot storage r = _claims[d.claimId];
        ClaimStatus status = r.status;
        if (status == ClaimStatus.Pending) revert ClaimNotRejected(d.claimId, status);
        bool claimantWins = status == ClaimStatus.Finalized;
        (d.phase, d.claimantWon) = (Phase.Resolved, claimantWins);
        r.openDisputes -= 1;
        // INVARIANT (§4.1, §4.3, §4.4): a moot dispute pays the challenge bond in full to the
        // side the settlement agrees with, as recorded (an honest challenger never loses).
        credit[claimantWins ? r.claimant : d.challenger] += _models[d.modelId].challengeBond;
        emit DisputeClosedMoot(disputeId, d.claimId);
    }
}
