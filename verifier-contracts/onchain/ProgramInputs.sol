// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ClaimLayout} from "../optimistic/ClaimLayout.sol";
import {LanePacking} from "./LanePacking.sol";
import {ProgramReader} from "./ProgramReader.sol";

/// @notice The inputs of an OnchainProgram run: each model input's header (u32 size, word lo,
/// word hi) read, its values taken from the caller's concatenated input and checked against its
/// domain [lo, hi], and all of them packed (LanePacking) in lanes of the bit length of hi - lo:
/// the zk circuit's public input signals, word for word.
library ProgramInputs {
    using ProgramReader for uint256;

    /// @notice The input has not the model's element count.
    /// @param expected The model's input element count (all inputs, concatenated).
    /// @param actual The element count given.
    error InputLengthMismatch(uint256 expected, uint256 actual);
    /// @notice An input value outside the model's calibrated input domain.
    /// @param input The model input's index.
    /// @param element The element's index inside that input.
    /// @param value The value.
    /// @param lo The domain's least value.
    /// @param hi The domain's greatest value.
    error InputOutOfDomain(uint256 input, uint256 element, int256 value, int256 lo, int256 hi);

    /// Copies each model input into its slot `t[m]`, refusing values outside its domain [lo, hi],
    /// and packs the inputs in order; returns the program pointer after the input headers.
    function read(uint256 p, uint256 inputCount, int256[] calldata input, int256[][] memory t)
        internal
        pure
        returns (uint256, bytes memory packed)
    {
        uint256 offset;
        uint256 expected = _inputTotal(p, inputCount);
        if (input.length != expected) revert InputLengthMismatch(expected, input.length);
        for (uint256 m; m < inputCount; ++m) {
            uint256 size;
            int256 lo;
            int256 hi;
            (size, p) = p.readUint(4);
            (lo, p) = p.readWord();
            (hi, p) = p.readWord();
            int256[] memory values = _inputValues(input, offset, size, lo, hi, m);
            t[m] = values;
            offset += size;
            uint256 bits = LanePacking.laneBits(lo, hi);
            // A domain no circuit could expose (over 252 bits) is no model of ours.
            if (bits > ClaimLayout.PACK_BITS) revert ProgramReader.ProgramMalformed(p);
            // Every value is in [lo, hi], so each lane v - lo <= hi - lo fits `bits`.
            packed = bytes.concat(packed, LanePacking.pack(values, bits, lo, m));
        }
        return (p, packed);
    }

    /// Input `m`: the `size` values of `input` from `offset`, refusing any outside [lo, hi].
    /// `offset + size <= input.length` (the caller checked the total), so every read is inside
    /// the calldata array; one assembly pass (~40 gas a value against ~380 checked).
    function _inputValues(int256[] calldata input, uint256 offset, uint256 size, int256 lo, int256 hi, uint256 m)
        private
        pure
        returns (int256[] memory values)
    {
        values = new int256[](size);
        uint256 outside;
        assembly ("memory-safe") {
            let src := add(input.offset, shl(5, offset))
            let dst := add(values, 0x20)
            calldatacopy(dst, src, shl(5, size))
            for { let i := 0 } lt(i, size) { i := add(i, 1) } {
                let v := mload(add(dst, shl(5, i)))
                outside := or(outside, or(slt(v, lo), sgt(v, hi)))
            }
        }
        // INVARIANT: every input lies in the model's domain: outside it the bounds the
        // unchecked linear sums rely on (and the model's calibration) do not hold.
        if (outside != 0) {
            for (uint256 i;; ++i) {
                if (values[i] < lo || values[i] > hi) revert InputOutOfDomain(m, i, values[i], lo, hi);
            }
        }
    }

    /// The total element count of the inputs whose headers start at p.
    function _inputTotal(uint256 p, uint256 inputCount) private pure returns (uint256 total) {
        for (uint256 m; m < inputCount; ++m) {
            (uint256 size,) = p.readUint(4);
            total += size;
            p += 68;
        }
    }
}
