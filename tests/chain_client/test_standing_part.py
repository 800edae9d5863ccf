"""Regional parts (credit-ledger/standing-part@1): a part checks only for the gateway, the
question and the request it was signed for; and the one-region screenings before them still verify."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chain_client import (
    PartExpectation,
    build_part_document,
    check_part,
    devnet_for,
    line_proof,
    part_digest,
    query_hash,
    screening_leaf,
    sign_document,
    verify_screening,
)
from chain_client.spec.merkle import StandardMerkleTree

CHAIN_ID = 31337
LEDGER = "0x" + "11" * 20
NONCE = "n" * 24


def _accounts() -> tuple[Any, Any, Any]:
    devnet = devnet_for(CHAIN_ID)
    beijing, tianjin, hebei = (devnet.by_label(f"gateway-{r}").account for r in ("beijing", "tianjin", "hebei"))
    return beijing, tianjin, hebei


REFS = ("0x" + "ab" * 32, "0x" + "cd" * 32)


def _part(holder: Any, audience: str, refs: tuple[str, ...] = REFS) -> dict[str, Any]:
    body = {
        "chainId": CHAIN_ID,
        "ledger": LEDGER,
        "gateway": holder.address,
        "region": 120000,
        "audience": audience,
        "queryHash": query_hash(list(refs)),
        "requestNonce": NONCE,
        "generatedAt": 1_700_000_000,
        "asOfBlock": 12,
        "count": len(refs),
        "listed": [
            {
                "subjectRef": refs[0],
                "lists": {"red": False, "black": True},
                "measures": [{"code": "BL-PROCUREMENT", "kind": "mandatory"}],
            }
        ],
    }
    return build_part_document(body, holder)


def _expected(holder: Any, asker: Any, **changes: Any) -> PartExpectation:
    fields: dict[str, Any] = {
        "subject_refs": REFS,
        "gateway": holder.address,
        "audience": asker.address,
        "chain_id": CHAIN_ID,
        "ledger": LEDGER,
        "request_nonce": NONCE,
    }
    fields.update(changes)
    return PartExpectation(**fields)


def test_a_genuine_part_checks() -> None:
    beijing, tianjin, _ = _accounts()
    part = _part(tianjin, beijing.address)
    assert check_part(part, _expected(tianjin, beijing)).passed
    assert part_digest(part).startswith("0x")
    assert query_hash([r.upper().replace("0X", "0x") for r in REFS]) == query_hash(list(REFS))


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("for another gateway", "not for"),
        ("another query", "queryHash"),
        ("another request", "requestNonce"),
        ("from another holder", "not from"),
        ("another chain", "chain"),
        ("re-signed by the asker", "not by the gateway"),
        ("a subject not asked", "not asked"),
        ("garbage", "format"),
    ],
)
def test_a_part_for_something_else_is_refused(case: str, detail: str) -> None:
    beijing, tianjin, hebei = _accounts()
    part: Any = _part(tianjin, beijing.address)
    expected = _expected(tianjin, beijing)
    if case == "for another gateway":
        part = _part(tianjin, hebei.address)
    elif case == "another query":
        expected = _expected(tianjin, beijing, subject_refs=REFS[:1])
    elif case == "another request":
        expected = _expected(tianjin, beijing, request_nonce="m" * 24)
    elif case == "from another holder":
        expected = _expected(hebei, beijing)
    elif case == "another chain":
        expected = _expected(tianjin, beijing, chain_id=1)
    elif case == "re-signed by the asker":
        part = copy.deepcopy(part)
        part["part"]["listed"] = []
        part["signature"] = build_part_document({**part["part"], "gateway": beijing.address}, beijing)["signature"]
    elif case == "a subject not asked":
        other = ("0x" + "ef" * 32,)
        part = _part(tianjin, beijing.address, refs=other)
        expected = _expected(tianjin, beijing, subject_refs=other)
        part = copy.deepcopy(part)
        part["part"]["listed"][0]["subjectRef"] = REFS[0]
        part = build_part_document(part["part"], tianjin)
    else:
        part = {"lists": {"red": False}}
    checked = check_part(part, expected)
    assert not checked.passed
    assert detail in checked.detail, checked.detail


def test_a_gateway_never_signs_a_part_naming_another() -> None:
    beijing, tianjin, _ = _accounts()
    body = _part(tianjin, beijing.address)["part"]
    with pytest.raises(ValueError, match="would sign it"):
        build_part_document(body, beijing)


def test_a_one_region_screening_of_format_1_still_verifies() -> None:
    """Screenings signed before the consortium-wide format (@1) are still read, whole and line by line."""
    _, tianjin, _ = _accounts()
    lines = [
        {"index": 0, "subject": "91110108MA01C5XL6R", "lists": {"red": False, "black": True}, "measures": ["BL-X"]},
        {"index": 1, "subject": "123", "code": "USCC_LENGTH"},
    ]
    header = {
        "chainId": CHAIN_ID,
        "ledger": LEDGER,
        "gateway": tianjin.address,
        "requester": tianjin.address,
        "purpose": "tender screening",
        "generatedAt": 1_700_000_000,
        "asOfBlock": 12,
        "root": "0x" + StandardMerkleTree([screening_leaf(line) for line in lines]).root.hex(),
        "count": 2,
    }
    document = {
        "format": "credit-ledger/screening@1",
        "screening": header,
        "signature": sign_document(tianjin, header),
        "lines": lines,
    }
    whole = verify_screening(document)
    assert whole.valid, whole.failures
    assert [c.name for c in whole.checks] == ["format", "signature", "root"]
    single = line_proof(document, 0)
    assert single["format"] == "credit-ledger/screening-line@1"
    assert verify_screening(single).valid
