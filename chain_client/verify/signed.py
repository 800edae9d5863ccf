"""The checks every signed gateway document starts with (credit reports, screenings,
regional parts): `format` (its committed JSON Schema, and a canonical RFC 8785 form to
sign) and `signature` (the EIP-191 signer of the signed body is the gateway it names).
One mechanism, so the documents cannot drift apart in how they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rfc8785 import CanonicalizationError

from chain_client.spec.content import canonical_json
from chain_client.spec.records import checksummed
from chain_client.spec.signed_document import document_signer
from chain_client.verify.bundles import Check


def format_check(problems: list[str], document: Mapping[str, Any], summary: Callable[[], str]) -> Check:
    """`format`: the schema's first problem (and how many more), or a document JCS cannot
    represent; otherwise passed with `summary()`, called only once the document is valid."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check("format", False, problems[0] + more)
    try:
        canonical_json(document)
    except CanonicalizationError as exc:
        return Check("format", False, f"not representable as RFC 8785 canonical JSON: {exc}")
    return Check("format", True, summary())


def signature_check(body: Mapping[str, Any], signature: str, what: str, name: str = "signature") -> Check:
    """`signature`: personal_sign of the body by the gateway its `gateway` field names."""
    gateway = checksummed(body["gateway"])
    signer = document_signer(body, signature)
    if signer == gateway:
        return Check(name, True, f"personal_sign of the {what} by its gateway {gateway}")
    return Check(name, False, f"signed by {signer or 'no valid key'}, not by the gateway {gateway}")
