"""JSON documents signed by a gateway's account (credit reports, for one).

digest = keccak256(RFC 8785 canonical JSON of the document); the signature is the
EIP-191 personal_sign of those 32 bytes ("\\x19Ethereum Signed Message:\\n32" + digest),
so any wallet or library that verifies personal_sign messages recovers the signer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress
from eth_utils.exceptions import ValidationError

from chain_client.spec.content import canonical_json
from chain_client.spec.keccak import keccak

SIGNATURE_HEX_LENGTH = 2 + 65 * 2  # "0x" and r, s, v


def document_digest(document: Mapping[str, Any]) -> bytes:
    """keccak256 of the document's RFC 8785 canonical form.

    ValueError (rfc8785's CanonicalizationError) for what JCS cannot represent, such as
    integers beyond 2**53 or NaN.
    """
    return keccak(canonical_json(document))


def sign_document(account: LocalAccount, document: Mapping[str, Any]) -> str:
    """The account's personal_sign signature of the document's digest, as 0x hex."""
    signed = account.sign_message(encode_defunct(primitive=document_digest(document)))
    return "0x" + bytes(signed.signature).hex()


def document_signer(document: Mapping[str, Any], signature_hex: str) -> ChecksumAddress | None:
    """The address that signed the document, or None when no signer can be recovered.

    Never raises: a malformed signature, or a document that has no canonical form (and so
    cannot have been signed), gives None.
    """
    if not isinstance(signature_hex, str) or len(signature_hex) != SIGNATURE_HEX_LENGTH:
        return None
    if not signature_hex.startswith(("0x", "0X")):
        return None
    try:
        signature = bytes.fromhex(signature_hex[2:])
        message = encode_defunct(primitive=document_digest(document))
        signer: ChecksumAddress = Account.recover_message(message, signature=signature)
    except (ValueError, TypeError, BadSignature, ValidationError):  # bad hex, v, r or s; no canonical form
        return None
    return signer
