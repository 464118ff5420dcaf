// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVerimlVerify} from "./IVerimlRegistryTypes.sol";
import {Owned} from "./Owned.sol";
import {VerimlModels} from "./VerimlModels.sol";

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
///
/// verifyInference is the fallback (declared in IVerimlVerify), written to fit verify + record
/// in 250k gas for a 2-signal model: see the fallback (it records without an event).
///
/// The registry is also the hub of every settlement path (issue 17): VerimlResults holds the
/// one result record per statement, VerimlModels the registered models and their decoders.
contract VerimlRegistry is VerimlModels {
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

    /// @notice verifyInference(bytes32 modelId, uint256[2] a, uint256[2][2] b, uint256[2] c,
    ///         uint256[] pubSignals) returns (bytes32 inferenceId): verifies a Groth16 proof of an
    ///         inference of `modelId` and records it. Declared in IVerimlVerify (call it through
    ///         that interface); a is the proof's A point, b its B point (snarkjs order: each
    ///         coordinate's c1 before c0), c its C point, pubSignals the input part, output part,
    ///         then the weight commitment; inferenceId = the statement id (statementIdOf).
    ///         A finalised optimistic result of the statement is overwritten (a proof stands);
    ///         a proof or on-chain result is not: same outputs → InferenceAlreadyRecorded,
    ///         other outputs → ConflictingProof.
    /// @dev Reverts instead of returning false, so that eth_estimateGas finds the real cost:
    ///      snarkjs's verifier answers `false` when short of gas, which a binary search would
    ///      otherwise accept as success at a fraction of the gas needed.
    ///      Why a fallback and not a function: this is the hot path, and Solidity's dispatcher
    ///      and ABI decoder cost ~750 gas of it; the budget (verify + record ≤ 250k, of which
    ///      ~247k are transaction, calldata, precompiles and the storage) has no room for them.
    ///      The decoding below does what Solidity's does for this signature: any other selector
    ///      reverts, value reverts (non-payable), a head or an array that does not fit the
    ///      calldata reverts, trailing calldata is ignored.
    fallback() external {
        bytes4 selector = IVerimlVerify.verifyInference.selector;
        bytes32 modelId;
        uint256[2] calldata a;
        uint256[] calldata pubSignals;
        assembly {
            // Head: selector, modelId, a (2 words), b (4), c (2), offset of pubSignals = 0x144 bytes.
            if or(iszero(eq(shr(224, calldataload(0)), shr(224, selector))), lt(calldatasize(), 0x144)) {
                revert(0, 0)
            }
            modelId := calldataload(0x04)
            a := 0x24
            let offset := calldataload(0x124)
            let length := calldataload(add(offset, 0x04))
            // offset and length below 2^64 (so no sum wraps), items within the calldata.
            if or(or(gt(offset, 0xffffffffffffffff), gt(length, 0xffffffffffffffff)),
                  gt(add(add(offset, 0x24), shl(5, length)), calldatasize())) { revert(0, 0) }
            pubSignals.offset := add(offset, 0x24)
            pubSignals.length := length
        }
        (bytes32 statementId, bytes32 outputsHash) = _verified(modelId, a, pubSignals);
        bytes4 replayed = InferenceAlreadyRecorded.selector;
        bytes4 conflicting = ConflictingProof.selector;
        assembly {
            // _results[statementId]: keccak256(statementId ‖ slot of the mapping).
            mstore(0x00, statementId)
            mstore(0x20, _results.slot)
            let slot := keccak256(0x00, 0x40)
            let hash := and(outputsHash, not(META_MASK))
            let old := sload(slot)
            // INVARIANT: a proof stands. It overwrites nothing but a finalised optimistic claim
            // (how = 2): a replay of a proven (or run) statement adds nothing and is refused, and
            // other outputs for it mean an unsound path: the first record stays.
            if and(iszero(iszero(old)), iszero(eq(and(shr(40, old), 0xff), 2))) {
                mstore(0x00, replayed)
                if xor(and(old, not(META_MASK)), hash) { mstore(0x00, conflicting) }
                mstore(0x04, statementId)
                revert(0x00, 0x24)
            }
            // The result word: outputs hash (top 208 bits) ‖ how = Proof (1) ‖ at. A timestamp
            // is never 0, so a record is never mistaken for "absent".
            sstore(slot, or(hash, or(shl(40, 1), and(timestamp(), 0xffffffffff))))
            // No event: the statement is in the transaction's calldata (modelId, pubSignals) and
            // its record in storage (resultOf). A bare anonymous log cost 375 gas and told an
            // indexer nothing the receipt's status does not; a named one ~2.9k. The budget (verify
            // + record ≤ 250k for 2 signals: ~247.2k of it transaction, calldata, precompiles,
            // the record's storage word and the cold verifier) has room for neither.
            mstore(0x00, statementId)
            return(0x00, 0x20)
        }
    }

    /// @notice Verifies an inference WITHOUT recording it, and decodes its public output: for a
    ///         consumer that acts on the inference in the same transaction. It costs the
    ///         verification alone: no storage write (about 22k gas less than verifyInference).
    /// @param modelId The model.
    /// @param a The proof's A point.
    /// @param b The proof's B point (snarkjs order: each coordinate's c1 before c0).
    /// @param c The proof's C point.
    /// @param pubSignals The public signals, input part, output part, then the weight commitment.
    /// @return inferenceId The statement id verifyInference would record under.
    /// @return outputs The decoded output values (empty when the output is hashed).
    function checkInference(
        bytes32 modelId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata pubSignals
    ) external view returns (bytes32 inferenceId, int256[] memory outputs) {
        (b, c); // They follow a in calldata, where _verified reads them.
        (inferenceId,) = _verified(modelId, a, pubSignals);
        Model memory m = _models[modelId];
        if (m.outputVisibility == Visibility.Public) outputs = _unpack(pubSignals, m.inputSignalCount, _outputLayouts[modelId]);
    }

    /// @dev The checks both entry points share; returns only for a valid proof of this model,
    ///      with its statement id and outputs hash (see the contract's notes).
    ///      b and c are not parameters: a, b and c are static arguments, 8 consecutive words
    ///      of calldata from a, copied as one block.
    ///      Every check before the call is folded into one flag (one branch on the hot path);
    ///      when it is set, _refused names the first failed check in the order they are listed.
    function _verified(bytes32 modelId, uint256[2] calldata a, uint256[] calldata pubSignals)
        internal
        view
        returns (bytes32 statementId, bytes32 outputsHash)
    {
        uint256 word;
        // Nonzero when a check failed (a word, not a bool: the checks OR raw values into it).
        uint256 refused;
        uint256 available;
        bool answered;
        bool accepted;
        assembly {
            // One read of the packed Model slot (Solidity would read it once per field).
            mstore(0x00, modelId)
            mstore(0x20, _models.slot)
            word := sload(keccak256(0x00, 0x40))
            let count := and(shr(192, word), 0xffff)
            let size := shl(5, count)
            // INVARIANT: only registered models have a verifier to trust.
            refused := iszero(and(word, 0xffffffffffffffffffffffffffffffffffffffff))
            // INVARIANT: a proof carries exactly the model's signals; another count is another model.
            refused := or(refused, xor(pubSignals.length, count))
            // INVARIANT: signals are canonical field elements, so v and v + r (the same field
            // element to the pairing) cannot record the same statement under two ids.
            let end := add(pubSignals.offset, shl(5, pubSignals.length))
            for { let i := pubSignals.offset } lt(i, end) { i := add(i, 0x20) } {
                refused := or(refused, iszero(lt(calldataload(i), SNARK_SCALAR_FIELD)))
            }
            // INVARIANT: private weights are the registered ones. The verifier accepts any
            // commitment signal (it is a public input like the others), so without this check
            // a proof made with other weights would verify. (Read only for such models.)
            if and(shr(240, word), 0xff) {
                mstore(0x20, _weightCommitments.slot)
                let last := calldataload(sub(end, 0x20))
                refused := or(refused, xor(sload(keccak256(0x00, 0x40)), last))
            }
            // Memory from 0x80: selector ‖ a ‖ b ‖ c ‖ signals is the verifier's calldata
            // (verifyProof's arguments are all static: the plain concatenation of the words).
            // The signals are copied first and hashed in place. Fixed addresses, no
            // allocation: nothing here outlives the call. The id is keyed on the statement,
            // not the proof bytes: Groth16 proofs are malleable (anyone can re-randomise one),
            // so a proof-keyed id would not stop a replay.
            if iszero(refused) {
                calldatacopy(0x184, pubSignals.offset, size)
                let inputSize := shl(5, and(shr(208, word), 0xffff))
                // A private input has no input part: the whole signal vector is the statement.
                let committed := inputSize
                if iszero(inputSize) { committed := size }
                mstore(0x00, modelId)
                mstore(0x20, keccak256(0x184, committed))
                statementId := keccak256(0x00, 0x40)
                // The output part: after the input part, before the weight commitment if any.
                let outputEnd := sub(size, shl(5, iszero(iszero(and(shr(240, word), 0xff)))))
                outputsHash := keccak256(add(0x184, inputSize), sub(outputEnd, inputSize))
                // The selector (bits 160..191 of the slot) in the first 4 bytes, then a, b, c.
                mstore(0x80, shl(224, shr(160, word)))
                calldatacopy(0x84, a, 0x100)
                // By the 63/64 rule the verifier gets at most this much gas.
                available := sub(gas(), div(gas(), 64))
                // Answered: returned exactly one word without reverting; accepted: it is 1.
                // (Yul evaluates arguments right to left: the call is a statement of its own.)
                let called := staticcall(gas(), word, 0x80, add(size, 0x104), 0x00, 0x20)
                answered := and(called, eq(returndatasize(), 0x20))
                accepted := and(answered, eq(mload(0x00), 1))
            }
        }
        if (refused != 0) _refused(modelId, word, pubSignals);
        if (!accepted) _rejected(modelId, address(uint160(word)), available, uint16(word >> 192), answered);
    }

    /// @dev Names the first check _verified failed, in its order. Always reverts.
    function _refused(bytes32 modelId, uint256 word, uint256[] calldata pubSignals) internal view {
        if (uint160(word) == 0) revert ModelNotRegistered(modelId);
        uint256 count = uint16(word >> 192);
        if (pubSignals.length != count) revert PublicSignalCountMismatch(modelId, count, pubSignals.length);
        for (uint256 i = 0; i < pubSignals.length; i++) {
            if (pubSignals[i] >= SNARK_SCALAR_FIELD) revert SignalNotInField(i, pubSignals[i]);
        }
        uint256 expected = _weightCommitments[modelId];
        uint256 actual = pubSignals[pubSignals.length - 1];
        revert WeightCommitmentMismatch(modelId, expected, actual);
    }

    /// @dev Names why the verifier did not answer exactly `true` (`answered`: it returned one
    ///      word, without reverting). Always reverts.
    function _rejected(bytes32 modelId, address verifier, uint256 available, uint256 count, bool answered)
        internal
        pure
    {
        // snarkjs answers `false` both for a bad proof and when a precompile call runs out of
        // gas. The gas left afterwards cannot tell them apart (a precompile given an off-curve
        // point also burns all its gas), so the gas given beforehand decides: with the full
        // budget a `false` is a rejection; below it, the caller must retry with more gas.
        // INVARIANT: a verification that may have been starved is never reported as a rejected proof.
        if (available < VERIFY_GAS_BASE + VERIFY_GAS_PER_SIGNAL * count) revert VerifierOutOfGas(modelId);
        // INVARIANT: a verifier that reverts or answers malformed data accepts nothing.
        if (!answered) revert VerifierCallFailed(modelId, verifier);
        // INVARIANT: anything but `true` from the verifier never records anything.
        revert ProofRejected(modelId);
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
