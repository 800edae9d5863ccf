"""Group commit of the access log (issue 17, point 2), on SQLite and PostgreSQL.

Concurrent full reads over real HTTP are logged in shared transactions: one entry per
release, the sequence gap-free and the hash chain unbroken, groups of more than one entry
seen in `credit_ledger_access_log_group_size`, each read's nonce recorded in its entry's
transaction. A replayed nonce in a group is refused alone; the others of its group succeed.
Query registrations (查询登记) are group-committed the same way, each registered once.
Two engines on one database (two processes, as `serve --workers` runs them) append
concurrently to one unbroken chain.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from chain_client import NO_CONSENT, AccessLogLeaf, purpose_hash
from gateway.infra.errors import AuthError
from gateway.infra.group_commit import GroupCommit
from gateway.infra.nonces import NonceStore, PendingNonce
from gateway.infra.request_auth import sign_request
from gateway.infra.settings import Settings
from gateway.infra.storage import AccessLogEntry, RequestNonce, SubjectLookup
from gateway.infra.subject_ids import parse_subject
from gateway.records.access_log import Append, append_entry, commit_group
from tests.support.databases import postgres_database
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import Served, serve_gateway
from tests.support.subjects import new_uscc

READERS = 24  # concurrent reads per round
ROUNDS = 10  # rounds at most until a group of more than one entry is seen
READER_ADDRESS = "0x" + "11" * 20


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway on the embedded chain, its database SQLite or PostgreSQL."""
    data_dir = tmp_path_factory.mktemp("gateway")
    if request.param == "sqlite":
        with serve_gateway(Settings(data_dir=data_dir, batch_interval_s=0.1)) as running:
            yield running
        return
    with postgres_database() as url, serve_gateway(Settings(data_dir=data_dir, database_url=url)) as running:
        yield running


def assert_chain_unbroken(engine: Engine) -> list[AccessLogEntry]:
    """Every entry of the log: sequences 1..n without a gap, each linked to and hashing as the one before."""
    with Session(engine) as session:
        rows = list(session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.sequence)))
    previous = bytes(32)
    for expected, row in enumerate(rows, start=1):
        assert row.sequence == expected
        assert row.prev_hash == previous
        leaf = AccessLogLeaf(
            sequence=row.sequence,
            prev_hash=row.prev_hash,
            requester=row.requester,
            record_id=row.record_id,
            purpose_hash=purpose_hash(row.purpose),
            consent_id=row.consent_id,
            released_at=row.released_at,
        )
        assert leaf.entry_hash() == row.entry_hash
        previous = row.entry_hash
    return rows


def groups(served: Served, histogram: str = "credit_ledger_access_log_group_size") -> tuple[float, float]:
    """How many groups were committed, and how many of them held one member only."""
    registry = served.gateway.metrics.registry
    total = registry.get_sample_value(f"{histogram}_count") or 0.0
    single = registry.get_sample_value(f"{histogram}_bucket", {"le": "1.0"}) or 0.0
    return total, single


def signed_read(served: Served, record_id: str) -> tuple[str, dict[str, str]]:
    path = f"/v1/records/{record_id}"
    headers = sign_request(
        served.account(SAMR), "GET", path, [], b"", audience=served.gateway.audience, timestamp=int(time.time())
    )
    return path, headers


