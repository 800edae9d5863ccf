"""The demo catalog (credit_demo/data/catalog.json) and its schemas, created on chain through governor proposals.

`DEMO_BOOTSTRAP` is what `credit-ledger serve` starts a development chain with when it
has no recorded deployment: the demo consortium (development keys), the shipped working
calendars and this catalog, with the packaged schemas. The demo and the tests use it
too. Entries that exist already are left as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from chain_client import (
    CatalogEntrySpec,
    Chain,
    DisclosureClass,
    ListKind,
    Role,
    Stack,
    catalog_id,
    deploy_demo_stack,
    devnet_for,
)
from chain_client.dev import DevChain
from gateway.infra.catalog_schemas import SchemaStore
from gateway.infra.service import DevelopmentBootstrap, Gateway
from gateway.infra.settings import Settings


@dataclass(frozen=True)
class DemoEntry:
    """One entry of the demo catalog file, with the title it is shown under."""

    spec: CatalogEntrySpec
    title: str


def demo_catalog_document() -> dict[str, Any]:
    """The packaged demo catalog file."""
    text = resources.files("credit_demo").joinpath("data", "catalog.json").read_text("utf-8")
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


def demo_schemas() -> SchemaStore:
    """The packaged JSON Schemas of the demo catalog's entries."""
    folder = resources.files("credit_demo").joinpath("data", "schemas")
    return SchemaStore.from_files(
        sorted((f.name, f.read_text("utf-8")) for f in folder.iterdir() if f.name.endswith(".json"))
    )


def deploy_demo(chain: Chain, schemas: SchemaStore) -> Stack:
    """The demo consortium and its calendars, then the demo catalog (development chains only)."""
    stack = deploy_demo_stack(chain)
    create_demo_catalog(stack, schemas)
    return stack


DEMO_BOOTSTRAP = DevelopmentBootstrap(schemas=demo_schemas, deploy=deploy_demo, chain=DevChain.embedded)


def open_gateway(settings: Settings, *, chain: Chain | None = None) -> Gateway:
    """Gateway.open with the demo's development defaults (used only where the settings leave them open)."""
    return Gateway.open(settings, chain=chain, bootstrap=DEMO_BOOTSTRAP)
