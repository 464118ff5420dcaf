// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {FoldQuery, IOneStepExecutor, StepQuery} from "../../verifier-contracts/optimistic/IOneStepExecutor.sol";

/// Test-only: the execution gas of one executor call, as the game pays it inside `step`,
/// `startFold` or `foldStep`, without the transaction's calldata cost (which the EIP-7623
/// floor can hide execution behind).
contract GasProbe {
    function measure(IOneStepExecutor executor, StepQuery calldata q, bytes calldata proof)
        external
        view
        returns (int256 value, uint256 gasUsed)
    {
        uint256 before = gasleft();
        value = executor.valueAt(q, proof);
        gasUsed = before - gasleft();
    }

    function measureFoldRow(IOneStepExecutor executor, StepQuery calldata q, bytes calldata proof)
        external
        view
        returns (uint256 termCount, uint256 gasUsed)
    {
        uint256 before = gasleft();
        (, termCount,) = executor.foldRow(q, proof);
        gasUsed = before - gasleft();
    }

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
