// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IVerimlResults
/// @notice What a consumer contract imports to act on veriml results, whichever path settled
///         them (VerimlRegistry implements it). A statement is (modelId, inputCommitment):
///         modelId = the model's IR hash (manifest.json's modelId), inputCommitment =
///         keccak256 of the packed input words (the zk proof's input signals, the optimistic
///         claim's input). outputsHash = keccak256 of the packed output words.
/// @dev how: 0 none yet, 1 Groth16 proof, 2 optimistic claim finalised after its window
///      (a proof of other outputs would replace it), 3 run wholly on chain. A consumer that
///      needs finality against an unsound circuit or a missed challenge decides which it
///      accepts. The record keeps the top 208 bits of outputsHash: compare with outputsMatch.
interface IVerimlResults {
    /// @notice How and when the statement was settled, and its outputs hash (low 48 bits zero).
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the packed input words.
    /// @return how 0 none, 1 proof, 2 optimistic, 3 on chain.
    /// @return at When (seconds).
    /// @return outputsHash keccak256 of the packed output words, low 48 bits cleared.
    function resultOf(bytes32 modelId, bytes32 inputCommitment)
        external
        view
        returns (uint8 how, uint40 at, bytes32 outputsHash);

    /// @notice Whether the statement `statementId` is settled with exactly these outputs.
    /// @param statementId keccak256(modelId ‖ inputCommitment) (statementIdFor).
    /// @param outputsHash keccak256 of the packed output words.
    /// @return Whether a record exists and its outputs are these.
    function outputsMatch(bytes32 statementId, bytes32 outputsHash) external view returns (bool);

    /// @notice keccak256(modelId ‖ inputCommitment).
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the packed input words.
    /// @return The statement id.
    function statementIdFor(bytes32 modelId, bytes32 inputCommitment) external pure returns (bytes32);
}
