"""No oracles (issue 16, point 9): a member learns nothing through an error code or a measure
that its view of a record would not show it. Over HTTP, on the embedded chain."""

from __future__ import annotations

import os
from typing import Any

import pytest

from chain_client import CatalogEntrySpec, DisclosureClass, ListKind, Role, catalog_id, devnet_for
from credit_client.client import GatewayClientError
from tests.support.payloads import (
    PENALTY,
    SAMR,
    SECRET_MARK,
    TAX,
    inspection,
    penalty,
    tax_arrears,
)
from tests.support.served import Served
from tests.support.subjects import new_uscc

GOVERNOR = "governor-tianjin"  # a public view of class A, nothing of B or C
AUDITOR = "auditor-hebei"
OTHER_PROVIDER = "samr-tianjin"


def refusal(call: Any) -> tuple[int, str, str, Any]:
    """(status, code, message, detail) of a refused client call."""
    with pytest.raises(GatewayClientError) as caught:
        call()
    error = caught.value
    return error.status, error.code, error.message, error.detail


# ------------------------------------------------------------------ disclose= errors


def test_a_public_view_gets_one_answer_for_a_private_field_and_a_missing_one(served: Served) -> None:
    """For a public view, disclose= of a private field and of a field that does not exist are
    the same 403 ACCESS_FIELD_NOT_PUBLIC (no private name can be probed); public fields still open."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    served.wait_anchored(record)
    with served.client(GOVERNOR) as governor:
        private = refusal(lambda: governor.proof(record.record_id_hex, disclose=["caseOfficer"]))
        missing = refusal(lambda: governor.proof(record.record_id_hex, disclose=["noSuchField"]))
        both = refusal(lambda: governor.proof(record.record_id_hex, disclose=["violation", "noSuchField"]))
        disclosed = governor.proof(record.record_id_hex, disclose=["violation"])
    assert private[:2] == (403, "ACCESS_FIELD_NOT_PUBLIC")
    assert private == missing == both
    assert list(disclosed["disclosure"]["fields"]) == ["violation"]


def test_a_full_view_still_gets_the_precise_code_for_a_missing_field(served: Served) -> None:
    """The record's provider (full view) is told which field is missing: 422 DISCLOSE_UNKNOWN_FIELD."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    served.wait_anchored(record)
    with served.client(SAMR) as provider:
        status, code, _, detail = refusal(lambda: provider.proof(record.record_id_hex, disclose=["noSuchField"]))
        assert "caseOfficer" in provider.proof(record.record_id_hex, disclose=["caseOfficer"])["disclosure"]["fields"]
    assert (status, code, detail) == (422, "DISCLOSE_UNKNOWN_FIELD", {"fields": ["noSuchField"]})


# ------------------------------------------------------------------ measures


def listed_entry(served: Served, klass: DisclosureClass, source: str, schema: str) -> str:
    """A new catalog entry of this class on the black list, created by governors; its code."""
    stack = served.gateway.stack
    devnet = devnet_for(stack.chain.chain_id)
    code = f"T-{klass.name}-BLACK-{os.urandom(3).hex()}"
    spec = CatalogEntrySpec(
        code=code,
        source=devnet.by_label(source).account.address,
        disclosure_class=klass,
        list_kind=ListKind.BLACK,
        publicity_days=0,
        min_days_before_repair=0,
        schema_hash=served.gateway.schemas.by_name(schema).hash,
    )
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][: stack.consortium.threshold()]
    stack.consortium.govern(governors, stack.catalog.create_call(spec))
    assert served.gateway.view.entry(catalog_id(code)).list_kind == ListKind.BLACK
    return code


def black(served: Served, label: str, subject: str) -> tuple[bool, int, list[str]]:
    """(on the black list, basisCount, measure codes) as the member labelled asks /measures."""
    with served.client(label) as client:
        answer = client.measures(subject)["answer"]
    return answer["lists"]["black"], answer["basisCount"], [m["code"] for m in answer["measures"]]


def test_a_black_listed_class_b_record_shows_only_to_its_provider(served: Served) -> None:
    """A class-B entry with a list kind weighs in /measures and the report's lists only for its
    provider: to a governor, an auditor or another provider the subject is on no list."""
    code = listed_entry(served, DisclosureClass.B, TAX, "tax-arrears.schema.json")
    subject = new_uscc()
    served.wait_anchored(served.submit(TAX, code, subject, tax_arrears()))
    for label in (GOVERNOR, AUDITOR, SAMR):
        assert black(served, label, subject) == (False, 0, []), label
    listed, count, measures = black(served, TAX, subject)
    assert (listed, count) == (True, 1)
    assert measures
    with served.client(GOVERNOR) as governor:
        report = governor.report(subject)
    assert (report["report"]["lists"], report["report"]["measures"]) == ({"red": False, "black": False}, [])
    with served.client(AUDITOR) as auditor:
        assert auditor.measure_proofs(subject)["proofs"] == []


def test_a_black_listed_class_c_record_shows_only_to_providers_and_auditors(served: Served) -> None:
    """A class-C entry with a list kind weighs for PROVIDER and AUDITOR members, never for a governor."""
    code = listed_entry(served, DisclosureClass.C, SAMR, "inspection-result.schema.json")
    subject = new_uscc()
    served.wait_anchored(served.submit(SAMR, code, subject, inspection()))
    assert black(served, GOVERNOR, subject) == (False, 0, [])
    for label in (SAMR, OTHER_PROVIDER, AUDITOR):
        assert black(served, label, subject)[:2] == (True, 1), label
    with served.client(GOVERNOR) as governor:
        assert SECRET_MARK not in str(governor.measures(subject))


def test_a_class_a_list_record_still_shows_to_every_member(served: Served) -> None:
    """Lists from class-A records are public by policy: a governor sees the black list as before."""
    subject = new_uscc()
    served.wait_anchored(served.submit(SAMR, PENALTY, subject, penalty()))
    assert black(served, GOVERNOR, subject)[:2] == (True, 1)
