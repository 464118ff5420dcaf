// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice A cursor over a model program held in memory (layout in OnchainProgram.sol). A
/// cursor is an absolute memory address; numbers are big-endian. An array is
/// `u8 width ‖ u32 count ‖ count × width bytes`, each element a signed two's complement
/// integer of `width` bytes (1..32), read with one mload and one arithmetic shift. An array is
/// handled as one packed word: base address << 64 | width << 32 | count.
library ProgramReader {
    /// @notice The program is not the shape its header announces (a decoder bug or foreign data).
    /// @param offset The byte offset in the program where the mismatch was found.
    error ProgramMalformed(uint256 offset);

    /// The unsigned `size`-byte number at p (size 1..32), and the cursor after it.
    function readUint(uint256 p, uint256 size) internal pure returns (uint256 v, uint256 next) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, size)), mload(p))
            next := add(p, size)
        }
    }

    /// The 32-byte signed word at p, and the cursor after it.
    function readWord(uint256 p) internal pure returns (int256 v, uint256 next) {
        assembly ("memory-safe") {
            v := mload(p)
            next := add(p, 32)
        }
    }

    /// The array at p (packed), and the cursor after it.
    function readArray(uint256 p) internal pure returns (uint256 arr, uint256 next) {
        uint256 width;
        uint256 count;
        (width, p) = readUint(p, 1);
        (count, p) = readUint(p, 4);
        // INVARIANT: an element is 1..32 bytes, so one mload holds it whole.
        if (width == 0 || width > 32) revert ProgramMalformed(p);
        arr = (p << 64) | (width << 32) | count;
        next = p + width * count;
    }

    /// The array at p, which must hold exactly `count` elements.
    function readArray(uint256 p, uint256 count) internal pure returns (uint256 arr, uint256 next) {
        (arr, next) = readArray(p);
        if (length(arr) != count) revert ProgramMalformed(p);
    }

    function length(uint256 arr) internal pure returns (uint256) {
        return arr & 0xffffffff;
    }

    /// Element i of arr (no bounds check: callers check i against `length` or a validated row pointer).
    function item(uint256 arr, uint256 i) internal pure returns (int256 v) {
        assembly ("memory-safe") {
            let width := and(shr(32, arr), 0xff)
            v := sar(sub(256, shl(3, width)), mload(add(shr(64, arr), mul(i, width))))
        }
    }
}
