"""The demo catalog (gateway/demo/catalog.json), created on chain through governor proposals.

Used by `credit-ledger serve` on a development chain with no recorded deployment, and
by the demo and tests. Entries that exist already are left as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from chain_client import (
    CatalogEntrySpec,
    DisclosureClass,
    ListKind,
    Role,
    Stack,
    catalog_id,
    devnet_for,
)
from gateway.catalog_schemas import SchemaStore


@dataclass(frozen=True)
class DemoEntry:
    """One entry of the demo catalog file, with the title it is shown under."""

    spec: CatalogEntrySpec
    title: str


def demo_catalog_document() -> dict[str, Any]:
    """The packaged demo catalog file."""
    text = resources.files("gateway").joinpath("demo", "catalog.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def demo_entries(stack: Stack, schemas: SchemaStore) -> list[DemoEntry]:
    """The demo entries, with sources resolved to the development accounts of this chain."""
    devnet = devnet_for(stack.chain.chain_id)
    entries = []
    for item in demo_catalog_document()["entries"]:
        spec = CatalogEntrySpec(
            code=item["code"],
            source=devnet.by_label(item["source"]).account.address,
            disclosure_class=DisclosureClass[item["class"]],
            list_kind=ListKind[item["list"]],
            publicity_days=int(item["publicityDays"]),
            min_days_before_repair=int(item["minDaysBeforeRepair"]),
            schema_hash=schemas.by_name(item["schema"]).hash,
        )
        entries.append(DemoEntry(spec, item["title"]))
    return entries


def create_demo_catalog(stack: Stack, schemas: SchemaStore) -> list[DemoEntry]:
    """Create the demo entries missing on chain, each through a k-of-n proposal."""
    devnet = devnet_for(stack.chain.chain_id)
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][: stack.consortium.threshold()]
    entries = demo_entries(stack, schemas)
    for entry in entries:
        if stack.catalog.latest_version(catalog_id(entry.spec.code)) == 0:
            stack.consortium.govern(governors, stack.catalog.create_call(entry.spec))
    return entries
