"""`credit-ledger node`: the embedded chain over JSON-RPC, killed with SIGKILL and started again on its journal."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from chain_client import (
    ContractRevertError,
    DeploymentRecord,
    Stack,
    attach_stack,
    deploy_demo_stack,
    devnet_for,
)
from chain_client.contracts.chain import EMBEDDED_CHAIN_ID
from chain_client.dev import DevChain
from chain_client.dev.node import JOURNAL_FILE, DevNode, NodeJournalError
from credit_cli.node import NodeProcess, node

GATEWAY = "gateway-beijing"


@dataclass(frozen=True)
class Origin:
    """A journal in which the demo stack was deployed and one batch anchored, by a node since killed."""

    journal: Path
    record: DeploymentRecord
    root: bytes
    anchor_tx: bytes


def gateway_account() -> LocalAccount:
    return devnet_for(EMBEDDED_CHAIN_ID).by_label(GATEWAY).account


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Origin:
    """Deploy over JSON-RPC to a node process, anchor a batch, then SIGKILL the node."""
    base = tmp_path_factory.mktemp("origin")
    process = NodeProcess(base / "data", base / "node.log")
    try:
        stack = deploy_demo_stack(DevChain.connect(process.start()))
        root = os.urandom(32)
        receipt = stack.ledger.anchor_batch(gateway_account(), root, 5)
    finally:
        process.kill()
    return Origin(base / "data" / JOURNAL_FILE, stack.record, root, bytes(receipt["transactionHash"]))


def copy_of(origin: Origin, tmp_path: Path) -> Path:
    """A data directory holding a copy of the origin's journal."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(origin.journal, data_dir / JOURNAL_FILE)
    return data_dir


@pytest.fixture
def process(origin: Origin, tmp_path: Path) -> Iterator[NodeProcess]:
    """A node process started on a copy of the origin's journal."""
    started = NodeProcess(copy_of(origin, tmp_path), tmp_path / "node.log")
    started.start()
    yield started
    started.stop()


@pytest.fixture
def served(origin: Origin, tmp_path: Path) -> Iterator[str]:
    """A node on a copy of the origin's journal, served from a thread of this process; its URL."""
    dev = DevNode.open(copy_of(origin, tmp_path))
    server = dev.serve()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    dev.close()


def rpc(dev: DevNode, method: str, *params: Any) -> Any:
    """One JSON-RPC request to an in-process node; its result, or its error object."""
    answer = dev.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    return answer["result"] if "result" in answer else answer["error"]


def what_the_chain_holds(stack: Stack, tx_hashes: list[bytes], roots: list[bytes]) -> dict[str, Any]:
    """Everything the restart must keep: the latest block, contract code, receipts, contract reads."""
    chain, w3 = stack.chain, stack.chain.w3
    return {
        "latest": dict(w3.eth.get_block("latest")),
        "code": {name: chain.code(c.address) for name, c in stack.record.contracts.items()},
        "receipts": [dict(w3.eth.get_transaction_receipt(h)) for h in tx_hashes],  # type: ignore[arg-type]
        "batches": [stack.ledger.batch(gateway_account().address, root) for root in roots],
        "gateway": stack.consortium.member(gateway_account().address),
        "threshold": stack.consortium.threshold(),
    }


def test_a_killed_node_restarts_with_the_same_chain_and_clock(origin: Origin, process: NodeProcess) -> None:
    """After SIGKILL and a restart on the same directory and port: same blocks, code, receipts, reads and clock."""
    stack = attach_stack(DevChain.connect(process.url), origin.record)
    root = os.urandom(32)
    receipt = stack.ledger.anchor_batch(gateway_account(), root, 7)
    stack.chain.increase_time(3600)
    txs = [bytes.fromhex(c.tx_hash.removeprefix("0x")) for c in origin.record.contracts.values()]
    txs += [origin.anchor_tx, bytes(receipt["transactionHash"])]
    before = what_the_chain_holds(stack, txs, [origin.root, root])
    url = process.url

    process.kill()
    process.start()

    assert process.url == url
    again = attach_stack(DevChain.connect(url), origin.record)  # genesis and code hashes as recorded
    assert what_the_chain_holds(again, txs, [origin.root, root]) == before
    started = int(time.time())
    again.chain.mine()
    assert again.chain.latest_timestamp() >= started + 3600  # the clock kept its lead


