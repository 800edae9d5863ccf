"""What a subject signed in with its own key sees of itself (自查).

Its records, each in full, whatever their class: the subject is entitled to its own
information. Each release is written to the access log like any other, with the subject's
key as the requester and the purpose "self-inspection". And the access-log entries that
name its records: who read them, when, for which purpose and on which consent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import NO_CONSENT, RecordState
from gateway.infra.service import Gateway
from gateway.infra.storage import AccessLogEntry, StoredRecord
from gateway.records.entitlement import Grant, Requester, View
from gateway.records.reads import RecordIntegrityError, rows_of_subject
from gateway.records.releases import full_view, integrity_failure, log_release, metadata, open_checked, states_of
from gateway.records.subjects import BoundSubject

SELF_PURPOSE = "self-inspection"


def own_records(
    gw: Gateway, session: Session, subject: BoundSubject, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The subject's records in full, each release logged before it is returned, and the
    records that failed their integrity check, marked (releases.integrity_failure), never served."""
    reader = Requester(subject.key, frozenset())
    views = []
    failed = []
    rows = rows_of_subject(session, subject.subject_ref, limit=limit, offset=offset)
    states = states_of(gw, session, rows)
    for row in rows:
        try:
            views.append(_own_view(gw, session, reader, row, states[row.record_id]))
        except RecordIntegrityError:
            failed.append(integrity_failure(gw, row))
    return views, failed


def _own_view(
    gw: Gateway, session: Session, reader: Requester, row: StoredRecord, state: RecordState
) -> dict[str, Any]:
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
    opened = open_checked(gw, row)
    view = metadata(gw, session, entry, row, state)
    sequence = log_release(gw, reader, row, SELF_PURPOSE, Grant(View.FULL))
    view.update(full_view(row, opened, sequence))
    gw.metrics.releases.labels(entry.disclosure_class.name, "self").inc()
    return view


def own_access_log(gw: Gateway, session: Session, subject: BoundSubject, *, limit: int) -> list[dict[str, Any]]:
    """The access-log entries naming the subject's records, newest first."""
    records = select(StoredRecord.record_id).where(StoredRecord.subject_ref == subject.subject_ref)
    query = (
        select(AccessLogEntry)
        .where(AccessLogEntry.record_id.in_(records))
        .order_by(AccessLogEntry.sequence.desc())
        .limit(limit)
    )
    entries = []
    for row in session.scalars(query):
        member = gw.view.member(row.requester)
        entries.append(
            {
                "sequence": row.sequence,
                "recordId": "0x" + row.record_id.hex(),
                "requester": row.requester,
                "requesterName": member.name if member is not None else None,
                "purpose": row.purpose,
                "consentId": "0x" + row.consent_id.hex() if row.consent_id != NO_CONSENT else None,
                "releasedAt": row.released_at,
            }
        )
    return entries
