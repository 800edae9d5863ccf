"""A development JSON-RPC node that keeps its chain across crashes (`credit-ledger node`).

Hardhat 3 forgets its chain when it stops. This node serves the embedded py-evm chain
(the provider and clock of `DevChain.embedded`, chain id EMBEDDED_CHAIN_ID) over HTTP on
127.0.0.1 and keeps a journal in its data directory, so that a node killed with SIGKILL
and started again on the same directory serves the same chain: blocks and their hashes,
transactions, receipts, state and clock.

The journal, `journal.jsonl`, is JSON lines. The first line names the genesis:

    {"format": "credit-ledger-node-journal@1", "chainId": 131277322940537, "genesisHash": "0x…",
     "genesis": {"timestamp": 1795775921, "extraData": "0x…", "funded": ["0x…", …]}}

Every later line is one request that changed the chain, appended and fsync'ed before its
answer is sent, with what replaying it takes and what the replay must give again:

    {"method": "eth_sendRawTransaction", "params": ["0x…"],
     "blocks": [{"number": 7, "hash": "0x…", "timestamp": 1795775930, "mixHash": "0x…"}],
     "clock": {"offset": 0, "next": null}}

`blocks` are the blocks the request mined: py-evm takes a block's timestamp from the wall
clock and its mix hash from os.urandom, so the replay forces both and checks the hash;
`clock` is the node's clock after the request (seconds ahead of the wall clock, and the
timestamp set for the next block, if any). Requests that change the chain:
eth_sendRawTransaction and eth_sendTransaction (each mines a block), evm_mine ([] or
[timestamp]), evm_increaseTime and evm_setNextBlockTimestamp. evm_snapshot, evm_revert
and testing_timeTravel are refused: a revert would take back transactions already
answered, which this node exists to keep. Every other method is a read. One lock
serializes every request, reads included, so no answer shows state that is not already
in the journal.

On start the journal is replayed into a fresh chain built from its genesis. A last line
without its newline is cut off: a crash in the middle of an append leaves one, and its
request was never answered. A line that does not parse, a genesis that does not give
the recorded hash, or a replay that mines a different block raises NodeJournalError
naming the line: the node does not start on a history it cannot reproduce. The journal
is locked (flock) while a node has it open: one node per data directory.

`ChainRpc` is the request handling without the journal: it answers from an embedded
`Chain` that already runs in this process (`credit-ledger serve` on the embedded chain
serves its own chain with it, so that the chain commands' --rpc can reach it). That chain
lives as long as its process; its gateway's database records what was anchored on it, so
snapshots and reverts are refused there too, and so is setting the next block's timestamp
(its provider keeps the clock as an offset only: use evm_increaseTime).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from eth.vm.forks.cancun.state import get_total_blob_gas
from eth_abi.abi import encode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.middleware import combine_middleware

from chain_client._errors import ChainClientError
from chain_client.contracts.chain import EMBEDDED_CHAIN_ID, Chain
from chain_client.contracts.revert import revert_from_exception
from chain_client.dev.chain import _SerializedTesterProvider, embedded_genesis
from chain_client.dev.devnet import devnet_for

JOURNAL_FORMAT = "credit-ledger-node-journal@1"
JOURNAL_FILE = "journal.jsonl"
HOST = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024 * 1024

_REFUSED = frozenset({"evm_snapshot", "evm_revert", "testing_timeTravel"})
_CLOCK_METHODS = frozenset({"evm_increaseTime", "evm_setNextBlockTimestamp"})
_ERROR_STRING = function_signature_to_4byte_selector("Error(string)")
_ZERO_ADDRESS = bytes(20)
_BLOOM_BYTES = 256


class NodeJournalError(ChainClientError):
    """The node's journal is unreadable, in use, or does not replay to the chain it records."""


