"""Operations and hygiene over HTTP: health, readiness, metrics, OpenAPI, error shape, logs, integrity."""

from __future__ import annotations

import json
import logging
import os
import re

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from credit_client.client import GatewayClientError
from gateway.infra.logs import JsonFormatter
from gateway.infra.storage import AnchorBatch, BatchState, OutboxKind, StoredRecord
from tests.support.payloads import PENALTY, SAMR, SECRET_MARK, penalty
from tests.support.served import Served, wait_until
from tests.support.subjects import new_uscc


def test_healthz_and_readyz_report_the_process_database_and_chain(served: Served) -> None:
    """/healthz is up; /readyz checks the database and that the chain holds our ledger."""
    assert httpx.get(served.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(served.url + "/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["database"], body["chain"], body["gatewayRole"]) == ("ready", True, True, True)
    assert body["chainId"] == served.gateway.stack.chain.chain_id


def test_metrics_expose_requests_records_and_the_anchoring_lag(served: Served) -> None:
    """/metrics is Prometheus text with request counters, record outcomes and the anchoring lag gauge."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    served.wait_anchored(record)
    text = httpx.get(served.url + "/metrics").text
    assert 'credit_ledger_http_requests_total{method="POST",route="/v1/records",status="200"}' in text
    assert 'credit_ledger_records_total{outcome="accepted"}' in text
    assert "credit_ledger_anchoring_lag_seconds 0.0" in text
    assert "credit_ledger_anchored_records_total" in text


def test_a_failing_batch_is_counted_and_holds_up_no_other(served: Served) -> None:
    """A batch the chain refuses counts in credit_ledger_anchoring_failures; records sent after it are anchored."""

    def failures() -> float:
        found = re.search(
            r"^credit_ledger_anchoring_failures_total (\S+)$", httpx.get(served.url + "/metrics").text, re.M
        )
        return float(found.group(1)) if found else 0.0

    with Session(served.gateway.engine) as session, session.begin():
        # More leaves than a batch may hold: anchorBatch reverts LedgerInvalidCount every round.
        refused = AnchorBatch(kind=OutboxKind.RECORD, state=BatchState.BUILDING, root=os.urandom(32), count=2**24)
        session.add(refused)
        session.flush()
        refused_id = refused.id
    try:
        record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
        served.wait_anchored(record)
        wait_until(lambda: failures() >= 1, timeout=10, what="the failed batch to be counted")
    finally:
        with Session(served.gateway.engine) as session, session.begin():
            session.execute(delete(AnchorBatch).where(AnchorBatch.id == refused_id))


def test_every_error_is_json_with_a_code(served: Served) -> None:
    """Unknown routes, wrong methods and invalid queries answer {code, message, detail}."""
    for method, path, status, code in [
        ("GET", "/nope", 404, "ROUTE_NOT_FOUND"),
        ("DELETE", "/healthz", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/public/v1/disclosures", 422, "REQUEST_INVALID"),
        ("GET", "/public/v1/disclosures?subject=91110108MA01C5XL6X", 422, "USCC_CHECK"),
    ]:
        response = httpx.request(method, served.url + path)
        assert response.status_code == status, path
        assert set(response.json()) == {"code", "message", "detail"}
        assert response.json()["code"] == code


def test_the_openapi_document_has_examples_and_a_response_model_per_route(served: Served) -> None:
    """The OpenAPI document describes every route with a response schema, and shows examples."""
    document = httpx.get(served.url + "/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
            success = operation["responses"].get("200") or operation["responses"].get("201")
            assert success is not None, (method, path)
    examples = document["paths"]["/v1/records"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"single", "bulk"}
    assert document["components"]["schemas"]["ConsentIn"]["examples"]
    assert document["components"]["schemas"]["SubmissionResponse"]["examples"]


def test_logs_are_json_and_never_hold_payloads_or_subject_ids(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    """Request logs carry route templates and codes, never payloads, subject ids or query strings."""
    subject = new_uscc()
    caplog.set_level(logging.INFO, logger="credit_ledger")
    record = served.submit(SAMR, PENALTY, subject, penalty())
    with served.client(SAMR) as client:
        client.record(record.record_id_hex, purpose="log-check")
        client.subject_records(subject)
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name.startswith("credit_ledger")]
    assert any(json.loads(line).get("route") == "/v1/subjects/{subject}/records" for line in lines)
    text = "\n".join(lines)
    for secret in (SECRET_MARK, subject, "log-check", record.submission["recordSeed"]):
        assert secret not in text


@pytest.mark.parametrize("column", ["ciphertext", "wrapped_key", "content_hash", "subject_ref", "subject_salt"])
def test_a_tampered_row_is_reported_and_never_served(served: Served, column: str) -> None:
    """Altering a stored row's ciphertext, wrapped key or hashes gives 500 RECORD_INTEGRITY_FAILED, no payload."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    with Session(served.gateway.engine) as session, session.begin():
        row = session.get_one(StoredRecord, record.leaf.record_id)
        value = bytearray(getattr(row, column))
        value[0] ^= 0x01
        setattr(row, column, bytes(value))
    with served.client(SAMR) as client, pytest.raises(GatewayClientError) as caught:
        client.record(record.record_id_hex)
    assert (caught.value.status, caught.value.code) == (500, "RECORD_INTEGRITY_FAILED")
    assert SECRET_MARK not in str(caught.value.detail)


def test_swapped_ciphertexts_are_detected(served: Served) -> None:
    """Moving one record's sealed payload onto another row is detected on read, for both rows."""
    first = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    second = served.submit(SAMR, PENALTY, new_uscc(), penalty(name="另一家公司"))
    with Session(served.gateway.engine) as session, session.begin():
        a = session.get_one(StoredRecord, first.leaf.record_id)
        b = session.get_one(StoredRecord, second.leaf.record_id)
        for column in ("ciphertext", "nonce", "wrapped_key", "key_nonce"):
            left, right = getattr(a, column), getattr(b, column)
            setattr(a, column, right)
            setattr(b, column, left)
    with served.client(SAMR) as client:
        for record in (first, second):
            with pytest.raises(GatewayClientError) as caught:
                client.record(record.record_id_hex)
            assert caught.value.code == "RECORD_INTEGRITY_FAILED"
