"""A real gateway served over HTTP on loopback: Gateway.open, its worker, uvicorn in a thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import Chain, catalog_id, devnet_for
from credit_client.client import GatewayClient, PreparedRecord, prepare_record
from credit_demo.catalog import open_gateway
from gateway.infra.service import Gateway
from gateway.infra.settings import Settings
from gateway.infra.storage import AnchorBatch, BatchState, StoredRecord
from gateway.serving import serve_in_thread


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll a condition until it holds; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Served:
    """A running gateway and its base URL."""

    gateway: Gateway
    url: str

    def account(self, label: str) -> LocalAccount:
        """A development account of the demo consortium."""
        return devnet_for(self.gateway.stack.chain.chain_id).by_label(label).account

    def client(self, label: str | None = None, **kwargs: Any) -> GatewayClient:
        """A client signing as a demo member (anonymous without a label)."""
        return GatewayClient(self.url, self.account(label) if label else None, **kwargs)

    def prepare(self, label: str, code: str, subject: str, payload: dict[str, Any], **kwargs: Any) -> PreparedRecord:
        """A record signed by a demo department for this gateway's ledger."""
        version = self.gateway.view.entry(catalog_id(code)).version
        kwargs.setdefault("issued_at", self.gateway.now())  # the chain's clock, which may run in the past
        return prepare_record(
            self.account(label),
            self.gateway.stack.ledger.domain,
            catalog_code=code,
            catalog_version=kwargs.pop("catalog_version", version),
            subject=subject,
            payload=payload,
            subject_key=self.gateway.subject_key,
            **kwargs,
        )

    def submit(self, label: str, code: str, subject: str, payload: dict[str, Any], **kwargs: Any) -> PreparedRecord:
        """Prepare and submit a record; asserts it was accepted."""
        record = self.prepare(label, code, subject, payload, **kwargs)
        with self.client(label) as client:
            result = client.submit_record(record.submission)
        assert result["results"][0]["status"] == "accepted", result
        return record

    def wait_anchored(self, *records: PreparedRecord, timeout: float = 30.0) -> None:
        """Wait until the worker has anchored these records."""
        ids = [r.leaf.record_id for r in records]

        def anchored() -> bool:
            with Session(self.gateway.engine) as session:
                states = session.scalars(
                    select(AnchorBatch.state)
                    .join(StoredRecord, StoredRecord.batch_id == AnchorBatch.id)
                    .where(StoredRecord.record_id.in_(ids))
                ).all()
            return len(states) == len(ids) and all(s == BatchState.ANCHORED for s in states)

        wait_until(anchored, timeout=timeout, what="records anchored")


@contextmanager
def serve_gateway(settings: Settings, *, chain: Chain | None = None) -> Iterator[Served]:
    """Open and start a gateway, serve it with uvicorn on a free loopback port, stop it after."""
    gateway = open_gateway(settings, chain=chain)
    gateway.start()
    try:
        with serve_in_thread(gateway) as server:
            yield Served(gateway, server.url)
    finally:
        gateway.stop()
