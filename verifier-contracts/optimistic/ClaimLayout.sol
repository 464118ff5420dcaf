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
}

/// @notice A model's claim-time data, copied at registration into consecutive storage words so
/// a claim pays few cold storage reads: word 0 packs the ClaimShape; words 1.. pack uint32
/// entries, eight a word: the input state sizes, then the output states, then the output state
/// sizes; then one word per output, its LaneLayout (laneBits in bits 0..7, lo as a two's
/// complement int248 above); then one word per input, its lane check (laneBits in bits 0..7,
/// hi - lo above). Registration bounds |lo| and |hi| by 2^240, so both fit. Read raw (no length
/// word): every index a claim reads is below a count fixed at registration.
library ClaimLayout {
    /// Bits of a word that hold lanes: as the circuit's packing, below the BN254 field's 254.
    uint256 internal constant PACK_BITS = 252;

    /// Words a tensor of `size` values takes in lanes of `laneBits`.
    function packedWords(uint256 size, uint256 laneBits) internal pure returns (uint256) {
        uint256 perWord = PACK_BITS / laneBits;
        return (size + perWord - 1) / perWord;
    }

    /// The words of `c`'s claim layout (c already checked by registration).
    function encode(ModelConfig calldata c, uint256 inputBytes) internal pure returns (uint256[] memory words) {
        uint256 inputCount = c.inputCount;
        uint256 outputCount = c.outputStates.length;
        uint256 entryWords = _entryWords(inputCount, outputCount);
        words = new uint256[](1 + entryWords + outputCount + inputCount);
        words[0] = uint256(c.claimBond) | (inputCount << 96) | (c.stateSizes.length << 128) | (inputBytes << 160)
            | (outputCount << 192);
        for (uint256 s; s < inputCount; ++s) {
            _put(words, s, c.stateSizes[s]);
            uint256 span = uint256(c.inputLayouts[s].hi - c.inputLayouts[s].lo);
            words[1 + entryWords + outputCount + s] = uint256(c.inputLayouts[s].laneBits) | (span << 8);
        }
        for (uint256 k; k < outputCount; ++k) {
            _put(words, inputCount + k, c.outputStates[k]);
            _put(words, inputCount + outputCount + k, c.stateSizes[c.outputStates[k]]);
            words[1 + entryWords + k] = uint256(c.outputLayouts[k].laneBits) | (uint256(c.outputLayouts[k].lo) << 8);
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
        uint256 n = _entryWords(s.inputCount, s.outputCount) + s.outputCount + s.inputCount;
        entries = new uint256[](n);
        for (uint256 i; i < n; ++i) entries[i] = _sload(base + 1 + i);
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
        uint256 w = entries[_entryWords(s.inputCount, s.outputCount) + s.outputCount + state];
        (laneBits, maxLane) = (w & 0xff, w >> 8);
    }

    /// Trace state of output k (< outputCount) and its size.
    function output(uint256[] memory entries, ClaimShape memory s, uint256 k)
        internal
        pure
        returns (uint256 state, uint256 size)
    {
        state = _entry(entries, s.inputCount + k);
        size = _entry(entries, uint256(s.inputCount) + s.outputCount + k);
    }

    /// Lane width and lower bound of output k (< outputCount).
    function outputLane(uint256[] memory entries, ClaimShape memory s, uint256 k)
        internal
        pure
        returns (uint256 laneBits, int256 lo)
    {
        uint256 w = entries[_entryWords(s.inputCount, s.outputCount) + k];
        laneBits = w & 0xff;
        lo = int256(w) >> 8;
    }

    function _entryWords(uint256 inputCount, uint256 outputCount) private pure returns (uint256) {
        return (inputCount + 2 * outputCount + 7) / 8;
    }

    function _put(uint256[] memory words, uint256 e, uint256 v) private pure {
        words[1 + e / 8] |= v << (32 * (e % 8));
    }

    function _entry(uint256[] memory entries, uint256 e) private pure returns (uint256) {
        return (entries[e / 8] >> (32 * (e % 8))) & 0xffffffff;
    }

    function _sload(uint256 slot) private view returns (uint256 w) {
        assembly ("memory-safe") {
            w := sload(slot)
        }
    }
}
