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

    /// The input root and the keccak of `packed`, after checking its length, its zero padding
    /// and its domain.
    function commit(ClaimShape memory shape, uint256[] memory entries, bytes calldata packed)
        internal
        pure
        returns (bytes32 root, bytes32 hash)
    {
        uint256 total = shape.inputBytes;
        // INVARIANT: the posted input is exactly the model's input states' words.
        if (packed.length != total) revert IOptimisticGameErrors.InputSizeMismatch(total, packed.length);
        uint256 inputCount = shape.inputCount;
        bytes32[] memory leaves = new bytes32[](inputCount);
        // One copy of every state's words: hashed whole (inputHash), then each state's part
        // reduced in place to its word root.
        bytes32[] memory scratch = new bytes32[](total / 32);
        assembly ("memory-safe") {
            calldatacopy(add(scratch, 0x20), packed.offset, total)
            hash := keccak256(add(scratch, 0x20), total)
        }
        uint256 offset;
        for (uint256 s; s < inputCount; ++s) {
            uint256 n;
            (leaves[s], n) = _stateRoot(shape, entries, packed, scratch, offset, s);
            // Unchecked: offset + n <= total (the registered lengths sum to it), < 2^17.
            unchecked {
                offset += n;
            }
        }
        root = MerkleLib.reduce(leaves, inputCount, MerkleLib.depthFor(shape.stateCount));
    }

    /// Input state `s`'s word root and its bytes, its words at `offset` of `packed` (and of
    /// `scratch`, their copy) checked first.
    function _stateRoot(
        ClaimShape memory shape,
        uint256[] memory entries,
        bytes calldata packed,
        bytes32[] memory scratch,
        uint256 offset,
        uint256 s
    ) private pure returns (bytes32 leaf, uint256 n) {
        uint256 size = ClaimLayout.inputSize(entries, s);
        (uint256 laneBits, uint256 maxLane) = ClaimLayout.inputLane(entries, shape, s);
        uint256 words = ClaimLayout.packedWords(size, laneBits);
        n = 32 * words;
        _checkLanes(packed[offset:offset + n], size, laneBits, maxLane, s);
        leaf = _wordRoot(scratch, offset, words);
    }

    /// Reverts unless every bit above each word's last lane is zero and, when hi - lo + 1 is not
    /// a power of two, every lane is at most hi - lo.
    function _checkLanes(bytes calldata w, uint256 size, uint256 laneBits, uint256 maxLane, uint256 state)
        private
        pure
    {
        uint256 perWord = ClaimLayout.PACK_BITS / laneBits;
        uint256 count = w.length / 32;
        uint256 fullBits;
        uint256 lastBits;
        // Unchecked: count = ceil(size / L) >= 1, so 1 <= size - (count - 1)·L <= L.
        unchecked {
            fullBits = perWord * laneBits;
            // Every word but the last holds L lanes; the last holds the rest (1 ..= L).
            lastBits = (size - (count - 1) * perWord) * laneBits;
        }
        // One mask per state: the OR of every word but the last has a bit at or above
        // fullBits iff one of them does, so a word's padding costs one OR, not a branch.
        uint256 above;
        assembly ("memory-safe") {
            let last := add(w.offset, shl(5, sub(count, 1)))
            let p := w.offset
            // Four words a turn (the loop's own jumps cost more than an OR), then the rest.
            for { let end4 := sub(last, and(sub(last, p), 0x60)) } lt(p, end4) { p := add(p, 0x80) } {
                above := or(
                    above,
                    or(
                        or(calldataload(p), calldataload(add(p, 0x20))),
                        or(calldataload(add(p, 0x40)), calldataload(add(p, 0x60)))
                    )
                )
            }
            for {} lt(p, last) { p := add(p, 0x20) } { above := or(above, calldataload(p)) }
            above := or(shr(fullBits, above), shr(lastBits, calldataload(last)))
        }
        // INVARIANT: padding is zero (the circuit's element is below 2^(lanes·laneBits)), so
        // one input has exactly one packing (and one inputHash).
        if (above != 0) {
            revert IOptimisticGameErrors.InputPaddingNotZero(state, _firstBadWord(w, count, fullBits, lastBits));
        }
        // INVARIANT: every posted value is in its declared domain [lo, hi], the domain the
        // compiler proved the outputs' bounds (and so their layouts) for: an honest claimant can
        // always post the true outputs. Free when the lane holds nothing else (hi - lo + 1 = 2^laneBits).
        if (maxLane != (uint256(1) << laneBits) - 1) _checkDomain(w, size, laneBits, perWord, maxLane, state);
    }

    /// The first word with a bit above its last lane (only on the way to a revert: one exists,
    /// so the loop ends inside `w`).
    function _firstBadWord(bytes calldata w, uint256 count, uint256 fullBits, uint256 lastBits)
        private
        pure
        returns (uint256 e)
    {
        for (;; ++e) {
            uint256 used = e == count - 1 ? lastBits : fullBits;
            if (uint256(bytes32(w[32 * e:32 * e + 32])) >> used != 0) return e;
        }
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

    /// The word tree root of the `words` words of `scratch` from byte `offset` (destroys them).
    function _wordRoot(bytes32[] memory scratch, uint256 offset, uint256 words) private pure returns (bytes32) {
        bytes32[] memory part;
        assembly ("memory-safe") {
            // `reduce` reads only the n words after its array's length word, so the part is
            // addressed as an array starting 32 bytes before its first word.
            part := add(scratch, offset)
        }
        return MerkleLib.reduce(part, words, MerkleLib.depthFor(words));
    }
}
