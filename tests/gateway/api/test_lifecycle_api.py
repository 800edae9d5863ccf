"""Objections, corrections, revocations and repair requests over HTTP, checked on chain too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain_client import LedgerDomain, RecordStatus, Role, devnet_for
from chain_client.spec.eip712 import file_objection_struct_hash, sign_digest
from credit_client.client import GatewayClient, GatewayClientError, PreparedRecord, subject_salt_of
from gateway.infra.settings import Settings
from gateway.infra.storage import StoredRecord
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import Served, serve_gateway
from tests.support.subjects import new_uscc

FILER = "tax-beijing"  # a department filing objections and repair requests on a paper application
AUDITOR = "auditor-hebei"
GOVERNOR = "governor-tianjin"
REASON = bytes.fromhex("ab" * 32)


def anchored_penalty(served: Served, subject: str | None = None, **changes: object) -> PreparedRecord:
    record = served.submit(SAMR, PENALTY, subject or new_uscc(), penalty(**changes))
    served.wait_anchored(record)
    return record


def chain_status(served: Served, record: PreparedRecord) -> RecordStatus:
    return served.gateway.stack.ledger.state(record.leaf.record_id).status


def event_of(served: Served, tx_hash: str) -> dict[str, object]:
    receipt = served.gateway.stack.chain.receipt(bytes.fromhex(tx_hash[2:]))
    assert receipt is not None
    (event,) = served.gateway.stack.ledger.events(receipt)
    return {"name": event.name, **event.args}


def public_ids(served: Served, subject: str) -> set[str]:
    with served.client() as anonymous:
        return {d["recordId"] for d in anonymous.disclosures(subject)["disclosures"]}


def test_an_objection_disputes_the_record_and_a_rejection_restores_it(served: Served) -> None:
    """A department files on the subject's behalf; the chain names it; publicity shows the record disputed."""
    subject = new_uscc()
    record = anchored_penalty(served, subject)
    with served.client(FILER) as filer:
        result = filer.file_objection(record.record_id_hex, REASON)
    assert (result["action"], result["status"]) == ("objection-filed", "DISPUTED")
    assert chain_status(served, record) == RecordStatus.DISPUTED
    event = event_of(served, result["txHash"])
    assert event["name"] == "ObjectionFiled"
    assert event["member"] == served.account(FILER).address
    assert event["reasonHash"] == REASON
    with served.client() as anonymous:
        (disclosure,) = anonymous.disclosures(subject)["disclosures"]
    assert disclosure["disputed"] is True

    with served.client(SAMR) as provider:
        result = provider.resolve_objection(record.record_id_hex, "rejected")
    assert result["status"] == "ACTIVE"
    assert chain_status(served, record) == RecordStatus.ACTIVE
    assert event_of(served, result["txHash"])["provider"] == served.account(SAMR).address


def test_an_objection_upheld_with_a_correction_links_the_old_record_forward(served: Served) -> None:
    """The corrected record shows Corrected and its successor; only the successor stays public."""
    subject = new_uscc()
    original = anchored_penalty(served, subject)
    with served.client(FILER) as filer:
        filer.file_objection(original.record_id_hex, REASON)
    correction = served.submit(
        SAMR,
        PENALTY,
        subject,
        penalty(violation="未按规定公示年度报告"),
        supersedes=original.leaf.record_id,
        subject_salt=subject_salt_of(original.submission),
    )
    served.wait_anchored(correction)
    with served.client(SAMR) as provider:
        result = provider.resolve_objection(original.record_id_hex, "corrected", correction.record_id_hex)
        view = provider.record(original.record_id_hex)
    assert result["status"] == "CORRECTED"
    assert result["supersededBy"] == correction.record_id_hex
    assert view["status"] == {"status": "CORRECTED", "repairPending": False, "supersededBy": correction.record_id_hex}
    state = served.gateway.stack.ledger.state(original.leaf.record_id)
    assert (state.status, state.superseded_by) == (RecordStatus.CORRECTED, correction.leaf.record_id)
    assert public_ids(served, subject) == {correction.record_id_hex}


def test_an_objection_upheld_and_revoked_ends_publicity(served: Served) -> None:
    subject = new_uscc()
    record = anchored_penalty(served, subject)
    with served.client(FILER) as filer:
        filer.file_objection(record.record_id_hex, REASON)
    with served.client(SAMR) as provider:
        assert provider.resolve_objection(record.record_id_hex, "revoked")["status"] == "REVOKED"
    assert chain_status(served, record) == RecordStatus.REVOKED
    assert public_ids(served, subject) == set()


