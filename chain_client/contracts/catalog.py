"""Typed wrapper over the CreditCatalog contract."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress
from web3.types import TxReceipt

from chain_client.contracts.chain import Chain, Event
from chain_client.contracts.consortium import Call
from chain_client.spec.records import catalog_id

CONTRACT_NAME = "CreditCatalog"


class DisclosureClass(IntEnum):
    """A: public (社会公开); B: authorized query (授权查询); C: department-shared (部门共享)."""

    A = 0
    B = 1
    C = 2


class ListKind(IntEnum):
    """Whether an entry's records put a subject on a red or black list."""

    NONE = 0
    RED = 1
    BLACK = 2


@dataclass(frozen=True)
class CatalogEntrySpec:
    """The fields a proposal sets on a catalog entry."""

    code: str
    source: ChecksumAddress
    disclosure_class: DisclosureClass
    list_kind: ListKind
    publicity_days: int
    min_days_before_repair: int
    schema_hash: bytes

    @property
    def catalog_id(self) -> bytes:
        """keccak256 of the code."""
        return catalog_id(self.code)

    def as_abi(self) -> tuple[object, ...]:
        """The EntryInput tuple."""
        return (
            self.code,
            self.source,
            int(self.disclosure_class),
            int(self.list_kind),
            self.publicity_days,
            self.min_days_before_repair,
            self.schema_hash,
        )


@dataclass(frozen=True)
class CatalogEntry:
    """A catalog entry at one version, as the chain holds it."""

    catalog_id: bytes
    code: str
    source: ChecksumAddress
    disclosure_class: DisclosureClass
    list_kind: ListKind
    publicity_days: int
    min_days_before_repair: int
    version: int
    active: bool
    changed_at: int
    schema_hash: bytes


class CreditCatalog:
    """Versioned catalog entries; changes are Calls for the consortium to propose."""

    def __init__(self, chain: Chain, address: ChecksumAddress) -> None:
        self.chain = chain
        self.address = address
        self._contract = chain.contract(CONTRACT_NAME, address)

    def create_call(self, spec: CatalogEntrySpec) -> Call:
        """Create an entry (version 1)."""
        return self._call("createEntry", spec.as_abi())

    def update_call(self, spec: CatalogEntrySpec) -> Call:
        """Replace an entry's fields as a new version (the code names the entry)."""
        return self._call("updateEntry", spec.catalog_id, spec.as_abi())

    def set_active_call(self, entry_id: bytes, active: bool) -> Call:
        """Withdraw (False) or restore (True) an entry, as a new version."""
        return self._call("setActive", entry_id, active)

    def entry(self, entry_id: bytes) -> CatalogEntry:
        """The latest version; ContractRevertError CatalogUnknownEntry for unknown ids."""
        return self._entry(entry_id, self.chain.call(self._contract.functions.entry(entry_id)))

    def entry_at(self, entry_id: bytes, version: int) -> CatalogEntry:
        """An entry at a version."""
        return self._entry(entry_id, self.chain.call(self._contract.functions.entryAt(entry_id, version)))

    def latest_version(self, entry_id: bytes) -> int:
        """The latest version, 0 for an unknown entry."""
        return int(self.chain.call(self._contract.functions.latestVersion(entry_id)))

    def entries(self) -> list[CatalogEntry]:
        """The latest version of every entry, in creation order."""
        count = int(self.chain.call(self._contract.functions.entryCount()))
        return [self.entry(bytes(self.chain.call(self._contract.functions.catalogIdAt(i)))) for i in range(count)]

    def events(self, receipt: TxReceipt) -> list[Event]:
        """The catalog's events in a receipt."""
        return self.chain.decode_events(self._contract, receipt)

    def _call(self, function: str, *args: object) -> Call:
        data = self._contract.encode_abi(function, args=list(args))
        return Call(self.address, bytes.fromhex(data.removeprefix("0x")))

    @staticmethod
    def _entry(entry_id: bytes, raw: Any) -> CatalogEntry:
        source, klass, kind, publicity, min_days, version, active, changed_at, schema_hash, code = raw
        return CatalogEntry(
            catalog_id=entry_id,
            code=str(code),
            source=source,
            disclosure_class=DisclosureClass(klass),
            list_kind=ListKind(kind),
            publicity_days=int(publicity),
            min_days_before_repair=int(min_days),
            version=int(version),
            active=bool(active),
            changed_at=int(changed_at),
            schema_hash=bytes(schema_hash),
        )
