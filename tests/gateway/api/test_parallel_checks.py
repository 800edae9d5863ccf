"""A large bulk checked in worker processes gets exactly the outcomes of checking it in-process."""

from __future__ import annotations

from math import nan
from typing import Any

import pytest
from sqlalchemy.orm import Session

from gateway.infra.check_pool import pool_size
from gateway.records import checks as submissions
from gateway.records.checks import Outcome, SubmissionRules, accept_records
from tests.support.payloads import PENALTY, SAMR, TAX_ARREARS, penalty
from tests.support.served import Served
from tests.support.subjects import new_uscc, with_wrong_check


def _bulk(served: Served) -> list[Any]:
    records: list[Any] = [served.prepare(SAMR, PENALTY, new_uscc(), penalty()).submission for _ in range(30)]
    records[1] = {**records[1], "subject": with_wrong_check(records[1]["subject"])}  # never "0" when that is right
    records[3] = {**records[3], "catalogCode": "BJ-NOPE-001"}  # unknown entry
    records[5] = {**records[5], "catalogCode": ["not", "a", "code"]}  # malformed
    records[7] = {**records[7], "signature": records[8]["signature"]}  # another record's signature
    records[9] = {**records[9], "payload": {**records[9]["payload"], "penalty": {"kind": "flogging"}}}
    records[11] = {**records[11], "catalogCode": TAX_ARREARS}  # not the entry's source
    records[13] = {**records[13], "supersedes": "0x" + "ab" * 32}  # supersedes nothing held here
    records[15] = "not a record"
    records[17] = records[16]  # the same record twice: a duplicate
    records[19] = {**records[19], "payload": {**records[19]["payload"], "penalty": {"kind": "fine", "amountYuan": nan}}}
    return records


def _no_in_process_checks(*_args: object) -> None:
    raise AssertionError("the bulk was checked in-process, not in the worker processes")


def _outcomes(served: Served, items: list[Any]) -> list[tuple[Any, ...]]:
    gateway = served.gateway
    requester = served.account(SAMR).address
    with Session(gateway.engine) as session:
        outcomes: list[Outcome] = accept_records(
            session,
            gateway.keyring,
            items,
            requester=requester,
            rules=SubmissionRules.of(gateway),
            now=gateway.now(),
            atomic=False,
        )
        session.rollback()
    return [
        (o.index, o.status, o.record_id, o.error and (o.error.code, o.error.status, o.error.detail)) for o in outcomes
    ]


@pytest.mark.skipif(pool_size() == 0, reason="one core: bulks are always checked in-process")
def test_worker_processes_give_the_in_process_outcomes(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """Good, bad and duplicate records get the same status, code and detail either way."""
    items = _bulk(served)
    monkeypatch.setattr(submissions, "PARALLEL_MIN_RECORDS", 10**9)
    in_process = _outcomes(served, items)
    monkeypatch.setattr(submissions, "PARALLEL_MIN_RECORDS", 10)
    monkeypatch.setattr(submissions, "_CHUNK", 7)
    monkeypatch.setattr(submissions, "_ViewLookups", _no_in_process_checks)
    in_workers = _outcomes(served, items)
    assert in_workers == in_process
    codes = {outcome[3][0] for outcome in in_process if outcome[3]}
    assert codes == {
        "USCC_CHECK",
        "CATALOG_UNKNOWN_ENTRY",
        "RECORD_MALFORMED",
        "RECORD_BAD_SIGNATURE",
        "PAYLOAD_SCHEMA_VIOLATION",
        "CATALOG_NOT_SOURCE",
        "RECORD_SUPERSEDES_UNKNOWN",
    }
    assert [outcome[1] for outcome in in_process].count("duplicate") == 1
    assert in_process[19][3][:2] == ("PAYLOAD_SCHEMA_VIOLATION", 422)  # NaN has no JCS form: rejected, not a 500
