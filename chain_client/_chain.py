"""One interface over the embedded py-evm chain and any JSON-RPC node.

Transactions are signed locally (eth-account, with coincurve when installed) and sent
raw, so the same code runs against eth-tester, Hardhat, anvil or a permissioned network
such as Besu; only the standard `eth_` methods are used outside development helpers.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth._utils import headers as py_evm_headers
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from requests.exceptions import RequestException
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import TimeExhausted, TransactionNotFound
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt

from chain_client._artifacts import load_artifact
from chain_client._devnet import DEVELOPMENT_CHAIN_IDS, EMBEDDED_CHAIN_ID, devnet_for
from chain_client._errors import ChainUnavailableError, TransactionError
from chain_client._revert import abi_type, revert_from_exception

_DEV_BALANCE = 10**25  # ten million ether for each development account


# py-evm reads the wall clock (eth._utils.headers.eth_now) whenever it makes a header:
# pending blocks, and the throwaway block gas estimates run in. An embedded chain whose
# clock is offset swaps in its own clock while it serves a request; one lock for all
# embedded chains keeps two chains in one process from seeing each other's clock.
_PY_EVM_CLOCK_LOCK = threading.RLock()


class _SerializedTesterProvider(EthereumTesterProvider):
    """eth-tester's provider, one request at a time: py-evm is not thread-safe, and a
    gateway serves requests and runs its anchoring worker on several threads."""

    def __init__(self, tester: Any, *, clock_offset: int = 0) -> None:
        super().__init__(tester)
        self._lock = _PY_EVM_CLOCK_LOCK
        # Seconds the chain's clock runs ahead of (or, from a past start, behind) the wall clock.
        self.clock_offset = clock_offset
        self._chain_id_response: Any = None

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_chainId" and self._chain_id_response is not None:
            return dict(self._chain_id_response)  # asked before every call by web3's validation
        with self._lock:
            offset = self.clock_offset
            original = py_evm_headers.eth_now
            py_evm_headers.eth_now = lambda: int(time.time()) + offset
            try:
                self._stamp_pending_block()
                response = super().make_request(method, params)
                if method == "eth_chainId" and "result" in response:
                    self._chain_id_response = response
                return response
            finally:
                py_evm_headers.eth_now = original

    def _stamp_pending_block(self) -> None:
        # The pending header was made at the last block, perhaps under another clock.
        tester: Any = self.ethereum_tester
        chain = tester.backend.chain
        wanted = max(chain.get_canonical_head().timestamp + 1, int(time.time()) + self.clock_offset)
        if chain.header.timestamp != wanted:
            chain.header = chain.header.copy(timestamp=wanted)


@dataclass(frozen=True)
class Event:
    """A decoded contract event."""

    name: str
    args: dict[str, Any]
    log_index: int


def embedded_genesis(
    funded: Sequence[str], *, timestamp: int | None, extra_data: bytes
) -> tuple[dict[str, Any], dict[Any, Any]]:
    """The embedded chain's genesis parameters and state (also replayed by `credit-ledger node`).

    eth-tester's own accounts stay funded: it uses the first as the default sender of
    calls. The given development accounts are added to the same genesis.
    """
    from eth_tester.backends.pyevm.main import (
        generate_genesis_state_for_keys,
        get_default_account_keys,
        get_default_account_state,
        get_default_genesis_params,
    )

    state = generate_genesis_state_for_keys(get_default_account_keys(quantity=2))
    for address in funded:
        state[to_canonical_address(address)] = get_default_account_state(overrides={"balance": _DEV_BALANCE})
    overrides: dict[str, Any] = {"extra_data": extra_data}
    if timestamp is not None:
        overrides["timestamp"] = timestamp
    return get_default_genesis_params(overrides=overrides), state


class Chain:
    """A connection to an EVM chain that signs and sends transactions and decodes reverts."""

    def __init__(self, w3: Web3, *, url: str | None, receipt_timeout: float = 120.0) -> None:
        self.w3 = w3
        self.url = url
        self.receipt_timeout = receipt_timeout
        self._chain_id: int | None = None
        self._view_caller: ChecksumAddress | None = None
        self._clock_offset = 0  # what increase_time added on a JSON-RPC development node
        self._snapshot_clocks: dict[str, int] = {}
        self._sender_locks: dict[str, threading.Lock] = {}
        self._sender_locks_guard = threading.Lock()

    # ------------------------------------------------------------ constructors

    @classmethod
    def embedded(cls, *, funded: Sequence[ChecksumAddress] = (), start_time: int | None = None) -> Chain:
        """A fresh in-process py-evm chain; the demo consortium's accounts are funded.

        start_time (unix seconds) starts the chain's clock there instead of now, so a test
        can play a past calendar (a holiday, say) with deadlines that lie ahead of the chain.
        """
        from eth_tester import EthereumTester, PyEVMBackend

        addresses = list(funded) or [d.account.address for d in devnet_for(EMBEDDED_CHAIN_ID).accounts]
        # Random extra data gives every embedded chain its own genesis hash, so that a
        # deployment record never matches a chain started later in the same second.
        genesis, state = embedded_genesis(addresses, timestamp=start_time, extra_data=os.urandom(32))
        offset = 0 if start_time is None else start_time - int(time.time())
        tester = EthereumTester(PyEVMBackend(genesis_parameters=genesis, genesis_state=state))
        return cls(Web3(_SerializedTesterProvider(tester, clock_offset=offset)), url=None)

    @classmethod
    def connect(cls, url: str, *, timeout: float = 10.0) -> Chain:
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
        by_topic: dict[bytes, str] = {}
        for entry in cast(list[dict[str, Any]], contract.abi):
            if entry.get("type") == "event":
                signature = f"{entry['name']}({','.join(abi_type(i) for i in entry['inputs'])})"
                by_topic[keccak(text=signature)] = entry["name"]
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

    # ------------------------------------------------------ development helpers

    def increase_time(self, seconds: int) -> None:
        """Move chain time forward and mine a block (development chains only)."""
        provider = self.w3.provider
        if isinstance(provider, _SerializedTesterProvider):
            # Later blocks stay this far ahead of the wall clock; the clock change and its
            # block happen under the provider's lock, together.
            with provider._lock:
                now = int(time.time())
                # Blocks mined within one second run ahead of the clock by a second each.
                pending = max(self.latest_timestamp() + 1, now + provider.clock_offset)
                provider.clock_offset = pending + seconds - now
                self._rpc("evm_mine", [])
            return
        self._rpc("evm_increaseTime", [seconds])
        self._clock_offset += seconds
        self._rpc("evm_mine", [])

    def mine(self) -> None:
        """Mine one empty block (development chains only)."""
        self._rpc("evm_mine", [])

    def snapshot(self) -> Any:
        """Take a snapshot of chain state and clock (development chains only)."""
        snapshot = self._rpc("evm_snapshot", [])
        self._snapshot_clocks[str(snapshot)] = self._offset()
        return snapshot

    def revert_to(self, snapshot: Any) -> None:
        """Return to a snapshot; some nodes forget the snapshot afterwards, so take a new one."""
        if self._rpc("evm_revert", [snapshot]) is False:
            raise ChainUnavailableError(f"the node could not revert to snapshot {snapshot}")
        # As Hardhat does, the clock goes back with the state: a test after a revert sees
        # the time it saw before the one that travelled.
        offset = self._snapshot_clocks.get(str(snapshot))
        provider = self.w3.provider
        if offset is None:
            return
        if isinstance(provider, _SerializedTesterProvider):
            provider.clock_offset = offset
        else:
            self._clock_offset = offset

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
        provider = self.w3.provider
        return provider.clock_offset if isinstance(provider, _SerializedTesterProvider) else self._clock_offset

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
