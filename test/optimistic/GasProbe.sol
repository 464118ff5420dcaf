// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FoldQuery, IOneStepExecutor, StepQuery} from "../../verifier-contracts/optimistic/IOneStepExecutor.sol";

/// Test-only: the execution gas of one executor call, as the game pays it, without the
/// transaction's calldata cost (which the EIP-7623 floor can hide execution behind).
contract GasProbe {
    /// @notice `executor.valueAt(q, proof)` and the gas it used.
    /// @param executor The executor.
    /// @param q The query.
    /// @param proof The proof.
    /// @return value The element.
    /// @return gasUsed Gas of the call.
    function measure(IOneStepExecutor executor, StepQuery calldata q, bytes calldata proof)
        external
        view
        returns (int256 value, uint256 gasUsed)
    {
        uint256 before = gasleft();
        value = executor.valueAt(q, proof);
        gasUsed = before - gasleft();
    }

    /// @notice `executor.foldRow(q, proof)` and the gas it used.
    /// @param executor The executor.
    /// @param q The query.
    /// @param proof The row proof.
    /// @return init The fold's initial value.
    /// @return termCount The row's terms.
    /// @return termsRoot The row's terms root.
    /// @return gasUsed Gas of the call.
    function measureFoldRow(IOneStepExecutor executor, StepQuery calldata q, bytes calldata proof)
        external
        view
        returns (int256 init, uint256 termCount, bytes32 termsRoot, uint256 gasUsed)
    {
        uint256 before = gasleft();
        (init, termCount, termsRoot) = executor.foldRow(q, proof);
        gasUsed = before - gasleft();
    }

    /// @notice `executor.foldStep(f, proof)` and the gas it used.
    /// @param executor The executor.
    /// @param f The fold query.
    /// @param proof The term proof.
    /// @return next The fold after the term.
    /// @return gasUsed Gas of the call.
    function measureFoldStep(IOneStepExecutor executor, FoldQuery calldata f, bytes calldata proof)
        external
        view
        returns (int256 next, uint256 gasUsed)
    {
        uint256 before = gasleft();
        next = executor.foldStep(f, proof);
        gasUsed = before - gasleft();
    }
}
