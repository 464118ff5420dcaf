// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IVerimlRegistryTypes
/// @notice The registry's types, events and errors: what a consumer or an indexer decodes,
///         apart from the logic (VerimlRegistry.sol) that uses them.
interface IVerimlRegistryTypes {
    /// @notice How a tensor appears among the public signals.
    enum Visibility {
        Private,
        Public,
        Hashed
    }

    /// @notice Packing of a public tensor; mirrors `PackLayout` in src/circuit/packing.ts.
    struct PackLayout {
        uint32 count;
        uint16 laneBits;
        uint16 lanesPerElement;
        int256 lo;
    }

    /// @notice What the owner supplies to register a model.
    /// @dev Layouts of parts that are not `Public` must be all zero. `weightCommitment` 0:
    ///      the weights are circuit constants (the verification key pins them); otherwise they
    ///      are private and every proof's last signal must equal it (a Poseidon hash is 0 with
    ///      negligible probability, so 0 is free to mean "none").
    struct ModelConfig {
        address verifier;
        Visibility inputVisibility;
        Visibility outputVisibility;
        PackLayout inputLayout;
        PackLayout outputLayout;
        uint256 weightCommitment;
    }

    /// @notice A registered model. Fits one storage slot: it is read on every verification.
    struct Model {
        address verifier;
        bytes4 selector;
        uint16 publicSignalCount;
        uint16 inputSignalCount;
        Visibility inputVisibility;
        Visibility outputVisibility;
        bool hashedWeights;
    }

    /// @notice How a statement (model, input commitment) was settled. A proof and an on-chain
    ///         run are final; a finalised optimistic claim yields to a proof.
    enum Settlement {
        None,
        Proof,
        Optimistic,
        OnChain
    }

