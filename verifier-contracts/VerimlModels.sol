// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {VerimlResults} from "./VerimlResults.sol";

/// @title VerimlModels
/// @notice The registered models of VerimlRegistry (verifier, visibilities, packings, weight
/// commitment) and the views that split and decode a settled statement's signals with them.
abstract contract VerimlModels is VerimlResults {
    mapping(bytes32 modelId => Model) internal _models;
    mapping(bytes32 modelId => PackLayout) internal _inputLayouts;
    mapping(bytes32 modelId => PackLayout) internal _outputLayouts;
    mapping(bytes32 modelId => uint256) internal _weightCommitments;

    /// @notice The statement id and outputs hash verifyInference records for these signals.
    /// @param modelId The model (registered: its input signal count splits the signals).
    /// @param pubSignals The public signals.
    /// @return statementId keccak256(modelId ‖ inputCommitment).
    /// @return outputsHash keccak256 of the output part.
    function statementIdOf(bytes32 modelId, uint256[] calldata pubSignals)
        public
        view
        returns (bytes32 statementId, bytes32 outputsHash)
    {
        Model memory m = _models[modelId];
        if (m.verifier == address(0)) revert ModelNotRegistered(modelId);
        if (pubSignals.length != m.publicSignalCount) {
            revert PublicSignalCountMismatch(modelId, m.publicSignalCount, pubSignals.length);
        }
        uint256 inputs = m.inputSignalCount;
        bytes32 inputCommitment = keccak256(abi.encodePacked(inputs == 0 ? pubSignals : pubSignals[:inputs]));
        statementId = statementIdFor(modelId, inputCommitment);
        outputsHash = keccak256(abi.encodePacked(pubSignals[inputs:pubSignals.length - (m.hashedWeights ? 1 : 0)]));
    }

    /// @notice The registered model (all zero when absent).
    /// @param modelId The model.
    /// @return Its verifier, selector, signal counts and visibilities.
    function model(bytes32 modelId) external view returns (Model memory) {
        return _models[modelId];
    }

    /// @notice The packing of the model's input part (all zero unless it is public).
    /// @param modelId The model.
    /// @return The layout.
    function inputLayout(bytes32 modelId) external view returns (PackLayout memory) {
        return _inputLayouts[modelId];
    }

    /// @notice The packing of the model's output part (all zero unless it is public).
    /// @param modelId The model.
    /// @return The layout.
    function outputLayout(bytes32 modelId) external view returns (PackLayout memory) {
        return _outputLayouts[modelId];
    }

    /// @notice The registered weight commitment (0: the model's weights are circuit constants).
    /// @param modelId The model.
    /// @return The Poseidon commitment every proof's last signal must equal, or 0.
    function weightCommitment(bytes32 modelId) external view returns (uint256) {
        return _weightCommitments[modelId];
    }

    /// @notice Splits a recorded inference's signals into its input and output parts.
    /// @param modelId The model.
    /// @param pubSignals The recorded inference's public signals.
    /// @return inputPart The input part's signals.
    /// @return outputPart The output part's signals (without the weight commitment).
    function splitSignals(bytes32 modelId, uint256[] calldata pubSignals)
        external
        view
        returns (uint256[] memory inputPart, uint256[] memory outputPart)
    {
        Model memory m = _recordedModel(modelId, pubSignals);
        inputPart = pubSignals[:m.inputSignalCount];
        // The weight commitment, when there is one, is last and belongs to neither part.
        outputPart = pubSignals[m.inputSignalCount:pubSignals.length - (m.hashedWeights ? 1 : 0)];
    }

    /// @notice Decodes the packed output of a recorded inference back to integers.
    /// @dev Takes the signals (from calldata, e.g. the verifying transaction's) instead of storing
    ///      them; they are checked against the record, so only verified values are decoded.
    /// @param modelId The model.
    /// @param pubSignals The recorded inference's public signals.
    /// @return The output values.
    function decodeOutputs(bytes32 modelId, uint256[] calldata pubSignals) external view returns (int256[] memory) {
        Model memory m = _recordedModel(modelId, pubSignals);
        // INVARIANT: only a packed (public) part has lanes to decode; a hash has none.
        if (m.outputVisibility != Visibility.Public) revert PartNotPublic(modelId, false);
        return _unpack(pubSignals, m.inputSignalCount, _outputLayouts[modelId]);
    }

    /// @notice Decodes the packed input of a recorded inference (public inputs only).
    /// @param modelId The model.
    /// @param pubSignals The recorded inference's public signals.
    /// @return The input values.
    function decodeInputs(bytes32 modelId, uint256[] calldata pubSignals) external view returns (int256[] memory) {
        Model memory m = _recordedModel(modelId, pubSignals);
        // INVARIANT: only a packed (public) part has lanes to decode; a hash has none.
        if (m.inputVisibility != Visibility.Public) revert PartNotPublic(modelId, true);
        return _unpack(pubSignals, 0, _inputLayouts[modelId]);
    }

    function _recordedModel(bytes32 modelId, uint256[] calldata pubSignals) internal view returns (Model memory m) {
        (bytes32 statementId, bytes32 outputsHash) = statementIdOf(modelId, pubSignals);
        // INVARIANT: views decode only settled statements with these outputs, never arbitrary caller data.
        if (!outputsMatch(statementId, outputsHash)) revert InferenceNotRecorded(statementId);
        m = _models[modelId];
    }

    /// @dev lane j of element e is value[e·L + j] - lo, at bit offset laneBits·j.
    function _unpack(uint256[] calldata signals, uint256 offset, PackLayout memory packing)
        internal
        pure
        returns (int256[] memory values)
    {
        values = new int256[](packing.count);
        uint256 mask = (uint256(1) << packing.laneBits) - 1;
        for (uint256 i = 0; i < packing.count; i++) {
            uint256 element = signals[offset + i / packing.lanesPerElement];
            uint256 lane = (element >> (uint256(packing.laneBits) * (i % packing.lanesPerElement))) & mask;
            // lane < 2^252 fits int256, and registration bounded lo + lane below int256 max.
            values[i] = packing.lo + int256(lane);
        }
    }

}
