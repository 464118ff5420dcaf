// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IResultHub {
    function record(bytes32 modelId, bytes32 inputCommitment, bytes32 outputsHash)
        external
        returns (uint8 how, bool agrees);
}

/// @notice A settler for tests: records whatever it is told. Bound OnChain it stands for an
/// on-chain model (deterministic, final), so the hub's conflict rules can be driven directly.
contract HubSettler {
    function record(address hub, bytes32 modelId, bytes32 inputCommitment, bytes32 outputsHash)
        external
        returns (uint8, bool)
    {
        return IResultHub(hub).record(modelId, inputCommitment, outputsHash);
    }
}
