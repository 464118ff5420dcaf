// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What the game asks of a one-step executor: the correct value of ONE element of
/// ONE step's output, computed from operands proven against the agreed pre-state and from
/// op parameters proven against the model's parameter commitment.
struct StepQuery {
    /// Merkle root over the step headers of the model (see `StepHeader`).
    bytes32 paramsRoot;
    uint256 stepCount;
    /// Number of trace states (model inputs + steps); fixes the trace tree depth.
    uint256 stateCount;
    uint256 stepIndex;
    /// Trace position of the step's output: inputCount + stepIndex.
    uint256 statePosition;
    /// Prefix trace root agreed by both players: every state before `statePosition`, zeros after.
    bytes32 preStateRoot;
    /// Element of the step's output to compute.
    uint256 element;
    /// Element count of the step's output, as registered with the model.
    uint256 outputSize;
}

/// @notice One leaf of the model parameter tree: everything the executor needs about a step.
/// `opRoot` commits to per-element parameters (linear: rows; gather: index map; max: rows of
/// operand columns; lookup: the table entries); `consts` holds small op constants (requant:
/// mul, shift, zeroPoint, hasLo, lo, hasHi, hi, then 1 when it rounds half to even; gather:
/// fill; lookup: offset, table length; max: none).
struct StepHeader {
    uint8 kind;
    uint32 outputSize;
    uint32[] inputStates;
    uint32[] inputSizes;
    bytes32 opRoot;
    int256[] consts;
}

interface IOneStepExecutor {
    /// @return value The correct value of `q.element` of step `q.stepIndex`. Reverts with a
    /// custom error when the proof does not bind to `q.paramsRoot` and `q.preStateRoot`.
    function valueAt(StepQuery calldata q, bytes calldata proof) external view returns (int256 value);
}
