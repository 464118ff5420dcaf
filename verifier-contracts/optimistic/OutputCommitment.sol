// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticGameErrors, LaneLayout, ModelConfig} from "./GameTypes.sol";
import {ClaimLayout, ClaimShape} from "./ClaimLayout.sol";
import {MerkleLib} from "./MerkleLib.sol";

/// @notice A claim's outputs, posted as the zk circuit's packed output signals (LaneLayout per
/// output, in model order, one 32-byte word per packed element): 252 / laneBits values a word
/// instead of one, so a big model's claim fits a transaction. The game unpacks each output to
/// its values to rebuild the tensor root the trace proves; `outputsHash` is the keccak of the
/// packed bytes, the 32 bytes a zk proof's output signals hash to.
library OutputCommitment {
    /// Largest |lo|: the compiler proves every value below 2^240 in magnitude (src/ir/bounds.ts),
    /// so a real layout is inside; and lo + lane (< 2^240 + 2^252) then never leaves int256.
    int256 internal constant MAX_LO = int256(1) << 240;
    /// Cap on a claim's whole calldata: 120 KiB, so with the transaction's own fields (nonce,
    /// gas, signature: under 200 bytes) it stays well below the 128 KiB (131,072-byte) transaction
    /// size geth's and most mempools accept. A model whose claim would be larger is refused at
    /// registration: a claim it could never post would leave its results unclaimable.
    uint256 internal constant MAX_CLAIM_CALLDATA = 122_880;

    /// Registration: every output layout is one the circuit could expose; returns the packed
    /// outputs' length in bytes.
    function checkLayouts(ModelConfig calldata c) internal pure returns (uint256 outputBytes) {
        uint256 count = c.outputStates.length;
        if (c.outputLayouts.length != count) revert IOptimisticGameErrors.InvalidOutputLayout(count, 0, 0);
        for (uint256 k; k < count; ++k) {
            LaneLayout calldata l = c.outputLayouts[k];
            // INVARIANT: a lane is 1..252 bits (a word holds at least one, never wraps the
            // field) and lo is in the range values live in (MAX_LO), so unpacking is exact.
            if (l.laneBits == 0 || l.laneBits > ClaimLayout.PACK_BITS || l.lo > MAX_LO || l.lo < -MAX_LO) {
                revert IOptimisticGameErrors.InvalidOutputLayout(k, l.laneBits, l.lo);
            }
            outputBytes += 32 * ClaimLayout.packedWords(c.stateSizes[c.outputStates[k]], l.laneBits);
        }
    }

    /// Bytes of the calldata of `claim(bytes32, bytes, bytes32, bytes, bytes32[][])`: selector,
    /// five head words, each bytes' length word and (word-multiple) body, the paths' length word,
    /// one offset and one length word per path and `depth` siblings each.
    function claimCalldataBytes(uint256 inputBytes, uint256 outputBytes, uint256 outputCount, uint256 depth)
        internal
        pure
        returns (uint256)
    {
        return 4 + 5 * 32 + (32 + inputBytes) + (32 + outputBytes) + 32 + outputCount * (64 + 32 * depth);
    }

    /// keccak256(packed) after proving each output's unpacked tensor root at its state in
    /// `traceRoot`; reverts on a wrong count or length, a non-zero padding bit, or an output not
    /// in the trace.
    function outputsHash(
        ClaimShape memory s,
        uint256[] memory entries,
        bytes32 traceRoot,
        bytes calldata packed,
        bytes32[][] calldata paths
    ) internal pure returns (bytes32) {
        uint256 count = s.outputCount;
        if (paths.length != count) revert IOptimisticGameErrors.OutputCountMismatch(count, paths.length);
        uint256 depth = MerkleLib.depthFor(s.stateCount);
        uint256 offset;
        for (uint256 k; k < count; ++k) {
            (bytes32 root, uint256 state, uint256 n) = _output(s, entries, k, packed, offset);
            // INVARIANT: each posted output is its output state in the committed trace.
            if (MerkleLib.rootFromCalldata(root, state, paths[k], depth) != traceRoot) {
                revert IOptimisticGameErrors.OutputNotInTrace(k);
            }
            offset += n;
        }
        if (packed.length != offset) revert IOptimisticGameErrors.OutputsSizeMismatch(offset, packed.length);
        return keccak256(packed);
    }

    /// Output k's tensor root, its trace state and its bytes, read from `packed` at `offset`.
    function _output(ClaimShape memory s, uint256[] memory entries, uint256 k, bytes calldata packed, uint256 offset)
        private
        pure
        returns (bytes32 root, uint256 state, uint256 n)
    {
        uint256 size;
        (state, size) = ClaimLayout.output(entries, s, k);
        (uint256 laneBits, int256 lo) = ClaimLayout.outputLane(entries, s, k);
        n = 32 * ClaimLayout.packedWords(size, laneBits);
        // INVARIANT: the posted bytes are exactly the outputs' words (checked before reading).
        if (packed.length < offset + n) revert IOptimisticGameErrors.OutputsSizeMismatch(offset + n, packed.length);
        root = _root(packed[offset:offset + n], size, laneBits, lo, k);
    }

    /// The tensor root of one output's `size` values, unpacked from its words: element e·L + j
    /// is ((word[e] >> laneBits·j) & mask) + lo.
    function _root(bytes calldata w, uint256 size, uint256 laneBits, int256 lo, uint256 k)
        private
        pure
        returns (bytes32)
    {
        uint256 perWord = ClaimLayout.PACK_BITS / laneBits;
        uint256 mask = (uint256(1) << laneBits) - 1;
        bytes32[] memory layer = new bytes32[](size);
        uint256 count = w.length / 32;
        // Unchecked: e < count = ceil(size / L), so first < size and lanes·laneBits <= 252.
        unchecked {
            for (uint256 e; e < count; ++e) {
                uint256 word;
                uint256 first = e * perWord;
                uint256 lanes = size - first < perWord ? size - first : perWord;
                assembly ("memory-safe") {
                    word := calldataload(add(w.offset, shl(5, e)))
                }
                // INVARIANT: every bit above the word's last lane is zero (the circuit's element
                // is below 2^(lanes·laneBits)), so one output has exactly one packing and one hash.
                if (word >> (lanes * laneBits) != 0) revert IOptimisticGameErrors.OutputPaddingNotZero(k, e);
                assembly ("memory-safe") {
                    // lo + lane: |lo| <= 2^240 and lane < 2^252, so the int256 sum is exact.
                    let p := add(add(layer, 0x20), shl(5, first))
                    for { let j := 0 } lt(j, lanes) { j := add(j, 1) } {
                        mstore(add(p, shl(5, j)), add(and(word, mask), lo))
                        word := shr(laneBits, word)
                    }
                }
            }
        }
        return MerkleLib.reduce(layer, size, MerkleLib.depthFor(size));
    }
}