def test_concurrent_reads_share_commits_one_entry_each_on_an_unbroken_chain(served: Served) -> None:
    """Concurrent full reads: each logged once, with its nonce, in groups larger than one; the chain holds."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    sequences: list[int] = []
    with httpx.Client(timeout=60) as http, ThreadPoolExecutor(READERS) as pool:
        for _ in range(ROUNDS):
            requests = [signed_read(served, record.record_id_hex) for _ in range(READERS)]
            answers = list(pool.map(lambda r: http.get(served.url + r[0], headers=r[1]), requests))
            assert [a.status_code for a in answers] == [200] * READERS
            sequences += [a.json()["accessLogSequence"] for a in answers]
            total, single = groups(served)
            if total > single:
                break
    total, single = groups(served)
    assert total > single, "no group of more than one entry was committed"
    rows = assert_chain_unbroken(served.gateway.engine)
    mine = [row.sequence for row in rows if row.record_id == record.leaf.record_id]
    assert sorted(sequences) == mine  # one entry per release, each the one its answer named
    with Session(served.gateway.engine) as session:
        address = served.account(SAMR).address
        used = session.scalar(select(func.count()).select_from(RequestNonce).where(RequestNonce.address == address))
    assert (used or 0) >= len(sequences)  # every read's nonce recorded


def test_the_same_read_sent_concurrently_is_answered_once_and_the_others_are_replays(served: Served) -> None:
    """One pre-signed read sent many times among distinct reads: one answer, replays refused, the rest served."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    replayed = signed_read(served, record.record_id_hex)
    requests = [replayed] * (READERS // 2) + [signed_read(served, record.record_id_hex) for _ in range(READERS // 2)]
    with httpx.Client(timeout=60) as http, ThreadPoolExecutor(READERS) as pool:
        answers = list(pool.map(lambda r: http.get(served.url + r[0], headers=r[1]), requests))
    replays = answers[: READERS // 2]
    assert sorted(a.status_code for a in replays) == [200] + [401] * (READERS // 2 - 1)
    assert {a.json()["code"] for a in replays if a.status_code == 401} == {"AUTH_REPLAYED"}
    assert [a.status_code for a in answers[READERS // 2 :]] == [200] * (READERS // 2)
    rows = assert_chain_unbroken(served.gateway.engine)
    assert len([row for row in rows if row.record_id == record.leaf.record_id]) == READERS // 2 + 1


def test_a_read_that_releases_nothing_still_uses_its_nonce(served: Served) -> None:
    """A read answered with an error (no release, no entry) records its nonce before the answer: a replay is refused."""
    path, headers = signed_read(served, "0x" + "ab" * 32)
    first = httpx.get(served.url + path, headers=headers, timeout=30)
    assert (first.status_code, first.json()["code"]) == (404, "RECORD_NOT_FOUND")
    again = httpx.get(served.url + path, headers=headers, timeout=30)
    assert (again.status_code, again.json()["code"]) == (401, "AUTH_REPLAYED")


def append(nonce: PendingNonce | None, record: int = 1) -> Append:
    return Append(
        requester=READER_ADDRESS,
        record_id=bytes([record]) * 32,
        purpose="credit-review",
        consent_id=None,
        now=1_700_000_000,
        nonce=nonce,
    )


def test_a_replayed_nonce_in_a_group_is_refused_alone(engine: Engine) -> None:
    """In one group: a nonce used before and a nonce used twice are refused; the other members are committed."""
    nonces = NonceStore(engine, window_s=300)
    nonces.use(READER_ADDRESS, "used-before", 1_700_000_000)
    fresh = nonces.pending(READER_ADDRESS, "fresh", 1_700_000_000)
    twice = [PendingNonce(READER_ADDRESS, "twice", 1_700_000_400) for _ in range(2)]
    members = [
        append(fresh),
        append(PendingNonce(READER_ADDRESS, "used-before", 1_700_000_400)),
        append(twice[0]),
        append(None),
        append(twice[1]),
    ]
    commit_group(engine, members)
    assert [m.error is None for m in members] == [True, False, True, True, False]
    assert {m.error.code for m in members if isinstance(m.error, AuthError)} == {"AUTH_REPLAYED"}
    assert [m.leaf.sequence for m in members if m.leaf is not None] == [1, 2, 3]
    assert [fresh.used, twice[0].used, twice[1].used] == [True, True, False]
    assert len(assert_chain_unbroken(engine)) == 3
    with pytest.raises(AuthError) as refused:
        nonces.use(READER_ADDRESS, "fresh", 1_700_000_000)  # recorded with its entry
    assert refused.value.code == "AUTH_REPLAYED"
    assert [e.consent_id for e in assert_chain_unbroken(engine)] == [NO_CONSENT] * 3


def test_two_processes_append_to_one_unbroken_chain(engine: Engine, tmp_path: Path) -> None:
    """Two engines with a group commit each (two gateway processes) append concurrently: no gap, no fork."""
    from gateway.infra.storage import connect

    other = connect(engine.url.render_as_string(hide_password=False))
    writers = [(engine, GroupCommit[Append]()), (other, GroupCommit[Append]())]

    def write(index: int) -> int:
        target, group = writers[index % 2]
        leaf = append_entry(
            target,
            group,
            requester=READER_ADDRESS,
            record_id=bytes([index % 250 + 1]) * 32,
            purpose="audit",
            consent_id=None,
            now=1_700_000_000,
            nonce=PendingNonce(READER_ADDRESS, f"n{index}", 1_700_000_400),
        )
        return leaf.sequence

    try:
        with ThreadPoolExecutor(16) as pool:
            sequences = list(pool.map(write, range(200)))
    finally:
        other.dispose()
    assert sorted(sequences) == list(range(1, 201))
    assert len(assert_chain_unbroken(engine)) == 200


def signed_measures(served: Served, subject: str) -> tuple[str, dict[str, str]]:
    path = f"/v1/subjects/{subject}/measures"
    query = [("scope", "region")]
    timestamp = int(time.time())
    headers = sign_request(
        served.account(SAMR), "GET", path, query, b"", audience=served.gateway.audience, timestamp=timestamp
    )
    return path + "?scope=region", headers


def test_concurrent_queries_by_subject_are_registered_once_each_in_shared_commits(served: Served) -> None:
    """Concurrent measures reads of distinct subjects (查询登记 before each answer): each registered
    once with its nonce, in groups larger than one; a copy of one of them in the same burst is
    refused alone and registers nothing."""
    address = served.account(SAMR).address
    asked: list[str] = []
    with httpx.Client(timeout=60) as http, ThreadPoolExecutor(READERS) as pool:
        for _ in range(ROUNDS):
            subjects = [new_uscc() for _ in range(READERS - 1)]
            asked += subjects
            requests = [signed_measures(served, subject) for subject in subjects]
            requests.append(requests[0])  # a copy of the first read, sent in the same burst
            answers = list(pool.map(lambda r: http.get(served.url + r[0], headers=r[1]), requests))
            codes = sorted(a.json().get("code", "ok") if a.status_code != 200 else "ok" for a in answers)
            assert codes == ["AUTH_REPLAYED"] + ["ok"] * (READERS - 1)
            total, single = groups(served, "credit_ledger_lookup_group_size")
            if total > single:
                break
    total, single = groups(served, "credit_ledger_lookup_group_size")
    assert total > single, "no group of more than one registration was committed"
    refs = [served.gateway.subject_ref(parse_subject(subject)) for subject in asked]
    with Session(served.gateway.engine) as session:
        registered = session.execute(
            select(SubjectLookup.subject_ref, func.count())
            .where(SubjectLookup.subject_ref.in_(refs), SubjectLookup.requester == address)
            .group_by(SubjectLookup.subject_ref)
        ).all()
    assert sorted(registered) == sorted((ref, 1) for ref in refs)  # each subject's query registered once
