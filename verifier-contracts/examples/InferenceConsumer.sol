// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVerimlRegistryTypes} from "../IVerimlRegistryTypes.sol";
import {VerimlRegistry} from "../VerimlRegistry.sol";

/// @title InferenceConsumer
/// @notice Example consumer: stores the argmax class of a classifier's settled output, per
///         input. It never verifies anything itself; it acts only on statements the registry
///         recorded with these outputs, for the one model it was deployed for, whichever path
///         settled them (a proof, a finalised optimistic claim, an on-chain run: the registry's
///         one result record; a consumer wanting proofs only checks resultOf's `how`).
/// @dev A consumer pins its model id: the registry serves many models, and an inference of
///      another model would be verified just as well.
contract InferenceConsumer {
    /// @notice The registry whose recorded inferences this consumer acts on.
    VerimlRegistry public immutable registry;
    /// @notice The one model whose inferences this consumer accepts.
    bytes32 public immutable modelId;

    /// @dev class index + 1, so that 0 means "no verified inference for this input yet".
    mapping(bytes32 inputKey => uint256 classPlusOne) internal _classOf;

    /// @notice A verified inference classified an input.
    /// @param inputKey keccak256 of the inference's input part (packed input or its Poseidon hash).
    /// @param inferenceId The registry's id of the inference.
    /// @param classIndex The argmax of its output.
    /// @param score The output value at classIndex.
    event Classified(bytes32 indexed inputKey, bytes32 indexed inferenceId, uint256 classIndex, int256 score);

    /// @notice The model is unregistered, has a private input or a non-public output.
    /// @param modelId The model.
    error ModelNotUsable(bytes32 modelId);
    /// @notice The registry has not recorded this inference.
    /// @param inferenceId Its id.
    error InferenceNotVerified(bytes32 inferenceId);
    /// @notice Two verified inferences of one input disagree: the circuit is unsound.
    /// @param inputKey The input.
    /// @param recorded The class stored before.
    /// @param claimed The class of this inference.
    error ConflictingClass(bytes32 inputKey, uint256 recorded, uint256 claimed);

    /// @param registry_ The registry.
    /// @param modelId_ A registered model with a bound (public or hashed) input and a public output.
    constructor(VerimlRegistry registry_, bytes32 modelId_) {
        IVerimlRegistryTypes.Model memory m = registry_.model(modelId_);
        // INVARIANT: the model is registered, its input is bound by the proof (a class is stored
        // per input), and its output is packed (an argmax needs the values, not a hash).
        if (
            m.verifier == address(0) || m.inputVisibility == IVerimlRegistryTypes.Visibility.Private
                || m.outputVisibility != IVerimlRegistryTypes.Visibility.Public
        ) revert ModelNotUsable(modelId_);
        registry = registry_;
        modelId = modelId_;
    }

    /// @notice Stores the argmax class of a recorded inference of this consumer's model.
    /// @param pubSignals The inference's public signals (from the call, or the calldata of the transaction that verified it).
    /// @return classIndex The argmax of its output (first maximum wins).
    function consume(uint256[] calldata pubSignals) external returns (uint256 classIndex) {
        (bytes32 inferenceId, bytes32 outputsHash) = registry.statementIdOf(modelId, pubSignals);
        // INVARIANT: act only on an inference the registry recorded for this model, with these outputs.
        if (!registry.outputsMatch(inferenceId, outputsHash)) revert InferenceNotVerified(inferenceId);

        (uint256[] memory inputPart,) = registry.splitSignals(modelId, pubSignals);
        bytes32 inputKey = keccak256(abi.encodePacked(inputPart));
        int256[] memory scores = registry.decodeOutputs(modelId, pubSignals);

        // First maximum wins, as numpy's argmax.
        int256 best = scores[0];
        for (uint256 i = 1; i < scores.length; i++) {
            if (scores[i] > best) {
                best = scores[i];
                classIndex = i;
            }
        }

        uint256 recorded = _classOf[inputKey];
        // INVARIANT: the model is deterministic, so two verified inferences of one input agree;
        // a disagreement means an unsound circuit and must not silently overwrite.
        if (recorded != 0 && recorded != classIndex + 1) revert ConflictingClass(inputKey, recorded - 1, classIndex);
        _classOf[inputKey] = classIndex + 1;
        emit Classified(inputKey, inferenceId, classIndex, best);
    }

    /// @notice The verified class of an input, if any.
    /// @param inputKey keccak256 of the input part.
    /// @return known Whether a verified inference classified it.
    /// @return classIndex Its class (0 when unknown).
    function classOf(bytes32 inputKey) external view returns (bool known, uint256 classIndex) {
        uint256 stored = _classOf[inputKey];
        return stored == 0 ? (false, 0) : (true, stored - 1);
    }
}
