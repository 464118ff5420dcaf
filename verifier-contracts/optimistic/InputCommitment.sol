// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticGameErrors} from "./GameTypes.sol";
import {ClaimLayout, ClaimShape} from "./ClaimLayout.sol";
import {MerkleLib} from "./MerkleLib.sol";

/// @notice The on-chain commitment to a claim's input (protocol §1). Each input state s is posted
/// as size_s big-endian lanes of L bytes, zero-padded to whole 32-byte words; its trace leaf is
/// the Merkle root over those words, so an input is hashed once per word (not per element)
/// straight from calldata. `inputRoot` is the trace tree holding the input states' roots
/// first and zero leaves after them: level 1 of every dispute starts from it.
library InputCommitment {
    /// Packed input cap: the claim (and a reveal of it) stays well inside one transaction.
    uint256 internal constant MAX_INPUT_BYTES = 65_536;

    /// Bytes one input state takes in the packed input: whole words.
    function stateBytes(uint256 size, uint256 laneBytes) internal pure returns (uint256) {
        return (size * laneBytes + 31) / 32 * 32;
    }

    /// The input root of `packed`, after checking its length and its zero padding.
    function inputRoot(ClaimShape memory shape, uint256[] memory entries, bytes calldata packed)
        internal
        pure
        returns (bytes32)
    {
        uint256 total = shape.inputBytes;
        // INVARIANT: the posted input is exactly the model's input states, padded to words.
        if (packed.length != total) revert IOptimisticGameErrors.InputSizeMismatch(total, packed.length);
        uint256 inputCount = shape.inputCount;
        uint256 laneBytes = shape.laneBytes;
        bytes32[] memory leaves = new bytes32[](inputCount);
        // One buffer for every state's words (the claim's calldata already holds them all).
        bytes32[] memory scratch = new bytes32[](total / 32);
        uint256 offset;
        for (uint256 s; s < inputCount; ++s) {
            uint256 used = ClaimLayout.inputSize(entries, s) * laneBytes;
            uint256 words = (used + 31) / 32;
            _checkPadding(packed, offset, words, used, s);
            leaves[s] = _wordRoot(packed, offset, words, scratch);
            offset += words * 32;
        }
        return MerkleLib.reduce(leaves, inputCount, MerkleLib.depthFor(shape.stateCount));
    }

    /// Reverts unless the bytes after the state's last lane, up to its last word's end, are zero.
    function _checkPadding(bytes calldata packed, uint256 offset, uint256 words, uint256 used, uint256 state)
        private
        pure
    {
        uint256 tail;
        uint256 lastUsed = used - (words - 1) * 32; // 1 ..= 32 bytes of the last word hold lanes
        assembly ("memory-safe") {
            tail := shl(shl(3, lastUsed), calldataload(add(packed.offset, add(offset, shl(5, sub(words, 1))))))
        }
        // INVARIANT: padding is zero, so one input has exactly one packing (and one inputHash).
        if (tail != 0) revert IOptimisticGameErrors.InputPaddingNotZero(state);
    }

    /// The word tree root of `words` words of `packed` from byte `offset`.
    function _wordRoot(bytes calldata packed, uint256 offset, uint256 words, bytes32[] memory scratch)
        private
        pure
        returns (bytes32)
    {
        assembly ("memory-safe") {
            calldatacopy(add(scratch, 0x20), add(packed.offset, offset), shl(5, words))
        }
        return MerkleLib.reduce(scratch, words, MerkleLib.depthFor(words));
    }
}
