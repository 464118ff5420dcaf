// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVerimlRegistryTypes} from "./IVerimlRegistryTypes.sol";
import {Owned} from "./Owned.sol";

/// @title VerimlResults
/// @notice The hub's result records, the part of VerimlRegistry every path writes and every
/// consumer reads (IVerimlResults).
///
/// The registry is the hub of every settlement path (issue 17): one result record per
/// statement (modelId, inputCommitment), written by a proof (verifyInference), by the model's
/// optimistic game when a claim finalises, or by an on-chain model run; read by resultOf.
///   inputCommitment = keccak256 of the input part of the signals (packed words): the game's
///     ClaimKey.inputHash. A private input has no input part: the statement of such a proof is
///     its whole signal vector (inputCommitment = keccak256 of all signals), so two proofs of
///     one private-input model never conflict.
///   outputsHash = keccak256 of the output part (packed words): the game's ClaimKey.outputsHash.
/// A record is ONE storage word (the zk path's budget has room for one SSTORE):
///   bits 0..39 `at` (timestamp), 40..47 `how` (Settlement), 48..255 the top 208 bits of
///   outputsHash. 208 bits leave 2^208 work to find other outputs matching a recorded hash
///   (a second preimage), the attack that matters: the recorded outputs are not the attacker's
///   choice (they are proven, run, or survived the challenge window).
abstract contract VerimlResults is Owned, IVerimlRegistryTypes {
    /// statementId => the result word (see the contract's notes).
    mapping(bytes32 statementId => uint256) internal _results;
    mapping(bytes32 modelId => mapping(address settler => Settlement)) internal _settlers;
    /// @notice The optimistic game bound to each model (zero: none).
    mapping(bytes32 modelId => address) public gameOf;

    /// @notice The bits of a result word that hold `at` and `how`; the rest hold the outputs hash.
    uint256 internal constant META_MASK = 0xffffffffffff;

    /// @notice Lets `settler` record results of `modelId` as `how` (Optimistic: the model's
    ///         game, one per model; OnChain: an on-chain model of it). Final.
    /// @dev INVARIANT: only the owner, who vouches for the model id, vouches for its settlers:
    ///      a settler writes results consumers act on.
    /// @param modelId The model; not zero.
    /// @param settler The game or the on-chain model (contract code).
    /// @param how Optimistic or OnChain.
    function bindSettler(bytes32 modelId, address settler, Settlement how) external onlyOwner {
        if (modelId == bytes32(0)) revert ZeroModelId();
        // INVARIANT: proofs record through verifyInference only; a binding is final; one game
        // per model, so a statement's claims all meet in one game and settle into one record.
        bool bad = (how != Settlement.Optimistic && how != Settlement.OnChain) || settler.code.length == 0
            || _settlers[modelId][settler] != Settlement.None
            || (how == Settlement.Optimistic && gameOf[modelId] != address(0));
        if (bad) revert InvalidSettler(modelId, settler, how);
        _settlers[modelId][settler] = how;
        if (how == Settlement.Optimistic) gameOf[modelId] = settler;
        emit SettlerBound(modelId, settler, how);
    }

    /// @notice How `settler` may record results of `modelId` (None: it may not).
    /// @param modelId The model.
    /// @param settler The account.
    /// @return The settlement it records as.
    function settlerOf(bytes32 modelId, address settler) external view returns (Settlement) {
        return _settlers[modelId][settler];
    }

    /// @notice Records a result from a bound settler. The first record stands against optimistic
    ///         results (one for a settled statement is dropped; it never reverts, so a claim can
    ///         always settle and free its bond); an on-chain run overwrites an optimistic record,
    ///         agrees with a proof or run (dropped) or reverts ConflictingProof.
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the packed input words.
    /// @param outputsHash keccak256 of the packed output words.
    /// @return how The statement's settlement after the call (Settlement as uint8).
    /// @return agrees Whether the statement's recorded outputs are these.
    function record(bytes32 modelId, bytes32 inputCommitment, bytes32 outputsHash)
        external
        returns (uint8 how, bool agrees)
    {
        Settlement by = _settlers[modelId][msg.sender];
        // INVARIANT: only a settler the owner bound to this model writes its results.
        if (by == Settlement.None) revert NotSettler(modelId, msg.sender);
        bytes32 sid = statementIdFor(modelId, inputCommitment);
        uint256 old = _results[sid];
        if (old != 0) {
            Settlement standing = Settlement(uint8(old >> 40));
            agrees = (old ^ uint256(outputsHash)) & ~META_MASK == 0;
            // INVARIANT: a deterministic path (proof, run) never contradicts a proof or run.
            if (by == Settlement.OnChain && standing != Settlement.Optimistic) {
                if (!agrees) revert ConflictingProof(sid);
                return (uint8(standing), true);
            }
            // INVARIANT: an optimistic result never overwrites any record (the first stands).
            if (by == Settlement.Optimistic) return (uint8(standing), agrees);
        }
        _results[sid] = (uint256(outputsHash) & ~META_MASK) | (uint256(uint8(by)) << 40) | uint40(block.timestamp);
        emit ResultRecorded(sid, modelId, inputCommitment, by, outputsHash);
        return (uint8(by), true);
    }

    /// @notice The result of the statement (modelId, inputCommitment): how it was settled (None:
    ///         not yet), when (seconds), and the top 208 bits of its outputs hash (low 48 bits 0).
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the packed input words (the input signals).
    /// @return how How it was settled.
    /// @return at When.
    /// @return outputsHash keccak256 of the packed output words, low 48 bits cleared.
    function resultOf(bytes32 modelId, bytes32 inputCommitment)
        external
        view
        returns (Settlement how, uint40 at, bytes32 outputsHash)
    {
        return result(statementIdFor(modelId, inputCommitment));
    }

    /// @notice resultOf by statement id.
    /// @param statementId keccak256(modelId ‖ inputCommitment).
    /// @return how How it was settled.
    /// @return at When.
    /// @return outputsHash keccak256 of the packed output words, low 48 bits cleared.
    function result(bytes32 statementId) public view returns (Settlement how, uint40 at, bytes32 outputsHash) {
        uint256 word = _results[statementId];
        return (Settlement(uint8(word >> 40)), uint40(word), bytes32(word & ~META_MASK));
    }

    /// @notice Whether the statement is settled with these outputs (keccak256 of the packed output words).
    /// @param statementId The statement.
    /// @param outputsHash The full outputs hash to check.
    /// @return Whether a record exists and its outputs hash is this one.
    function outputsMatch(bytes32 statementId, bytes32 outputsHash) public view returns (bool) {
        uint256 word = _results[statementId];
        return word != 0 && (word ^ uint256(outputsHash)) & ~META_MASK == 0;
    }

    /// @notice Whether the statement `statementId` has a result (of any settlement).
    /// @param statementId The statement id.
    /// @return Whether it is recorded.
    function isRecorded(bytes32 statementId) public view returns (bool) {
        return _results[statementId] != 0;
    }

    /// @notice keccak256(modelId ‖ inputCommitment): the key of the statement's result.
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the packed input words.
    /// @return The statement id.
    function statementIdFor(bytes32 modelId, bytes32 inputCommitment) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(modelId, inputCommitment));
    }

}
