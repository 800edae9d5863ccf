"""The subjectRef a client signs with: asked of its gateway, or derived where the key is held."""

from __future__ import annotations

from gateway.infra.subject_ids import parse_subject
from gateway.infra.subject_ids import subject_ref as ref_of


def resolve_subject_ref(subject: str, *, subject_ref: bytes | None, subject_key: bytes | None) -> bytes:
    """The subject's subjectRef: the one given, else derived with the subject key (development tools).

    Exactly one of the two is given: departments and registrars ask their gateway for
    the subjectRef (`GatewayClient.subject_ref`, registered as a lookup) and never hold the
    consortium's subject key. The subject id is checked (GB 32100 / GB 11643) either way.
    """
    parsed = parse_subject(subject)
    if subject_ref is None:
        if subject_key is None:
            raise ValueError("give subject_ref (asked of the gateway) or subject_key")
        return ref_of(subject_key, parsed)
    if subject_key is not None:
        raise ValueError("give subject_ref or subject_key, not both")
    return subject_ref
