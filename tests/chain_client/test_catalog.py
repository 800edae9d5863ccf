"""CreditCatalog: versioned entries changed only by consortium proposals."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from chain_client import Chain, DisclosureClass, ListKind, Stack, catalog_id
from tests.chain_client.conftest import PENALTY_CODE, govern, penalty_spec
from tests.support.reverts import expect_revert


def _execute_expecting(stack: Stack, governors: list[LocalAccount], call: object, error: str, **args: object) -> None:
    consortium = stack.consortium
    proposal_id, _ = consortium.propose(governors[0], call)  # type: ignore[arg-type]
    consortium.approve(governors[1], proposal_id)
    expect_revert(lambda: consortium.execute(governors[0], proposal_id, call.data), error, **args)  # type: ignore[attr-defined]


def test_create_entry_through_a_proposal(stack: Stack, governors: list[LocalAccount], provider: LocalAccount) -> None:
    """An approved proposal creates version 1 with every field, and emits EntryVersioned."""
    spec = penalty_spec(provider.address)
    call = stack.catalog.create_call(spec)
    proposal_id, _ = stack.consortium.propose(governors[0], call)
    stack.consortium.approve(governors[1], proposal_id)
    receipt = stack.consortium.execute(governors[0], proposal_id, call.data)
    assert [(e.name, e.args) for e in stack.catalog.events(receipt)] == [
        (
            "EntryVersioned",
            {
                "catalogId": spec.catalog_id,
                "version": 1,
                "source": provider.address,
                "code": PENALTY_CODE,
                "active": True,
            },
        )
    ]
    entry = stack.catalog.entry(catalog_id(PENALTY_CODE))
    assert (entry.code, entry.source, entry.version, entry.active) == (PENALTY_CODE, provider.address, 1, True)
    assert (entry.disclosure_class, entry.list_kind) == (DisclosureClass.A, ListKind.BLACK)
    assert (entry.publicity_days, entry.min_days_before_repair, entry.schema_hash) == (1095, 90, b"\x11" * 32)
    assert [e.catalog_id for e in stack.catalog.entries()] == [spec.catalog_id]


def test_every_change_bumps_the_version_and_keeps_history(
    stack: Stack, governors: list[LocalAccount], provider: LocalAccount, penalty_entry: bytes
) -> None:
    """Updates and (de)activation make new versions; every earlier version stays readable."""
    govern(
        stack.consortium,
        governors,
        stack.catalog.update_call(
            penalty_spec(provider.address, disclosure_class=DisclosureClass.B, min_days_before_repair=180)
        ),
    )
    govern(stack.consortium, governors, stack.catalog.set_active_call(penalty_entry, False))
    assert stack.catalog.latest_version(penalty_entry) == 3
    v1, v2, v3 = (stack.catalog.entry_at(penalty_entry, v) for v in (1, 2, 3))
    assert (v1.disclosure_class, v1.min_days_before_repair, v1.active) == (DisclosureClass.A, 90, True)
    assert (v2.disclosure_class, v2.min_days_before_repair, v2.active) == (DisclosureClass.B, 180, True)
    assert (v3.disclosure_class, v3.min_days_before_repair, v3.active) == (DisclosureClass.B, 180, False)
    assert stack.catalog.entry(penalty_entry) == v3
    govern(stack.consortium, governors, stack.catalog.set_active_call(penalty_entry, True))
    assert stack.catalog.entry(penalty_entry).active
    assert stack.catalog.entry(penalty_entry).version == 4


@pytest.mark.parametrize("function", ["createEntry", "updateEntry", "setActive"])
def test_catalog_changes_only_through_the_consortium(
    chain: Chain, stack: Stack, governors: list[LocalAccount], provider: LocalAccount, function: str
) -> None:
    """Calling the catalog directly, even as a governor, is refused."""
    spec = penalty_spec(provider.address)
    call = {
        "createEntry": stack.catalog.create_call(spec),
        "updateEntry": stack.catalog.update_call(spec),
        "setActive": stack.catalog.set_active_call(spec.catalog_id, False),
    }[function]
    tx = {
        "from": governors[0].address,
        "to": stack.catalog.address,
        "data": call.data,
        "nonce": chain.w3.eth.get_transaction_count(governors[0].address),
        "chainId": chain.chain_id,
        "gas": 500_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    expect_revert(lambda: chain.send(governors[0], tx), "CatalogOnlyConsortium", caller=governors[0].address)  # type: ignore[arg-type]


def test_refusals_of_create(
    stack: Stack, governors: list[LocalAccount], provider: LocalAccount, auditor: LocalAccount, penalty_entry: bytes
) -> None:
    """A duplicate code, an empty code and a source that is not a PROVIDER are refused."""
    _execute_expecting(
        stack,
        governors,
        stack.catalog.create_call(penalty_spec(provider.address)),
        "CatalogEntryExists",
        catalogId=penalty_entry,
    )
    _execute_expecting(
        stack, governors, stack.catalog.create_call(penalty_spec(provider.address, code="")), "CatalogEmptyCode"
    )
    _execute_expecting(
        stack,
        governors,
        stack.catalog.create_call(penalty_spec(auditor.address, code="BJ-XZXK-002")),
        "CatalogSourceNotProvider",
        source=auditor.address,
    )


def test_suspended_provider_cannot_become_a_source(
    stack: Stack, governors: list[LocalAccount], other_provider: LocalAccount, penalty_entry: bytes
) -> None:
    """An update naming a suspended department as source is refused."""
    govern(stack.consortium, governors, stack.consortium.suspend_call(other_provider.address))
    _execute_expecting(
        stack,
        governors,
        stack.catalog.update_call(penalty_spec(other_provider.address)),
        "CatalogSourceNotProvider",
        source=other_provider.address,
    )


def test_refusals_of_update_and_set_active(
    stack: Stack, governors: list[LocalAccount], provider: LocalAccount, penalty_entry: bytes
) -> None:
    """Unknown entries, unchanged active flags are refused; the code cannot change."""
    unknown = catalog_id("TJ-NONE-999")
    _execute_expecting(
        stack,
        governors,
        stack.catalog.update_call(penalty_spec(provider.address, code="TJ-NONE-999")),
        "CatalogUnknownEntry",
        catalogId=unknown,
    )
    _execute_expecting(
        stack,
        governors,
        stack.catalog.set_active_call(penalty_entry, True),
        "CatalogActiveUnchanged",
        catalogId=penalty_entry,
        active=True,
    )
    data = stack.catalog._contract.encode_abi(
        "updateEntry", args=[penalty_entry, penalty_spec(provider.address, code="BJ-XZCF-002").as_abi()]
    )
    from chain_client import Call

    _execute_expecting(
        stack,
        governors,
        Call(stack.catalog.address, bytes.fromhex(data[2:])),
        "CatalogCodeChanged",
        catalogId=penalty_entry,
        code="BJ-XZCF-002",
    )


def test_reading_unknown_entries_and_versions_is_refused(stack: Stack, penalty_entry: bytes) -> None:
    """entry/entryAt name the unknown entry or version."""
    unknown = catalog_id("TJ-NONE-999")
    expect_revert(lambda: stack.catalog.entry(unknown), "CatalogUnknownEntry", catalogId=unknown)
    expect_revert(
        lambda: stack.catalog.entry_at(penalty_entry, 7), "CatalogUnknownVersion", catalogId=penalty_entry, version=7
    )
    assert stack.catalog.latest_version(unknown) == 0
