// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FoldQuery, IOneStepExecutor, StepHeader, StepQuery} from "./IOneStepExecutor.sol";
import {IntegerOps} from "./IntegerOps.sol";
import {MerkleLib} from "./MerkleLib.sol";
import {OneStepOperands} from "./OneStepOperands.sol";

/// @notice One-step executor for every primitive op of the integer IR (protocol §5). A proof is
/// `abi.encode(uint8 kind, StepHeader header, bytes32[] headerPath, Body)` (built by
/// `src/optimistic/one-step.ts`). `valueAt` bodies:
///   requant: ElementOpening x[element]
///   gather:  (int256 source, bytes32[] indexPath, ElementOpening x[source])
///   lookup:  (ElementOpening x[element], int256 entry, bytes32[] entryPath)
///   mul:     (uint256 left, uint256 right, bytes32[] pairPath, ElementOpening a, ElementOpening b)
///   div:     (int256 num, uint256 den, bytes32[] pairPath, ElementOpening a, ElementOpening d)
///   isqrt:   ElementOpening x[element]
/// Linear and max elements read a whole row, so they are folded term by term instead:
/// `foldRow` opens the row (FoldRow), `foldStep` folds one term (FoldTerm). Every operand
/// element is Merkle-proven, so no proof carries more than a few paths.
contract IntegerOneStep is IOneStepExecutor, OneStepOperands {
    struct GatherBody {
        int256 source;
        bytes32[] indexPath;
        ElementOpening x;
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

    /// The operand pair of one div element; num = -1 is the constant 1 (a reciprocal: `a` unused).
    struct DivBody {
        int256 num;
        uint256 den;
        bytes32[] pairPath;
        ElementOpening a;
        ElementOpening d;
    }

    /// A row: linear leaf keccak256(abi.encode(bias, termCount, termsRoot)); max leaf
    /// keccak256(abi.encode(termCount, termsRoot)) with bias 0.
    struct FoldRow {
        int256 bias;
        uint256 termCount;
        bytes32 termsRoot;
        bytes32[] rowPath;
    }

    /// A term: linear leaf keccak256(abi.encode(col, val)); max leaf bytes32(col) with val 0.
    struct FoldTerm {
        uint256 col;
        int256 val;
        bytes32[] termPath;
        ElementOpening x;
    }

    /// @notice The op kind is none of the IR's.
    /// @param kind The kind.
    error UnknownOpKind(uint8 kind);
    /// @notice A linear or max element is computed by foldRow / foldStep, not valueAt.
    /// @param kind The op's kind.
    error FoldRequired(uint8 kind);
    /// @notice foldRow / foldStep on an op that is not a fold (linear, max).
    /// @param kind The op's kind.
    error NotFoldable(uint8 kind);
    /// @notice The row is not the model's row for this element.
    /// @param element The element.
    error RowNotInModel(uint256 element);
    /// @notice The gather index is not the model's for this element.
    /// @param element The element.
    error IndexNotInModel(uint256 element);
    /// @notice A gather source beyond the concatenated operands.
    /// @param source The committed source.
    /// @param operandCount The operands' total element count.
    error SourceOutOfRange(int256 source, uint256 operandCount);
    /// @notice A max row with no term.
    /// @param element The element.
    error EmptyMaxRow(uint256 element);
    /// @notice A max row with a nonzero bias (max rows have none).
    /// @param element The element.
    /// @param bias The bias posted.
    error MaxRowHasBias(uint256 element, int256 bias);
    /// @notice The lookup entry is not the model's table entry.
    /// @param x The argument.
    /// @param tableIndex The entry's index.
    error EntryNotInModel(int256 x, uint256 tableIndex);
    /// @notice The mul operand pair is not the model's for this element.
    /// @param element The element.
    error PairNotInModel(uint256 element);
    /// @notice A committed div numerator column below -1 (-1 is the constant 1).
    /// @param num The committed column.
    error NumeratorOutOfRange(int256 num);
    /// @notice The folded term is beyond the row.
    /// @param term The term.
    /// @param termCount The row's term count.
    error TermOutOfRange(uint256 term, uint256 termCount);
    /// @notice The term is not the row's term at this index.
    /// @param term The term.
    error TermNotInRow(uint256 term);
    /// @notice A max term with a nonzero weight (max terms have none).
    /// @param term The term.
    /// @param val The weight posted.
    error MaxTermHasValue(uint256 term, int256 val);

    /// @inheritdoc IOneStepExecutor
    function valueAt(StepQuery calldata q, bytes calldata proof) external pure returns (int256) {
        if (proof.length < 32) revert MalformedProof(proof.length);
        uint8 kind = abi.decode(proof[:32], (uint8));
        // INVARIANT: a row op is never computed whole: its proof would grow with the row.
        if (kind == IntegerOps.KIND_LINEAR || kind == IntegerOps.KIND_MAX) revert FoldRequired(kind);
        if (kind == IntegerOps.KIND_REQUANT) {
            (, StepHeader memory h, bytes32[] memory hp, ElementOpening memory x) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], ElementOpening));
            _checkHeader(q, h, hp, kind);
            return _requant(q, h, x);
        }
        if (kind == IntegerOps.KIND_GATHER) {
            (, StepHeader memory h, bytes32[] memory hp, GatherBody memory b) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], GatherBody));
            _checkHeader(q, h, hp, kind);
            return _gather(q, h, b);
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
        if (kind == IntegerOps.KIND_DIV) {
            (, StepHeader memory h, bytes32[] memory hp, DivBody memory b) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], DivBody));
            _checkHeader(q, h, hp, kind);
            return _div(q, h, b);
        }
        if (kind == IntegerOps.KIND_ISQRT) {
            (, StepHeader memory h, bytes32[] memory hp, ElementOpening memory x) =
                abi.decode(proof, (uint8, StepHeader, bytes32[], ElementOpening));
            _checkHeader(q, h, hp, kind);
            return _isqrt(q, h, x);
        }
        revert UnknownOpKind(kind);
    }

    /// @inheritdoc IOneStepExecutor
    function foldRow(StepQuery calldata q, bytes calldata proof)
        external
        pure
        returns (int256 init, uint256 termCount, bytes32 termsRoot)
    {
        (uint8 kind, bytes32 opRoot, FoldRow memory r) = _decodeRow(q, proof);
        return (_checkRow(q, kind, opRoot, r), r.termCount, r.termsRoot);
    }

    function _decodeRow(StepQuery calldata q, bytes calldata proof)
        private
        pure
        returns (uint8 kind, bytes32 opRoot, FoldRow memory r)
    {
        StepHeader memory h;
        bytes32[] memory hp;
        (kind, h, hp, r) = abi.decode(proof, (uint8, StepHeader, bytes32[], FoldRow));
        _checkFoldHeader(q, h, hp, kind);
        opRoot = h.opRoot;
    }

    /// The fold's initial value, once the row is proven the model's row for this element.
    function _checkRow(StepQuery calldata q, uint8 kind, bytes32 opRoot, FoldRow memory r) private pure returns (int256 init) {
        bytes32 leaf;
        if (kind == IntegerOps.KIND_LINEAR) {
            leaf = keccak256(abi.encode(r.bias, r.termCount, r.termsRoot));
            init = r.bias;
        } else {
            // INVARIANT: a max row has no bias and at least one term; its fold starts below every value.
            if (r.bias != 0) revert MaxRowHasBias(q.element, r.bias);
            if (r.termCount == 0) revert EmptyMaxRow(q.element);
            leaf = keccak256(abi.encode(r.termCount, r.termsRoot));
            init = type(int256).min;
        }
        // INVARIANT: the row (bias, term count, terms root) is the model's row for this element.
        if (MerkleLib.rootFrom(leaf, q.element, r.rowPath, MerkleLib.depthFor(q.outputSize)) != opRoot) {
            revert RowNotInModel(q.element);
        }
    }

    /// @inheritdoc IOneStepExecutor
    function foldStep(FoldQuery calldata f, bytes calldata proof) external pure returns (int256) {
        (uint8 kind, StepHeader memory h, bytes32[] memory hp, FoldTerm memory t) =
            abi.decode(proof, (uint8, StepHeader, bytes32[], FoldTerm));
        _checkFoldHeader(f.step, h, hp, kind);
        _checkTerm(f, kind, t);
        (uint256 m, uint256 index) = _locate(h, t.col);
        int256 x = _operand(f.step, h, m, index, t.x);
        // Checked arithmetic: reverts on int256 overflow, which the commitment rules out.
        if (kind == IntegerOps.KIND_LINEAR) return f.acc + t.val * x;
        return x > f.acc ? x : f.acc;
    }

    function _checkTerm(FoldQuery calldata f, uint8 kind, FoldTerm memory t) private pure {
        // INVARIANT: the term is inside the row the game opened (its termsRoot, its termCount).
        if (f.term >= f.termCount) revert TermOutOfRange(f.term, f.termCount);
        bytes32 leaf;
        if (kind == IntegerOps.KIND_LINEAR) {
            leaf = keccak256(abi.encode(t.col, t.val));
        } else {
            // INVARIANT: a max term is a bare column.
            if (t.val != 0) revert MaxTermHasValue(f.term, t.val);
            leaf = bytes32(t.col);
        }
        // INVARIANT: (col, val) is the row's term at index f.term, at the depth its count fixes.
        if (MerkleLib.rootFrom(leaf, f.term, t.termPath, MerkleLib.depthFor(f.termCount)) != f.termsRoot) {
            revert TermNotInRow(f.term);
        }
    }

    /// The header of a fold op (linear, max), checked as `_checkHeader`.
    function _checkFoldHeader(StepQuery calldata q, StepHeader memory h, bytes32[] memory hp, uint8 kind) private pure {
        if (kind != IntegerOps.KIND_LINEAR && kind != IntegerOps.KIND_MAX) revert NotFoldable(kind);
        _checkHeader(q, h, hp, kind);
        // INVARIANT: max has no constants.
        if (kind == IntegerOps.KIND_MAX && h.consts.length != 0) revert MalformedHeader(q.stepIndex);
    }

    function _requant(StepQuery calldata q, StepHeader memory h, ElementOpening memory x) private pure returns (int256) {
        // INVARIANT: requant is elementwise over one operand and carries its 7 constants
        // (half up), or 8 with an 8th equal to 1 (half to even).
        if (h.inputStates.length != 1 || h.inputSizes[0] != q.outputSize) revert MalformedHeader(q.stepIndex);
        int256 v = _operand(q, h, 0, q.element, x);
        if (h.consts.length == 7) return IntegerOps.requant(v, h.consts);
        if (h.consts.length != 8 || h.consts[7] != 1) revert MalformedHeader(q.stepIndex);
        return IntegerOps.requantHalfEven(v, h.consts);
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
            if (offset < h.inputSizes[m]) return _operand(q, h, m, offset, b.x);
            offset -= h.inputSizes[m];
        }
        revert SourceOutOfRange(b.source, uint256(b.source) - offset);
    }

    function _lookup(StepQuery calldata q, StepHeader memory h, LookupBody memory b) private pure returns (int256) {
        // INVARIANT: lookup is elementwise over one operand; its constants are [offset, table length > 0].
        if (h.inputStates.length != 1 || h.inputSizes[0] != q.outputSize || h.consts.length != 2 || h.consts[1] <= 0) {
            revert MalformedHeader(q.stepIndex);
        }
        int256 x = _operand(q, h, 0, q.element, b.x);
        uint256 length = uint256(h.consts[1]);
        uint256 entryIndex = IntegerOps.lookupIndex(x, h.consts[0], length);
        // INVARIANT: the entry is the model's table entry at x - offset.
        if (MerkleLib.rootFrom(bytes32(uint256(b.entry)), entryIndex, b.entryPath, MerkleLib.depthFor(length)) != h.opRoot) {
            revert EntryNotInModel(x, entryIndex);
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
        // INVARIANT: each factor is the pre-state's element at its committed column; both may
        // be the same element.
        (uint256 ma, uint256 ia) = _locate(h, b.left);
        int256 a = _operand(q, h, ma, ia, b.a);
        (uint256 mb, uint256 ib) = _locate(h, b.right);
        int256 c = _operand(q, h, mb, ib, b.b);
        // Checked arithmetic: reverts on int256 overflow, which the commitment rules out.
        return IntegerOps.mul(a, c);
    }

    function _div(StepQuery calldata q, StepHeader memory h, DivBody memory b) private pure returns (int256) {
        // INVARIANT: div carries one constant, its shift; the operand pair (num, den) is the
        // model's for this element.
        if (h.consts.length != 1 || h.consts[0] < 0) revert MalformedHeader(q.stepIndex);
        bytes32 leaf = keccak256(abi.encode(b.num, b.den));
        if (MerkleLib.rootFrom(leaf, q.element, b.pairPath, MerkleLib.depthFor(q.outputSize)) != h.opRoot) {
            revert PairNotInModel(q.element);
        }
        // INVARIANT: the numerator is the pre-state's element at its committed column, or the
        // constant 1 where the model commits -1 (a reciprocal); the divisor is the pre-state's
        // element at its committed column.
        if (b.num < -1) revert NumeratorOutOfRange(b.num);
        int256 a = 1;
        if (b.num >= 0) {
            (uint256 ma, uint256 ia) = _locate(h, uint256(b.num));
            a = _operand(q, h, ma, ia, b.a);
        }
        (uint256 md, uint256 id) = _locate(h, b.den);
        int256 d = _operand(q, h, md, id, b.d);
        // INVARIANT: a divisor below 1 is never the honest trace's: the reference executor
        // refuses it and the bounds analysis over the whole input lane proves every divisor ≥ 1
        // (checkTotalOnLane), so an agreed pre-state holding one was agreed by two dishonest
        // parties. The executor then reverts (DivisorBelowOne): no value is defined. With an
        // honest party in the game the bisection instead stops at the step that produced the
        // divisor, and the claimant of that state loses there.
        return IntegerOps.div(a, d, uint256(h.consts[0]));
    }

    function _isqrt(StepQuery calldata q, StepHeader memory h, ElementOpening memory x) private pure returns (int256) {
        // INVARIANT: isqrt is elementwise over one operand and has no constants.
        if (h.inputStates.length != 1 || h.inputSizes[0] != q.outputSize || h.consts.length != 0) {
            revert MalformedHeader(q.stepIndex);
        }
        // INVARIANT: as a divisor below 1, a negative operand is never the honest trace's
        // (bounds prove every operand ≥ 0 over the lane): the executor reverts
        // (NegativeSquareRoot), and with an honest party the claimant of the state that
        // produced it loses at that step.
        return IntegerOps.isqrt(_operand(q, h, 0, q.element, x));
    }
}
