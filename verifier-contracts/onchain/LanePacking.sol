// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ClaimLayout} from "../optimistic/ClaimLayout.sol";

/// @notice Packs a tensor into the words every path commits to (src/ir/packing.ts `pack`, the zk
/// circuit's public signals, the optimistic claim's posted input and outputs): value v is the
/// lane v - lo of `bits` bits; L = 252 / bits lanes a 32-byte word, lane j of word e (element
/// e·L + j) at bit bits·j; ceil(size / L) words, big-endian, every bit above the last lane zero.
/// The optimistic game checks and unpacks these words (InputCommitment, OutputCommitment); an
/// on-chain run holds the values and packs them, so a run commits to keccak256 of the very words
/// a proof's signals and a claim post for the same input and outputs. Word counts and the lane
/// capacity are ClaimLayout's.
library LanePacking {
    /// @notice A value whose lane v - lo does not fit its layout's `bits` bits.
    /// @param tensor The model output (or input) index.
    /// @param element The element's index inside it.
    /// @param value The value.
    /// @param lo The layout's least value.
    /// @param bits The layout's lane width.
    error ValueOutsideLane(uint256 tensor, uint256 element, int256 value, int256 lo, uint256 bits);

    /// The lane width of the domain [lo, hi] (packLayout): the bit length of hi - lo, at least 1;
    /// above ClaimLayout.PACK_BITS when the domain cannot be packed (hi < lo included).
    function laneBits(int256 lo, int256 hi) internal pure returns (uint256 bits) {
        if (hi < lo) return type(uint256).max;
        // Checked: hi - lo of two int256 can exceed int256 (then the program is refused).
        uint256 span = uint256(hi - lo);
        while (bits < 256 && span >> bits != 0) ++bits;
        if (bits == 0) bits = 1;
    }

    /// `values` in lanes of `bits` (1 ..= PACK_BITS, the caller's check) over `lo`; reverts
    /// ValueOutsideLane(tensor, …) for a value below lo or whose lane needs more than `bits`.
    function pack(int256[] memory values, uint256 bits, int256 lo, uint256 tensor)
        internal
        pure
        returns (bytes memory out)
    {
        out = new bytes(32 * ClaimLayout.packedWords(values.length, bits));
        // INVARIANT: every lane fits its bits, so no lane spills into the next and each word is
        // the one packing of its values (the padding above the last lane stays zero).
        if (_packInto(out, values, bits, lo) != 0) _revertFirstOutside(values, bits, lo, tensor);
    }

    /// Writes the words of `values` into `out` (sized for them); non-zero when a lane does not fit.
    /// One pass in assembly: a lane costs ~25 gas here against ~400 in checked Solidity, and the
    /// input and every output pass through it. Unchecked index arithmetic: i < size, e < words.
    function _packInto(bytes memory out, int256[] memory values, uint256 bits, int256 lo)
        private
        pure
        returns (uint256 bad)
    {
        uint256 perWord = ClaimLayout.PACK_BITS / bits;
        assembly ("memory-safe") {
            let size := mload(values)
            let src := add(values, 0x20)
            let words := shr(5, mload(out))
            for { let e := 0 } lt(e, words) { e := add(e, 1) } {
                let first := mul(e, perWord)
                let i := add(first, perWord)
                if gt(i, size) { i := size }
                let acc := 0
                // Highest lane first, so lane j ends at bit bits·j.
                for {} gt(i, first) {} {
                    i := sub(i, 1)
                    let v := mload(add(src, shl(5, i)))
                    let lane := sub(v, lo)
                    // v >= lo makes v - lo exact as an unsigned number (both are int256), so
                    // `lane >> bits == 0` is exactly "the lane fits".
                    bad := or(bad, or(slt(v, lo), shr(bits, lane)))
                    acc := or(shl(bits, acc), lane)
                }
                mstore(add(add(out, 0x20), shl(5, e)), acc)
            }
        }
    }

    /// Reverts ValueOutsideLane naming the first value whose lane does not fit (one exists).
    function _revertFirstOutside(int256[] memory values, uint256 bits, int256 lo, uint256 tensor) private pure {
        for (uint256 i; i < values.length; ++i) {
            int256 v = values[i];
            uint256 lane;
            unchecked {
                lane = uint256(v) - uint256(lo);
            }
            if (v < lo || lane >> bits != 0) revert ValueOutsideLane(tensor, i, v, lo, bits);
        }
    }
}
