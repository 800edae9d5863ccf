"""Who may read what (docs/disclosure.md, "Who reads what"), decided per record.

    class A (社会公开)  full payload: the record's provider, PROVIDER and AUDITOR members;
                        any other member, and anyone at /public: the public fields,
                        within the publicity window, while Active or Disputed
    class B (授权查询)  full payload: the record's provider, or a member holding a valid
                        consent of the subject for itself and the stated purpose;
                        anyone else: 403 ACCESS_CONSENT_REQUIRED
    class C (部门共享)  full payload: PROVIDER and AUDITOR members; anyone else:
                        403 ACCESS_ROLE_REQUIRED

Every full release is written to the access log before the payload leaves the
gateway. Public-field views are public information and are not logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from chain_client import CatalogEntry, DisclosureClass, Role
from gateway.infra.errors import AuthError
from gateway.infra.nonces import PendingNonce
from gateway.infra.storage import Consent, StoredRecord

FULL_READ_ROLES = frozenset({Role.PROVIDER, Role.AUDITOR})


class View(Enum):
    """How much of a record a requester gets."""

    FULL = "full"
    PUBLIC = "public"


@dataclass(frozen=True)
class Requester:
    """An authenticated member: its address and the roles it holds now.

    `nonce`: the nonce of its read, checked unused but not yet recorded; the read's first
    access-log entry records it in the same transaction (gateway.infra.nonces).
    """

    address: str
    roles: frozenset[Role]
    nonce: PendingNonce | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Grant:
    """A decision to release: the view, and the consent it rests on (class B)."""

    view: View
    consent: Consent | None = None


def decide(requester: Requester, entry: CatalogEntry, row: StoredRecord, consent: Consent | None) -> Grant:
    """The view a member gets of a record; AuthError (403) with a code when it gets none.

    `consent` is the member's valid consent for this subject and purpose, if any.
    """
    if requester.address == row.provider:
        return Grant(View.FULL)
    klass = entry.disclosure_class
    if klass == DisclosureClass.B:
        if consent is None:
            raise AuthError(
                "ACCESS_CONSENT_REQUIRED",
                "class-B records need the subject's consent for this member and purpose",
            )
        return Grant(View.FULL, consent)
    if requester.roles & FULL_READ_ROLES:
        return Grant(View.FULL)
    if klass == DisclosureClass.A:
        return Grant(View.PUBLIC)
    raise AuthError("ACCESS_ROLE_REQUIRED", "class-C records are shared with PROVIDER and AUDITOR members only")
