"""One interface over the embedded py-evm chain and any JSON-RPC node.

Transactions are signed locally (eth-account, with coincurve when installed) and sent
raw, so the same code runs against eth-tester, Hardhat, anvil or a permissioned network
such as Besu; only the standard `eth_` methods are used outside development helpers.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from requests.exceptions import RequestException
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import BlockNotFound, TimeExhausted, TransactionNotFound
from web3.types import FilterParams, Nonce, RPCEndpoint, TxParams, TxReceipt

from chain_client._errors import ChainUnavailableError, TransactionError
from chain_client.contracts.artifacts import load_artifact
from chain_client.contracts.revert import abi_type, revert_from_exception

EMBEDDED_CHAIN_ID = 131277322940537  # eth-tester's py-evm chain
HARDHAT_CHAIN_ID = 31337
DEVELOPMENT_CHAIN_IDS = frozenset({EMBEDDED_CHAIN_ID, HARDHAT_CHAIN_ID})


@dataclass(frozen=True)
class Event:
    """A decoded contract event."""

    name: str
    args: dict[str, Any]
    log_index: int


class Chain:
    """A connection to an EVM chain that signs and sends transactions and decodes reverts."""

    def __init__(self, w3: Web3, *, url: str | None, receipt_timeout: float = 120.0) -> None:
        self.w3 = w3
        self.url = url
        self.receipt_timeout = receipt_timeout
        self._chain_id: int | None = None
        self._view_caller: ChecksumAddress | None = None
        self._clock_offset = 0  # how far the node's clock runs from this machine's (development nodes)
        self._sender_locks: dict[str, threading.Lock] = {}
        self._sender_locks_guard = threading.Lock()

    # ------------------------------------------------------------ constructors

    @classmethod
    def connect(cls, url: str, *, timeout: float = 10.0) -> Self:
        """A JSON-RPC node at url; ChainUnavailableError when it does not answer."""
        # web3's validation asks the node for its chain id before every call and every
        # transaction: cached, a read is one round trip instead of three.
        provider = Web3.HTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
        )
        w3 = Web3(provider)
        chain = cls(w3, url=url)
        chain.chain_id  # noqa: B018 - fail now, not at first use, if nothing answers
        if chain.is_development:
            # A development node may run at another date than this machine (started at a
            # fixed date for a demo, or moved by evm_increaseTime): follow it from the start,
            # behind the wall clock as well as ahead; observe_block_time() then only catches up.
            chain._clock_offset = chain.latest_timestamp() - int(time.time())
        return chain

    # -------------------------------------------------------------- properties

    @property
    def is_embedded(self) -> bool:
        """True for the in-process py-evm chain."""
        return isinstance(self.w3.provider, EthereumTesterProvider)

    @property
    def chain_id(self) -> int:
        """The chain id (cached after the first call)."""
        if self._chain_id is None:
            with self._node_errors():
                self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @property
    def genesis_hash(self) -> bytes:
        """Hash of block 0, which tells two chains with the same id apart."""
        with self._node_errors():
            return bytes(self.w3.eth.get_block(0)["hash"])

    @property
    def is_development(self) -> bool:
        """True on the embedded chain and on Hardhat's development chain id."""
        return self.is_embedded or self.chain_id in DEVELOPMENT_CHAIN_IDS

    def block_number(self) -> int:
        """Number of the latest block."""
        with self._node_errors():
            return int(self.w3.eth.block_number)

    def block_timestamp(self, number: int) -> int:
        """Timestamp of a block by number."""
        with self._node_errors():
            return int(self.w3.eth.get_block(number)["timestamp"])

    def latest_timestamp(self) -> int:
        """Timestamp of the latest block."""
        with self._node_errors():
            return int(self.w3.eth.get_block("latest")["timestamp"])

    def now(self) -> int:
        """The chain's clock in unix seconds, without a request to the node.

        The wall clock, plus what development helpers moved the chain ahead by (or the
        embedded chain's start in the past). Rules that the contracts enforce on block
        time (repair periods, commitment deadlines) are applied off chain on this clock.
        """
        return int(time.time()) + self._offset()

    def observe_block_time(self) -> None:
        """Learn how far a JSON-RPC node's latest block runs ahead of the wall clock.

        A development node moved forward by another process (evm_increaseTime) keeps that
        lead; a production chain's blocks follow the wall clock and change nothing.
        """
        if self.is_embedded:
            return
        self._clock_offset = max(self._clock_offset, self.latest_timestamp() - int(time.time()))

    def code(self, address: ChecksumAddress) -> bytes:
        """The runtime code at address (b"" when there is none)."""
        with self._node_errors():
            return bytes(self.w3.eth.get_code(address))

    def code_hash(self, address: ChecksumAddress) -> bytes:
        """keccak256 of the runtime code at address (of b"" when there is none)."""
        return keccak(self.code(address))

    # ---------------------------------------------------------------- contracts

    def contract(self, name: str, address: ChecksumAddress) -> Contract:
        """A web3 contract object for a committed artifact at address."""
        return self.w3.eth.contract(address=address, abi=load_artifact(name).abi)

    def deploy(self, signer: LocalAccount, name: str, *args: Any) -> tuple[ChecksumAddress, TxReceipt]:
        """Deploy the committed artifact `name` with constructor args."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(signer, factory.constructor(*args))
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionError(f"deploying {name} produced no contract address")
        return address, receipt

    def transact(
        self, signer: LocalAccount, function: ContractFunction | ContractConstructor, *, gas: int | None = None
    ) -> TxReceipt:
        """Sign and send a contract call or deployment; wait for its receipt.

        Reverts (found while estimating gas, before anything is sent) raise
        ContractRevertError with the contract's named error.
        """
        with self.sending_as(signer.address):
            tx = self.build(signer, function, gas=gas)
            tx_hash, raw = self.sign(signer, tx)
            self.send_raw(raw)
        return self.wait(tx_hash, tx)

    @contextlib.contextmanager
    def sending_as(self, address: ChecksumAddress) -> Iterator[None]:
        """Hold from taking a nonce until the transaction is sent.

        A gateway sends as one account from several threads (the anchoring worker, relayed
        lifecycle steps); without this two of them can take the same pending nonce.
        """
        with self._sender_locks_guard:
            lock = self._sender_locks.setdefault(address, threading.Lock())
        with lock:
            yield

    def build(
        self, signer: LocalAccount, function: ContractFunction | ContractConstructor, *, gas: int | None = None
    ) -> TxParams:
        """The transaction for a call or deployment, gas estimated (reverts raise ContractRevertError)."""
        params: TxParams = {"from": signer.address, "nonce": Nonce(self._next_nonce(signer.address))}
        if gas is not None:
            params["gas"] = gas
        with self._reverts():
            return function.build_transaction(params)

    def preflight(self, signer: ChecksumAddress, function: ContractFunction) -> None:
        """Run a state-changing call as signer without sending it; a revert raises ContractRevertError.

        One execution, where estimating gas searches with many: callers that know their
        call's gas (a fixed-cost function such as anchorBatch) check with this and pass gas.
        """
        with self._reverts():
            function.call({"from": signer})

    def send(self, signer: LocalAccount, tx: TxParams) -> TxReceipt:
        """Sign tx with signer, send it raw and wait for the receipt."""
        tx_hash, raw = self.sign(signer, tx)
        self.send_raw(raw)
        return self.wait(tx_hash, tx)

    def sign(self, signer: LocalAccount, tx: TxParams) -> tuple[bytes, bytes]:
        """The hash and raw bytes of a signed transaction: the hash is known before sending,
        so a caller can persist it first and find the transaction again after a crash."""
        signed = signer.sign_transaction(cast(dict[str, Any], tx))
        return bytes(signed.hash), bytes(signed.raw_transaction)

    def send_raw(self, raw: bytes) -> None:
        """Send a signed transaction."""
        with self._reverts():
            self.w3.eth.send_raw_transaction(raw)

    def wait(self, tx_hash: bytes, tx: TxParams | None = None) -> TxReceipt:
        """Wait for a transaction's receipt; a failed one raises (decoded when tx is given)."""
        try:
            with self._node_errors():
                receipt = self.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=self.receipt_timeout)
        except TimeExhausted as exc:
            raise TransactionError(f"no receipt for 0x{tx_hash.hex()} within {self.receipt_timeout} s") from exc
        if receipt["status"] != 1:
            if tx is not None:
                self._raise_replayed_revert(tx, receipt)
            raise TransactionError(f"transaction 0x{tx_hash.hex()} failed (status 0)")
        return receipt

    def knows_transaction(self, tx_hash: bytes) -> bool:
        """Whether the node has the transaction, mined or pending."""
        try:
            with self._node_errors():
                self.w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return False
        return True

    def receipt(self, tx_hash: bytes) -> TxReceipt | None:
        """A transaction's receipt, or None while it is not mined (or unknown to the node)."""
        try:
            with self._node_errors():
                return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None

    def call(self, function: ContractFunction, *, block: int | None = None) -> Any:
        """Run a view function, at the latest block or an older one; reverts raise ContractRevertError."""
        with self._reverts():
            return function.call(self._view_params(), block_identifier=block if block is not None else "latest")

    def decode_events(self, contract: Contract, receipt: TxReceipt) -> list[Event]:
        """Events that contract emitted in receipt, in log order."""
        by_topic = event_topics(contract)
        events: list[Event] = []
        for log in receipt["logs"]:
            if log["address"] != contract.address or not log["topics"]:
                continue
            name = by_topic.get(bytes(log["topics"][0]))
            if name is None:
                continue
            decoded = contract.events[name]().process_log(log)
            events.append(Event(name=name, args=dict(decoded["args"]), log_index=int(log["logIndex"])))
        return events

    def emitters(self, addresses: Sequence[ChecksumAddress], from_block: int, to_block: int) -> set[ChecksumAddress]:
        """Which of these contracts emitted any event in the block range (eth_getLogs)."""
        if from_block > to_block:
            return set()
        with self._node_errors():
            logs = self.w3.eth.get_logs({"address": list(addresses), "fromBlock": from_block, "toBlock": to_block})
        return {Web3.to_checksum_address(log["address"]) for log in logs}

    def first_arguments(
        self, address: ChecksumAddress, topics: Sequence[bytes], from_block: int, to_block: int
    ) -> list[bytes]:
        """The first indexed argument (topic 1) of every log with one of these event topics that
        address emitted in the block range, in chain order (eth_getLogs)."""
        if from_block > to_block:
            return []
        query: FilterParams = {
            "address": address,
            "topics": [["0x" + t.hex() for t in topics]],  # hex strings: eth-tester ignores bytes here
            "fromBlock": from_block,
            "toBlock": to_block,
        }
        with self._node_errors():
            logs = self.w3.eth.get_logs(query)
        return [bytes(log["topics"][1]) for log in logs if len(log["topics"]) > 1]

    @staticmethod
    def receipt_first_arguments(receipt: TxReceipt, address: ChecksumAddress, topics: Sequence[bytes]) -> list[bytes]:
        """`first_arguments` of one receipt's logs."""
        wanted = set(topics)
        return [
            bytes(log["topics"][1])
            for log in receipt["logs"]
            if log["address"] == address and len(log["topics"]) > 1 and bytes(log["topics"][0]) in wanted
        ]

    def block_hash(self, number: int) -> bytes | None:
        """Hash of a block by number; None beyond the head."""
        with self._node_errors():
            try:
                return bytes(self.w3.eth.get_block(number)["hash"])
            except BlockNotFound:
                return None

    # ----------------------------------------------------------------- internal

    def _view_params(self) -> TxParams:
        """Call parameters for a view: eth-tester's sender named once, not looked up per call.

        Without a sender, eth-tester's middleware lists the chain's accounts twice per call
        to pick the first, which was most of the time of a record read on the embedded
        chain; the same account is named here. JSON-RPC nodes need no sender.
        """
        if not self.is_embedded:
            return {}
        if self._view_caller is None:
            with self._node_errors():
                self._view_caller = self.w3.eth.accounts[0]
        return {"from": self._view_caller}

    def _offset(self) -> int:
        return self._clock_offset

    def _next_nonce(self, address: ChecksumAddress) -> int:
        with self._node_errors():
            return int(self.w3.eth.get_transaction_count(address, "pending"))

    def _rpc(self, method: str, params: list[Any]) -> Any:
        with self._node_errors():
            response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise ChainUnavailableError(f"{method} failed: {response['error']}")
        return response.get("result")

    def _raise_replayed_revert(self, tx: TxParams, receipt: TxReceipt) -> None:
        # A mined transaction keeps no revert data: replay it as a call on the parent
        # state to learn which error it hit.
        replay = {key: tx[key] for key in ("from", "to", "data", "value") if key in tx}
        with self._reverts():
            self.w3.eth.call(cast(TxParams, replay), receipt["blockNumber"] - 1)
        raise TransactionError(f"transaction 0x{receipt['transactionHash'].hex()} failed (status 0)")

    @contextlib.contextmanager
    def _reverts(self) -> Iterator[None]:
        try:
            with self._node_errors():
                yield
        except Exception as exc:
            revert = revert_from_exception(exc)
            if revert is not None:
                raise revert from exc
            raise

    @contextlib.contextmanager
    def _node_errors(self) -> Iterator[None]:
        try:
            yield
        except (RequestException, ConnectionError) as exc:
            raise ChainUnavailableError(f"chain node at {self.url} unreachable: {exc}") from exc


def event_topics(contract: Contract, names: Sequence[str] | None = None) -> dict[bytes, str]:
    """The topic 0 of a contract's events (of those named, when names are given), with each name."""
    by_topic: dict[bytes, str] = {}
    for entry in cast(list[dict[str, Any]], contract.abi):
        if entry.get("type") == "event" and (names is None or entry["name"] in names):
            signature = f"{entry['name']}({','.join(abi_type(i) for i in entry['inputs'])})"
            by_topic[keccak(text=signature)] = entry["name"]
    return by_topic
