// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {StepHeader, StepQuery} from "./IOneStepExecutor.sol";
import {IntegerOps} from "./IntegerOps.sol";
import {MerkleLib} from "./MerkleLib.sol";

/// @notice What every one-step proof shares: the step header bound to the model, and operand
/// elements bound to the agreed pre-state. An operand in an input state is committed as a
/// word tree of packed lanes (protocol §1, §5; the circuit's packing), any other as a tensor
/// tree of int256 values.
abstract contract OneStepOperands {
    /// One operand element: siblings inside its state's tree, then of that tree in the trace
    /// tree. For an input state, `value` is the raw 32-byte word holding the element's lane.
    struct ElementOpening {
        int256 value;
        bytes32[] elementPath;
        bytes32[] statePath;
    }

    /// @notice The proof is too short to name its op kind.
    /// @param length The proof's length in bytes.
    error MalformedProof(uint256 length);
    /// @notice The proof decodes as another op than the header's.
    /// @param proofKind The proof's kind.
    /// @param headerKind The committed kind.
    error ProofKindMismatch(uint8 proofKind, uint8 headerKind);
    /// @notice The header is not the model's at this step.
    /// @param stepIndex The step.
    error HeaderNotInModel(uint256 stepIndex);
    /// @notice The header's output size is not the registered one.
    /// @param registered The game's size.
    /// @param committed The header's size.
    error OutputSizeMismatch(uint256 registered, uint256 committed);
    /// @notice The element is beyond the step's output.
    /// @param element The element.
    /// @param outputSize The output's size.
    error ElementOutOfRange(uint256 element, uint256 outputSize);
    /// @notice The header's shape or constants do not fit its op.
    /// @param stepIndex The step.
    error MalformedHeader(uint256 stepIndex);
    /// @notice An operand is not a state before the step.
    /// @param operandState The operand's state.
    /// @param statePosition The step's state.
    error OperandNotBeforeStep(uint256 operandState, uint256 statePosition);
    /// @notice An operand element is not in the agreed pre-state.
    /// @param operandState The operand's state.
    error OperandNotInPreState(uint256 operandState);

    function _checkHeader(StepQuery calldata q, StepHeader memory h, bytes32[] memory path, uint8 kind) internal pure {
        // INVARIANT: the proof is decoded as the op the model commits to at this step.
        if (h.kind != kind) revert ProofKindMismatch(kind, h.kind);
        // INVARIANT: the header is the model's own, at this step index.
        bytes32 leaf = keccak256(abi.encode(h));
        if (MerkleLib.rootFrom(leaf, q.stepIndex, path, MerkleLib.depthFor(q.stepCount)) != q.paramsRoot) {
            revert HeaderNotInModel(q.stepIndex);
        }
        // INVARIANT: the disputed tensor has the size both the game and the header agree on.
        if (h.outputSize != q.outputSize) revert OutputSizeMismatch(q.outputSize, h.outputSize);
        if (q.element >= q.outputSize) revert ElementOutOfRange(q.element, q.outputSize);
        if (h.inputStates.length == 0 || h.inputStates.length != h.inputSizes.length) revert MalformedHeader(q.stepIndex);
        for (uint256 m; m < h.inputStates.length; ++m) {
            // INVARIANT: a step only reads states the pre-state root already holds.
            if (h.inputStates[m] >= q.statePosition) revert OperandNotBeforeStep(h.inputStates[m], q.statePosition);
        }
    }

    /// Column `col` of the concatenated operands as (operand, index inside it).
    function _locate(StepHeader memory h, uint256 col) internal pure returns (uint256, uint256) {
        uint256 offset = col;
        for (uint256 m; m < h.inputSizes.length; ++m) {
            if (offset < h.inputSizes[m]) return (m, offset);
            offset -= h.inputSizes[m];
        }
        // INVARIANT: every column indexes the concatenated operands (located by the committed
        // sizes, never by the prover).
        revert IntegerOps.ColumnOutOfRange(col, col - offset);
    }

    /// The value of element `index` of operand m, proven inside the agreed pre-state.
    function _operand(StepQuery calldata q, StepHeader memory h, uint256 m, uint256 index, ElementOpening memory x)
        internal
        pure
        returns (int256)
    {
        uint256 state = h.inputStates[m];
        uint256 size = h.inputSizes[m];
        if (state >= q.inputCount) {
            // INVARIANT: a step-state element sits at `index` of its tensor tree, in the pre-state.
            bytes32 root = MerkleLib.rootFrom(bytes32(uint256(x.value)), index, x.elementPath, MerkleLib.depthFor(size));
            _checkState(q, state, root, x.statePath);
            return x.value;
        }
        return _inputElement(q, state, size, index, x);
    }

    /// Element `index` of input state `state`: lane index % L of word index / L of the state's
    /// word tree (depth fixed by its size and registered layout), in the pre-state.
    function _inputElement(StepQuery calldata q, uint256 state, uint256 size, uint256 index, ElementOpening memory x)
        private
        pure
        returns (int256)
    {
        uint256 laneBits = q.inputLayouts[state].laneBits;
        uint256 perWord = 252 / laneBits;
        // INVARIANT: the word is the state's, at index / L, in the agreed pre-state (whose input
        // states are the game's own commitment to the posted input, checked at claim time).
        bytes32 wordRoot = MerkleLib.rootFrom(
            bytes32(uint256(x.value)), index / perWord, x.elementPath, MerkleLib.depthFor((size + perWord - 1) / perWord)
        );
        _checkState(q, state, wordRoot, x.statePath);
        uint256 lane = (uint256(x.value) >> (laneBits * (index % perWord))) & ((uint256(1) << laneBits) - 1);
        // lo + lane: registration bounds |lo|, |hi| by 2^240, so lane < 2^242 and the sum is exact.
        return int256(lane) + q.inputLayouts[state].lo;
    }

    function _checkState(StepQuery calldata q, uint256 state, bytes32 tensorRoot, bytes32[] memory path) private pure {
        if (MerkleLib.rootFrom(tensorRoot, state, path, MerkleLib.depthFor(q.stateCount)) != q.preStateRoot) {
            revert OperandNotInPreState(state);
        }
    }
}
