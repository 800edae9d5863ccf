// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IRelayedInstructions
/// @notice EIP-712 instructions that a member signs and a gateway relays, so that the
/// signer, not the gateway, acts on chain and is named in the events. A relayed function
/// `xBySig` takes the arguments of `x` and an Instruction, whose type (docs/formats.md,
/// "EIP-712 domains and types") ends in `uint256 nonce,uint64 deadline`. Each contract
/// signs under its own domain and keeps its own nonce per signer.
interface IRelayedInstructions {
    /// @notice A signer's EIP-712 instruction, relayed by a gateway: the signer acts.
    /// @param nonce The signer's next nonce on this contract.
    /// @param deadline Time after which the instruction may not be relayed.
    /// @param signature The signer's 65-byte signature of the typed data.
    struct Instruction {
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /// @notice The next instruction nonce of a signer.
    /// @param signer The signer (a provider or department, or a member acting for a subject).
    /// @return The nonce its next relayed instruction must carry.
    function nonces(address signer) external view returns (uint256);
}
