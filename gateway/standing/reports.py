"""Credit reports (信用报告): a subject's records in force, as the requester may see them,
each with its proof bundle, signed by the gateway so any region can verify the report
(异地互认) with `credit-ledger verify-report`.

A record is in the report when it is anchored, in force on chain (Active or Disputed),
inside its publicity window if it is class A, and the requester is entitled to a view
of it; the fields shown are exactly the fields its bundle discloses. Full views are
releases of plaintext and are written to the access log like any other read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from chain_client import build_report_document, report_record
from gateway.infra.errors import AuthError
from gateway.infra.service import Gateway
from gateway.infra.storage import StoredRecord
from gateway.infra.subject_ids import SubjectId
from gateway.records.entitlement import Requester, View
from gateway.records.reads import anchored_batch, proof_bundle, public_until, rows_of_subject, subject_opening
from gateway.records.releases import grant_for, log_release, open_checked, public_fields
from gateway.standing.measures import IN_FORCE, lists_json, measures_of, standing_of


def credit_report(gw: Gateway, session: Session, member: Requester, subject: SubjectId, purpose: str) -> dict[str, Any]:
    """The signed credit-ledger/report@1 document of a subject for this requester."""
    subject_ref = gw.subject_ref(subject)
    standing = standing_of(gw, session, subject_ref, member)
    records = [
        entry
        for row in rows_of_subject(session, subject_ref)
        if (entry := _report_entry(gw, session, member, row, purpose)) is not None
    ]
    report = {
        "subject": subject.value,
        "subjectRef": "0x" + subject_ref.hex(),
        "chainId": gw.stack.chain.chain_id,
        "ledger": gw.stack.ledger.address,
        "gateway": gw.account.address,
        "requester": member.address,
        "generatedAt": gw.now(),
        "asOfBlock": gw.stack.chain.block_number(),
        "records": records,
        "lists": lists_json(standing),
        "measures": [m.code for m in measures_of(gw, standing)],
    }
    return build_report_document(report, gw.account)


def _report_entry(
    gw: Gateway, session: Session, member: Requester, row: StoredRecord, purpose: str
) -> dict[str, Any] | None:
    if anchored_batch(session, row) is None:
        return None
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
    state = gw.stack.ledger.state(row.record_id)
    if state.status not in IN_FORCE:
        return None
    until = public_until(entry, row)  # class A only
    if until is not None and gw.now() >= until:
        return None
    try:
        grant = grant_for(gw, session, member, row, purpose)
    except AuthError:
        return None  # not visible to this requester: not in its report
    opened = open_checked(gw, row)
    if grant.view == View.FULL:
        fields = opened.payload
        log_release(gw, member, row, purpose, grant)
    else:
        fields = public_fields(gw, entry, opened.payload)
        if not fields:
            return None
    # The report names its subject, so each bundle opens its subjectTag to show it is that subject's.
    bundle = (
        proof_bundle(session, gw.stack, row, gw.trees)
        .with_subject(subject_opening(row))
        .with_disclosure(opened.commitment.disclose(list(fields)))
    )
    gw.metrics.releases.labels(entry.disclosure_class.name, grant.view.value).inc()
    return report_record(
        bundle,
        catalog_code=entry.code,
        disclosure_class=entry.disclosure_class,
        status=state.status,
        view="full" if grant.view == View.FULL else "public",
    )
