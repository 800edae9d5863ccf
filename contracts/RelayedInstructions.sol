// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IRelayedInstructions} from "./interfaces/IRelayedInstructions.sol";

/// @title RelayedInstructions
/// @notice The check of a relayed EIP-712 instruction, one for every contract that takes them.
/// @dev A contract names its EIP-712 domain and implements the two hooks with its own role
/// check and its own errors; its `xBySig` functions hash the instruction's typed data and
/// act as `_instructionSigner(structHash, instruction)`.
abstract contract RelayedInstructions is IRelayedInstructions, EIP712, Nonces {
    /// @notice Binds the instructions to the contract's EIP-712 domain.
    /// @param name_ The domain name.
    /// @param version_ The domain version.
    constructor(string memory name_, string memory version_) EIP712(name_, version_) {}

    /// @inheritdoc IRelayedInstructions
    function nonces(address signer) public view virtual override(IRelayedInstructions, Nonces) returns (uint256) {
        return super.nonces(signer);
    }

    /// @dev The signer of a relayed instruction, after checking the relayer, the deadline
    /// and the signer's nonce (consumed). `structHash` is the instruction's hashStruct,
    /// which covers `instruction.nonce` and `instruction.deadline`.
    function _instructionSigner(bytes32 structHash, Instruction calldata instruction)
        internal
        returns (address signer)
    {
        _checkRelayer(msg.sender);
        if (block.timestamp > instruction.deadline) _revertInstructionExpired(instruction.deadline);
        signer = ECDSA.recover(_hashTypedDataV4(structHash), instruction.signature);
        _useCheckedNonce(signer, instruction.nonce);
    }

    /// @dev Reverts, with the contract's own error, unless `relayer` may relay instructions.
    function _checkRelayer(address relayer) internal view virtual;

    /// @dev Reverts with the contract's own error for an instruction past its deadline.
    function _revertInstructionExpired(uint64 deadline) internal pure virtual;
}
