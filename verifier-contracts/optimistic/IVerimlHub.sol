// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice What the optimistic game needs of the hub (VerimlRegistry): who vouches for model ids.
/// @dev Kept to one function so the game compiles without the registry's sources.
interface IVerimlHub {
    /// @notice The account that vouches for model registrations (Owned.owner).
    function owner() external view returns (address);
}
