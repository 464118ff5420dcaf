// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOneStepExecutor, StepQuery} from "../../verifier-contracts/optimistic/IOneStepExecutor.sol";

/// Test-only: the execution gas of one `valueAt` call, as the game pays it, without the
/// transaction's calldata cost (which the EIP-7623 floor can hide execution behind).
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
}
