"""The access log over HTTP: every release logged before it happens, hash-chained, anchored, verifiable."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import BatchKind, verify_access_log_entry
from credit_client.client import GatewayClientError
from gateway.infra.storage import AccessLogEntry, AnchorBatch, BatchState
from tests.support.payloads import PENALTY, SAMR, TAX, TAX_ARREARS, penalty, tax_arrears
from tests.support.served import Served, wait_until
from tests.support.subject_keys import bind_subject, consent_for
from tests.support.subjects import new_uscc

AUDITOR = "auditor-hebei"
READER = "samr-tianjin"


def entries_for(served: Served, record_id: str) -> list[dict[str, Any]]:
    with served.client(AUDITOR) as auditor:
        entries: list[dict[str, Any]] = auditor.access_log(record=record_id)["entries"]
        return entries


def wait_entries_anchored(served: Served) -> None:
    def anchored() -> bool:
        with Session(served.gateway.engine) as session:
            pending = session.scalars(
                select(AccessLogEntry.sequence)
                .outerjoin(AnchorBatch, AccessLogEntry.batch_id == AnchorBatch.id)
                .where((AccessLogEntry.batch_id.is_(None)) | (AnchorBatch.state != BatchState.ANCHORED))
            ).first()
        return pending is None

    wait_until(anchored, what="access-log entries anchored")


def test_each_full_release_is_logged_with_requester_purpose_and_consent(served: Served) -> None:
    """A consented class-B read is logged naming the reader, the purpose and the consent."""
    subject = new_uscc()
    record = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    reader = served.account(READER)
    with served.client(READER) as client:
        with bind_subject(served, subject) as company:
            consent = client.create_consent(consent_for(served, company, READER, "credit-review"))
        view = client.record(record.record_id_hex, purpose="credit-review")
    (entry,) = [e["entry"] for e in entries_for(served, record.record_id_hex)]
    assert entry["sequence"] == view["accessLogSequence"]
    assert entry["requester"] == reader.address
    assert entry["purpose"] == "credit-review"
    assert entry["consentId"] == consent["consentId"]
    assert entry["recordId"] == record.record_id_hex


def test_refused_reads_and_public_views_are_not_releases(served: Served) -> None:
    """A 403 releases nothing and logs nothing; a public-fields view is public and not logged."""
    record = served.submit(TAX, TAX_ARREARS, new_uscc(), tax_arrears())
    with served.client(READER) as client, pytest.raises(GatewayClientError):
        client.record(record.record_id_hex)
    public = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    with served.client("governor-beijing") as client:
        assert client.record(public.record_id_hex)["view"] == "public"
    assert entries_for(served, record.record_id_hex) == []
    assert entries_for(served, public.record_id_hex) == []


def test_entries_are_hash_chained_and_anchored_as_access_log_batches(served: Served) -> None:
    """Each entry carries the previous entry's hash, and each verifies against the chain as ACCESS_LOG."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    with served.client(SAMR) as client:
        for purpose in ("a", "b", "c"):
            client.record(record.record_id_hex, purpose=purpose)
    wait_entries_anchored(served)
    with served.client(AUDITOR) as auditor:
        page = auditor.access_log(limit=1000)
    documents = page["entries"]
    assert page["head"]["entryHash"] == documents[-1]["entry"]["entryHash"]
    for previous, current in itertools.pairwise(documents):
        assert current["entry"]["prevHash"] == previous["entry"]["entryHash"]
        assert current["entry"]["sequence"] == previous["entry"]["sequence"] + 1
    chain = served.gateway.stack.chain
    for document in documents:
        check = verify_access_log_entry(document, chain)
        assert check.valid, check.problems
        root = bytes.fromhex(document["batch"]["root"][2:])
        assert served.gateway.stack.ledger.batch(served.gateway.account.address, root).kind == BatchKind.ACCESS_LOG


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("requester", "0x0681f98d30D2f0C5BcdA7191709a5DB12d1C3Fd0", "entryHash"),
        ("purpose", "something else", "purposeHash"),
        ("releasedAt", 1, "entryHash"),
    ],
)
def test_an_altered_entry_fails_verification(served: Served, field: str, value: object, problem: str) -> None:
    """Changing any logged fact breaks the entry's hash or its proof."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    with served.client(SAMR) as client:
        client.record(record.record_id_hex, purpose="tamper-check")
    wait_entries_anchored(served)
    (document,) = entries_for(served, record.record_id_hex)
    forged = copy.deepcopy(document)
    forged["entry"][field] = value
    check = verify_access_log_entry(forged, served.gateway.stack.chain)
    assert not check.valid
    assert any(problem in p for p in check.problems)


def test_only_auditors_read_the_access_log(served: Served) -> None:
    """Departments and governors get 403 ACCESS_ROLE_REQUIRED."""
    for label in (SAMR, "governor-beijing"):
        with served.client(label) as client, pytest.raises(GatewayClientError) as caught:
            client.access_log()
        assert (caught.value.status, caught.value.code) == (403, "ACCESS_ROLE_REQUIRED")
