"""Credit reports (信用报告): a subject's records in force, as the requester may see them,
each with its proof bundle, signed by the gateway so any region can verify the report
(异地互认) with `credit-ledger verify-report`.

A record is in the report when it is anchored, in force on chain (Active or Disputed),
inside its publicity window if it is class A, and the requester is entitled to a view
of it; the fields shown are exactly the fields its bundle discloses. Full views are
releases of plaintext and are written to the access log like any other read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from chain_client import CatalogEntry, ProofBundle, RecordState, RecordStatus, build_report_document, report_record
from gateway.infra.errors import AuthError
from gateway.infra.service import Gateway
from gateway.infra.storage import StoredRecord
from gateway.infra.subject_ids import SubjectId
from gateway.records.entitlement import Grant, Requester, View
from gateway.records.reads import (
    RecordIntegrityError,
    anchored_batch,
    proof_bundle,
    public_until,
    rows_of_subject,
    subject_opening,
)
from gateway.records.releases import grant_for, integrity_failure, log_release, open_checked, public_fields, states_of
from gateway.standing.measures import IN_FORCE, lists_json, measures_of, standing_of


def credit_report(gw: Gateway, session: Session, member: Requester, subject: SubjectId, purpose: str) -> dict[str, Any]:
    """The signed credit-ledger/report@1 document of a subject for this requester.

    A report never omits a record silently: when a record it would include fails its
    integrity check, no report is signed and the request answers 500
    REPORT_RECORD_INTEGRITY_FAILED, whose detail lists the failing records (recordId and
    catalog code only). Every record is checked before any release is logged.
    """
    subject_ref = gw.subject_ref(subject)
    standing = standing_of(gw, session, subject_ref, member)
    planned: list[_Planned] = []
    failed: list[dict[str, Any]] = []
    rows = rows_of_subject(session, subject_ref)
    states = states_of(gw, session, rows)
    for row in rows:
        try:
            if (plan := _plan_entry(gw, session, member, row, states[row.record_id], purpose)) is not None:
                planned.append(plan)
        except RecordIntegrityError:
            failed.append(integrity_failure(gw, row))
    if failed:
        raise RecordIntegrityError(
            "REPORT_RECORD_INTEGRITY_FAILED",
            "a record the report would include failed its integrity check; no incomplete report is signed",
            detail={"integrityFailures": failed},
        )
    records = [_release(gw, member, plan, purpose) for plan in planned]
    report = {
        "subject": subject.value,
        "subjectRef": "0x" + subject_ref.hex(),
        "chainId": gw.stack.chain.chain_id,
        "ledger": gw.stack.ledger.address,
        "gateway": gw.account.address,
        "requester": member.address,
        "generatedAt": gw.now(),
        "asOfBlock": gw.index.position.block,
        "records": records,
        "lists": lists_json(standing),
        "measures": [m.code for m in measures_of(gw, standing)],
    }
    return build_report_document(report, gw.account)


@dataclass(frozen=True)
class _Planned:
    """A record the report includes, checked and opened, its release not yet logged."""

    row: StoredRecord
    entry: CatalogEntry
    status: RecordStatus
    grant: Grant
    bundle: ProofBundle


def _plan_entry(
    gw: Gateway, session: Session, member: Requester, row: StoredRecord, state: RecordState, purpose: str
) -> _Planned | None:
    if anchored_batch(session, row) is None:
        return None
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
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
    return _Planned(row, entry, state.status, grant, bundle)


def _release(gw: Gateway, member: Requester, plan: _Planned, purpose: str) -> dict[str, Any]:
    if plan.grant.view == View.FULL:
        log_release(gw, member, plan.row, purpose, plan.grant)
    gw.metrics.releases.labels(plan.entry.disclosure_class.name, plan.grant.view.value).inc()
    return report_record(
        plan.bundle,
        catalog_code=plan.entry.code,
        disclosure_class=plan.entry.disclosure_class,
        status=plan.status,
        view="full" if plan.grant.view == View.FULL else "public",
    )
