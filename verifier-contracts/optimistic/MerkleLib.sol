// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Fixed-depth keccak Merkle trees, the commitment scheme shared with
/// `src/optimistic/merkle.ts`. A tree of n leaves has depth ceil(log2 n) and is padded with
/// zero leaves; an inner node is keccak256(left ‖ right). Leaves are raw 32-byte words (an
/// integer value is its int256 two's complement). Raw leaves are safe because every proof is
/// checked at a depth fixed by the model, never one chosen by the prover.
library MerkleLib {
    /// @notice A proof does not have the tree's depth.
    /// @param expected The tree's depth.
    /// @param actual The proof's length.
    error ProofLengthMismatch(uint256 expected, uint256 actual);
    /// @notice A leaf index does not fit the tree's depth.
    /// @param index The index.
    /// @param depth The tree's depth.
    error LeafIndexOutOfRange(uint256 index, uint256 depth);

    /// ceil(log2 n); 0 for n <= 1: the bit length of n - 1 (floor(log2) by halving, branch-free).
    function depthFor(uint256 n) internal pure returns (uint256 d) {
        assembly ("memory-safe") {
            if gt(n, 1) {
                let x := sub(n, 1)
                let r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
                r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
                r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
                r := or(r, shl(4, lt(0xffff, shr(r, x))))
                r := or(r, shl(3, lt(0xff, shr(r, x))))
                r := or(r, shl(2, lt(0xf, shr(r, x))))
                r := or(r, shl(1, lt(0x3, shr(r, x))))
                r := or(r, lt(0x1, shr(r, x)))
                d := add(r, 1)
            }
        }
    }

    /// Root of the tree holding `leaf` at `index`, given its siblings bottom-up.
    function rootFrom(bytes32 leaf, uint256 index, bytes32[] memory path, uint256 depth)
        internal
        pure
        returns (bytes32 node)
    {
        _checkShape(index, path.length, depth);
        node = leaf;
        for (uint256 i; i < depth; ++i) node = _parent(node, path[i], (index >> i) & 1);
    }

    /// `rootFrom` for a path still in calldata (no copy).
    function rootFromCalldata(bytes32 leaf, uint256 index, bytes32[] calldata path, uint256 depth)
        internal
        pure
        returns (bytes32 node)
    {
        _checkShape(index, path.length, depth);
        node = leaf;
        for (uint256 i; i < depth; ++i) node = _parent(node, path[i], (index >> i) & 1);
    }

    /// Root of the tensor tree of `values` (size = values.length); `values` is left intact.
    function tensorRoot(int256[] memory values) internal pure returns (bytes32 root) {
        uint256 n = values.length;
        bytes32[] memory layer = new bytes32[](n);
        assembly ("memory-safe") {
            mcopy(add(layer, 0x20), add(values, 0x20), shl(5, n))
        }
        return reduce(layer, n, depthFor(n));
    }

    /// Root of the tensor tree of calldata `values` (size >= 1).
    function tensorRootCalldata(int256[] calldata values) internal pure returns (bytes32) {
        uint256 n = values.length;
        bytes32[] memory layer = new bytes32[](n);
        assembly ("memory-safe") {
            calldatacopy(add(layer, 0x20), values.offset, shl(5, n))
        }
        return reduce(layer, n, depthFor(n));
    }

    /// Root of the depth-`depth` tree whose first `n` (>= 1) leaves are `layer[0..n)` and
    /// whose other leaves are zero. Hashes in place (destroys `layer`): n + depth hashes, not
    /// 2^depth, because a node over zero leaves only is the precomputed zero node of its level.
    function reduce(bytes32[] memory layer, uint256 n, uint256 depth) internal pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let base := add(layer, 0x20)
            let zero := 0
            for {} depth { depth := sub(depth, 1) } {
                // Node i overwrites slot i after reading slots 2i and 2i+1 (both >= i).
                let src := base
                let dst := base
                let end := add(base, shl(5, shr(1, n)))
                // Two nodes a turn (the loop's own jumps cost about what a hash does), then the
                // last one when n / 2 is odd. Node i+1 is written after node i read slots 2i, 2i+1
                // and node i+1 read 2i+2, 2i+3, all >= i+1.
                for { let end2 := sub(end, and(sub(end, base), 0x20)) } lt(dst, end2) {} {
                    mstore(dst, keccak256(src, 0x40))
                    mstore(add(dst, 0x20), keccak256(add(src, 0x40), 0x40))
                    src := add(src, 0x80)
                    dst := add(dst, 0x40)
                }
                if lt(dst, end) {
                    mstore(dst, keccak256(src, 0x40))
                    src := add(src, 0x40)
                    dst := add(dst, 0x20)
                }
                // An odd last node pairs with the zero node of this level.
                if and(n, 1) {
                    mstore(0x00, mload(src))
                    mstore(0x20, zero)
                    mstore(dst, keccak256(0x00, 0x40))
                }
                n := shr(1, add(n, 1))
                mstore(0x00, zero)
                mstore(0x20, zero)
                zero := keccak256(0x00, 0x40)
            }
            root := mload(base)
        }
    }

    function _checkShape(uint256 index, uint256 length, uint256 depth) private pure {
        // INVARIANT: a proof has exactly the tree's depth, so a leaf can never pose as an inner node.
        if (length != depth) revert ProofLengthMismatch(depth, length);
        // INVARIANT: the index addresses a leaf of that depth (no aliasing of high bits).
        if (depth < 256 && (index >> depth) != 0) revert LeafIndexOutOfRange(index, depth);
    }

    function _parent(bytes32 node, bytes32 sibling, uint256 right) private pure returns (bytes32 parent) {
        assembly ("memory-safe") {
            switch right
            case 0 {
                mstore(0x00, node)
                mstore(0x20, sibling)
            }
            default {
                mstore(0x00, sibling)
                mstore(0x20, node)
            }
            parent := keccak256(0x00, 0x40)
        }
    }
}
