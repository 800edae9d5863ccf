"""Signed records for `credit-ledger bench`, prepared as a department would prepare them.

Preparing and signing records is the departments' work, not the gateway's: the benchmark
does it before its timed window, in a pool of worker processes, and hands the gateway
ready JSON bodies of `{"records": [...]}`. Every record is real: a valid unified social
credit code of its own, an administrative penalty payload of its own, a fresh recordSeed,
the EIP-712 signature of the demo consortium's market regulator (development keys).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass

from chain_client import LedgerDomain, RecordLeaf, catalog_id, checksummed, devnet_for
from credit_client.client import prepare_record
from gateway.infra.settings import DEV_SUBJECT_KEY
from gateway.infra.subject_ids import USCC_ALPHABET, uscc_check_character

PROVIDER_LABEL = "samr-beijing"
CATALOG_CODE = "BJ-XZCF-001"  # class A administrative penalties, sourced by samr-beijing


@dataclass(frozen=True)
class RecordSource:
    """Which ledger the records are signed for, and when they say they were issued."""

    chain_id: int
    ledger: str
    issued_at: int
    catalog_version: int = 1
    run: int = 0  # part of each subject code, so that two runs in one database never collide


def subject_code(run: int, index: int) -> str:
    """A valid unified social credit code, distinct for each (run, index) below 31**7 each."""
    digits = []
    for value, width in ((run, 2), (index, 7)):
        for _ in range(width):
            value, rest = divmod(value, len(USCC_ALPHABET))
            digits.append(USCC_ALPHABET[rest])
    first17 = "91110108" + "".join(digits)
    return first17 + uscc_check_character(first17)


def penalty_payload(index: int) -> dict[str, object]:
    """An administrative penalty of the demo catalog's schema, different for each index."""
    return {
        "subjectName": f"北京示例科技有限公司第{index}分公司",
        "decisionNumber": f"京市监罚〔2026〕{index}号",
        "violation": "虚假宣传",
        "penalty": {"kind": "fine", "amountYuan": 5000 + index % 100_000},
        "decidedOn": "2026-10-09",
        "authority": "北京市市场监督管理局",
        "caseOfficer": "not public",
    }


def random_leaves(count: int, provider: str) -> list[RecordLeaf]:
    """Leaves of the penalty entry with random subjects and contents: for the figures that
    need a leaf but no payload (gas, proof sizes)."""
    entry = catalog_id(CATALOG_CODE)
    return [
        RecordLeaf.create(
            catalog_id=entry,
            catalog_version=1,
            subject_tag=os.urandom(32),
            content_hash=os.urandom(32),
            provider=provider,
            issued_at=1_790_000_000,
        )
        for _ in range(count)
    ]


def prepare_body(source: RecordSource, start: int, count: int) -> bytes:
    """The JSON body of a bulk of `count` records, numbered from `start`."""
    provider = devnet_for(source.chain_id).by_label(PROVIDER_LABEL).account
    domain = LedgerDomain(chain_id=source.chain_id, verifying_contract=checksummed(source.ledger))
    records = [
        prepare_record(
            provider,
            domain,
            catalog_code=CATALOG_CODE,
            catalog_version=source.catalog_version,
            subject=subject_code(source.run, index),
            payload=penalty_payload(index),
            subject_key=DEV_SUBJECT_KEY,
            issued_at=source.issued_at,
        ).submission
        for index in range(start, start + count)
    ]
    return json.dumps({"records": records}, ensure_ascii=False, separators=(",", ":")).encode()


def preparation_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for preparing records (spawned: the caller may run threads)."""
    count = workers or max(1, min(2, os.cpu_count() or 1))
    return ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))


def prepare_bodies(pool: Executor, source: RecordSource, total: int, bulk: int, *, ahead: int = 4) -> Iterator[bytes]:
    """Bodies of `bulk` records (the last one may be smaller), in order, at most `ahead`
    of them prepared before they are asked for (a million records do not wait in memory)."""
    starts = iter(range(0, total, bulk))
    pending: deque[Future[bytes]] = deque()
    while True:
        while len(pending) < ahead and (start := next(starts, None)) is not None:
            pending.append(pool.submit(prepare_body, source, start, min(bulk, total - start)))
        if not pending:
            return
        yield pending.popleft().result()