    /// @notice `modelId` is bound to `verifier`, for good.
    /// @param modelId The model.
    /// @param verifier Its Groth16 verifier.
    /// @param publicSignalCount The signals every proof of the model carries.
    /// @param inputVisibility How the input appears among them.
    /// @param outputVisibility How the output appears among them.
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed verifier,
        uint16 publicSignalCount,
        Visibility inputVisibility,
        Visibility outputVisibility
    );
    /// @notice A settler (an optimistic game, an on-chain model) recorded a result.
    /// @param statementId keccak256(modelId ‖ inputCommitment).
    /// @param modelId The model.
    /// @param inputCommitment keccak256 of the packed input words.
    /// @param how Optimistic or OnChain.
    /// @param outputsHash keccak256 of the packed output words (in full).
    event ResultRecorded(
        bytes32 indexed statementId, bytes32 indexed modelId, bytes32 inputCommitment, Settlement how, bytes32 outputsHash
    );
    /// @notice `settler` may record results of `modelId` as `how`, for good.
    /// @param modelId The model.
    /// @param settler The game or on-chain model.
    /// @param how Optimistic or OnChain.
    event SettlerBound(bytes32 indexed modelId, address indexed settler, Settlement how);


    /// @notice registerModel with the zero model id, which is reserved.
    error ZeroModelId();
    /// @notice The model id is already bound; bindings are final.
    /// @param modelId The model.
    /// @param verifier The verifier it is bound to.
    error ModelAlreadyRegistered(bytes32 modelId, address verifier);
    /// @notice The verifier address holds no code.
    /// @param verifier The address given.
    error VerifierHasNoCode(address verifier);
    /// @notice The output is private: a proof would show nothing a consumer could use.
    error OutputNotExposed();
    /// @notice A layout was given for a part that is not `Public` (it must be all zero).
    /// @param isInput Whether the input part (else the output part).
    /// @param visibility The part's visibility.
    error LayoutForUnpackedPart(bool isInput, Visibility visibility);
    /// @notice A public part's layout has no values, zero-bit lanes or no lanes per element.
    /// @param isInput Whether the input part (else the output part).
    /// @param count The layout's value count.
    /// @param laneBits Its lane width.
    /// @param lanesPerElement Its lanes per element.
    error EmptyLayout(bool isInput, uint32 count, uint16 laneBits, uint16 lanesPerElement);
    /// @notice A packed element would take more than PACK_BITS bits and could wrap the field.
    /// @param isInput Whether the input part (else the output part).
    /// @param elementBits laneBits · lanesPerElement.
    /// @param maxBits PACK_BITS.
    error ElementTooWide(bool isInput, uint256 elementBits, uint256 maxBits);
    /// @notice lo + (2^laneBits - 1) exceeds int256: the largest lane would not decode.
    /// @param isInput Whether the input part (else the output part).
    /// @param lo The layout's lowest value.
    /// @param laneBits Its lane width.
    error LaneRangeOverflow(bool isInput, int256 lo, uint16 laneBits);
    /// @notice The layouts (and weight commitment) imply more signals than a uint16 counts.
    /// @param count The implied count.
    error TooManyPublicSignals(uint256 count);
    /// @notice The verifier does not answer verifyProof with this many signals as expected.
    /// @param verifier The verifier.
    /// @param publicSignalCount The count the configuration implies.
    error VerifierProbeFailed(address verifier, uint256 publicSignalCount);
    /// @notice No model has this id.
    /// @param modelId The id.
    error ModelNotRegistered(bytes32 modelId);
    /// @notice The proof carries another number of signals than the model's.
    /// @param modelId The model.
    /// @param expected The model's count.
    /// @param actual The proof's count.
    error PublicSignalCountMismatch(bytes32 modelId, uint256 expected, uint256 actual);
    /// @notice A signal is not a canonical field element (not below SNARK_SCALAR_FIELD).
    /// @param index Its position.
    /// @param value The signal.
    error SignalNotInField(uint256 index, uint256 value);
    /// @notice The verifier answered `false` with its full gas budget: the proof is invalid.
    /// @param modelId The model.
    error ProofRejected(bytes32 modelId);
    /// @notice The verifier answered `false` with less than its full budget: retry with more gas.
    /// @param modelId The model.
    error VerifierOutOfGas(bytes32 modelId);
    /// @notice The verifier reverted or answered something other than one word.
    /// @param modelId The model.
    /// @param verifier The verifier.
    error VerifierCallFailed(bytes32 modelId, address verifier);
    /// @notice This statement is already recorded (by a proof or an on-chain run, same outputs).
    /// @param inferenceId Its id (the statement id).
    error InferenceAlreadyRecorded(bytes32 inferenceId);
    /// @notice A proof or an on-chain run of a statement gives other outputs than the proof or
    ///         run already recorded: one of the two paths is unsound; the record stands.
    /// @param statementId The statement.
    error ConflictingProof(bytes32 statementId);
    /// @notice record() from an account not bound to the model (bindSettler).
    /// @param modelId The model.
    /// @param caller msg.sender.
    error NotSettler(bytes32 modelId, address caller);
    /// @notice bindSettler with how None or Proof (proofs go through verifyInference), or a
    ///         second game for a model (one game per model: one live claim per statement).
    /// @param modelId The model.
    /// @param settler The settler.
    /// @param how The settlement asked.
    error InvalidSettler(bytes32 modelId, address settler, Settlement how);
    /// @notice No verified inference has this id.
    /// @param inferenceId The id.
    error InferenceNotRecorded(bytes32 inferenceId);
    /// @notice The part is hashed or private: it has no lanes to decode.
    /// @param modelId The model.
    /// @param isInput Whether the input part (else the output part).
    error PartNotPublic(bytes32 modelId, bool isInput);
    /// @notice A private-weights proof commits to other weights than the registered ones.
    /// @param modelId The model.
    /// @param expected The registered commitment.
    /// @param actual The proof's last signal.
    error WeightCommitmentMismatch(bytes32 modelId, uint256 expected, uint256 actual);
}

/// @title IVerimlVerify
/// @notice VerimlRegistry's verifyInference, which the registry implements in its fallback (a
///         cheaper entry than a Solidity function, see VerimlRegistry): call it through this.
interface IVerimlVerify {
    /// @notice Verifies a Groth16 proof of an inference of `modelId` and records it.
    /// @param modelId The model.
    /// @param a The proof's A point.
    /// @param b The proof's B point (snarkjs order: each coordinate's c1 before c0).
    /// @param c The proof's C point.
    /// @param pubSignals The public signals, input part, output part, then the weight commitment.
    /// @return inferenceId The statement id keccak256(modelId ‖ inputCommitment) (VerimlRegistry.statementIdOf).
    function verifyInference(
        bytes32 modelId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata pubSignals
    ) external returns (bytes32 inferenceId);
}
