// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVerimlRegistryTypes} from "./IVerimlRegistryTypes.sol";
import {Owned} from "./Owned.sol";

/// @title VerimlRegistry
/// @notice Binds veriml model ids to their Groth16 verifiers and records verified inferences.
///
/// A model id is an opaque hash of the model's integer IR. Nothing on chain can check that a
/// verifier belongs to a model id (the link model → circuit → verification key is made off
/// chain), so a binding is a claim somebody vouches for. Registration is therefore restricted
/// to the registry owner: a permissionless first-come registry would let anyone front-run a
/// popular model id with an always-true verifier. A binding is final once written — not even
/// the owner can swap a verifier under consumers that already rely on it. Anyone who does not
/// trust an owner deploys their own registry; it is one contract for any number of models.
///
/// Public signals are laid out input part first, then output part:
///   input  public → packed input elements; hashed → 1 Poseidon hash; private → nothing
///   output public → packed output elements; hashed → 1 Poseidon hash
///   then, for a model compiled with private weights (`--weights hashed`), 1 Poseidon
///   commitment to the weights, which must equal the one registered (src/circuit/weights.ts)
/// A packed element holds `lanesPerElement` lanes of `laneBits` bits, lane j at bit
/// offset laneBits·j, each lane = value - lo (see src/circuit/packing.ts).
///
/// Verifiers are called with a low-level staticcall and a selector derived from the signal
/// count at registration, rather than through per-model adapter contracts: snarkjs's
/// `verifyProof(uint[2],uint[2][2],uint[2],uint[N])` takes only static arguments, so its
/// calldata is the plain concatenation of the words and one registry serves every N with no
/// extra deployment, no extra call frame and no generated Solidity besides the verifier.
contract VerimlRegistry is Owned, IVerimlRegistryTypes {
    /// @notice BN254 scalar field order: public signals are field elements below it.
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice Bits usable in one packed element (< log2 of the field order, so no wrap).
    uint256 public constant PACK_BITS = 252;

    /// @notice Gas given to the arity probe at registration: enough for snarkjs's ABI decoding
    ///         and field checks, too little for its precompile calls, which then make it
    ///         return false (what the probe expects) without paying for a pairing.
    uint256 internal constant PROBE_GAS = 60_000;

    /// @notice Gas a snarkjs Groth16 verification can need at most, per the formula
    ///         VERIFY_GAS_BASE + VERIFY_GAS_PER_SIGNAL · N: one ecMul + ecAdd per signal and a
    ///         4-pair ecPairing (45k + 4·34k) plus decoding, with head room. Measured use is
    ///         about 186k + 6.8k·N of execution (207k + 6.8k·N per transaction).
    uint256 public constant VERIFY_GAS_BASE = 260_000;
    /// @notice Gas per public signal a verification can need at most (see VERIFY_GAS_BASE).
    uint256 public constant VERIFY_GAS_PER_SIGNAL = 10_000;

    mapping(bytes32 modelId => Model) internal _models;
    mapping(bytes32 modelId => PackLayout) internal _inputLayouts;
    mapping(bytes32 modelId => PackLayout) internal _outputLayouts;
    mapping(bytes32 modelId => uint256) internal _weightCommitments;
    mapping(bytes32 inferenceId => Inference) internal _inferences;

    /// @param initialOwner The account that vouches for model registrations.
    constructor(address initialOwner) Owned(initialOwner) {}

    /// @notice Binds `modelId` to a snarkjs Groth16 verifier and the model's signal packing. Final.
    /// @dev INVARIANT: only the owner vouches for a model id ↔ verifier binding (onlyOwner).
    /// @param modelId The model's id (hash of its integer IR); not zero.
    /// @param config The verifier, visibilities, packings and weight commitment.
    /// @return publicSignalCount The number of public signals every proof of the model carries.
    function registerModel(bytes32 modelId, ModelConfig calldata config)
        external
        onlyOwner
        returns (uint16 publicSignalCount)
    {
        // INVARIANT: the zero id is reserved, so a zeroed storage read never names a model.
        if (modelId == bytes32(0)) revert ZeroModelId();
        // INVARIANT: a binding is final; consumers rely on it not changing.
        address existing = _models[modelId].verifier;
        if (existing != address(0)) revert ModelAlreadyRegistered(modelId, existing);
        // INVARIANT: a verifier is contract code; a call to an empty account "succeeds".
        if (config.verifier.code.length == 0) revert VerifierHasNoCode(config.verifier);
        // INVARIANT: an inference exposes its output (packed or hashed), or it proves nothing usable.
        if (config.outputVisibility == Visibility.Private) revert OutputNotExposed();

        uint256 inputCount = _partSignalCount(config.inputVisibility, config.inputLayout, true);
        bool hashedWeights = config.weightCommitment != 0;
        uint256 total = inputCount + _partSignalCount(config.outputVisibility, config.outputLayout, false) + (hashedWeights ? 1 : 0);
        // INVARIANT: the count fits the packed Model slot.
        if (total > type(uint16).max) revert TooManyPublicSignals(total);
        publicSignalCount = uint16(total);

        bytes4 selector = _verifyProofSelector(total);
        _probeVerifier(config.verifier, selector, total);

        _models[modelId] = Model({
            verifier: config.verifier,
            selector: selector,
            publicSignalCount: publicSignalCount,
            inputSignalCount: uint16(inputCount),
            inputVisibility: config.inputVisibility,
            outputVisibility: config.outputVisibility,
            hashedWeights: hashedWeights
        });
        _inputLayouts[modelId] = config.inputLayout;
        _outputLayouts[modelId] = config.outputLayout;
        if (hashedWeights) _weightCommitments[modelId] = config.weightCommitment;
        emit ModelRegistered(modelId, config.verifier, publicSignalCount, config.inputVisibility, config.outputVisibility);
    }

    /// @notice Verifies a Groth16 proof of an inference of `modelId` and records it.
    /// @dev Reverts instead of returning false, so that eth_estimateGas finds the real cost:
    ///      snarkjs's verifier answers `false` when short of gas, which a binary search would
    ///      otherwise accept as success at a fraction of the gas needed.
    /// @param modelId The model.
    /// @param a The proof's A point.
    /// @param b The proof's B point (snarkjs order: each coordinate's c1 before c0).
    /// @param c The proof's C point.
    /// @param pubSignals The public signals, input part, output part, then the weight commitment.
    /// @return inferenceId keccak256(modelId ‖ pubSignals), the statement that was proven.
    function verifyInference(
        bytes32 modelId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata pubSignals
    ) external returns (bytes32 inferenceId) {
        inferenceId = _verified(modelId, a, b, c, pubSignals);
        // INVARIANT: a statement is recorded once; a replay adds nothing and is refused.
        if (_inferences[inferenceId].submitter != address(0)) revert InferenceAlreadyRecorded(inferenceId);
        // msg.sender is never the zero address, so a record is never mistaken for "absent".
        _inferences[inferenceId] = Inference({submitter: msg.sender, blockNumber: uint64(block.number)});
        emit InferenceVerified(inferenceId, modelId, msg.sender, pubSignals);
    }

    /// @notice Verifies an inference WITHOUT recording it, and decodes its public output: for a
    ///         consumer that acts on the inference in the same transaction. It costs the
    ///         verification alone: no storage write (about 22k gas less than verifyInference).
    /// @param modelId The model.
    /// @param a The proof's A point.
    /// @param b The proof's B point (snarkjs order: each coordinate's c1 before c0).
    /// @param c The proof's C point.
    /// @param pubSignals The public signals, input part, output part, then the weight commitment.
    /// @return inferenceId The id verifyInference would record.
    /// @return outputs The decoded output values (empty when the output is hashed).
    function checkInference(
        bytes32 modelId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata pubSignals
    ) external view returns (bytes32 inferenceId, int256[] memory outputs) {
        inferenceId = _verified(modelId, a, b, c, pubSignals);
        Model memory m = _models[modelId];
        if (m.outputVisibility == Visibility.Public) outputs = _unpack(pubSignals, m.inputSignalCount, _outputLayouts[modelId]);
    }

    /// @dev The checks both entry points share; returns only for a valid proof of this model.
    function _verified(
        bytes32 modelId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata pubSignals
    ) internal view returns (bytes32 inferenceId) {
        Model memory m = _models[modelId];
        // INVARIANT: only registered models have a verifier to trust.
        if (m.verifier == address(0)) revert ModelNotRegistered(modelId);
        // INVARIANT: a proof carries exactly the model's signals; another count is another model.
        if (pubSignals.length != m.publicSignalCount) {
            revert PublicSignalCountMismatch(modelId, m.publicSignalCount, pubSignals.length);
        }
        for (uint256 i = 0; i < pubSignals.length; i++) {
            // INVARIANT: signals are canonical field elements, so v and v + r (the same field
            // element to the pairing) cannot record the same statement under two ids.
            if (pubSignals[i] >= SNARK_SCALAR_FIELD) revert SignalNotInField(i, pubSignals[i]);
        }
        if (m.hashedWeights) {
            // INVARIANT: private weights are the registered ones. The verifier accepts any
            // commitment signal (it is a public input like the others), so without this
            // check a proof made with other weights would verify.
            uint256 expected = _weightCommitments[modelId];
            uint256 actual = pubSignals[pubSignals.length - 1];
            if (actual != expected) revert WeightCommitmentMismatch(modelId, expected, actual);
        }
        // The id is keyed on the statement, not the proof bytes: Groth16 proofs are malleable
        // (anyone can re-randomise one), so a proof-keyed id would not stop a replay.
        inferenceId = keccak256(abi.encodePacked(modelId, pubSignals));
        _callVerifier(modelId, m, abi.encodeWithSelector(m.selector, a, b, c), pubSignals);
    }

    /// @notice The recorded inference `inferenceId` (all zero when absent).
    /// @param inferenceId The id.
    /// @return The record: submitter and block.
    function inference(bytes32 inferenceId) external view returns (Inference memory) {
        return _inferences[inferenceId];
    }

    /// @notice Whether `inferenceId` has been verified and recorded.
    /// @param inferenceId The id.
    /// @return Whether it is recorded.
    function isRecorded(bytes32 inferenceId) public view returns (bool) {
        return _inferences[inferenceId].submitter != address(0);
    }

    /// @notice The id `verifyInference` records for these signals.
    /// @param modelId The model.
    /// @param pubSignals The public signals.
    /// @return keccak256(modelId ‖ pubSignals).
    function inferenceIdOf(bytes32 modelId, uint256[] calldata pubSignals) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(modelId, pubSignals));
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
    /// @dev Takes the signals (from calldata or the InferenceVerified log) instead of storing
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
        bytes32 inferenceId = inferenceIdOf(modelId, pubSignals);
        // INVARIANT: views decode only verified statements, never arbitrary caller data.
        if (!isRecorded(inferenceId)) revert InferenceNotRecorded(inferenceId);
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

    function _partSignalCount(Visibility visibility, PackLayout calldata packing, bool isInput)
        internal
        pure
        returns (uint256)
    {
        if (visibility != Visibility.Public) {
            // INVARIANT: a stored layout always describes signals that are on chain.
            if (packing.count != 0 || packing.laneBits != 0 || packing.lanesPerElement != 0 || packing.lo != 0) {
                revert LayoutForUnpackedPart(isInput, visibility);
            }
            return visibility == Visibility.Hashed ? 1 : 0;
        }
        // INVARIANT: a public part has values and every lane has bits, so decoding is defined.
        if (packing.count == 0 || packing.laneBits == 0 || packing.lanesPerElement == 0) {
            revert EmptyLayout(isInput, packing.count, packing.laneBits, packing.lanesPerElement);
        }
        // INVARIANT: an element never exceeds PACK_BITS, so it never wraps the field and decoding is unique.
        uint256 elementBits = uint256(packing.laneBits) * packing.lanesPerElement;
        if (elementBits > PACK_BITS) revert ElementTooWide(isInput, elementBits, PACK_BITS);
        // INVARIANT: lo + (2^laneBits - 1) fits int256, so decoding never overflows.
        if (packing.lo > type(int256).max - int256((uint256(1) << packing.laneBits) - 1)) {
            revert LaneRangeOverflow(isInput, packing.lo, packing.laneBits);
        }
        return (uint256(packing.count) + packing.lanesPerElement - 1) / packing.lanesPerElement;
    }

    /// @dev Calls the verifier; returns only when it answered exactly `true`.
    function _callVerifier(bytes32 modelId, Model memory m, bytes memory head, uint256[] calldata pubSignals) internal view {
        // verifyProof's arguments are all static, so its calldata is the selector, the proof
        // words, then each signal as one word (encodePacked pads array items to 32 bytes).
        bytes memory callData = bytes.concat(head, abi.encodePacked(pubSignals));
        // By the 63/64 rule the verifier gets at most this much gas.
        uint256 available = gasleft() - gasleft() / 64;
        (bool success, bytes memory ret) = m.verifier.staticcall(callData);
        if (success && ret.length == 32 && abi.decode(ret, (uint256)) == 1) return;
        // snarkjs answers `false` both for a bad proof and when a precompile call runs out of
        // gas. The gas left afterwards cannot tell them apart (a precompile given an off-curve
        // point also burns all its gas), so the gas given beforehand decides: with the full
        // budget a `false` is a rejection; below it, the caller must retry with more gas.
        // INVARIANT: a verification that may have been starved is never reported as a rejected proof.
        if (available < VERIFY_GAS_BASE + VERIFY_GAS_PER_SIGNAL * pubSignals.length) revert VerifierOutOfGas(modelId);
        // INVARIANT: a verifier that reverts or answers malformed data accepts nothing.
        if (!success || ret.length != 32) revert VerifierCallFailed(modelId, m.verifier);
        // INVARIANT: `false` from the verifier never records anything.
        revert ProofRejected(modelId);
    }

    /// @dev Checks at registration that the verifier answers verifyProof with `count` signals.
    function _probeVerifier(address verifier, bytes4 selector, uint256 count) internal view {
        // An all-zero proof: a verifier with another arity has no such function and reverts.
        bytes memory callData = bytes.concat(selector, new bytes(32 * (8 + count)));
        (bool success, bytes memory ret) = verifier.staticcall{gas: PROBE_GAS}(callData);
        // INVARIANT: the verifier takes exactly `count` signals and answers one word that is not `true`.
        if (!success || ret.length != 32 || abi.decode(ret, (uint256)) == 1) {
            revert VerifierProbeFailed(verifier, count);
        }
    }

    /// @dev selector of snarkjs's `verifyProof(uint[2],uint[2][2],uint[2],uint[count])`.
    function _verifyProofSelector(uint256 count) internal pure returns (bytes4) {
        return bytes4(
            keccak256(
                abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", _decimal(count), "])")
            )
        );
    }

    function _decimal(uint256 value) internal pure returns (bytes memory out) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) digits++;
        out = new bytes(digits);
        for (uint256 v = value; v != 0; v /= 10) out[--digits] = bytes1(uint8(48 + (v % 10)));
    }
}
