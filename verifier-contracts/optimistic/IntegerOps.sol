// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice The primitive ops of the integer IR, one element at a time, equal bit for bit to
/// `src/ir/ops.ts`. Solidity's `>>` on int256 is an arithmetic shift that rounds towards
/// negative infinity (floor), like bigint `>>` in TypeScript. Checked arithmetic reverts on
/// int256 overflow; the compiler's bounds analysis keeps IR values far below 2^255.
library IntegerOps {
    uint8 internal constant KIND_LINEAR = 0;
    uint8 internal constant KIND_REQUANT = 1;
    uint8 internal constant KIND_GATHER = 2;
    uint8 internal constant KIND_MAX = 3;
    uint8 internal constant KIND_LOOKUP = 4;
    uint8 internal constant KIND_MUL = 5;
    uint8 internal constant KIND_DIV = 6;
    uint8 internal constant KIND_ISQRT = 7;
    /// The largest div shift: 2^(shift+1) is still a positive int256.
    uint256 internal constant DIV_MAX_SHIFT = 253;

    /// @notice A requant shift above 255.
    /// @param shift The committed shift.
    error ShiftTooLarge(uint256 shift);
    /// @notice A column beyond the concatenated operands.
    /// @param column The committed column.
    /// @param operandCount The operands' total element count.
    error ColumnOutOfRange(uint256 column, uint256 operandCount);
    /// @notice A lookup argument outside the table's domain.
    /// @param x The argument.
    /// @param offset The table's first argument.
    /// @param tableLength The table's length.
    error LookupOutOfDomain(int256 x, int256 offset, uint256 tableLength);
    /// @notice A divisor below 1 (no honest trace holds one: bounds prove every divisor ≥ 1).
    /// @param d The divisor.
    error DivisorBelowOne(int256 d);
    /// @notice A square root of a negative value (no honest trace holds one: bounds prove every operand ≥ 0).
    /// @param x The operand.
    error NegativeSquareRoot(int256 x);

    /// floor(a / 2^shift).
    function floorShift(int256 a, uint256 shift) internal pure returns (int256) {
        return a >> shift;
    }

    /// clamp(floor((x·mul + 2^(shift-1)) / 2^shift) + zeroPoint, lo, hi): rounding half up.
    function requant(int256 x, int256[] memory c) internal pure returns (int256 q) {
        // c = [mul, shift, zeroPoint, hasLo, lo, hasHi, hi]
        uint256 shift = uint256(c[1]);
        // INVARIANT: 2^(shift-1) is a positive int256 (shift <= 255).
        if (shift > 255) revert ShiftTooLarge(shift);
        int256 half = shift > 0 ? int256(1) << (shift - 1) : int256(0);
        q = clamp(floorShift(x * c[0] + half, shift) + c[2], c);
    }

    /// requant rounding half to even, as src/ir/ops.ts requantValue with rounding 'half-even'
    /// (c as for `requant`; the executor marks it by an 8th constant).
    function requantHalfEven(int256 x, int256[] memory c) internal pure returns (int256 q) {
        uint256 shift = uint256(c[1]);
        if (shift > 255) revert ShiftTooLarge(shift);
        if (shift == 0) return clamp(x * c[0] + c[2], c);
        int256 t = x * c[0] + (int256(1) << (shift - 1));
        q = floorShift(t, shift);
        // x·mul/2^shift is a tie exactly when t is a multiple of 2^shift, i.e. the low shift bits
        // of its two's complement are zero (negative t too); an odd result then goes down.
        if ((q & 1) != 0 && (uint256(t) << (256 - shift)) == 0) --q;
        q = clamp(q + c[2], c);
    }

    /// q clamped to [lo, hi] where requant constants c enable a bound.
    function clamp(int256 q, int256[] memory c) internal pure returns (int256) {
        if (c[3] != 0 && q < c[4]) q = c[4];
        if (c[5] != 0 && q > c[6]) q = c[6];
        return q;
    }

    /// The position x - offset of table[x - offset] (the entry itself is Merkle-proven by the
    /// caller), reverting when x is outside the domain [offset, offset + length).
    function lookupIndex(int256 x, int256 offset, uint256 length) internal pure returns (uint256 position) {
        // INVARIANT: x lies in the table's domain. x - offset is computed modulo 2^256 once
        // x >= offset is known, so it cannot overflow.
        if (x < offset) revert LookupOutOfDomain(x, offset, length);
        unchecked {
            position = uint256(x) - uint256(offset);
        }
        if (position >= length) revert LookupOutOfDomain(x, offset, length);
    }

    /// a · b, as src/ir/ops.ts mulElement. Checked: it reverts (Panic 0x11) on int256 overflow,
    /// which the commitment rules out (src/optimistic/mul-range.ts bounds every product by 2^255).
    function mul(int256 a, int256 b) internal pure returns (int256) {
        return a * b;
    }

    /// round(a · 2^shift / d) half up = floor((2^(shift+1)·a + d) / (2d)), as src/ir/ops.ts
    /// divValue. Checked: it reverts (Panic 0x11) when 2^(shift+1)·a + d or 2d leaves int256,
    /// which the commitment rules out (src/optimistic/lane-check.ts bounds both over the lane).
    function div(int256 a, int256 d, uint256 shift) internal pure returns (int256) {
        // INVARIANT: the divisor is at least 1 (the quotient is defined and rounds as the IR's).
        if (d < 1) revert DivisorBelowOne(d);
        // INVARIANT: 2^(shift+1) is a positive int256.
        if (shift > DIV_MAX_SHIFT) revert ShiftTooLarge(shift);
        return floorDiv(a * (int256(1) << (shift + 1)) + d, 2 * d);
    }

    /// floor(n / m) for m > 0 and either sign of n (Solidity's `/` truncates towards zero).
    function floorDiv(int256 n, int256 m) internal pure returns (int256 q) {
        q = n / m;
        if (n % m != 0 && n < 0) --q;
    }

    /// floor(√x), exact for every x in [0, 2^255), as src/ir/ops.ts isqrtValue: Newton's
    /// iteration y ← (y + x/y) / 2 from y₀ = 2^ceil(bits(x)/2) ≥ √x decreases strictly while
    /// y > floor(√x) and stops there (the first iterate not below y), the same iterates as the
    /// TypeScript. At most about 9 iterations for 255 bits (quadratic convergence from y₀ < 2√x).
    function isqrt(int256 x) internal pure returns (int256) {
        // INVARIANT: the operand is at least 0 (the root is defined).
        if (x < 0) revert NegativeSquareRoot(x);
        uint256 a = uint256(x);
        if (a < 2) return x;
        uint256 y = uint256(1) << ((bitLength(a) + 1) >> 1);
        unchecked {
            // y ≤ 2^128 and a / y < 2^127: the sum cannot overflow.
            for (;;) {
                uint256 next = (y + a / y) >> 1;
                if (next >= y) return int256(y);
                y = next;
            }
        }
    }

    /// The number of significant bits of a (0 for 0).
    function bitLength(uint256 a) internal pure returns (uint256 n) {
        unchecked {
            for (uint256 s = 128; s > 0; s >>= 1) {
                if (a >> s != 0) {
                    a >>= s;
                    n += s;
                }
            }
            if (a != 0) ++n;
        }
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