def test_the_provider_revokes_its_record(served: Served) -> None:
    subject = new_uscc()
    record = anchored_penalty(served, subject)
    with served.client(SAMR) as provider:
        result = provider.revoke(record.record_id_hex, REASON)
    assert result["status"] == "REVOKED"
    assert event_of(served, result["txHash"])["name"] == "RecordRevoked"
    assert public_ids(served, subject) == set()


def test_repair_is_requested_and_approval_refused_before_the_minimum_days(served: Served) -> None:
    """The penalty entry's 90 days have not passed: 409 REPAIR_TOO_EARLY with the earliest time, nothing changes."""
    record = anchored_penalty(served)
    with served.client(FILER) as filer:
        result = filer.request_repair(record.record_id_hex, "penalty-fulfilled", REASON)
    assert (result["status"], result["repairPending"]) == ("ACTIVE", True)
    assert event_of(served, result["txHash"])["member"] == served.account(FILER).address
    with served.client(SAMR) as provider, pytest.raises(GatewayClientError) as refused:
        provider.approve_repair(record.record_id_hex)
    assert (refused.value.status, refused.value.code) == (409, "REPAIR_TOO_EARLY")
    assert refused.value.detail["earliest"] > served.gateway.now()
    state = served.gateway.stack.ledger.state(record.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, True)
    with served.client(SAMR) as provider:
        assert provider.reject_repair(record.record_id_hex, REASON)["repairPending"] is False


@pytest.mark.parametrize(
    ("actor", "action", "code", "status"),
    [
        (GOVERNOR, "resolve", "LIFECYCLE_NOT_PROVIDER", 403),
        (GOVERNOR, "revoke", "LIFECYCLE_NOT_PROVIDER", 403),
        (SAMR, "resolve", "OBJECTION_NOT_OPEN", 409),
        (SAMR, "approve", "REPAIR_NOT_REQUESTED", 409),
        (AUDITOR, "object", "LIFECYCLE_PROVIDER_REQUIRED", 403),
        (AUDITOR, "repair", "LIFECYCLE_PROVIDER_REQUIRED", 403),
        (GOVERNOR, "object", "LIFECYCLE_PROVIDER_REQUIRED", 403),
        (GOVERNOR, "repair", "LIFECYCLE_PROVIDER_REQUIRED", 403),
    ],
)
def test_lifecycle_refusals_carry_codes_and_change_nothing(
    served: Served, actor: str, action: str, code: str, status: int
) -> None:
    record = anchored_penalty(served)
    calls: dict[str, Callable[[GatewayClient], object]] = {
        "resolve": lambda client: client.resolve_objection(record.record_id_hex, "rejected"),
        "revoke": lambda client: client.revoke(record.record_id_hex, REASON),
        "approve": lambda client: client.approve_repair(record.record_id_hex),
        "object": lambda client: client.file_objection(record.record_id_hex, REASON),
        "repair": lambda client: client.request_repair(record.record_id_hex, "penalty-fulfilled", REASON),
    }
    with served.client(actor) as client, pytest.raises(GatewayClientError) as refused:
        calls[action](client)
    assert (refused.value.status, refused.value.code) == (status, code)
    state = served.gateway.stack.ledger.state(record.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, False)


def test_a_bogus_filing_does_not_block_the_provider_s_genuine_one(served: Served) -> None:
    """Another department's repair request and objection, pending or open, do not make the provider's own fail
    (issue 16, finding 11: it failed with REPAIR_ALREADY_REQUESTED); the chain names each filer."""
    repairing, disputed = anchored_penalty(served), anchored_penalty(served)
    bogus = bytes.fromhex("01" * 32)
    with served.client(FILER) as department:
        department.request_repair(repairing.record_id_hex, "other", bogus)
        department.file_objection(disputed.record_id_hex, bogus)
    with served.client(SAMR) as provider:
        repair = provider.request_repair(repairing.record_id_hex, "penalty-fulfilled", REASON)
        objection = provider.file_objection(disputed.record_id_hex, REASON)
    assert (repair["action"], repair["status"], repair["repairPending"]) == ("repair-requested", "ACTIVE", True)
    assert (objection["action"], objection["status"]) == ("objection-filed", "DISPUTED")
    provider_address = served.account(SAMR).address
    assert event_of(served, repair["txHash"])["member"] == provider_address
    assert event_of(served, objection["txHash"])["member"] == provider_address


def test_a_record_not_held_here_cannot_be_disputed(served: Served) -> None:
    record = served.prepare(SAMR, PENALTY, new_uscc(), penalty())
    with Session(served.gateway.engine) as session:
        before = session.scalar(select(func.count()).select_from(StoredRecord))
    with served.client(FILER) as filer, pytest.raises(GatewayClientError) as refused:
        filer.file_objection(record.record_id_hex, REASON)
    assert (refused.value.status, refused.value.code) == (404, "RECORD_NOT_FOUND")
    with Session(served.gateway.engine) as session:
        assert session.scalar(select(func.count()).select_from(StoredRecord)) == before


