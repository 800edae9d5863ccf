"""Members' queries by subject id, registered (查询使用登记).

Every query a member makes by subject id (its records, measures, report, or the
subjectRef a department needs to sign a record) is registered before it is answered, with
who asked, how and for which purpose. Public lookups are rate-limited instead. So nobody
can test guessed ids against the gateway without either a limit or a trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.infra.nonces import PendingNonce, replayed
from gateway.infra.storage import SubjectLookup

MAX_PURPOSE_LENGTH = 200


def register_lookup(
    session: Session,
    *,
    requester: str,
    subject_ref: bytes,
    kind: str,
    purpose: str,
    now: int,
    nonce: PendingNonce | None = None,
) -> None:
    """Register one member's query about a subject, committed before anything is answered.

    With `nonce` (a read's, checked unused but not yet recorded: gateway.infra.nonces) the
    nonce row is inserted in the same transaction, one commit for both; a nonce another
    request used meanwhile refuses this one (AUTH_REPLAYED) and registers nothing."""
    session.add(
        SubjectLookup(
            requester=requester, subject_ref=subject_ref, kind=kind, purpose=purpose[:MAX_PURPOSE_LENGTH], at=now
        )
    )
    pending = nonce if nonce is not None and not nonce.used else None
    if pending is not None:
        session.add(pending.row())
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if pending is not None:
            raise replayed() from None
        raise
    if pending is not None:
        pending.used = True


def register_lookups(
    session: Session, *, requester: str, subject_refs: Sequence[bytes], kind: str, purpose: str, now: int
) -> None:
    """Register one member's query about many subjects (a list screening): one bulk insert
    and one commit, before anything is answered."""
    if not subject_refs:
        return
    purpose = purpose[:MAX_PURPOSE_LENGTH]
    session.execute(
        insert(SubjectLookup),
        [
            {"requester": requester, "subject_ref": ref, "kind": kind, "purpose": purpose, "at": now}
            for ref in subject_refs
        ],
    )
    session.commit()


def lookups(
    session: Session, *, requester: str | None, subject_ref: bytes | None, after: int, limit: int
) -> list[dict[str, Any]]:
    """Registered lookups in order, optionally of one member or one subject."""
    query = select(SubjectLookup).where(SubjectLookup.id > after)
    if requester is not None:
        query = query.where(SubjectLookup.requester == requester)
    if subject_ref is not None:
        query = query.where(SubjectLookup.subject_ref == subject_ref)
    rows = session.scalars(query.order_by(SubjectLookup.id).limit(limit))
    return [
        {
            "id": row.id,
            "requester": row.requester,
            "subjectRef": "0x" + row.subject_ref.hex(),
            "kind": row.kind,
            "purpose": row.purpose,
            "at": row.at,
        }
        for row in rows
    ]
