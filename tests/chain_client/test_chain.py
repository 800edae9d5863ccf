"""Chain: one interface over py-evm and JSON-RPC nodes."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain_client import BEIJING, Chain, ChainUnavailableError, Stack
from chain_client.contracts.chain import EMBEDDED_CHAIN_ID, HARDHAT_CHAIN_ID
from chain_client.dev import DevChain
from tests.support.hardhat import free_port, start_node


def test_chain_reports_its_identity(chain: Chain) -> None:
    """A chain knows its id, its genesis hash and that it is a development chain."""
    assert chain.chain_id in {EMBEDDED_CHAIN_ID, HARDHAT_CHAIN_ID}
    assert len(chain.genesis_hash) == 32
    assert chain.is_development
    assert chain.is_embedded == (chain.chain_id == EMBEDDED_CHAIN_ID)


def test_code_hash_of_an_account_without_code_is_the_empty_hash(chain: Chain) -> None:
    """code_hash of an externally owned account is keccak256 of no bytes."""
    assert chain.code_hash(Account.create().address).hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


def test_increase_time_moves_block_time(chain: Chain) -> None:
    """increase_time mines a block at least that many seconds later."""
    before = chain.latest_timestamp()
    chain.increase_time(3600)
    assert chain.latest_timestamp() >= before + 3600


def test_snapshot_and_revert_undo_changes(stack: Stack) -> None:
    """Reverting to a snapshot forgets the blocks mined after it."""
    chain = stack.chain
    height = chain.block_number()
    snapshot = chain.snapshot()
    chain.increase_time(10)
    assert chain.block_number() > height
    chain.revert_to(snapshot)
    assert chain.block_number() == height


def test_connect_to_a_closed_port_raises_chain_unavailable() -> None:
    """A node that does not answer is a ChainUnavailableError, not a raw requests error."""
    with pytest.raises(ChainUnavailableError, match="unreachable"):
        DevChain.connect(f"http://127.0.0.1:{free_port()}", timeout=2)


def test_embedded_chains_are_distinct() -> None:
    """Two embedded chains share the chain id but not the genesis hash."""
    first, second = DevChain.embedded(), DevChain.embedded()
    assert first.chain_id == second.chain_id == EMBEDDED_CHAIN_ID
    assert first.genesis_hash != second.genesis_hash


def test_threads_sending_as_one_account_never_share_a_nonce(stack: Stack, gateway: LocalAccount) -> None:
    """A gateway's worker and its relayed lifecycle steps send as one account at once."""
    roots = [os.urandom(32) for _ in range(12)]
    errors: list[BaseException] = []

    def anchor(mine: list[bytes]) -> None:
        try:
            for root in mine:
                stack.ledger.anchor_batch(gateway, root, 1)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=anchor, args=(roots[i::3],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert all(stack.ledger.batch(gateway.address, root).count == 1 for root in roots)


@pytest.mark.hardhat
def test_a_node_started_in_the_past_sets_the_clock_of_whoever_connects(tmp_path: Path) -> None:
    """A Hardhat node started at a fixed past date (as the demo starts it) runs there, and a Chain connecting
    to it follows its clock behind the wall clock, before and after blocks are mined."""
    start = int(dt.datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING).timestamp())
    node = start_node(tmp_path / "node.log", start_time=start)
    try:
        chain = DevChain.connect(node.url)
        assert abs(chain.now() - start) < 60
        assert abs(chain.latest_timestamp() - start) < 60
        chain.mine()
        chain.observe_block_time()
        assert abs(chain.now() - chain.latest_timestamp()) < 60
        assert chain.now() < time.time() - 86_400  # behind the wall clock, whatever today is
    finally:
        node.stop()
