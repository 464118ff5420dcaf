// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice The inner loops of a linear step (OnchainProgram): one row's Σ vals[k] · x[col(k)] over
/// a weights array in ProgramReader's packed form, in assembly because they run once per term
/// (100k times for an MNIST MLP).
library LinearRows {
    /// Σ vals[k] · x[start + k - k0] for k in k0 .. k1 - 1: a row over consecutive columns.
    /// Parameters are reused as the loop's pointers (the legacy code generator's stack is small).
    function dense(uint256 vals, uint256 k0, uint256 k1, uint256 start, int256[] memory x)
        internal
        pure
        returns (int256 acc)
    {
        // Unchecked: src/onchain/encode.ts refuses a model unless |bias| + Σ|val|·max|x| < 2^255
        // for every row over the proven bounds of its operands (src/ir/bounds.ts), which hold for
        // every input in the domain (ProgramInputs.read): no partial sum can overflow.
        assembly ("memory-safe") {
            let vw := and(shr(32, vals), 0xff)
            let vp := add(shr(64, vals), mul(k0, vw))
            let vEnd := add(vp, mul(sub(k1, k0), vw))
            vals := sub(256, shl(3, vw))
            start := add(add(x, 32), shl(5, start))
            // One-byte weights (int8 models): 32 terms per word read, summed as a tree (no loop
            // overhead, no accumulator updates between them); the rest one by one below.
            if eq(vw, 1) {
                for { let wordsEnd := sub(vEnd, and(sub(vEnd, vp), 31)) } lt(vp, wordsEnd) {} {
                    let w := mload(vp)
                    acc := add(
                        acc,
                        add(
                            add(
                                add(
                                    add(
                                        add(
                                            mul(signextend(0, byte(0, w)), mload(start)),
                                            mul(signextend(0, byte(1, w)), mload(add(start, 32)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(2, w)), mload(add(start, 64))),
                                            mul(signextend(0, byte(3, w)), mload(add(start, 96)))
                                        )
                                    ),
                                    add(
                                        add(
                                            mul(signextend(0, byte(4, w)), mload(add(start, 128))),
                                            mul(signextend(0, byte(5, w)), mload(add(start, 160)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(6, w)), mload(add(start, 192))),
                                            mul(signextend(0, byte(7, w)), mload(add(start, 224)))
                                        )
                                    )
                                ),
                                add(
                                    add(
                                        add(
                                            mul(signextend(0, byte(8, w)), mload(add(start, 256))),
                                            mul(signextend(0, byte(9, w)), mload(add(start, 288)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(10, w)), mload(add(start, 320))),
                                            mul(signextend(0, byte(11, w)), mload(add(start, 352)))
                                        )
                                    ),
                                    add(
                                        add(
                                            mul(signextend(0, byte(12, w)), mload(add(start, 384))),
                                            mul(signextend(0, byte(13, w)), mload(add(start, 416)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(14, w)), mload(add(start, 448))),
                                            mul(signextend(0, byte(15, w)), mload(add(start, 480)))
                                        )
                                    )
                                )
                            ),
                            add(
                                add(
                                    add(
                                        add(
                                            mul(signextend(0, byte(16, w)), mload(add(start, 512))),
                                            mul(signextend(0, byte(17, w)), mload(add(start, 544)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(18, w)), mload(add(start, 576))),
                                            mul(signextend(0, byte(19, w)), mload(add(start, 608)))
                                        )
                                    ),
                                    add(
                                        add(
                                            mul(signextend(0, byte(20, w)), mload(add(start, 640))),
                                            mul(signextend(0, byte(21, w)), mload(add(start, 672)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(22, w)), mload(add(start, 704))),
                                            mul(signextend(0, byte(23, w)), mload(add(start, 736)))
                                        )
                                    )
                                ),
                                add(
                                    add(
                                        add(
                                            mul(signextend(0, byte(24, w)), mload(add(start, 768))),
                                            mul(signextend(0, byte(25, w)), mload(add(start, 800)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(26, w)), mload(add(start, 832))),
                                            mul(signextend(0, byte(27, w)), mload(add(start, 864)))
                                        )
                                    ),
                                    add(
                                        add(
                                            mul(signextend(0, byte(28, w)), mload(add(start, 896))),
                                            mul(signextend(0, byte(29, w)), mload(add(start, 928)))
                                        ),
                                        add(
                                            mul(signextend(0, byte(30, w)), mload(add(start, 960))),
                                            mul(signextend(0, byte(31, w)), mload(add(start, 992)))
                                        )
                                    )
                                )
                            )
                        )
                    )
                    vp := add(vp, 32)
                    start := add(start, 1024)
                }
            }
            for {} lt(vp, vEnd) {} {
                acc := add(acc, mul(sar(vals, mload(vp)), mload(start)))
                vp := add(vp, vw)
                start := add(start, 32)
            }
        }
    }

    /// Σ vals[k] · x[cols[k]] for k in k0 .. k1 - 1, and the first column outside the operands
    /// (type(uint256).max when none: the loop stops there and the caller reverts; a negative
    /// column reads as a huge unsigned one). Unchecked sums, as `dense`.
    function sparse(uint256 cols, uint256 vals, uint256 k0, uint256 k1, int256[] memory x)
        internal
        pure
        returns (int256 acc, uint256 bad)
    {
        bad = type(uint256).max;
        assembly ("memory-safe") {
            let vw := and(shr(32, vals), 0xff)
            let cw := and(shr(32, cols), 0xff)
            let vp := add(shr(64, vals), mul(k0, vw))
            vals := sub(256, shl(3, vw))
            // cols becomes the column pointer, k1 its end, k0 the columns' shift.
            cols := add(shr(64, cols), mul(k0, cw))
            k1 := add(cols, mul(sub(k1, k0), cw))
            k0 := sub(256, shl(3, cw))
            for {} lt(cols, k1) {} {
                let col := sar(k0, mload(cols))
                if iszero(lt(col, mload(x))) {
                    bad := col
                    break
                }
                acc := add(acc, mul(sar(vals, mload(vp)), mload(add(x, shl(5, add(col, 1))))))
                vp := add(vp, vw)
                cols := add(cols, cw)
            }
        }
    }
}
