// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ClaimKey, ClaimSlot, ClaimStatus, Dispute, InputLayout, ModelConfig, Phase} from "./GameTypes.sol";
import {StepQuery} from "./IOneStepExecutor.sol";
import {HubSettlement} from "./HubSettlement.sol";
import {ClaimLayout, ClaimShape} from "./ClaimLayout.sol";
import {InputCommitment} from "./InputCommitment.sol";
import {OutputCommitment} from "./OutputCommitment.sol";
import {MerkleLib} from "./MerkleLib.sol";
import {PositionLib} from "./Position.sol";
import {IVerimlHub} from "./IVerimlHub.sol";

/// @notice Optimistic fraud-proof game for integer-IR inference, generic over a one-step
/// executor (protocol v2 of issue 12; "§" below are its sections). A claim posts (model, packed input, trace root,
/// packed outputs) with a bond; the game commits the input itself. Unchallenged for the window, the
/// claim finalises. Each challenger opens its own dispute (a colluding challenger that loses
/// on purpose cannot shield a false claim): level 1 bisects the trace over prefix roots,
/// level 2 descends the disputed tensor's Merkle tree, and the executor re-executes one
/// element (level 3, FoldGame, bisects a linear / max row first). Payouts are pull-based credits.
contract OptimisticGame is HubSettlement {
    /// @notice Shortest move timeout and challenge window, in seconds.
    uint256 public constant MIN_CLOCK = 60;
    /// @notice Longest move timeout, in seconds.
    uint256 public constant MAX_MOVE_TIMEOUT = 7 days;
    /// @notice Longest challenge window, in seconds.
    uint256 public constant MAX_CHALLENGE_WINDOW = 30 days;

    /// What a claim reads of its model, packed (see ClaimLayout).
    mapping(bytes32 => uint256[]) private _layouts;

    /// @notice registerModel was called by another account than the hub's owner.
    /// @param caller msg.sender.
    /// @param owner The hub's owner.
    error NotHubOwner(address caller, address owner);
    /// @notice The zero model id is reserved (a zeroed read never names a model).
    error ZeroModelId();
    /// @notice registerModel for a model whose hub binds another game (or none): its results
    /// could not be recorded, so its claims could not finalise.
    /// @param modelId The model.
    /// @param bound The game the hub binds to it.
    error GameNotBound(bytes32 modelId, address bound);
    /// @notice A claim whose window closed unchallenged after another claim of the same
    /// statement, with other outputs, had finalised: the first stands (the hub keeps one record
    /// per statement), this claim's bond returns (nothing showed it false).
    /// @param claimId The claim.
    event ClaimSuperseded(bytes32 indexed claimId);

    /// @param hub_ The registry (VerimlRegistry) whose ids and owner this game follows.
    constructor(address hub_) HubSettlement(hub_) {}

    // ---------------------------------------------------------------- models and claims

    /// @notice Registers a model under the hub's id for it (the IR hash, manifest.modelId), so
    /// the zk and optimistic paths name a model alike. Final.
    /// @dev Why the hub's owner and not anyone: a model id is a claim that these game
    /// parameters (params root, layouts) are the model's, which nothing on chain can check; the
    /// party that vouches for the zk binding vouches for this one. A permissionless first-come
    /// registration would let anyone squat a popular id with a wrong params root.
    /// @param modelId The model's id in the hub; not zero.
    /// @param c The model's configuration (bounds: protocol §3).
    function registerModel(bytes32 modelId, ModelConfig calldata c) external {
        address owner = IVerimlHub(hub).owner();
        // INVARIANT: only the hub's owner binds a model id to game parameters.
        if (msg.sender != owner) revert NotHubOwner(msg.sender, owner);
        // INVARIANT: the zero id is reserved, as in the hub.
        if (modelId == bytes32(0)) revert ZeroModelId();
        // INVARIANT: the hub lets this game record the model's results, so finalize (which
        // records) can never revert for want of a binding and lock a claim bond.
        address bound = IVerimlHub(hub).gameOf(modelId);
        if (bound != address(this)) revert GameNotBound(modelId, bound);
        uint256 inputBytes = _checkConfig(c);
        // INVARIANT: a model's parameters never change once registered.
        if (address(_models[modelId].executor) != address(0)) revert ModelAlreadyRegistered(modelId);
        _models[modelId] = c;
        _layouts[modelId] = ClaimLayout.encode(c, inputBytes);
        emit ModelRegistered(modelId, address(c.executor), c.paramsRoot);
    }

    /// @notice A registered model's configuration.
    /// @param modelId The model.
    /// @return The configuration (all zero when unregistered).
    function model(bytes32 modelId) external view returns (ModelConfig memory) {
        return _models[modelId];
    }

    /// @notice Claims a model's outputs on an input, locking exactly claimBond. The game emits
    /// the packed input (so anyone can recompute the trace) and commits it as `inputRoot`.
    /// @param modelId The model.
    /// @param inputPacked The input states packed in the model's input layouts (InputLayout), in order (protocol §1).
    /// @param traceRoot The trace tree root over every state's tensor root.
    /// @param outputsPacked The outputs packed in the model's output layouts (see LaneLayout), in order.
    /// @param outputPaths Each output's siblings in the trace tree.
    /// @return claimId keccak256(abi.encode(ClaimKey)).
    function claim(
        bytes32 modelId,
        bytes calldata inputPacked,
        bytes32 traceRoot,
        bytes calldata outputsPacked,
        bytes32[][] calldata outputPaths
    ) external payable returns (bytes32 claimId) {
        (ClaimShape memory s, uint256[] memory entries) = ClaimLayout.load(_layouts[modelId]);
        // A registered model has a claim bond >= 1.
        if (s.claimBond == 0) revert ModelNotRegistered(modelId);
        // INVARIANT: the claim locks exactly the model's claim bond.
        if (msg.value != s.claimBond) revert WrongBond(s.claimBond, msg.value);
        ClaimKey memory key;
        key.modelId = modelId;
        // INVARIANT: the input root is the game's own commitment to the posted input (length and
        // zero padding checked), so every dispute starts from the input that was posted.
        (key.inputRoot, key.inputHash) = InputCommitment.commit(s, entries, inputPacked);
        key.traceRoot = traceRoot;
        key.outputsHash = OutputCommitment.outputsHash(s, entries, traceRoot, outputsPacked, outputPaths);
        key.claimant = msg.sender;
        claimId = keccak256(abi.encode(key));
        ClaimSlot storage r = _claims[claimId];
        if (r.status != ClaimStatus.None) revert ClaimExists(claimId);
        (r.claimant, r.createdAt, r.status) = (msg.sender, uint40(block.timestamp), ClaimStatus.Pending);
        _emitClaimSubmitted(claimId, modelId, key, inputPacked, outputsPacked);
    }

    /// @notice Settles a claim whose window closed with no live dispute; anyone may call it. The
    /// statement's record in the hub decides (one record per statement, no claim-time lock):
    /// none or the same outputs → Finalized, recorded, bond to the claimant; another claim's
    /// outputs finalised first → Superseded, bond to the claimant, not recorded; a proof's (or
    /// on-chain run's) other outputs → Rejected, the whole bond burned (shown false, no
    /// challenger to pay; as settleByProof would have done).
    /// @dev Why no lock at claim time (one live claim per statement, none for a settled one):
    /// it costs a storage slot and a hub read in every claim (+28k gas), and the outcome is the
    /// same: conflicting results never both stand, because the hub keeps the first record and a
    /// proof's; a liar front-running an honest claim is challenged as before.
    /// @param key The claim's key.
    function finalize(ClaimKey calldata key) external {
        bytes32 claimId = keccak256(abi.encode(key));
        ClaimSlot storage r = _claims[claimId];
        if (r.status != ClaimStatus.Pending) revert ClaimNotPending(claimId, r.status);
        ModelConfig storage m = _models[key.modelId];
        uint256 closesAt = uint256(r.createdAt) + m.challengeWindow;
        // INVARIANT: a claim finalises only after its window, with no dispute left open.
        if (block.timestamp <= closesAt) revert ChallengeWindowOpen(claimId, closesAt);
        if (r.openDisputes != 0) revert DisputesOpen(claimId, r.openDisputes);
        // The statement's one result record. The hub never reverts for this game's model (bound
        // at registration) and keeps the first record, or a proof's, over this one.
        (uint8 how, bool agrees) = IVerimlHub(hub).record(key.modelId, key.inputHash, key.outputsHash);
        if (agrees) {
            r.status = ClaimStatus.Finalized;
            // INVARIANT (§4.4): the bond returns to the recorded claimant, whoever sends finalize.
            credit[r.claimant] += m.claimBond;
            emit ClaimFinalized(claimId);
        } else if (how == 2) {
            r.status = ClaimStatus.Superseded;
            // INVARIANT: an unchallenged claim is never shown false, so its bond returns (§4.4).
            credit[r.claimant] += m.claimBond;
            emit ClaimSuperseded(claimId);
        } else {
            r.status = ClaimStatus.Rejected;
            // INVARIANT (§4.2, §4.4): a claim a proof contradicts loses its bond; with no
            // challenger it is burned whole, never paid to msg.sender.
            burned += m.claimBond;
            emit ClaimRejected(claimId, bytes32(0), 0, m.claimBond);
        }
    }

    /// @notice Opens the sender's dispute against a pending claim, locking exactly challengeBond.
    /// @param key The claim's key.
    /// @return disputeId keccak256(abi.encode(claimId, msg.sender)).
    function challenge(ClaimKey calldata key) external payable returns (bytes32 disputeId) {
        bytes32 claimId = keccak256(abi.encode(key));
        ClaimSlot storage r = _claims[claimId];
        ModelConfig storage m = _models[key.modelId];
        // INVARIANT: only a pending claim inside its window can be challenged, with the exact bond.
        if (r.status != ClaimStatus.Pending) revert ClaimNotPending(claimId, r.status);
        uint256 closesAt = uint256(r.createdAt) + m.challengeWindow;
        if (block.timestamp > closesAt) revert ChallengeWindowClosed(claimId, closesAt);
        if (msg.value != m.challengeBond) revert WrongBond(m.challengeBond, msg.value);
        if (msg.sender == r.claimant) revert SelfChallenge();
        disputeId = keccak256(abi.encode(claimId, msg.sender));
        Dispute storage d = _disputes[disputeId];
        // INVARIANT: one dispute per (claim, challenger); a resolved one is never reopened.
        if (d.phase != Phase.None) revert DisputeExists(disputeId);
        r.openDisputes += 1;
        // Level 1 starts with the input prefix agreed (the game computed it) and the full trace disputed.
        uint32 lo = m.inputCount - 1;
        uint32 hi = uint32(m.stateSizes.length - 1);
        (d.challenger, d.claimId, d.modelId) = (msg.sender, claimId, key.modelId);
        (d.lo, d.hi, d.rootLo, d.rootHi) = (lo, hi, key.inputRoot, key.traceRoot);
        emit Challenged(disputeId, claimId, msg.sender);
        _advance(d, disputeId, m, hi - lo == 1 ? Phase.Reveal : Phase.Propose);
    }

    // ---------------------------------------------------------------- level 1: trace bisection

    /// @notice The claimant's prefix root at mid = (lo + hi) / 2.
    /// @param disputeId The dispute.
    /// @param midRoot The trace tree of states 0 .. mid, zeros after.
    function propose(bytes32 disputeId, bytes32 midRoot) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Propose);
        d.left = midRoot;
        _advance(d, disputeId, m, Phase.Choose);
    }

    /// @notice The challenger agrees with the proposed prefix root or disputes it.
    /// @param disputeId The dispute.
    /// @param agree Whether the proposal is the correct prefix root at mid.
    function choose(bytes32 disputeId, bool agree) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Choose);
        uint32 mid = uint32((uint256(d.lo) + d.hi) / 2);
        if (agree) (d.lo, d.rootLo) = (mid, d.left);
        else (d.hi, d.rootHi) = (mid, d.left);
        _advance(d, disputeId, m, d.hi - d.lo == 1 ? Phase.Reveal : Phase.Propose);
    }

    /// @notice The claimant reveals the tensor root of state hi: the prefix root at hi must be
    /// the agreed prefix root at lo = hi - 1 with leaf hi (zero there) set to `stateRoot`.
    /// @param disputeId The dispute.
    /// @param stateRoot The tensor root of state hi.
    /// @param path Siblings of leaf hi in the trace tree.
    function reveal(bytes32 disputeId, bytes32 stateRoot, bytes32[] calldata path) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Reveal);
        uint256 depth = MerkleLib.depthFor(m.stateSizes.length);
        // INVARIANT: level 2 is bound to level 1: same siblings, leaf hi empty before and stateRoot after.
        if (MerkleLib.rootFromCalldata(bytes32(0), d.hi, path, depth) != d.rootLo) revert RevealMismatch(d.hi);
        if (MerkleLib.rootFromCalldata(stateRoot, d.hi, path, depth) != d.rootHi) revert RevealMismatch(d.hi);
        (d.rootHi, d.pos) = (stateRoot, PositionLib.root());
        _advance(d, disputeId, m, MerkleLib.depthFor(m.stateSizes[d.hi]) == 0 ? Phase.Step : Phase.Open);
    }

    // ---------------------------------------------------------------- level 2: element bisection

    /// @notice The claimant opens the disputed node into its two children.
    /// @param disputeId The dispute.
    /// @param left The left child.
    /// @param right The right child.
    function open(bytes32 disputeId, bytes32 left, bytes32 right) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Open);
        // INVARIANT: the children are the claimant's committed node.
        if (keccak256(abi.encode(left, right)) != d.rootHi) revert ChildrenMismatch(d.rootHi);
        (d.left, d.right) = (left, right);
        _advance(d, disputeId, m, Phase.Pick);
    }

    /// @notice The challenger picks the child it disputes.
    /// @param disputeId The dispute.
    /// @param right Whether it disputes the right child.
    function pick(bytes32 disputeId, bool right) external {
        (Dispute storage d, ModelConfig storage m) = _turn(disputeId, Phase.Pick);
        (d.rootHi, d.pos) = (right ? d.right : d.left, d.pos.child(right));
        bool leaf = d.pos.depth() == MerkleLib.depthFor(m.stateSizes[d.hi]);
        _advance(d, disputeId, m, leaf ? Phase.Step : Phase.Open);
    }

    /// @notice Re-executes the disputed element (requant, gather, lookup, mul, div, isqrt, or any
    /// padding element, which must be 0). The challenger's clock; anyone may send it (the result is
    /// fixed by the proof). Linear and max elements go through startFold.
    /// @param disputeId The dispute.
    /// @param proof The executor's valueAt proof (ignored for a padding element).
    function step(bytes32 disputeId, bytes calldata proof) external {
        Dispute storage d = _live(disputeId, Phase.Step);
        ModelConfig storage m = _models[d.modelId];
        StepQuery memory q = _query(d, m);
        int256 expected;
        // INVARIANT: a padding element (index >= size) of a tensor tree is 0.
        if (q.element < q.outputSize) expected = m.executor.valueAt(q, proof);
        _resolve(d, disputeId, m, expected == int256(uint256(d.rootHi)));
    }

    /// @notice The player to move let its clock run out: it loses (Step, FoldStep: the challenger).
    /// @param disputeId The dispute.
    function timeout(bytes32 disputeId) external {
        Dispute storage d = _disputes[disputeId];
        // INVARIANT: only a live dispute of a pending claim, only after the mover's deadline.
        if (d.phase == Phase.None || d.phase == Phase.Resolved) revert NoMoveToTimeOut(d.phase);
        if (_claims[d.claimId].status != ClaimStatus.Pending) revert ClaimSettled(d.claimId);
        if (block.timestamp <= d.deadline) revert ClockRunning(d.deadline);
        _resolve(d, disputeId, _models[d.modelId], !_claimantMoves(d.phase));
    }

    // ---------------------------------------------------------------- payouts

    /// @notice Pays the sender its whole credit.
    function withdraw() external {
        uint256 amount = credit[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        // INVARIANT: the credit is cleared before the external call (no re-entrant double pay).
        credit[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert PaymentFailed(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice A dispute's state.
    /// @param disputeId The dispute.
    /// @return The dispute (phase None when it does not exist).
    function dispute(bytes32 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    // ---------------------------------------------------------------- internals

    /// Registration bounds (protocol §3): each a reason a game on the model could not be played out.
    /// Returns the packed input's length in bytes.
    function _checkConfig(ModelConfig calldata c) private pure returns (uint256 inputBytes) {
        // INVARIANT: both bonds are positive, so losing a dispute always costs something.
        if (c.claimBond == 0 || c.challengeBond == 0) revert InvalidBond(c.claimBond, c.challengeBond);
        // INVARIANT: clocks leave time to answer (>= MIN_CLOCK) and cannot lock bonds for ever.
        if (c.moveTimeout < MIN_CLOCK || c.moveTimeout > MAX_MOVE_TIMEOUT) {
            revert InvalidClock(c.moveTimeout, MIN_CLOCK, MAX_MOVE_TIMEOUT);
        }
        if (c.challengeWindow < MIN_CLOCK || c.challengeWindow > MAX_CHALLENGE_WINDOW) {
            revert InvalidClock(c.challengeWindow, MIN_CLOCK, MAX_CHALLENGE_WINDOW);
        }
        if (address(c.executor) == address(0)) revert InvalidExecutor(address(c.executor));
        uint256 states = c.stateSizes.length;
        // INVARIANT: at least one input and one step.
        if (c.inputCount == 0 || states <= c.inputCount) revert InvalidStateCount(c.inputCount, states);
        // INVARIANT: every output is a step's output (inputs are not claimed).
        if (c.outputStates.length == 0) revert InvalidOutputState(0, 0);
        for (uint256 k; k < c.outputStates.length; ++k) {
            uint256 s = c.outputStates[k];
            if (s < c.inputCount || s >= states) revert InvalidOutputState(k, s);
        }
        for (uint256 s; s < states; ++s) {
            // INVARIANT: every state has an element (an empty tensor has no tree).
            if (c.stateSizes[s] == 0) revert EmptyState(s);
        }
        inputBytes = _checkInputLayouts(c);
        // INVARIANT: the packed input fits one transaction, so a claim can always be posted.
        if (inputBytes > InputCommitment.MAX_INPUT_BYTES) revert InputTooLarge(inputBytes, InputCommitment.MAX_INPUT_BYTES);
        uint256 outputBytes = OutputCommitment.checkLayouts(c);
        uint256 bytes_ = OutputCommitment.claimCalldataBytes(
            inputBytes, outputBytes, c.outputStates.length, MerkleLib.depthFor(states)
        );
        // INVARIANT: the whole claim fits a transaction mempools relay, so it can always be posted.
        if (bytes_ > OutputCommitment.MAX_CLAIM_CALLDATA) {
            revert ClaimTooLarge(inputBytes, outputBytes, bytes_, OutputCommitment.MAX_CLAIM_CALLDATA);
        }
    }

    /// Each input layout is the circuit's for its declared domain; returns the packed input's bytes.
    function _checkInputLayouts(ModelConfig calldata c) private pure returns (uint256 inputBytes) {
        uint256 count = c.inputCount;
        if (c.inputLayouts.length != count) revert InvalidInputLayout(count, 0, 0, 0);
        for (uint256 s; s < count; ++s) {
            InputLayout calldata l = c.inputLayouts[s];
            // INVARIANT: lo <= hi within ±2^240 (the range the compiler proves values in), and
            // laneBits = max(1, bit length of hi - lo): the circuit's PackLayout, so a claim's
            // input is exactly the proof's public input signals.
            bool bad = l.hi < l.lo || l.lo < -OutputCommitment.MAX_LO || l.hi > OutputCommitment.MAX_LO;
            if (bad || l.laneBits != _laneBits(uint256(l.hi - l.lo))) {
                revert InvalidInputLayout(s, l.laneBits, l.lo, l.hi);
            }
            inputBytes += InputCommitment.stateBytes(c.stateSizes[s], l.laneBits);
        }
    }

    /// max(1, bit length of span).
    function _laneBits(uint256 span) private pure returns (uint256 bits) {
        bits = 1;
        while (span >> bits != 0) ++bits;
    }

    /// `emit ClaimSubmitted(claimId, modelId, key, inputPacked, outputsPacked)`, ABI-encoded by
    /// hand (cheaper than the compiler's encoder, which pads and copies again). Sound because
    /// `claim` already checked both lengths are whole words, so neither needs tail padding.
    function _emitClaimSubmitted(
        bytes32 claimId,
        bytes32 modelId,
        ClaimKey memory key,
        bytes calldata inputPacked,
        bytes calldata outputsPacked
    ) private {
        bytes32 topic = ClaimSubmitted.selector;
        assembly ("memory-safe") {
            let p := mload(0x40)
            let inputLength := inputPacked.length
            let outputLength := outputsPacked.length
            // Head: key (6 static words), offset of input, offset of outputs; then both bytes.
            mcopy(p, key, 0xc0)
            mstore(add(p, 0xc0), 0x100)
            mstore(add(p, 0xe0), add(0x120, inputLength))
            mstore(add(p, 0x100), inputLength)
            calldatacopy(add(p, 0x120), inputPacked.offset, inputLength)
            let q := add(p, add(0x120, inputLength))
            mstore(q, outputLength)
            calldatacopy(add(q, 0x20), outputsPacked.offset, outputLength)
            log3(p, add(sub(q, p), add(0x20, outputLength)), topic, claimId, modelId)
        }
    }
}
