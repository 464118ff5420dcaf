// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVerimlHub} from "../optimistic/IVerimlHub.sol";
import {OnchainProgram} from "./OnchainProgram.sol";

/// @notice A tiny model settled on chain outright: its whole integer execution runs in one
/// transaction (no proof, no challenge window) and its result is the hub's (VerimlRegistry) one
/// record of the statement, as a proof's or a finalised claim's is: statementId = keccak256(modelId
/// ‖ inputCommitment), inputCommitment = keccak256 of the packed input words, outputsHash =
/// keccak256 of the packed output words (LanePacking: word for word a proof's public signals and
/// an optimistic claim's posted input and outputs). The hub's owner binds it to the model
/// (`bindSettler(modelId, this, OnChain)`), vouching that it runs that model. The model's program
/// (OnchainProgram's layout) is the code of data contracts (`chunks`), each `0x00 ‖ bytes`: the
/// cheapest bytes to store and read (EXTCODECOPY), split because EIP-170 caps one contract's code
/// at 24,576 bytes; the leading STOP makes a call to a chunk do nothing. Anyone can check that the
/// chunks hold the model named by `modelId` by re-encoding its IR (src/onchain/encode.ts) and
/// comparing code.
contract OnchainModel {
    /// @notice The hub the results are recorded in (consumers read resultOf / outputsMatch there).
    IVerimlHub public immutable hub;
    /// @notice The IR hash every path names the model by (src/ir/serialize.ts modelId).
    bytes32 public immutable modelId;
    address[] private _chunks;

    /// @notice A run: the hub holds its outputs hash; this carries the outputs themselves.
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the packed input words.
    /// @param submitter Who ran it.
    /// @param outputsPacked The packed output words (keccak256 of them is the outputs hash).
    event Ran(bytes32 indexed modelId, bytes32 indexed inputCommitment, address indexed submitter, bytes outputsPacked);

    /// @notice A chunk address has no code.
    /// @param chunk The address.
    error ChunkHasNoCode(address chunk);
    /// @notice The hub address has no code.
    /// @param hub The address.
    error HubHasNoCode(address hub);

    constructor(IVerimlHub hub_, bytes32 modelId_, address[] memory chunks_) {
        if (address(hub_).code.length == 0) revert HubHasNoCode(address(hub_));
        for (uint256 i; i < chunks_.length; ++i) {
            if (chunks_[i].code.length == 0) revert ChunkHasNoCode(chunks_[i]);
        }
        hub = hub_;
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
    /// Reverts (ProgramInputs.InputOutOfDomain) when a value is outside the model's input domain.
    function execute(int256[] calldata input) external view returns (int256[][] memory outputs) {
        (outputs,,) = OnchainProgram.run(program(), input);
    }

    /// @notice The statement of `input` and its outputs, without recording: the packed input and
    /// output words and their keccak256 (inputCommitment, outputsHash).
    function commitmentsOf(int256[] calldata input)
        external
        view
        returns (bytes32 inputCommitment, bytes32 outputsHash, bytes memory inputPacked, bytes memory outputsPacked)
    {
        (, inputPacked, outputsPacked) = OnchainProgram.run(program(), input);
        return (keccak256(inputPacked), keccak256(outputsPacked), inputPacked, outputsPacked);
    }

    /// @notice Runs the model on `input` and records the result in the hub: the statement
    /// (modelId, keccak256 of the packed input) settled OnChain with keccak256 of the packed
    /// outputs. A statement already proven or run with these outputs stays as it is; one settled
    /// optimistically is overwritten (a run is final). Reverts (the hub's ConflictingProof) when a
    /// proof recorded other outputs: for a sound circuit that cannot happen (both compute the
    /// same integer IR); if it does, neither result is trusted over the other.
    function run(int256[] calldata input)
        external
        returns (bytes32 inputCommitment, bytes32 outputsHash, int256[] memory outputs)
    {
        (int256[][] memory parts, bytes memory inputPacked, bytes memory outputsPacked) =
            OnchainProgram.run(program(), input);
        inputCommitment = keccak256(inputPacked);
        outputsHash = keccak256(outputsPacked);
        // The hub answers (how, agrees): agrees is always true for a run (it records, keeps an
        // agreeing record, or reverts), so the answer is not read.
        hub.record(modelId, inputCommitment, outputsHash);
        emit Ran(modelId, inputCommitment, msg.sender, outputsPacked);
        outputs = _flatten(parts);
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
