// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {OnchainProgram} from "./OnchainProgram.sol";

/// @notice A tiny model settled on chain outright: its whole integer execution runs in one
/// transaction (no proof, no challenge window). The model's program (OnchainProgram's layout)
/// is the code of data contracts (`chunks`), each `0x00 ‖ bytes`: the cheapest bytes to store
/// and read (EXTCODECOPY), split because EIP-170 caps one contract's code at 24,576 bytes; the
/// leading STOP makes a call to a chunk do nothing. Anyone can check that the chunks hold the
/// model named by `modelId` by re-encoding its IR (src/onchain/encode.ts) and comparing code.
contract OnchainModel {
    /// @notice The result of one input, recorded by `run`.
    struct Result {
        address submitter;
        uint64 blockNumber;
        /// The model's outputs, concatenated in order.
        int256[] outputs;
    }

    /// @notice The IR hash the zk and optimistic paths name the model by (src/ir/serialize.ts modelId).
    bytes32 public immutable modelId;
    address[] private _chunks;
    mapping(bytes32 inputCommitment => Result) private _results;

    /// @notice A result was recorded.
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the input as given (abi.encodePacked int256[]).
    /// @param submitter Who ran it.
    /// @param outputs The outputs, concatenated in order.
    event ResultRecorded(
        bytes32 indexed modelId, bytes32 indexed inputCommitment, address indexed submitter, int256[] outputs
    );

    /// @notice A chunk address has no code.
    /// @param chunk The address.
    error ChunkHasNoCode(address chunk);

    constructor(bytes32 modelId_, address[] memory chunks_) {
        for (uint256 i; i < chunks_.length; ++i) {
            if (chunks_[i].code.length == 0) revert ChunkHasNoCode(chunks_[i]);
        }
        modelId = modelId_;
        _chunks = chunks_;
    }

    /// @notice The data contracts holding the program, in order.
    function chunks() external view returns (address[] memory) {
        return _chunks;
    }

    /// @notice The model's program: the chunks' code after their leading STOP, concatenated.
    function program() public view returns (bytes memory prog) {
        address[] memory cs = _chunks;
        uint256 total;
        for (uint256 i; i < cs.length; ++i) {
            total += cs[i].code.length - 1;
        }
        prog = new bytes(total);
        uint256 dst;
        assembly ("memory-safe") {
            dst := add(prog, 32)
        }
        for (uint256 i; i < cs.length; ++i) {
            address c = cs[i];
            assembly ("memory-safe") {
                let size := sub(extcodesize(c), 1)
                extcodecopy(c, dst, 1, size)
                dst := add(dst, size)
            }
        }
    }

    /// @notice The model's outputs on `input` (its inputs concatenated in order), without recording.
    /// Reverts (OnchainProgram.InputOutOfDomain) when a value is outside the model's input domain.
    function execute(int256[] calldata input) external view returns (int256[][] memory outputs) {
        return OnchainProgram.run(program(), input);
    }

    /// @notice keccak256 of the input as given: the statement's input commitment.
    function inputCommitmentOf(int256[] calldata input) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(input));
    }

    /// @notice Runs the model on `input` and records the outputs under its input commitment.
    /// A recorded input is not run again: its recorded outputs are returned (the model is
    /// deterministic, so they are the outputs a new run would give).
    function run(int256[] calldata input) external returns (bytes32 inputCommitment, int256[] memory outputs) {
        inputCommitment = inputCommitmentOf(input);
        Result storage r = _results[inputCommitment];
        if (r.blockNumber != 0) return (inputCommitment, r.outputs);
        outputs = _flatten(OnchainProgram.run(program(), input));
        _record(r, outputs);
        emit ResultRecorded(modelId, inputCommitment, msg.sender, outputs);
    }

    /// @notice The recorded result of an input commitment; recorded is false when none was recorded.
    function resultOf(bytes32 inputCommitment)
        external
        view
        returns (bool recorded, address submitter, uint64 blockNumber, int256[] memory outputs)
    {
        Result storage r = _results[inputCommitment];
        return (r.blockNumber != 0, r.submitter, r.blockNumber, r.outputs);
    }

    /// The one place a result is written (the integrator connects it to the shared results interface).
    function _record(Result storage r, int256[] memory outputs) private {
        r.submitter = msg.sender;
        r.blockNumber = uint64(block.number);
        r.outputs = outputs;
    }

    function _flatten(int256[][] memory parts) private pure returns (int256[] memory flat) {
        uint256 total;
        for (uint256 i; i < parts.length; ++i) {
            total += parts[i].length;
        }
        flat = new int256[](total);
        uint256 k;
        for (uint256 i; i < parts.length; ++i) {
            for (uint256 j; j < parts[i].length; ++j) {
                flat[k++] = parts[i][j];
            }
        }
    }
}