def test_a_transaction_answered_just_before_the_kill_survives(origin: Origin, process: NodeProcess) -> None:
    """A raw transaction the node answered, then SIGKILL at once: after the restart it is mined, the nonce goes on."""
    chain = DevChain.connect(process.url)
    stack = attach_stack(chain, origin.record)
    gateway, root = gateway_account(), os.urandom(32)
    with chain.sending_as(gateway.address):
        tx_hash, raw = chain.sign(gateway, chain.build(gateway, stack.ledger.anchor_batch_function(root, 9)))
        chain.send_raw(raw)

    process.kill()
    process.start()

    again = attach_stack(DevChain.connect(process.url), origin.record)
    receipt = again.chain.receipt(tx_hash)
    assert receipt is not None
    assert receipt["status"] == 1
    assert again.ledger.batch(gateway.address, root).count == 9
    assert again.ledger.anchor_batch(gateway, os.urandom(32), 1)["status"] == 1


def test_sigterm_stops_the_command_with_exit_0_and_keeps_the_chain(origin: Origin, process: NodeProcess) -> None:
    """`credit-ledger node` stops on SIGTERM with exit status 0; started again it serves the same latest block."""
    latest = DevChain.connect(process.url).w3.eth.get_block("latest")

    process.stop()

    assert process.process is not None
    assert process.process.returncode == 0
    process.start()
    assert DevChain.connect(process.url).w3.eth.get_block("latest") == latest


def test_reverts_reach_a_json_rpc_client_as_named_errors(origin: Origin, served: str) -> None:
    """A transaction or a view the contract refuses comes back with its revert data, decoded to the named error."""
    stack = attach_stack(DevChain.connect(served), origin.record)
    regulator = devnet_for(EMBEDDED_CHAIN_ID).by_label("samr-beijing").account
    with pytest.raises(ContractRevertError) as caught:
        stack.ledger.anchor_batch(regulator, os.urandom(32), 1)
    assert caught.value.name == "LedgerNotGateway"
    assert caught.value.arguments == {"account": regulator.address}
    with pytest.raises(ContractRevertError) as viewed:
        stack.consortium.proposal(99)  # a view: eth_call, not a transaction
    assert (viewed.value.name, viewed.value.arguments) == ("ConsortiumUnknownProposal", {"proposalId": 99})


