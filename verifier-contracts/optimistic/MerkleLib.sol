// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Fixed-depth keccak Merkle trees, the commitment scheme shared with
/// `src/optimistic/merkle.ts`. A tree of n leaves has depth ceil(log2 n) and is padded with
/// zero leaves; an inner node is keccak256(left ‖ right). Leaves are raw 32-byte words (an
/// integer value is its int256 two's complement). Raw leaves are safe because every proof is
/// checked at a depth fixed by the model, never one chosen by the prover.
library MerkleLib {
    error ProofLengthMismatch(uint256 expected, uint256 actual);
    error LeafIndexOutOfRange(uint256 index, uint256 depth);

    /// ceil(log2 n); 0 for n <= 1.
    function depthFor(uint256 n) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < n) ++d;
    }

    /// Root of the tree holding `leaf` at `index`, given its siblings bottom-up.
    function rootFrom(bytes32 leaf, uint256 index, bytes32[] memory path, uint256 depth)
        internal
        pure
        returns (bytes32 node)
    {
        // INVARIANT: a proof has exactly the tree's depth, so a leaf can never pose as an inner node.
        if (path.length != depth) revert ProofLengthMismatch(depth, path.length);
        // INVARIANT: the index addresses a leaf of that depth (no aliasing of high bits).
        if (depth < 256 && (index >> depth) != 0) revert LeafIndexOutOfRange(index, depth);
        node = leaf;
        for (uint256 i; i < depth; ++i) {
            bytes32 sibling = path[i];
            assembly ("memory-safe") {
                switch and(shr(i, index), 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
        }
    }

    /// Root of the tensor tree of `values` (size = values.length), hashing in place.
    function tensorRoot(int256[] memory values) internal pure returns (bytes32 root) {
        uint256 n = values.length;
        uint256 width = uint256(1) << depthFor(n);
        bytes32[] memory layer = new bytes32[](width); // zero padded
        assembly ("memory-safe") {
            mcopy(add(layer, 0x20), add(values, 0x20), mul(n, 0x20))
            let base := add(layer, 0x20)
            // Node i of the next layer overwrites slot i after reading slots 2i and 2i+1;
            // later reads are at slots >= 2(i+1) > i, so hashing in place is safe.
            for { } gt(width, 1) { width := shr(1, width) } {
                let half := shr(1, width)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(base, mul(i, 0x20)), keccak256(add(base, mul(i, 0x40)), 0x40))
                }
            }
            root := mload(base)
        }
    }
}
