// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOneStepExecutor, StepHeader, StepQuery} from "./IOneStepExecutor.sol";
import {IntegerOps} from "./IntegerOps.sol";
import {MerkleLib} from "./MerkleLib.sol";

/// @notice One-step executor for every primitive op of the integer IR (linear, requant,
/// gather, max, lookup, mul). A proof is `abi.encode(uint8 kind, StepHeader header, bytes32[] headerPath, Body)`
/// with one Body type per op (see `src/optimistic/one-step.ts`):
///   linear:  (int256 bias, uint256[] cols, int256[] vals, bytes32[] rowPath, TensorOpening[] inputs)
///   requant: ElementOpening of x[element]
///   gather:  (int256 source, bytes32[] indexPath, ElementOpening x[source])
///   max:     (uint256[] cols, bytes32[] rowPath, RootOpening[] operands, ValueOpening[] xs), xs[k] = x[cols[k]]
///   lookup:  (ElementOpening x[element], int256 entry, bytes32[] entryPath)
///   mul:     (uint256 left, uint256 right, bytes32[] pairPath, ElementOpening x[left], ElementOpening x[right])
/// A linear element reads a whole row of its operands, so every operand tensor is revealed
/// in full and its root recomputed; requant, gather and lookup read one element, mul two and
/// max one small window (a pooling row), each element Merkle-proven.
contract IntegerOneStep is IOneStepExecutor {
    /// A whole operand tensor and the siblings of its root in the pre-state trace tree.
    struct TensorOpening {
        int256[] values;
        bytes32[] statePath;
    }

    /// One operand element: siblings inside its tensor tree, then of the tensor in the trace tree.
    struct ElementOpening {
        int256 value;
        bytes32[] elementPath;
        bytes32[] statePath;
    }

    struct LinearBody {
        int256 bias;
        uint256[] cols;
        int256[] vals;
        bytes32[] rowPath;
        TensorOpening[] inputs;
    }

    struct GatherBody {
        int256 source;
        bytes32[] indexPath;
        ElementOpening x;
    }

    /// An operand tensor's root and its siblings in the pre-state trace tree.
    struct RootOpening {
        bytes32 root;
        bytes32[] statePath;
    }

    /// One element and its siblings inside a tensor tree whose root is opened separately.
    struct ValueOpening {
        int256 value;
        bytes32[] elementPath;
    }

    /// A row's elements share their operands' state paths: each operand root is proven once.
    struct MaxBody {
        uint256[] cols;
        bytes32[] rowPath;
        RootOpening[] operands;
        ValueOpening[] xs;
    }

    struct LookupBody {
        ElementOpening x;
        int256 entry;
        bytes32[] entryPath;
    }

    /// The operand pair of one mul element; a and b are opened separately (they may be one element).
    struct MulBody {
        uint256 left;
        uint256 right;
        bytes32[] pairPath;
        ElementOpening a;
        ElementOpening b;
    }

    error ProofKindMismatch(uint8 proofKind, uint8 headerKind);
    error UnknownOpKind(uint8 kind);
    error HeaderNotInModel(uint256 stepIndex);
    error OutputSizeMismatch(uint256 registered, uint256 committed);
    error ElementOutOfRange(uint256 element, uint256 outputSize);
    error MalformedHeader(uint256 stepIndex);
    error OperandNotBeforeStep(uint256 operandState, uint256 statePosition);
    error OperandCountMismatch(uint256 expected, uint256 actual);
    error OperandSizeMismatch(uint256 operand, uint256 expected, uint256 actual);
    error OperandNotInPreState(uint256 operandState);
    error RowNotInModel(uint256 element);
    error IndexNotInModel(uint256 element);
    error SourceOutOfRange(int256 source, uint256 operandCount);
    error EmptyMaxRow(uint256 element);
    error EntryNotInModel(int256 x, uint256 tableIndex);
    error PairNotInModel(uint256 element);

    function valueAt(StepQuery calldata q, bytes calldata proof) external pure returns (int256) {
        uint8 kind = abi.decode(proof[:32], (uint8));
        if (kind == IntegerOps.KIND_LINEAR) {
            (, StepHeader memory h, bytes32[] memory hp, LinearBody memory b) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], LinearBody));
            _checkHeader(q, h, hp, kind);
            return _linear(q, h, b);
        }
        if (kind == IntegerOps.KIND_REQUANT) {
            (, StepHeader memory h, bytes32[] memory hp, ElementOpening memory x) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], ElementOpening));
            _checkHeader(q, h, hp, kind);
            // INVARIANT: requant is elementwise over one operand and carries its 7 constants
            // (half up), or 8 with an 8th equal to 1 (half to even).
            if (h.inputStates.length != 1 || h.inputSizes[0] != q.outputSize) revert MalformedHeader(q.stepIndex);
            _checkElement(q, h, 0, q.element, x);
            if (h.consts.length == 7) return IntegerOps.requant(x.value, h.consts);
            if (h.consts.length != 8 || h.consts[7] != 1) revert MalformedHeader(q.stepIndex);
            return IntegerOps.requantHalfEven(x.value, h.consts);
        }
        if (kind == IntegerOps.KIND_GATHER) {
            (, StepHeader memory h, bytes32[] memory hp, GatherBody memory b) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], GatherBody));
            _checkHeader(q, h, hp, kind);
            return _gather(q, h, b);
        }
        if (kind == IntegerOps.KIND_MAX) {
            (, StepHeader memory h, bytes32[] memory hp, MaxBody memory b) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], MaxBody));
            _checkHeader(q, h, hp, kind);
            return _max(q, h, b);
        }
        if (kind == IntegerOps.KIND_LOOKUP) {
            (, StepHeader memory h, bytes32[] memory hp, LookupBody memory b) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], LookupBody));
            _checkHeader(q, h, hp, kind);
            return _lookup(q, h, b);
        }
        if (kind == IntegerOps.KIND_MUL) {
            (, StepHeader memory h, bytes32[] memory hp, MulBody memory b) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], MulBody));
            _checkHeader(q, h, hp, kind);
            return _mul(q, h, b);
        }
        revert UnknownOpKind(kind);
    }

    function _checkHeader(StepQuery calldata q, StepHeader memory h, bytes32[] memory path, uint8 kind) private pure {
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

    function _linear(StepQuery calldata q, StepHeader memory h, LinearBody memory b) private pure returns (int256) {
        // INVARIANT: the row (bias, columns, weights) is the model's row for this element.
        if (b.cols.length != b.vals.length) revert RowNotInModel(q.element);
        bytes32 rowLeaf = keccak256(abi.encode(b.bias, b.cols, b.vals));
        if (MerkleLib.rootFrom(rowLeaf, q.element, b.rowPath, MerkleLib.depthFor(q.outputSize)) != h.opRoot) {
            revert RowNotInModel(q.element);
        }
        // INVARIANT: every operand tensor is revealed whole and is the agreed pre-state's.
        if (b.inputs.length != h.inputStates.length) revert OperandCountMismatch(h.inputStates.length, b.inputs.length);
        uint256 total;
        for (uint256 m; m < b.inputs.length; ++m) {
            int256[] memory values = b.inputs[m].values;
            if (values.length != h.inputSizes[m]) revert OperandSizeMismatch(m, h.inputSizes[m], values.length);
            bytes32 root = MerkleLib.tensorRoot(values);
            _checkState(q, h.inputStates[m], root, b.inputs[m].statePath);
            total += values.length;
        }
        int256[] memory x = b.inputs.length == 1 ? b.inputs[0].values : _concat(b.inputs, total);
        return IntegerOps.dot(b.bias, b.cols, b.vals, x);
    }

    function _gather(StepQuery calldata q, StepHeader memory h, GatherBody memory b) private pure returns (int256) {
        // INVARIANT: the source index and fill are the model's for this element.
        if (h.consts.length != 1) revert MalformedHeader(q.stepIndex);
        bytes32 leaf = bytes32(uint256(b.source));
        if (MerkleLib.rootFrom(leaf, q.element, b.indexPath, MerkleLib.depthFor(q.outputSize)) != h.opRoot) {
            revert IndexNotInModel(q.element);
        }
        if (b.source < 0) return h.consts[0];
        // The operand is located by the committed index, never by the prover.
        uint256 offset = uint256(b.source);
        for (uint256 m; m < h.inputSizes.length; ++m) {
            if (offset < h.inputSizes[m]) {
                _checkElement(q, h, m, offset, b.x);
                return b.x.value;
            }
            offset -= h.inputSizes[m];
        }
        revert SourceOutOfRange(b.source, uint256(b.source) - offset);
    }

    function _max(StepQuery calldata q, StepHeader memory h, MaxBody memory b) private pure returns (int256 m) {
        // INVARIANT: max has no constants; the row's columns are the model's for this element.
        if (h.consts.length != 0) revert MalformedHeader(q.stepIndex);
        bytes32 rowLeaf = keccak256(abi.encode(b.cols));
        if (MerkleLib.rootFrom(rowLeaf, q.element, b.rowPath, MerkleLib.depthFor(q.outputSize)) != h.opRoot) {
            revert RowNotInModel(q.element);
        }
        // INVARIANT: the row is non-empty (a max of nothing is undefined) and every column has its opening.
        if (b.cols.length == 0) revert EmptyMaxRow(q.element);
        if (b.xs.length != b.cols.length) revert OperandCountMismatch(b.cols.length, b.xs.length);
        // INVARIANT: every operand root is the agreed pre-state's.
        if (b.operands.length != h.inputStates.length) revert OperandCountMismatch(h.inputStates.length, b.operands.length);
        for (uint256 i; i < b.operands.length; ++i) _checkState(q, h.inputStates[i], b.operands[i].root, b.operands[i].statePath);
        for (uint256 k; k < b.cols.length; ++k) {
            ValueOpening memory x = b.xs[k];
            _checkColumn(h, b.operands, b.cols[k], x);
            if (k == 0 || x.value > m) m = x.value;
        }
    }

    /// Checks x against column `col` of the concatenated operands, its operand located by the committed sizes.
    function _checkColumn(StepHeader memory h, RootOpening[] memory operands, uint256 col, ValueOpening memory x)
        private
        pure
    {
        uint256 offset = col;
        for (uint256 m; m < h.inputSizes.length; ++m) {
            if (offset < h.inputSizes[m]) {
                // INVARIANT: x sits at its column's index under its operand's proven root.
                bytes32 root = MerkleLib.rootFrom(bytes32(uint256(x.value)), offset, x.elementPath, MerkleLib.depthFor(h.inputSizes[m]));
                if (root != operands[m].root) revert OperandNotInPreState(h.inputStates[m]);
                return;
            }
            offset -= h.inputSizes[m];
        }
        // INVARIANT: every column indexes the concatenated operands.
        revert IntegerOps.ColumnOutOfRange(col, col - offset);
    }

    function _lookup(StepQuery calldata q, StepHeader memory h, LookupBody memory b) private pure returns (int256) {
        // INVARIANT: lookup is elementwise over one operand; its constants are [offset, table length > 0].
        if (h.inputStates.length != 1 || h.inputSizes[0] != q.outputSize || h.consts.length != 2 || h.consts[1] <= 0) {
            revert MalformedHeader(q.stepIndex);
        }
        _checkElement(q, h, 0, q.element, b.x);
        uint256 length = uint256(h.consts[1]);
        uint256 at = IntegerOps.lookupIndex(b.x.value, h.consts[0], length);
        // INVARIANT: the entry is the model's table entry at x - offset.
        if (MerkleLib.rootFrom(bytes32(uint256(b.entry)), at, b.entryPath, MerkleLib.depthFor(length)) != h.opRoot) {
            revert EntryNotInModel(b.x.value, at);
        }
        return b.entry;
    }

    function _mul(StepQuery calldata q, StepHeader memory h, MulBody memory b) private pure returns (int256) {
        // INVARIANT: mul has no constants; the operand pair is the model's for this element.
        if (h.consts.length != 0) revert MalformedHeader(q.stepIndex);
        bytes32 leaf = keccak256(abi.encode(b.left, b.right));
        if (MerkleLib.rootFrom(leaf, q.element, b.pairPath, MerkleLib.depthFor(q.outputSize)) != h.opRoot) {
            revert PairNotInModel(q.element);
        }
        // INVARIANT: each factor is the pre-state's element at its committed column, located by
        // the committed sizes (never by the prover); both may be the same element.
        (uint256 ma, uint256 ia) = _locate(h, b.left);
        _checkElement(q, h, ma, ia, b.a);
        (uint256 mb, uint256 ib) = _locate(h, b.right);
        _checkElement(q, h, mb, ib, b.b);
        // Checked arithmetic: reverts on int256 overflow, which the commitment rules out.
        return IntegerOps.mul(b.a.value, b.b.value);
    }

    /// Column `col` of the concatenated operands as (operand, index inside it).
    function _locate(StepHeader memory h, uint256 col) private pure returns (uint256, uint256) {
        uint256 offset = col;
        for (uint256 m; m < h.inputSizes.length; ++m) {
            if (offset < h.inputSizes[m]) return (m, offset);
            offset -= h.inputSizes[m];
        }
        // INVARIANT: every column indexes the concatenated operands.
        revert IntegerOps.ColumnOutOfRange(col, col - offset);
    }

    function _checkElement(StepQuery calldata q, StepHeader memory h, uint256 m, uint256 index, ElementOpening memory x)
        private
        pure
    {
        // INVARIANT: the operand element sits at `index` of operand m, inside the agreed pre-state.
        bytes32 root = MerkleLib.rootFrom(bytes32(uint256(x.value)), index, x.elementPath, MerkleLib.depthFor(h.inputSizes[m]));
        _checkState(q, h.inputStates[m], root, x.statePath);
    }

    function _checkState(StepQuery calldata q, uint256 state, bytes32 tensorRoot, bytes32[] memory path) private pure {
        if (MerkleLib.rootFrom(tensorRoot, state, path, MerkleLib.depthFor(q.stateCount)) != q.preStateRoot) {
            revert OperandNotInPreState(state);
        }
    }

    function _concat(TensorOpening[] memory inputs, uint256 total) private pure returns (int256[] memory x) {
        x = new int256[](total);
        uint256 k;
        for (uint256 m; m < inputs.length; ++m) {
            int256[] memory v = inputs[m].values;
            for (uint256 i; i < v.length; ++i) x[k++] = v[i];
        }
    }
}
