// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Owned
/// @notice Single-owner access control with a two-step transfer: the new owner must accept,
///         so ownership never moves to an address nobody controls (a typo, a contract that
///         cannot call back).
/// @dev Kept apart from the registry so the access rule is read (and audited) once.
abstract contract Owned {
    /// @notice The account allowed to call `onlyOwner` functions.
    address public owner;
    /// @notice The account `transferOwnership` named, until it accepts (zero: none pending).
    address public pendingOwner;

    /// @notice The owner named `newOwner` as its successor; nothing changes until it accepts.
    /// @param previousOwner The current owner.
    /// @param newOwner The pending owner (zero: a pending transfer was cancelled).
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    /// @notice Ownership moved (from zero at construction).
    /// @param previousOwner The former owner.
    /// @param newOwner The owner from now on.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice An owner-only function was called by another account.
    /// @param caller msg.sender.
    error NotOwner(address caller);
    /// @notice acceptOwnership was called by an account that is not the pending owner.
    /// @param caller msg.sender.
    error NotPendingOwner(address caller);
    /// @notice The initial owner is the zero address.
    error ZeroAddress();

    /// @notice Reverts with NotOwner unless msg.sender is the owner.
    modifier onlyOwner() {
        // INVARIANT: only the owner acts on the owner's behalf.
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @param initialOwner The first owner.
    constructor(address initialOwner) {
        // INVARIANT: the contract always has an owner, or no owner-only function could ever run.
        if (initialOwner == address(0)) revert ZeroAddress();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    /// @notice Starts a two-step ownership transfer; `newOwner` must call acceptOwnership.
    /// @dev Naming the zero address cancels a pending transfer (nobody can accept as zero).
    ///      The current owner keeps every right until the transfer is accepted.
    /// @param newOwner The proposed owner.
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    /// @notice Completes a transfer; the caller proves it controls the pending owner's key.
    function acceptOwnership() external {
        // INVARIANT: ownership never moves to an address that cannot act.
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }
}
