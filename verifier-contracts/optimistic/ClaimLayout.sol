// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ModelConfig} from "./GameTypes.sol";

/// @notice What a claim reads of its model.
struct ClaimShape {
    uint96 claimBond;
    uint32 inputCount;
    uint32 stateCount;
    /// Length of the packed input: 32 bytes per packed word of every input state.
    uint32 inputBytes;
    uint32 outputCount;
    /// Slots of a lane entry: 2 or 8 (see ClaimLayout); 0 for an unregistered model.
    uint32 laneStride;
}

/// @notice A model's claim-time data, copied at registration into consecutive storage words so
/// a claim pays few cold storage reads (2,100 gas each): word 0 packs the ClaimShape and the
/// lane stride; words 1.. hold a stream of uint32 slots, eight a word: the input state sizes,
/// then the output states, then the output state sizes; then, from the next multiple of the
/// stride, one lane entry of `stride` slots per output (its LaneLayout: laneBits in bits 0..7,
/// lo as a two's complement integer above) and one per input (laneBits, hi - lo above).
/// The stride is 2 (a 64-bit entry, value in 56 bits) when every output's |lo| < 2^55 and every
/// input's hi - lo < 2^56 — so one input and one output take a single word after word 0 — and 8
/// (a whole word, value in 248 bits) otherwise; registration bounds |lo| and |hi| by 2^240, so
/// both fit. An entry never straddles two words (it starts at a multiple of its stride, and the
/// stride divides 8). Read raw (no length word): every index a claim reads is below a count
/// fixed at registration.
library ClaimLayout {
    /// Bits of a word that hold lanes: as the circuit's packing, below the BN254 field's 254.
    uint256 internal constant PACK_BITS = 252;
    /// Lane entry strides, in uint32 slots.
    uint256 private constant NARROW = 2;
    uint256 private constant WIDE = 8;

    /// Words a tensor of `size` values takes in lanes of `laneBits`.
    function packedWords(uint256 size, uint256 laneBits) internal pure returns (uint256) {
        // Unchecked: laneBits is 1..252 and size a uint32, far from overflow.
        unchecked {
            uint256 perWord = PACK_BITS / laneBits;
            return (size + perWord - 1) / perWord;
        }
    }

    /// The words of `c`'s claim layout (c already checked by registration).
    function encode(ModelConfig calldata c, uint256 inputBytes) internal pure returns (uint256[] memory words) {
        uint256 inputCount = c.inputCount;
        uint256 outputCount = c.outputStates.length;
        uint256 stride = _stride(c);
        uint256 lanes = _laneBase(inputCount, outputCount, stride);
        words = new uint256[](1 + _entryWords(inputCount, outputCount, stride));
        words[0] = uint256(c.claimBond) | (inputCount << 96) | (c.stateSizes.length << 128) | (inputBytes << 160)
            | (outputCount << 192) | (stride << 224);
        // Entries are masked to their width: a negative lo's sign bits stay inside its entry.
        uint256 mask = stride == WIDE ? type(uint256).max : type(uint64).max;
        for (uint256 s; s < inputCount; ++s) {
            _put(words, s, c.stateSizes[s]);
            uint256 span = uint256(c.inputLayouts[s].hi - c.inputLayouts[s].lo);
            _put(words, lanes + (outputCount + s) * stride, uint256(c.inputLayouts[s].laneBits) | (span << 8));
        }
        for (uint256 k; k < outputCount; ++k) {
            _put(words, inputCount + k, c.outputStates[k]);
            _put(words, inputCount + outputCount + k, c.stateSizes[c.outputStates[k]]);
            uint256 lo = uint256(int256(c.outputLayouts[k].lo)) << 8;
            _put(words, lanes + k * stride, (uint256(c.outputLayouts[k].laneBits) | lo) & mask);
        }
    }

    /// The shape packed in word 0 (all zero for an unregistered model) and the other words,
    /// each storage word read once.
    function load(uint256[] storage words) internal view returns (ClaimShape memory s, uint256[] memory entries) {
        uint256 base;
        assembly ("memory-safe") {
            mstore(0x00, words.slot)
            base := keccak256(0x00, 0x20)
        }
        uint256 w = _sload(base);
        s.claimBond = uint96(w);
        s.inputCount = uint32(w >> 96);
        s.stateCount = uint32(w >> 128);
        s.inputBytes = uint32(w >> 160);
        s.outputCount = uint32(w >> 192);
        s.laneStride = uint32(w >> 224);
        // An unregistered model (stride 0) has no entries; the claim then reverts on its bond.
        uint256 n = s.laneStride == 0 ? 0 : _entryWords(s.inputCount, s.outputCount, s.laneStride);
        entries = new uint256[](n);
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(add(entries, 0x20), shl(5, i)), sload(add(add(base, 1), i)))
            }
        }
    }

    /// Size of input state `state` (< inputCount).
    function inputSize(uint256[] memory entries, uint256 state) internal pure returns (uint256) {
        return _entry(entries, state);
    }

    /// Lane width of input state `state` (< inputCount) and the largest lane it accepts (hi - lo).
    function inputLane(uint256[] memory entries, ClaimShape memory s, uint256 state)
        internal
        pure
        returns (uint256 laneBits, uint256 maxLane)
    {
        uint256 w;
        unchecked {
            w = _laneEntry(entries, s, s.outputCount + state);
        }
        (laneBits, maxLane) = (w & 0xff, w >> 8);
    }

    /// Trace state of output k (< outputCount) and its size.
    function output(uint256[] memory entries, ClaimShape memory s, uint256 k)
        internal
        pure
        returns (uint256 state, uint256 size)
    {
        unchecked {
            state = _entry(entries, s.inputCount + k);
            size = _entry(entries, uint256(s.inputCount) + s.outputCount + k);
        }
    }

    /// Lane width and lower bound of output k (< outputCount).
    function outputLane(uint256[] memory entries, ClaimShape memory s, uint256 k)
        internal
        pure
        returns (uint256 laneBits, int256 lo)
    {
        uint256 w = _laneEntry(entries, s, k);
        laneBits = w & 0xff;
        if (s.laneStride == WIDE) {
            lo = int256(w) >> 8;
        } else {
            assembly ("memory-safe") {
                // lo's 56 bits, sign-extended from their top (byte 6).
                lo := signextend(6, shr(8, w))
            }
        }
    }

    /// Slots 2 (64 bits) when every lane value fits 56 bits, else 8 (a word).
    function _stride(ModelConfig calldata c) private pure returns (uint256) {
        for (uint256 k; k < c.outputLayouts.length; ++k) {
            int256 lo = c.outputLayouts[k].lo;
            if (lo >= int256(1) << 55 || lo < -(int256(1) << 55)) return WIDE;
        }
        for (uint256 s; s < c.inputLayouts.length; ++s) {
            if (uint256(c.inputLayouts[s].hi - c.inputLayouts[s].lo) >> 56 != 0) return WIDE;
        }
        return NARROW;
    }

    /// First slot of the lane entries: after the uint32 entries, at a multiple of the stride.
    /// Unchecked: counts are uint32 and the stride 2 or 8, far from overflow.
    function _laneBase(uint256 inputCount, uint256 outputCount, uint256 stride) private pure returns (uint256) {
        unchecked {
            return (inputCount + 2 * outputCount + stride - 1) / stride * stride;
        }
    }

    function _entryWords(uint256 inputCount, uint256 outputCount, uint256 stride) private pure returns (uint256) {
        unchecked {
            return (_laneBase(inputCount, outputCount, stride) + (inputCount + outputCount) * stride + 7) / 8;
        }
    }

    /// Lane entry `i` (outputs first, then inputs), its bits above the stride's width zero.
    /// Read without a bounds check: i < outputCount + inputCount, so its word is one `load` read.
    function _laneEntry(uint256[] memory entries, ClaimShape memory s, uint256 i) private pure returns (uint256 w) {
        uint256 stride = s.laneStride;
        uint256 slot;
        unchecked {
            slot = _laneBase(s.inputCount, s.outputCount, stride) + i * stride;
        }
        assembly ("memory-safe") {
            w := mload(add(add(entries, 0x20), shl(5, shr(3, slot))))
            if iszero(eq(stride, WIDE)) { w := and(shr(shl(5, and(slot, 7)), w), 0xffffffffffffffff) }
        }
    }

    function _put(uint256[] memory words, uint256 e, uint256 v) private pure {
        words[1 + e / 8] |= v << (32 * (e % 8));
    }

    /// Slot `e` (below the uint32 entries' count, so inside `entries`: no bounds check).
    function _entry(uint256[] memory entries, uint256 e) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := and(shr(shl(5, and(e, 7)), mload(add(add(entries, 0x20), shl(5, shr(3, e))))), 0xffffffff)
        }
    }

    function _sload(uint256 slot) private view returns (uint256 w) {
        assembly ("memory-safe") {
            w := sload(slot)
        }
    }
}
