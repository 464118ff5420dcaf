// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IntegerOps} from "../../verifier-contracts/optimistic/IntegerOps.sol";
import {MerkleLib} from "../../verifier-contracts/optimistic/MerkleLib.sol";

/// Test-only: exposes the executor's integer primitives for differential testing.
contract OpsHarness {
    /// @notice IntegerOps.requant.
    function requant(int256 x, int256[] memory c) external pure returns (int256) {
        return IntegerOps.requant(x, c);
    }

    /// @notice IntegerOps.floorShift.
    function floorShift(int256 a, uint256 shift) external pure returns (int256) {
        return IntegerOps.floorShift(a, shift);
    }

    /// @notice IntegerOps.requantHalfEven.
    function requantHalfEven(int256 x, int256[] memory c) external pure returns (int256) {
        return IntegerOps.requantHalfEven(x, c);
    }

    /// @notice IntegerOps.lookupIndex.
    function lookupIndex(int256 x, int256 offset, uint256 length) external pure returns (uint256) {
        return IntegerOps.lookupIndex(x, offset, length);
    }

    /// @notice IntegerOps.mul.
    function mul(int256 a, int256 b) external pure returns (int256) {
        return IntegerOps.mul(a, b);
    }

    /// @notice IntegerOps.div.
    function div(int256 a, int256 d, uint256 shift) external pure returns (int256) {
        return IntegerOps.div(a, d, shift);
    }

    /// @notice IntegerOps.div over many operand triples (one call for a differential batch).
    function divAll(int256[] memory a, int256[] memory d, uint256[] memory shift) external pure returns (int256[] memory q) {
        q = new int256[](a.length);
        for (uint256 i; i < a.length; ++i) q[i] = IntegerOps.div(a[i], d[i], shift[i]);
    }

    /// @notice IntegerOps.isqrt.
    function isqrt(int256 x) external pure returns (int256) {
        return IntegerOps.isqrt(x);
    }

    /// @notice IntegerOps.isqrt over many operands.
    function isqrtAll(int256[] memory x) external pure returns (int256[] memory y) {
        y = new int256[](x.length);
        for (uint256 i; i < x.length; ++i) y[i] = IntegerOps.isqrt(x[i]);
    }

    /// @notice IntegerOps.isqrt(x) and the gas it used alone.
    function isqrtGas(int256 x) external view returns (int256 y, uint256 gasUsed) {
        uint256 before = gasleft();
        y = IntegerOps.isqrt(x);
        gasUsed = before - gasleft();
    }

    /// @notice IntegerOps.dot.
    function dot(int256 bias, uint256[] memory cols, int256[] memory vals, int256[] memory x) external pure returns (int256) {
        return IntegerOps.dot(bias, cols, vals, x);
    }

    /// @notice MerkleLib.tensorRoot.
    function tensorRoot(int256[] memory values) external pure returns (bytes32) {
        return MerkleLib.tensorRoot(values);
    }

    /// @notice MerkleLib.rootFrom at the path's depth.
    function rootFrom(bytes32 leaf, uint256 index, bytes32[] memory path) external pure returns (bytes32) {
        return MerkleLib.rootFrom(leaf, index, path, path.length);
    }

    /// @notice MerkleLib.depthFor.
    function depthFor(uint256 n) external pure returns (uint256) {
        return MerkleLib.depthFor(n);
    }
}
