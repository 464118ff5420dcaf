// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice How a claim posts one tensor packed, as the zk circuit's public signals of it
/// (src/circuit/packing.ts): value v is the lane v - lo of `laneBits` bits; L = 252 / laneBits
/// lanes a 32-byte word, lane j of word e (element e·L + j) at bit laneBits·j; the tensor takes
/// ceil(size / L) words and every bit above its last lane of each word is zero.
struct LaneLayout {
    uint8 laneBits;
    int256 lo;
}

/// @notice What the game asks of a one-step executor about ONE element of ONE step's output,
/// computed from operands proven against the agreed pre-state and from op parameters proven
/// against the model's parameter commitment.
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
    /// States below inputCount are input states, committed as word trees of packed lanes.
    uint256 inputCount;
    /// Each input state's lane layout (the model's registered input layouts).
    LaneLayout[] inputLayouts;
}

/// @notice One term of a row fold (level 3): the fold of terms 0 .. term-1 is `acc`.
struct FoldQuery {
    StepQuery step;
    uint256 term;
    uint256 termCount;
    bytes32 termsRoot;
    int256 acc;
}

/// @notice One leaf of the model parameter tree: everything the executor needs about a step.
/// `opRoot` commits to per-element parameters (linear: rows (bias, termCount, termsRoot);
/// gather: index map; max: rows (termCount, termsRoot); lookup: the table entries; mul: operand
/// pairs; div: (num, den) pairs); `consts` holds small op constants (requant: mul, shift,
/// zeroPoint, hasLo, lo, hasHi, hi, then 1 when it rounds half to even; gather: fill; lookup:
/// offset, table length; div: shift).
struct StepHeader {
    uint8 kind;
    uint32 outputSize;
    uint32[] inputStates;
    uint32[] inputSizes;
    bytes32 opRoot;
    int256[] consts;
}

interface IOneStepExecutor {
    /// @notice The correct value of `q.element` of step `q.stepIndex` (requant, gather, lookup,
    /// mul, div, isqrt); linear and max revert `FoldRequired` (their rows are folded term by
    /// term instead).
    /// @param q The disputed element and its agreed pre-state.
    /// @param proof abi.encode(uint8 kind, StepHeader, bytes32[] headerPath, Body).
    /// @return value The element's value.
    function valueAt(StepQuery calldata q, bytes calldata proof) external view returns (int256 value);

    /// @notice The row of a linear or max element: the fold's initial value and its terms.
    /// @param q The disputed element.
    /// @param proof abi.encode(uint8 kind, StepHeader, bytes32[] headerPath, FoldRow).
    /// @return init The fold of no term (linear: bias; max: type(int256).min).
    /// @return termCount The row's number of terms.
    /// @return termsRoot The Merkle root over the row's term leaves.
    function foldRow(StepQuery calldata q, bytes calldata proof)
        external
        view
        returns (int256 init, uint256 termCount, bytes32 termsRoot);

    /// @notice The fold of terms 0 .. f.term, given the fold `f.acc` of terms 0 .. f.term-1.
    /// @param f The term and the row it belongs to.
    /// @param proof abi.encode(uint8 kind, StepHeader, bytes32[] headerPath, FoldTerm).
    /// @return next The fold after term f.term.
    function foldStep(FoldQuery calldata f, bytes calldata proof) external view returns (int256 next);
}
