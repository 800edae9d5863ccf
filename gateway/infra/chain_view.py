"""What the gateway knows of the chain: members' roles, catalog entries and adopted calendars, kept fresh.

Roles, the latest catalog entries and the latest calendar versions are cached and
refreshed from events: every poll asks the node whether the Consortium, the
CreditCatalog or the CalendarRegistry emitted anything since the last block seen, and
reloads what changed. A suspension on chain therefore takes effect
at the next poll, within one poll interval. Catalog entries at a given version never
change and are cached for good.

The roles fail closed: once the last successful refresh is older than `max_age_s`
(setting `roles_max_age_s`) and the chain cannot be reached, `roles` raises
ChainUnavailableError (503 CHAIN_UNAVAILABLE for every authenticated request) instead of
answering from a cache that may still hold a member suspended since. An outage therefore
lets a suspension lag by at most that bound.
"""

from __future__ import annotations

import threading
import time

from eth_typing import ChecksumAddress

from chain_client import (
    CatalogEntry,
    ChainUnavailableError,
    ContractRevertError,
    Member,
    Role,
    Stack,
    checksummed,
)
from gateway.infra.calendars import CalendarBook
from gateway.infra.errors import InputError


class ChainView:
    """Cached members and catalog entries of one deployment, refreshed by `refresh()`."""

    def __init__(self, stack: Stack, *, max_age_s: float | None = None) -> None:
        self.stack = stack
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._members: dict[ChecksumAddress, Member] = {}
        self._latest_entries: dict[bytes, CatalogEntry] = {}
        self._entries_at: dict[tuple[bytes, int], CatalogEntry] = {}
        self.calendars = CalendarBook(stack.calendars)
        self._last_block = -1
        self.last_refresh: float = 0.0
        self._refreshed_at = 0.0  # time.monotonic() of the last successful refresh
        self.chain_available = True
        self.refresh()

    # ------------------------------------------------------------------ refresh

    def refresh(self) -> None:
        """Reload what changed on chain since the last refresh (ChainUnavailableError if down)."""
        try:
            latest = self.stack.chain.block_number()
            with self._lock:
                first = self._last_block < 0
                changed = set() if first else self._changed_since(self._last_block + 1, latest)
            if first or self.stack.consortium.address in changed:
                members = {m.account: m for m in self.stack.consortium.members()}
                with self._lock:
                    self._members = members
            if first or self.stack.catalog.address in changed:
                with self._lock:
                    self._latest_entries.clear()
            if first or self.stack.calendars.address in changed:
                self.calendars.forget_latest()
            with self._lock:
                self._last_block = latest
        except ChainUnavailableError:
            self.chain_available = False
            raise
        self.chain_available = True
        self.last_refresh = time.time()
        self._refreshed_at = time.monotonic()

    def _changed_since(self, from_block: int, to_block: int) -> set[ChecksumAddress]:
        watched = [self.stack.consortium.address, self.stack.catalog.address, self.stack.calendars.address]
        return self.stack.chain.emitters(watched, from_block, to_block)

    # ------------------------------------------------------------------ members

    def member(self, address: str) -> Member | None:
        """The member at address as last seen on chain, or None."""
        with self._lock:
            return self._members.get(checksummed(address))

    def roles(self, address: str) -> frozenset[Role]:
        """The roles an address holds now: none unless it is an active member.

        ChainUnavailableError when the cache is older than `max_age_s` and the chain
        cannot be reached to refresh it: authentication fails closed (module docstring).
        """
        self._ensure_fresh()
        return self.roles_last_seen(address)

    def roles_last_seen(self, address: str) -> frozenset[Role]:
        """The roles as last read from the chain, however old (status pages, never access decisions)."""
        member = self.member(address)
        if member is None or not member.active:
            return frozenset()
        return member.roles

    def age_s(self) -> float:
        """Seconds since the last successful refresh."""
        return time.monotonic() - self._refreshed_at

    def _ensure_fresh(self) -> None:
        if self.max_age_s is None or self.age_s() <= self.max_age_s:
            return
        if self.chain_available:
            # No poll has failed, none has run for a while (no poll loop): refresh now;
            # ChainUnavailableError if the chain is down after all.
            self.refresh()
            return
        raise ChainUnavailableError(
            f"member roles were last read from the chain {self.age_s():.0f} s ago (more than"
            f" {self.max_age_s:g} s) and the chain cannot be reached"
        )

    def members(self) -> list[Member]:
        """Every member as last seen."""
        with self._lock:
            return list(self._members.values())

    # ------------------------------------------------------------------ catalog

    def entry(self, catalog_id: bytes) -> CatalogEntry:
        """The latest version of an entry; InputError CATALOG_UNKNOWN_ENTRY otherwise."""
        with self._lock:
            cached = self._latest_entries.get(catalog_id)
        if cached is not None:
            return cached
        try:
            entry = self.stack.catalog.entry(catalog_id)
        except ContractRevertError as exc:
            if exc.name == "CatalogUnknownEntry":
                raise InputError("CATALOG_UNKNOWN_ENTRY", "the catalog has no such entry") from None
            raise
        with self._lock:
            self._latest_entries[catalog_id] = entry
            self._entries_at[(catalog_id, entry.version)] = entry
        return entry

    def entry_at(self, catalog_id: bytes, version: int) -> CatalogEntry:
        """An entry at a version (immutable, cached for good)."""
        key = (catalog_id, version)
        with self._lock:
            cached = self._entries_at.get(key)
        if cached is not None:
            return cached
        try:
            entry = self.stack.catalog.entry_at(catalog_id, version)
        except ContractRevertError:
            raise InputError("CATALOG_UNKNOWN_ENTRY", "the catalog has no such entry at that version") from None
        with self._lock:
            self._entries_at[key] = entry
        return entry

    def entries(self) -> list[CatalogEntry]:
        """The latest version of every entry (read from the chain)."""
        return self.stack.catalog.entries()
