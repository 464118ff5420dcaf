// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticGameErrors} from "./GameTypes.sol";
import {ClaimLayout, ClaimShape} from "./ClaimLayout.sol";
import {MerkleLib} from "./MerkleLib.sol";

/// @notice The on-chain commitment to a claim's input (protocol §1). Each input state is posted
/// as the zk circuit's packed public signals of it (its InputLayout: L = 252 / laneBits lanes
/// v - lo a word, lane j of word e at bit laneBits·j), so `keccak256(inputPacked)` is what a
/// proof's public input signals hash to. Its trace leaf is the Merkle root over those words, so
/// an input is hashed once per word (not per element) straight from calldata. `inputRoot` is
/// the trace tree holding the input states' roots first and zero leaves after them: level 1 of
/// every dispute starts from it.
library InputCommitment {
    /// Packed input cap: the claim (and a reveal of it) stays well inside one transaction.
    uint256 internal constant MAX_INPUT_BYTES = 65_536;

    /// Bytes one input state takes in the packed input: whole words.
    function stateBytes(uint256 size, uint256 laneBits) internal pure returns (uint256) {
        return 32 * ClaimLayout.packedWords(size, laneBits);
    }

    /// The input root of `packed`, after checking its length, its zero padding and its domain.
    function inputRoot(ClaimShape memory shape, uint256[] memory entries, bytes calldata packed)
        internal
        pure
        returns (bytes32)
    {
        uint256 total = shape.inputBytes;
        // INVARIANT: the posted input is exactly the model's input states' words.
        if (packed.length != total) revert IOptimisticGameErrors.InputSizeMismatch(total, packed.length);
        uint256 inputCount = shape.inputCount;
        bytes32[] memory leaves = new bytes32[](inputCount);
        // One buffer for every state's words (the claim's calldata already holds them all).
        bytes32[] memory scratch = new bytes32[](total / 32);
        uint256 offset;
        for (uint256 s; s < inputCount; ++s) {
            uint256 size = ClaimLayout.inputSize(entries, s);
            (uint256 laneBits, uint256 maxLane) = ClaimLayout.inputLane(entries, shape, s);
            uint256 words = ClaimLayout.packedWords(size, laneBits);
            _checkLanes(packed[offset:offset + 32 * words], size, laneBits, maxLane, s);
            leaves[s] = _wordRoot(packed, offset, words, scratch);
            offset += words * 32;
        }
        return MerkleLib.reduce(leaves, inputCount, MerkleLib.depthFor(shape.stateCount));
    }

    /// Reverts unless every bit above each word's last lane is zero and, when hi - lo + 1 is not
    /// a power of two, every lane is at most hi - lo.
    function _checkLanes(bytes calldata w, uint256 size, uint256 laneBits, uint256 maxLane, uint256 state)
        private
        pure
    {
        uint256 perWord = ClaimLayout.PACK_BITS / laneBits;
        uint256 count = w.length / 32;
        uint256 fullBits = perWord * laneBits;
        // Every word but the last holds L lanes; the last holds the rest (1 ..= L).
        uint256 lastBits = (size - (count - 1) * perWord) * laneBits;
        uint256 bad = type(uint256).max;
        assembly ("memory-safe") {
            for { let e := 0 } lt(e, count) { e := add(e, 1) } {
                let used := fullBits
                if eq(e, sub(count, 1)) { used := lastBits }
                if shr(used, calldataload(add(w.offset, shl(5, e)))) {
                    bad := e
                    break
                }
            }
        }
        // INVARIANT: padding is zero (the circuit's element is below 2^(lanes·laneBits)), so
        // one input has exactly one packing (and one inputHash).
        if (bad != type(uint256).max) revert IOptimisticGameErrors.InputPaddingNotZero(state, bad);
        // INVARIANT: every posted value is in its declared domain [lo, hi], the domain the
        // compiler proved the outputs' bounds (and so their layouts) for: an honest claimant can
        // always post the true outputs. Free when the lane holds nothing else (hi - lo + 1 = 2^laneBits).
        if (maxLane != (uint256(1) << laneBits) - 1) _checkDomain(w, size, laneBits, perWord, maxLane, state);
    }

    /// Reverts unless every lane is at most maxLane (hi - lo).
    function _checkDomain(
        bytes calldata w,
        uint256 size,
        uint256 laneBits,
        uint256 perWord,
        uint256 maxLane,
        uint256 state
    ) private pure {
        uint256 mask = (uint256(1) << laneBits) - 1;
        for (uint256 i; i < size; ++i) {
            uint256 word;
            assembly ("memory-safe") {
                word := calldataload(add(w.offset, shl(5, div(i, perWord))))
            }
            uint256 lane = (word >> (laneBits * (i % perWord))) & mask;
            if (lane > maxLane) revert IOptimisticGameErrors.InputOutOfDomain(state, i, lane, maxLane);
        }
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
