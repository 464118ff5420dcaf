// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The primitive ops of the integer IR, one element at a time, equal bit for bit to
/// `src/ir/ops.ts`. Solidity's `>>` on int256 is an arithmetic shift that rounds towards
/// negative infinity (floor), like bigint `>>` in TypeScript. Checked arithmetic reverts on
/// int256 overflow; the compiler's bounds analysis keeps IR values far below 2^255.
library IntegerOps {
    uint8 internal constant KIND_LINEAR = 0;
    uint8 internal constant KIND_REQUANT = 1;
    uint8 internal constant KIND_GATHER = 2;

    error ShiftTooLarge(uint256 shift);
    error ColumnOutOfRange(uint256 column, uint256 operandCount);

    /// floor(a / 2^shift).
    function floorShift(int256 a, uint256 shift) internal pure returns (int256) {
        return a >> shift;
    }

    /// clamp(floor((x·mul + 2^(shift-1)) / 2^shift) + zeroPoint, lo, hi).
    function requant(int256 x, int256[] memory c) internal pure returns (int256 q) {
        // c = [mul, shift, zeroPoint, hasLo, lo, hasHi, hi]
        uint256 shift = uint256(c[1]);
        // INVARIANT: 2^(shift-1) is a positive int256 (shift <= 255).
        if (shift > 255) revert ShiftTooLarge(shift);
        int256 half = shift > 0 ? int256(1) << (shift - 1) : int256(0);
        q = floorShift(x * c[0] + half, shift) + c[2];
        if (c[3] != 0 && q < c[4]) q = c[4];
        if (c[5] != 0 && q > c[6]) q = c[6];
    }

    /// bias + Σ vals[k] · x[cols[k]].
    function dot(int256 bias, uint256[] memory cols, int256[] memory vals, int256[] memory x)
        internal
        pure
        returns (int256 acc)
    {
        acc = bias;
        uint256 n = x.length;
        for (uint256 k; k < cols.length; ++k) {
            uint256 col = cols[k];
            // INVARIANT: every column indexes the concatenated operands.
            if (col >= n) revert ColumnOutOfRange(col, n);
            acc += vals[k] * x[col];
        }
    }
}