def test_an_instruction_signed_by_someone_else_is_refused(served: Served) -> None:
    """The gateway relays only what the requesting member signed itself."""
    record = anchored_penalty(served)
    path = f"/v1/records/{record.record_id_hex}/objections"
    with served.client(FILER) as filer:
        context = filer.call("GET", "/v1/instructions")
        forged = objection_instruction(served.account(GOVERNOR), context, record)
        with pytest.raises(GatewayClientError) as refused:
            filer.call("POST", path, body={"reasonHash": "0x" + REASON.hex(), "instruction": forged})
    assert (refused.value.status, refused.value.code) == (403, "INSTRUCTION_BAD_SIGNATURE")
    assert chain_status(served, record) == RecordStatus.ACTIVE


def test_stale_and_replayed_instructions_are_refused(served: Served) -> None:
    record = anchored_penalty(served)
    path = f"/v1/records/{record.record_id_hex}/objections"
    body = {"reasonHash": "0x" + REASON.hex()}
    with served.client(FILER) as filer:
        context = filer.call("GET", "/v1/instructions")
        expired = objection_instruction(filer.account, context, record, deadline=context["now"] - 1)
        with pytest.raises(GatewayClientError) as refused:
            filer.call("POST", path, body={**body, "instruction": expired})
        assert (refused.value.status, refused.value.code) == (422, "INSTRUCTION_EXPIRED")
        fresh = objection_instruction(filer.account, context, record)
        filer.call("POST", path, body={**body, "instruction": fresh})
        with pytest.raises(GatewayClientError) as replayed:
            filer.call("POST", path, body={**body, "instruction": fresh})
    assert (replayed.value.status, replayed.value.code) == (409, "INSTRUCTION_BAD_NONCE")
    assert chain_status(served, record) == RecordStatus.DISPUTED


def objection_instruction(
    account: LocalAccount | None, context: dict[str, Any], record: PreparedRecord, *, deadline: int | None = None
) -> dict[str, Any]:
    """A FileObjection instruction signed by account with the nonce the context gives."""
    assert account is not None
    domain_json = context["ledger"]["domain"]
    domain = LedgerDomain(chain_id=domain_json["chainId"], verifying_contract=domain_json["verifyingContract"])
    nonce = int(context["ledger"]["nonce"])
    until = deadline if deadline is not None else int(context["now"]) + 600
    digest = domain.digest(file_objection_struct_hash(record.leaf.record_id, REASON, nonce, until))
    return {"nonce": nonce, "deadline": until, "signature": "0x" + sign_digest(account, digest).hex()}


def test_a_suspended_provider_s_instructions_signed_before_are_refused(tmp_path: Path) -> None:
    """A provider suspended after signing gets 403 AUTH_NOT_MEMBER for its revocation and its objection
    resolution, even while the gateway's role cache still shows it active; the record keeps its status."""
    # An hour between role refreshes: the cache keeps showing the provider active.
    settings = Settings(
        data_dir=tmp_path / "gateway", batch_interval_s=0.1, chain_poll_interval_s=3600, roles_max_age_s=7200
    )
    with serve_gateway(settings) as served:
        stack = served.gateway.stack
        governors = [d.account for d in devnet_for(stack.chain.chain_id).with_role(Role.GOVERNOR)][:2]
        revoked, disputed = anchored_penalty(served), anchored_penalty(served)
        with served.client(FILER) as filer:
            filer.file_objection(disputed.record_id_hex, REASON)
        provider = served.account(SAMR).address
        with served.client(SAMR) as department:
            signed_before = department.call("GET", "/v1/instructions")
            stack.consortium.govern(governors, stack.consortium.suspend_call(provider))
            assert served.gateway.view.roles(provider)  # the cache has not seen the suspension
            steps = (
                ("Revoke", revoked, (REASON,), {"reasonHash": "0x" + REASON.hex()}),
                ("ResolveObjection", disputed, (1, bytes(32)), {"outcome": "revoked"}),
            )
            for name, record, fields, body in steps:
                with pytest.raises(GatewayClientError) as refused:
                    department.send_instruction(
                        name,
                        (record.leaf.record_id, *fields),
                        body,
                        context=signed_before,
                        record_id=record.record_id_hex,
                    )
                assert (refused.value.status, refused.value.code) == (403, "AUTH_NOT_MEMBER")
        assert (chain_status(served, revoked), chain_status(served, disputed)) == (
            RecordStatus.ACTIVE,
            RecordStatus.DISPUTED,
        )
