// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice What the optimistic game needs of the hub (VerimlRegistry): who vouches for model
/// ids, which game is bound to a model, and the one result record per statement.
/// @dev Kept apart so the game compiles without the registry's sources. Settlement values:
/// 0 None, 1 Proof, 2 Optimistic, 3 OnChain (IVerimlRegistryTypes.Settlement).
interface IVerimlHub {
    /// @notice The account that vouches for model registrations (Owned.owner).
    function owner() external view returns (address);
    /// @notice The optimistic game bound to a model (zero: none).
    function gameOf(bytes32 modelId) external view returns (address);
    /// @notice A statement's record: how (Settlement), when, outputs hash (top 208 bits).
    function result(bytes32 statementId) external view returns (uint8 how, uint40 at, bytes32 outputsHash);
    /// @notice Records a finalised claim's result unless the statement already has one; answers
    /// the statement's settlement after the call and whether its outputs are these.
    function record(bytes32 modelId, bytes32 inputCommitment, bytes32 outputsHash)
        external
        returns (uint8 how, bool agrees);
}
