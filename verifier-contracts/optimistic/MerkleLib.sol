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
            for { let level := 0 } lt(level, depth) { level := add(level, 1) } {
                let half := shr(1, n)
                // Node i overwrites slot i after reading slots 2i and 2i+1 (both >= i).
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(base, shl(5, i)), keccak256(add(base, shl(6, i)), 0x40))
                }
                if and(n, 1) {
                    mstore(0x00, mload(add(base, shl(6, half))))
                    mstore(0x20, zero)
                    mstore(add(base, shl(5, half)), keccak256(0x00, 0x40))
                    half := add(half, 1)
                }
                n := half
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
