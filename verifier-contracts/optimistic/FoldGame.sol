// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Dispute, ModelConfig, Phase} from "./GameTypes.sol";
import {FoldQuery, StepQuery} from "./IOneStepExecutor.sol";
import {GameCore} from "./GameCore.sol";

/// @notice Level 3 of a dispute (protocol §3): a linear or max element is a fold over its row's
/// terms (acc_0 = init, acc_k = fold of the first k terms, the element = acc_termCount). The
/// players bisect the claimant's partial folds down to one term, which the executor folds
/// once. No transaction ever reveals a whole row or operand tensor: every one carries Merkle
/// paths only, whatever the layer width.
abstract contract FoldGame is GameCore {
    /// @notice Opens the disputed element's row (phase Step; the challenger's clock; anyone may
    /// send it, the outcome is fixed by the proof). A row of no term resolves at once.
    /// @param disputeId The dispute.
    /// @param rowProof abi.encode(uint8 kind, StepHeader, bytes32[] headerPath, FoldRow), see IOneStepExecutor.foldRow.
    function startFold(bytes32 disputeId, bytes calldata rowProof) external {
        Dispute storage d = _live(disputeId, Phase.Step);
        ModelConfig storage m = _models[d.modelId];
        (int256 init, uint256 termCount, bytes32 termsRoot) = _foldRow(d, m, rowProof);
        _openFold(d, disputeId, m, init, termCount, termsRoot);
    }

    function _foldRow(Dispute storage d, ModelConfig storage m, bytes calldata rowProof)
        private
        view
        returns (int256, uint256, bytes32)
    {
        StepQuery memory q = _query(d, m);
        // INVARIANT: a padding element has no row; `step` proves it is 0.
        if (q.element >= q.outputSize) revert PaddingElement(q.element, q.outputSize);
        return m.executor.foldRow(q, rowProof);
    }

    function _openFold(
        Dispute storage d,
        bytes32 disputeId,
        ModelConfig storage m,
        int256 init,
        uint256 termCount,
        bytes32 termsRoot
    ) private {
        if (termCount > type(uint32).max) revert RowTooLong(termCount);
        int256 claimed = int256(uint256(d.rootHi));
        // INVARIANT: with no term the element is its initial value.
        if (termCount == 0) return _resolve(d, disputeId, m, init == claimed);
        // INVARIANT: the fold starts agreed at the executor's init (term 0) and disputed at the
        // claimed element (term termCount).
        d.foldLo = 0;
        d.foldHi = uint32(termCount);
        d.termCount = uint32(termCount);
        d.termsRoot = termsRoot;
        d.accLo = init;
        d.accHi = claimed;
        _advance(d, disputeId, m, termCount == 1 ? Phase.FoldStep : Phase.FoldPropose);
    }

    /// @notice The claimant's partial fold at mid = (foldLo + foldHi) / 2.
    /// @param disputeId The dispute.
    /// @param acc The fold of the first mid terms of the row.
    function foldPropose(bytes32 disputeId, int256 acc) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.FoldPropose);
        d.accMid = acc;
        _advance(d, disputeId, m, Phase.FoldChoose);
    }

    /// @notice The challenger agrees with the proposed partial fold (the dispute moves right of
    /// mid) or disputes it (left of mid).
    /// @param disputeId The dispute.
    /// @param agree Whether the proposal is the correct fold at mid.
    function foldChoose(bytes32 disputeId, bool agree) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.FoldChoose);
        // Summed in uint256: foldLo + foldHi may exceed uint32 for a row near 2^32 terms.
        uint32 mid = uint32((uint256(d.foldLo) + d.foldHi) / 2);
        // INVARIANT: accLo stays agreed by the challenger (or the executor's init) and accHi
        // claimed by the claimant, with foldLo < foldHi.
        if (agree) (d.foldLo, d.accLo) = (mid, d.accMid);
        else (d.foldHi, d.accHi) = (mid, d.accMid);
        _advance(d, disputeId, m, d.foldHi - d.foldLo == 1 ? Phase.FoldStep : Phase.FoldPropose);
    }

    /// @notice Folds term foldLo into the agreed accLo (the challenger's clock; anyone may send
    /// it): the claimant wins iff the result is its accHi.
    /// @param disputeId The dispute.
    /// @param proof abi.encode(uint8 kind, StepHeader, bytes32[] headerPath, FoldTerm), see IOneStepExecutor.foldStep.
    function foldStep(bytes32 disputeId, bytes calldata proof) external {
        Dispute storage d = _live(disputeId, Phase.FoldStep);
        ModelConfig storage m = _models[d.modelId];
        FoldQuery memory f = FoldQuery(_query(d, m), d.foldLo, d.termCount, d.termsRoot, d.accLo);
        int256 next = m.executor.foldStep(f, proof);
        _resolve(d, disputeId, m, next == d.accHi);
    }
}