class _RpcError(Exception):
    """A JSON-RPC error answer."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass(frozen=True)
class MinedBlock:
    """A block a journaled request mined: what its replay forces and what it must hash to."""

    number: int
    hash: bytes
    timestamp: int
    mix_hash: bytes

    def as_json(self) -> dict[str, Any]:
        """The journal's form of the block."""
        return {
            "number": self.number,
            "hash": "0x" + self.hash.hex(),
            "timestamp": self.timestamp,
            "mixHash": "0x" + self.mix_hash.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MinedBlock:
        """A block as the journal recorded it (KeyError, TypeError or ValueError when malformed)."""
        return cls(
            number=int(data["number"]),
            hash=bytes.fromhex(data["hash"].removeprefix("0x")),
            timestamp=int(data["timestamp"]),
            mix_hash=bytes.fromhex(data["mixHash"].removeprefix("0x")),
        )


class _JournalingBackend(PyEVMBackend):  # type: ignore[misc]
    """eth-tester's py-evm backend, mining blocks to a plan (on replay) and telling what it mined."""

    def __init__(self, **kwargs: Any) -> None:
        self.plan: deque[MinedBlock] = deque()
        self.mined: list[MinedBlock] = []
        super().__init__(**kwargs)

    def mine_blocks(self, num_blocks: int = 1, coinbase: bytes = _ZERO_ADDRESS) -> tuple[bytes, ...]:
        # As PyEVMBackend.mine_blocks (a Prague chain), with the mix hash taken from the plan.
        hashes: list[bytes] = []
        for _ in range(num_blocks):
            planned = self.plan.popleft() if self.plan else None
            if planned is not None and self.chain.header.timestamp != planned.timestamp:
                self.chain.header = self.chain.header.copy(timestamp=planned.timestamp)
            pending = self.chain.get_block()
            block = self.chain.mine_block(
                coinbase=coinbase,
                mix_hash=planned.mix_hash if planned is not None else os.urandom(32),
                blob_gas_used=sum(get_total_blob_gas(tx) for tx in pending.transactions),
            )
            header = block.header
            self.mined.append(MinedBlock(header.block_number, header.hash, header.timestamp, header.mix_hash))
            hashes.append(header.hash)
        return tuple(hashes)


class _NodeProvider(_SerializedTesterProvider):
    """The embedded chain's provider; a planned or requested timestamp wins over the clock."""

    def __init__(self, tester: Any, backend: _JournalingBackend) -> None:
        super().__init__(tester)
        self.backend = backend
        self.next_timestamp: int | None = None

    def _stamp_pending_block(self) -> None:
        forced = self.backend.plan[0].timestamp if self.backend.plan else self.next_timestamp
        if forced is None:
            super()._stamp_pending_block()
            return
        chain = self.backend.chain
        if chain.header.timestamp != forced:
            chain.header = chain.header.copy(timestamp=forced)


class ChainRpc:
    """JSON-RPC answers from an embedded chain's provider; `handle` answers messages, `serve` over HTTP.

    What `credit-ledger node` (DevNode, which adds the journal) and `credit-ledger serve`
    on the embedded chain (`ChainRpc.of(chain)`) share.
    """

    refusal = "this chain's gateway keeps what was anchored on it (see credit-ledger serve)"

    def __init__(self, provider: _SerializedTesterProvider, w3: Web3 | None = None) -> None:
        self._provider = provider
        # eth-tester's middleware alone: requests and results in JSON-RPC's shape, no web3
        # defaults. Combined here, not by provider.request_func, whose cache a chain's own
        # Web3 shares: the gateway's threads must keep getting their own middleware.
        self._request = combine_middleware(
            middleware=tuple(provider._middleware), w3=w3 or Web3(provider), provider_request_fn=provider.make_request
        )

    @classmethod
    def of(cls, chain: Chain) -> ChainRpc:
        """The request handling of an embedded chain running in this process (not a JSON-RPC one)."""
        provider = chain.w3.provider
        if not isinstance(provider, _SerializedTesterProvider):
            raise ChainClientError(f"only an embedded chain is served over JSON-RPC; {chain.url} is served already")
        return cls(provider, chain.w3)

    # ------------------------------------------------------------------- state

    @property
    def chain_id(self) -> int:
        """The chain id (the embedded chain's)."""
        return int(self._rpc("eth_chainId", []), 16)

    @property
    def block_number(self) -> int:
        """Number of the latest block."""
        return int(self._rpc("eth_blockNumber", []), 16)

    def _chain(self) -> Any:
        tester: Any = self._provider.ethereum_tester
        return tester.backend.chain

    def _head_timestamp(self) -> int:
        return int(self._chain().get_canonical_head().timestamp)

    # -------------------------------------------------------------- answering

    def handle(self, message: Any) -> Any:
        """The answer to one JSON-RPC message: a request object, or a batch (a list of them)."""
        if isinstance(message, list):
            if not message:
                return _error(None, -32600, "empty batch")
            return [self._answer(request) for request in message]
        return self._answer(message)

    def _answer(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _error(None, -32600, "invalid request")
        request_id, params = request.get("id"), request.get("params", [])
        if not isinstance(params, list):
            return _error(request_id, -32602, "params must be a list")
        try:
            result = self._rpc(request["method"], params)
        except _RpcError as exc:
            return _error(request_id, exc.code, exc.message, exc.data)
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _rpc(self, method: str, params: list[Any]) -> Any:
        self._refuse(method)
        return self._dispatch(method, params)

    def _refuse(self, method: str) -> None:
        if method in _REFUSED:
            raise _RpcError(-32601, f"{method} is refused: {self.refusal}")

    def _dispatch(self, method: str, params: list[Any]) -> Any:
        if method == "evm_increaseTime":
            return self._increase_time(params)
        if method == "evm_setNextBlockTimestamp":
            self._set_next_timestamp(_quantity(params, 0))
            return None
        if method == "evm_mine" and params:
            self._set_next_timestamp(_quantity(params, 0))
        return self._provider_call(method, [] if method == "evm_mine" else params)

    def _provider_call(self, method: str, params: list[Any]) -> Any:
        try:
            response = self._request(method, params)
        except TransactionFailed as exc:
            raise _RpcError(3, "execution reverted", "0x" + _revert_data(exc).hex()) from None
        except Exception as exc:  # noqa: BLE001 - eth-tester's validation errors become JSON-RPC errors
            raise _RpcError(-32000, f"{type(exc).__name__}: {exc}") from None
        if "error" in response:
            error = response["error"]
            raise _RpcError(int(error.get("code", -32000)), str(error.get("message", error)))
        return _to_rpc(response.get("result"))

    def _increase_time(self, params: list[Any]) -> str:
        # As DevChain.increase_time on the embedded chain: the next block lands `seconds` after
        # the one that would have come now, and later blocks keep that lead. Under the
        # provider's lock: a gateway's own threads read the clock meanwhile.
        seconds = _quantity(params, 0)
        if seconds < 0:
            raise _RpcError(-32602, "evm_increaseTime takes a number of seconds >= 0")
        with self._provider._lock:
            now = int(time.time())
            pending = self._pending_timestamp(now)
            self._provider.clock_offset = pending + seconds - now
            self._forget_next_timestamp()
            return hex(self._provider.clock_offset)

    def _pending_timestamp(self, now: int) -> int:
        """The timestamp the next block would get now."""
        return max(self._head_timestamp() + 1, now + self._provider.clock_offset)

    def _set_next_timestamp(self, timestamp: int) -> None:
        # The embedded chain's provider keeps its clock as an offset from the wall clock only.
        raise _RpcError(-32601, "setting the next block's timestamp is not served on this chain: use evm_increaseTime")

    def _forget_next_timestamp(self) -> None:
        """A set next timestamp no longer applies (none can be set here)."""

    # ----------------------------------------------------------------- serving

    def serve(self, port: int = 0) -> NodeServer:
        """An HTTP server for these answers on 127.0.0.1:port (0: a free port); run its serve_forever."""
        return NodeServer(self, port)


class DevNode(ChainRpc):
    """The embedded chain behind its journal; `handle` answers JSON-RPC messages, `serve` over HTTP."""

    refusal = "this node keeps every answered transaction (see credit-ledger node)"

    def __init__(self, data_dir: Path, journal: IO[bytes], backend: _JournalingBackend) -> None:
        self.data_dir = data_dir
        self.journal_path = data_dir / JOURNAL_FILE
        self._journal = journal
        self._backend = backend
        self._node_provider = _NodeProvider(EthereumTester(backend), backend)
        super().__init__(self._node_provider)
        self._lock = threading.Lock()
        self._failed: str | None = None
        self.replayed = 0  # journal entries replayed at open
        self.torn_bytes = 0  # bytes of a torn last line cut off at open

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, data_dir: Path) -> DevNode:
        """The node of a data directory: a new chain, or the journal's chain replayed."""
        data_dir.mkdir(parents=True, exist_ok=True)
        journal = (data_dir / JOURNAL_FILE).open("a+b")
        try:
            fcntl.flock(journal.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            journal.close()
            raise NodeJournalError(f"{data_dir} is in use by another node") from None
        try:
            lines, torn = _complete_lines(journal)
            node = cls._restore(data_dir, journal, lines) if lines else cls._create(data_dir, journal)
        except BaseException:
            journal.close()
            raise
        node.torn_bytes = torn
        return node

    @classmethod
    def _create(cls, data_dir: Path, journal: IO[bytes]) -> DevNode:
        funded = [d.account.address for d in devnet_for(EMBEDDED_CHAIN_ID).accounts]
        genesis = {"timestamp": int(time.time()), "extraData": "0x" + os.urandom(32).hex(), "funded": funded}
        node = cls(data_dir, journal, _backend(genesis))
        header = {
            "format": JOURNAL_FORMAT,
            "chainId": node.chain_id,
            "genesisHash": "0x" + node._genesis_hash().hex(),
            "genesis": genesis,
        }
        node._write(header)
        _fsync_directory(data_dir)
        return node

    @classmethod
    def _restore(cls, data_dir: Path, journal: IO[bytes], lines: list[bytes]) -> DevNode:
        path = data_dir / JOURNAL_FILE
        header = _parse_line(path, 1, lines[0])
        if header.get("format") != JOURNAL_FORMAT or not isinstance(header.get("genesis"), dict):
            raise NodeJournalError(f"{path}:1: not a {JOURNAL_FORMAT} header")
        try:
            node = cls(data_dir, journal, _backend(header["genesis"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise NodeJournalError(f"{path}:1: malformed genesis ({exc!r})") from None
        if "0x" + node._genesis_hash().hex() != header.get("genesisHash") or node.chain_id != header.get("chainId"):
            raise NodeJournalError(
                f"{path}:1: the genesis replays to chain {node.chain_id} hash 0x{node._genesis_hash().hex()}, "
                f"the journal recorded chain {header.get('chainId')} hash {header.get('genesisHash')}"
            )
        for number, line in enumerate(lines[1:], start=2):
            node._replay(number, _parse_line(path, number, line))
        node.replayed = len(lines) - 1
        return node

    def _replay(self, number: int, entry: dict[str, Any]) -> None:
        where = f"{self.journal_path}:{number}"
        try:
            method, params = str(entry["method"]), list(entry["params"])
            planned = [MinedBlock.from_json(b) for b in entry["blocks"]]
            offset, next_timestamp = int(entry["clock"]["offset"]), entry["clock"]["next"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise NodeJournalError(f"{where}: malformed entry ({exc!r})") from None
        self._backend.plan, self._backend.mined = deque(planned), []
        if method not in _CLOCK_METHODS:
            # An error now was the answer then too: the blocks the request mined decide.
            with contextlib.suppress(_RpcError):
                self._provider_call(method, [] if method == "evm_mine" else params)
        mined, self._backend.plan = self._backend.mined, deque()
        if mined != planned:
            raise NodeJournalError(
                f"{where}: replaying {method} mined {_describe(mined)} where the journal recorded "
                f"{_describe(planned)}; refusing to serve a chain that does not replay"
            )
        self._node_provider.clock_offset = offset
        self._node_provider.next_timestamp = None if next_timestamp is None else int(next_timestamp)

    # ------------------------------------------------------------------- state

    def _genesis_hash(self) -> bytes:
        return bytes(self._backend.chain.get_canonical_block_header_by_number(0).hash)

    def _clock(self) -> tuple[int, int | None]:
        return self._node_provider.clock_offset, self._node_provider.next_timestamp

    # -------------------------------------------------------------- answering

    def _rpc(self, method: str, params: list[Any]) -> Any:
        with self._lock:
            if self._failed is not None:
                raise _RpcError(-32603, f"node stopped: {self._failed}")
            self._refuse(method)
            clock_before = self._clock()
            self._backend.mined = []
            error: _RpcError | None = None
            result: Any = None
            try:
                result = self._dispatch(method, params)
            except _RpcError as exc:
                error = exc
            mined = self._backend.mined
            if mined:
                self._node_provider.next_timestamp = None
            if mined or self._clock() != clock_before:
                self._journal_entry(method, params, mined)
            if error is not None:
                raise error
            return result

    def _pending_timestamp(self, now: int) -> int:
        pending = self._node_provider.next_timestamp
        return super()._pending_timestamp(now) if pending is None else pending

    def _set_next_timestamp(self, timestamp: int) -> None:
        head = self._head_timestamp()
        if timestamp <= head:
            raise _RpcError(-32602, f"timestamp {timestamp} is not after the latest block's ({head})")
        self._node_provider.next_timestamp = timestamp
        self._node_provider.clock_offset = timestamp - int(time.time())

    def _forget_next_timestamp(self) -> None:
        self._node_provider.next_timestamp = None

    # ----------------------------------------------------------------- journal

    def _journal_entry(self, method: str, params: list[Any], mined: list[MinedBlock]) -> None:
        offset, next_timestamp = self._clock()
        entry = {
            "method": method,
            "params": params,
            "blocks": [b.as_json() for b in mined],
            "clock": {"offset": offset, "next": next_timestamp},
        }
        try:
            self._write(entry)
        except OSError as exc:
            # The chain now holds what the journal lacks: answer nothing more.
            self._failed = f"journal write failed ({exc})"
            raise _RpcError(-32603, f"node stopped: {self._failed}") from None

    def _write(self, document: dict[str, Any]) -> None:
        self._journal.write(json.dumps(document, separators=(",", ":")).encode() + b"\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def close(self) -> None:
        """Wait for the request in progress, then close the journal (idempotent)."""
        with self._lock:
            self._failed = self._failed or "closed"
            self._journal.close()


class NodeServer(ThreadingHTTPServer):
    """JSON-RPC over HTTP POST for one DevNode or ChainRpc, a thread per connection, on 127.0.0.1 only."""

    daemon_threads = True

    def __init__(self, node: ChainRpc, port: int) -> None:
        self.node = node
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        """The node's JSON-RPC URL."""
        return f"http://{HOST}:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: web3's session reuses its connection
    disable_nagle_algorithm = True  # headers and body leave in two writes: no 40 ms delayed-ACK stall
    server: NodeServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_error(413)
            return
        try:
            message = json.loads(self.rfile.read(length))
        except ValueError:
            answer: Any = _error(None, -32700, "parse error")
        else:
            answer = self.server.node.handle(message)  # journaled and fsync'ed before this answer
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""


# -------------------------------------------------------------------- helpers


def _backend(genesis: dict[str, Any]) -> _JournalingBackend:
    # DevChain.embedded's genesis, with the timestamp and extra data the journal names.
    params, state = embedded_genesis(
        [to_checksum_address(address) for address in genesis["funded"]],
        timestamp=int(genesis["timestamp"]),
        extra_data=bytes.fromhex(str(genesis["extraData"]).removeprefix("0x")),
    )
    return _JournalingBackend(genesis_parameters=params, genesis_state=state)


def _complete_lines(journal: IO[bytes]) -> tuple[list[bytes], int]:
    """The journal's complete lines; a torn last line (no newline) is cut off the file."""
    journal.seek(0)
    data = journal.read()
    end = data.rfind(b"\n") + 1
    torn = len(data) - end
    if torn:
        journal.truncate(end)
        journal.flush()
        os.fsync(journal.fileno())
    return data[:end].splitlines(), torn


def _parse_line(path: Path, number: int, line: bytes) -> dict[str, Any]:
    try:
        document = json.loads(line)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise NodeJournalError(f"{path}:{number}: not a JSON object; the journal is damaged, not torn")
    return document


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _quantity(params: list[Any], index: int) -> int:
    try:
        value = params[index]
        return int(value, 16) if isinstance(value, str) else int(value)
    except (IndexError, TypeError, ValueError):
        raise _RpcError(-32602, f"parameter {index} must be a number") from None


def _revert_data(exc: TransactionFailed) -> bytes:
    # web3's eth-tester provider re-raises the revert as a message; eth-tester's own
    # exception, kept as the context, still carries the raw revert data.
    original = exc.__context__ if isinstance(exc.__context__, TransactionFailed) else exc
    reason: Any = original.args[0] if original.args else b""
    if isinstance(reason, Exception):
        reason = reason.args[0] if reason.args else b""
    if isinstance(reason, bytes):
        return reason
    # A reverting eth_call comes back with the raw bytes only as their repr in the message.
    decoded = revert_from_exception(original)
    if decoded is not None and decoded.data:
        return decoded.data
    return _ERROR_STRING + encode(["string"], [str(reason).removeprefix("execution reverted: ")])


def _to_rpc(value: Any, key: str = "") -> Any:
    """eth-tester's result in JSON-RPC's encoding: integers as hex quantities, bytes as hex data."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if key == "logsBloom":
            return "0x" + value.to_bytes(_BLOOM_BYTES, "big").hex()
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: _to_rpc(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_rpc(v) for v in value]
    return value


def _error(request_id: Any, code: int, message: str, data: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def _describe(blocks: list[MinedBlock]) -> str:
    if not blocks:
        return "no block"
    return ", ".join(f"block {b.number} 0x{b.hash.hex()}" for b in blocks)
