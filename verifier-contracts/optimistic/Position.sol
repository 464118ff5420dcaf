// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Generalised index of a node in a binary tree (as in Optimism's FaultDisputeGame):
/// the root is 1 and the children of g are 2g (left) and 2g + 1 (right). The depth of g is
/// floor(log2 g); its index among the nodes of that depth is g - 2^depth. Level 2 of the
/// dispute descends the Merkle tree of one tensor, so the final position names one element.
type Position is uint64;

library PositionLib {
    function root() internal pure returns (Position) {
        return Position.wrap(1);
    }

    function depth(Position p) internal pure returns (uint256 d) {
        uint64 g = Position.unwrap(p);
        while (g > 1) {
            g >>= 1;
            ++d;
        }
    }

    function indexAtDepth(Position p) internal pure returns (uint256) {
        return uint256(Position.unwrap(p)) - (uint256(1) << depth(p));
    }

    function child(Position p, bool right) internal pure returns (Position) {
        return Position.wrap(Position.unwrap(p) * 2 + (right ? 1 : 0));
    }
}

using PositionLib for Position global;
