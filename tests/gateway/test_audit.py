"""`credit-ledger audit` on a real gateway: a clean database passes, each tampered row is named.

The gateway runs with its worker off, anchoring on demand, so that a tampered batch
state stays as the test left it; every test restores what it altered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from credit_cli.audit import audit as audit_command
from credit_client.client import GatewayClientError, PreparedRecord
from gateway.infra.settings import Settings
from gateway.infra.storage import AccessLogEntry, AnchorBatch, BatchState, OutboxEntry, StoredRecord
from gateway.records.audit import Check, audit
from tests.support.databases import postgres_database
from tests.support.hardhat import free_port, start_node
from tests.support.payloads import PENALTY, SAMR, SECRET_MARK, penalty
from tests.support.served import Served, serve_gateway
from tests.support.subjects import new_uscc

AUDITOR = "auditor-hebei"
PURPOSE = "audit-test"

FindingKey = tuple[str, str, str]
Anchored = TypeVar("Anchored", StoredRecord, AccessLogEntry)


@dataclass
class Audited:
    """A served gateway holding three anchored records and three anchored access-log entries."""

    served: Served
    records: list[PreparedRecord]
    args: list[str]

    @property
    def engine(self) -> Engine:
        """The gateway's database."""
        return self.served.gateway.engine

    def batch_of(self, model: type[Anchored], key: object) -> int:
        """The batch a stored record or access-log entry is anchored in."""
        with Session(self.engine) as session:
            batch_id = session.get_one(model, key).batch_id
        assert batch_id is not None
        return batch_id


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def audited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    """Records submitted, anchored, read in full (three logged releases), and the log anchored."""
    data_dir = tmp_path_factory.mktemp("audit")
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if request.param == "postgresql" else None
        settings = Settings(data_dir=data_dir, database_url=url, start_worker=False, chain_poll_interval_s=0.5)
        served = stack.enter_context(serve_gateway(settings))
        records = [served.submit(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(3)]
        served.gateway.anchor_now()
        with served.client(SAMR) as client:
            for record in records:
                client.record(record.record_id_hex, purpose=PURPOSE)
        served.gateway.anchor_now()
        args = ["--data-dir", str(data_dir), "--page-size", "2"]
        if url is not None:
            args += ["--database-url", url]
        yield Audited(served, records, args)


def run_audit(audited: Audited, *extra: str) -> tuple[int, set[FindingKey], dict[str, Any]]:
    """The exit code, the (table, key, check) of each finding, and the JSON report."""
    result = CliRunner().invoke(audit_command, [*audited.args, "--json", *extra])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, {(f["table"], f["key"], f["check"]) for f in report["findings"]}, report


def run_text(audited: Audited) -> Result:
    """The text report, checked to hold no payload field and no subject id."""
    result = CliRunner().invoke(audit_command, audited.args)
    for secret in (SECRET_MARK, *(r.submission["subject"] for r in audited.records)):
        assert secret not in result.output
    return result


def tampered(audited: Audited, model: type[Any], key: object, **changes: Any) -> AbstractContextManager[None]:
    """Columns of one row altered in the audited database, restored afterwards."""
    return tampered_engine(audited.engine, model, key, **changes)


@contextmanager
def tampered_engine(engine: Engine, model: type[Any], key: object, **changes: Any) -> Iterator[None]:
    """Columns of one row altered in a database, restored afterwards."""
    with Session(engine) as session, session.begin():
        row = session.get_one(model, key)
        before = {name: getattr(row, name) for name in changes}
        for name, value in changes.items():
            setattr(row, name, value)
    try:
        yield
    finally:
        with Session(engine) as session, session.begin():
            row = session.get_one(model, key)
            for name, value in before.items():
                setattr(row, name, value)


def flipped(value: bytes, at: int = 0) -> bytes:
    """The value with one bit of one byte changed."""
    return value[:at] + bytes([value[at] ^ 0x01]) + value[at + 1 :]


def read_fails_integrity(audited: Audited, record: PreparedRecord) -> None:
    """A member's read of the record answers 500 RECORD_INTEGRITY_FAILED, and the failure is counted."""
    failures = audited.served.gateway.metrics.integrity_failures
    before = failures._value.get()
    with audited.served.client(SAMR) as client, pytest.raises(GatewayClientError) as caught:
        client.record(record.record_id_hex, purpose=PURPOSE)
    assert (caught.value.status, caught.value.code) == (500, "RECORD_INTEGRITY_FAILED")
    assert failures._value.get() == before + 1


def test_a_clean_database_passes_page_by_page(audited: Audited) -> None:
    """Every row of an untouched database passes, read in pages smaller than its tables; exit 0."""
    code, findings, report = run_audit(audited)
    assert (code, findings) == (0, set())
    assert report["counts"] == {"records": 3, "batches": 2, "accessLogEntries": 3, "outboxEntries": 6}
    assert report["notChecked"] == ["anchored roots on chain (needs the chain)"]
    text = run_text(audited)
    assert text.exit_code == 0, text.output
    assert "CLEAN: every row passed" in text.output


def test_a_flipped_ciphertext_byte_is_named_and_not_served(audited: Audited) -> None:
    """One altered byte of a payload's ciphertext fails its AES-GCM tag: the row is named, the read refused."""
    record = audited.records[0]
    row_key = record.leaf.record_id
    with Session(audited.engine) as session:
        ciphertext = session.get_one(StoredRecord, row_key).ciphertext
    with tampered(audited, StoredRecord, row_key, ciphertext=flipped(ciphertext, 5)):
        code, findings, _ = run_audit(audited)
        assert (code, findings) == (1, {("records", record.record_id_hex, Check.SEAL)})
        text = run_text(audited)
        assert text.exit_code == 1
        assert f"FAIL records {record.record_id_hex} seal: the payload ciphertext does not authenticate" in text.output
        assert "BAD: 1 rows failed 1 checks" in text.output
        read_fails_integrity(audited, record)
    assert run_audit(audited)[0] == 0


def test_a_row_naming_an_unknown_key_encryption_key_is_named_and_not_served(audited: Audited) -> None:
    """A kek_id the keyring lacks (a row moved from elsewhere, or altered) is a seal failure, never a 500 crash."""
    record = audited.records[0]
    with tampered(audited, StoredRecord, record.leaf.record_id, kek_id="kek-from-elsewhere"):
        code, findings, _ = run_audit(audited)
        assert (code, findings) == (1, {("records", record.record_id_hex, Check.SEAL)})
        read_fails_integrity(audited, record)


def test_an_altered_content_hash_is_named_with_its_batch_and_not_served(audited: Audited) -> None:
    """A stored contentHash no longer gives the recordId, the payload's hash, the signature or the batch root."""
    record = audited.records[1]
    row_key = record.leaf.record_id
    batch_id = audited.batch_of(StoredRecord, row_key)
    with tampered(audited, StoredRecord, row_key, content_hash=flipped(record.leaf.content_hash)):
        code, findings, _ = run_audit(audited)
        assert code == 1
        assert findings == {
            ("records", record.record_id_hex, Check.RECORD_ID),
            ("records", record.record_id_hex, Check.CONTENT_HASH),
            ("records", record.record_id_hex, Check.SIGNATURE),
            ("anchor_batches", str(batch_id), Check.BATCH_ROOT),
        }
        read_fails_integrity(audited, record)


def test_an_altered_batch_state_is_named_and_not_served(audited: Audited) -> None:
    """An anchored batch set back to SUBMITTED while it records its anchoring block is named and refused."""
    batch_id = audited.batch_of(StoredRecord, audited.records[0].leaf.record_id)
    with tampered(audited, AnchorBatch, batch_id, state=BatchState.SUBMITTED):
        code, findings, report = run_audit(audited)
        read_fails_integrity(audited, audited.records[0])
    assert (code, findings) == (1, {("anchor_batches", str(batch_id), Check.BATCH_STATE)})
    assert report["findings"][0]["reason"] == "SUBMITTED but it records an anchoring block or time"


def test_an_altered_access_log_entry_is_named_and_fails_verification(audited: Audited) -> None:
    """An entry whose release time was changed no longer gives its entryHash nor its batch the anchored root."""
    with Session(audited.engine) as session:
        entry = session.get_one(AccessLogEntry, 2)
        released_at, record_id = entry.released_at, entry.record_id
    batch_id = audited.batch_of(AccessLogEntry, 2)
    with tampered(audited, AccessLogEntry, 2, released_at=released_at + 1):
        code, findings, _ = run_audit(audited)
        assert code == 1
        assert findings == {
            ("access_log", "2", Check.ENTRY_HASH),
            ("anchor_batches", str(batch_id), Check.BATCH_ROOT),
        }
        # The gateway no longer serves that batch's entries: its rows do not give the anchored root.
        with audited.served.client(AUDITOR) as auditor, pytest.raises(GatewayClientError) as refused:
            auditor.access_log(record="0x" + record_id.hex())
        assert (refused.value.status, refused.value.code) == (500, "ACCESS_LOG_INTEGRITY_FAILED")


def test_a_removed_access_log_entry_breaks_the_hash_chain(audited: Audited) -> None:
    """Deleting an entry leaves a gap in the sequence, a batch short of its count and an orphan outbox entry."""
    with Session(audited.engine) as session:
        entry = session.get_one(AccessLogEntry, 2)
        saved = {c.key: getattr(entry, c.key) for c in AccessLogEntry.__table__.columns}
        outbox_id = session.scalars(select(OutboxEntry.id).where(OutboxEntry.ref == entry.entry_hash)).one()
    with Session(audited.engine) as session, session.begin():
        session.delete(session.get_one(AccessLogEntry, 2))
    try:
        code, findings, _ = run_audit(audited)
    finally:
        with Session(audited.engine) as session, session.begin():
            session.add(AccessLogEntry(**saved))
    assert code == 1
    assert findings == {
        ("access_log", "3", Check.SEQUENCE),
        ("anchor_batches", str(saved["batch_id"]), Check.BATCH_MEMBERS),
        ("anchor_batches", str(saved["batch_id"]), Check.BATCH_ROOT),
        ("outbox", str(outbox_id), Check.OUTBOX),
    }
    assert run_audit(audited)[0] == 0


def test_anchored_roots_are_checked_on_the_chain(audited: Audited) -> None:
    """Given the ledger, each anchored batch must be on chain with its kind, count, block and time."""
    gateway = audited.served.gateway
    clean = audit(gateway.engine, gateway.keyring, subject_key=gateway.subject_key, ledger=gateway.stack.ledger)
    assert (clean.clean, clean.chain_id, clean.not_checked) == (True, gateway.stack.chain.chain_id, ())
    batch_id = audited.batch_of(StoredRecord, audited.records[0].leaf.record_id)
    with Session(audited.engine) as session:
        anchored_at = session.get_one(AnchorBatch, batch_id).anchored_at
    assert anchored_at is not None
    with tampered(audited, AnchorBatch, batch_id, anchored_at=anchored_at + 60):
        report = audit(gateway.engine, gateway.keyring, ledger=gateway.stack.ledger, page_size=1)
    assert [(f.table, f.key, f.check) for f in report.findings] == [("anchor_batches", str(batch_id), Check.ON_CHAIN)]
    assert "not as stored" in report.findings[0].reason


def test_configuration_and_connection_errors_exit_2(audited: Audited, tmp_path: Path) -> None:
    """No database, an empty data directory, no keyring or an unreachable chain: exit 2, nothing audited."""
    database = ["--database-url", str(audited.engine.url.render_as_string(hide_password=False))]
    cases = {
        "give --database-url or --data-dir": [],
        "CONFIG_NO_DATABASE": ["--data-dir", str(tmp_path)],
        "CONFIG_SECRET_MISSING": database,
        "CONFIG_CHAIN_UNREACHABLE": [*audited.args, "--rpc", f"http://127.0.0.1:{free_port()}"],
    }
    for message, args in cases.items():
        result = CliRunner().invoke(audit_command, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr
    assert not (tmp_path / "gateway.db").exists()


@pytest.mark.hardhat
def test_with_rpc_every_anchored_root_is_checked_on_the_chain(tmp_path: Path) -> None:
    """Against a Hardhat node, a clean database passes online; a batch root altered in the database is not on chain."""
    node = start_node(tmp_path / "node.log")
    try:
        settings = Settings(data_dir=tmp_path / "gateway", rpc_url=node.url, start_worker=False)
        with serve_gateway(settings) as served:
            records = [served.submit(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(2)]
            with served.client(SAMR) as client:
                client.record(records[0].record_id_hex, purpose=PURPOSE)
            served.gateway.anchor_now()
            args = ["--data-dir", str(tmp_path / "gateway"), "--rpc", node.url, "--json"]
            clean = CliRunner().invoke(audit_command, args)
            assert clean.exit_code == 0, clean.output
            report = json.loads(clean.stdout)
            assert (report["chainId"], report["notChecked"], report["counts"]["batches"]) == (31337, [], 2)
            with Session(served.gateway.engine) as session:
                batch = session.get_one(AnchorBatch, session.get_one(StoredRecord, records[0].leaf.record_id).batch_id)
                batch_id, root = batch.id, batch.root
            with tampered_engine(served.gateway.engine, AnchorBatch, batch_id, root=flipped(root)):
                bad = CliRunner().invoke(audit_command, args)
        assert bad.exit_code == 1, bad.output
        findings = {(f["table"], f["key"], f["check"]) for f in json.loads(bad.stdout)["findings"]}
        assert findings == {
            ("anchor_batches", str(batch_id), Check.BATCH_ROOT),
            ("anchor_batches", str(batch_id), Check.ON_CHAIN),
        }
    finally:
        node.stop()