def test_snapshots_are_refused_and_clock_requests_are_journaled(origin: Origin, tmp_path: Path) -> None:
    """evm_snapshot and evm_revert are refused; a set next timestamp and a timed evm_mine replay exactly."""
    data_dir = copy_of(origin, tmp_path)
    dev = DevNode.open(data_dir)
    try:
        assert rpc(dev, "evm_snapshot")["code"] == -32601
        assert rpc(dev, "evm_revert", "0x1")["code"] == -32601
        head = int(rpc(dev, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        assert rpc(dev, "evm_setNextBlockTimestamp", head + 1000) is None
        rpc(dev, "evm_mine")
        assert int(rpc(dev, "eth_getBlockByNumber", "latest", False)["timestamp"], 16) == head + 1000
        rpc(dev, "evm_mine", hex(head + 5000))
        latest = rpc(dev, "eth_getBlockByNumber", "latest", False)
        assert int(latest["timestamp"], 16) == head + 5000
        assert rpc(dev, "evm_setNextBlockTimestamp", head)["code"] == -32602  # not after the latest block
    finally:
        dev.close()
    reopened = DevNode.open(data_dir)
    try:
        assert rpc(reopened, "eth_getBlockByNumber", "latest", False) == latest
    finally:
        reopened.close()


def test_a_torn_last_line_is_cut_off_and_the_rest_replays(origin: Origin, tmp_path: Path) -> None:
    """A crash in the middle of an append loses only that request, never answered: the journal is cut before it."""
    data_dir = copy_of(origin, tmp_path)
    journal = data_dir / JOURNAL_FILE
    lines = journal.read_bytes().splitlines(keepends=True)
    last = json.loads(lines[-1])
    assert last["method"] == "eth_sendRawTransaction"  # the anchoring of origin.root
    kept = b"".join(lines[:-1])
    journal.write_bytes(kept + lines[-1][: len(lines[-1]) // 2])

    dev = DevNode.open(data_dir)
    try:
        assert dev.torn_bytes == len(lines[-1]) // 2
        assert dev.replayed == len(lines) - 2
        assert dev.block_number == last["blocks"][0]["number"] - 1
        assert rpc(dev, "eth_getTransactionByHash", "0x" + origin.anchor_tx.hex()) is None
    finally:
        dev.close()
    assert journal.read_bytes() == kept


@pytest.mark.parametrize("field", ["hash", "timestamp"])
def test_a_journal_that_replays_to_other_blocks_is_refused(origin: Origin, tmp_path: Path, field: str) -> None:
    """A recorded block hash, or a forced timestamp, that the replay does not give: the node refuses to start."""
    data_dir = copy_of(origin, tmp_path)
    journal = data_dir / JOURNAL_FILE
    lines = journal.read_bytes().splitlines(keepends=True)
    entry = json.loads(lines[2])
    block = entry["blocks"][0]
    block[field] = "0x" + keccak(b"another block").hex() if field == "hash" else block["timestamp"] + 1
    lines[2] = json.dumps(entry).encode() + b"\n"
    journal.write_bytes(b"".join(lines))

    with pytest.raises(NodeJournalError, match=rf"{JOURNAL_FILE}:3: replaying eth_sendRawTransaction mined block"):
        DevNode.open(data_dir)


def test_a_damaged_line_inside_the_journal_is_refused(origin: Origin, tmp_path: Path) -> None:
    """A complete line that is not JSON is damage, not a torn append: the node refuses to start."""
    data_dir = copy_of(origin, tmp_path)
    journal = data_dir / JOURNAL_FILE
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2][:40] + b"\n"
    journal.write_bytes(b"".join(lines))

    with pytest.raises(NodeJournalError, match=rf"{JOURNAL_FILE}:3: not a JSON object"):
        DevNode.open(data_dir)


def test_the_command_exits_2_on_a_journal_it_refuses(origin: Origin, tmp_path: Path) -> None:
    """`credit-ledger node` on a journal that does not replay says why and exits 2, serving nothing."""
    data_dir = copy_of(origin, tmp_path)
    journal = data_dir / JOURNAL_FILE
    journal.write_bytes(journal.read_bytes().replace(b'"number":1,', b'"number":2,', 1))

    result = CliRunner().invoke(node, ["--data-dir", str(data_dir), "--port", "0"])

    assert result.exit_code == 2
    assert "refusing to start" in result.output
    assert f"{JOURNAL_FILE}:2" in result.output


def test_a_data_directory_serves_one_node_at_a_time(tmp_path: Path) -> None:
    """A second node on a directory in use is refused; once the first closes, the chain opens again."""
    first = DevNode.open(tmp_path)
    genesis = rpc(first, "eth_getBlockByNumber", "0x0", False)["hash"]
    with pytest.raises(NodeJournalError, match="in use by another node"):
        DevNode.open(tmp_path)
    first.close()
    second = DevNode.open(tmp_path)
    try:
        assert rpc(second, "eth_getBlockByNumber", "0x0", False)["hash"] == genesis
        assert second.chain_id == EMBEDDED_CHAIN_ID
    finally:
        second.close()
