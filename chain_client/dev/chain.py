"""The development chain: the embedded in-process py-evm chain, and the clock and snapshot
helpers of development nodes (embedded, Hardhat, `credit-ledger node`).

The production `Chain` (chain_client.contracts.chain) only talks to a node; a `DevChain`
also starts an embedded chain, moves its clock, mines and takes snapshots. Tests, the
demo, the benchmarks and `credit-ledger serve`'s embedded default use it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from eth._utils import headers as py_evm_headers
from eth_typing import ChecksumAddress
from eth_utils.address import to_canonical_address
from web3 import EthereumTesterProvider, Web3

from chain_client._errors import ChainUnavailableError
from chain_client.contracts.chain import EMBEDDED_CHAIN_ID, Chain
from chain_client.dev.devnet import devnet_for

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


class DevChain(Chain):
    """A development chain: the embedded py-evm chain, or a development node whose clock it may move."""

    def __init__(self, w3: Web3, *, url: str | None, receipt_timeout: float = 120.0) -> None:
        super().__init__(w3, url=url, receipt_timeout=receipt_timeout)
        self._snapshot_clocks: dict[str, int] = {}

    @classmethod
    def embedded(cls, *, funded: Sequence[ChecksumAddress] = (), start_time: int | None = None) -> DevChain:
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

    def _offset(self) -> int:
        provider = self.w3.provider
        return provider.clock_offset if isinstance(provider, _SerializedTesterProvider) else self._clock_offset
