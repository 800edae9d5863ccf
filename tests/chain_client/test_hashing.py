"""The normative hashing rules: ids, record leaves, content commitments, EIP-712 digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from chain_client import (
    CalendarRef,
    CommitmentDomain,
    CommitmentTerm,
    ContentCommitment,
    DisclosedField,
    Disclosure,
    LedgerDomain,
    RecordLeaf,
    Term,
    TermUnit,
    canonical_json,
    catalog_id,
    record_id,
    recover_signer,
    subject_ref_resident,
    subject_ref_uscc,
    subject_tag,
    verify_disclosure,
)
from chain_client.spec.content import encode_field
from chain_client.spec.eip712 import (
    breach_struct_hash,
    file_objection_struct_hash,
    fulfil_struct_hash,
    record_commitment_struct_hash,
    record_struct_hash,
    request_repair_struct_hash,
    sign_digest,
    withdraw_struct_hash,
)

PROVIDER = "0x917A6C517e2940FA51575f7E7BE9B3445cc69492"
PAYLOAD = {
    "penaltyNumber": "京市监罚〔2026〕118号",
    "subjectName": "北京某某科技有限公司",
    "decision": {"fine": 50000, "currency": "CNY"},
    "decidedOn": "2026-03-02",
}


def test_identifiers_follow_the_design() -> None:
    """subjectRef is HMAC-SHA256 over a typed prefix; catalogId and recordId are keccak of their inputs."""
    key = os.urandom(32)
    code = "91110108MA01ABCD2X"
    assert subject_ref_uscc(key, code) == hmac.new(key, b"USCC:" + code.encode(), hashlib.sha256).digest()
    assert (
        subject_ref_resident(key, "11010519491231002X")
        == hmac.new(key, b"RID:11010519491231002X", hashlib.sha256).digest()
    )
    assert catalog_id("BJ-XZCF-001") == keccak(text="BJ-XZCF-001")
    args = (PROVIDER, os.urandom(32), os.urandom(32), os.urandom(32), 1_760_000_000)
    expected = keccak(encode(["address", "bytes32", "bytes32", "bytes32", "uint64"], list(args)))
    assert record_id(*args) == expected


def test_a_subject_tag_blinds_the_subject_ref_with_its_salt() -> None:
    """subjectTag = keccak256(abi.encode(subjectRef, subjectSalt)): the same subject under two salts gives two
    unrelated tags, and only a 32-byte reference and salt make one."""
    ref, salt = os.urandom(32), os.urandom(32)
    assert subject_tag(ref, salt) == keccak(encode(["bytes32", "bytes32"], [ref, salt]))
    assert subject_tag(ref, os.urandom(32)) != subject_tag(ref, salt)
    with pytest.raises(ValueError, match="32 bytes each"):
        subject_tag(ref, salt[:31])


def test_canonical_json_is_rfc8785() -> None:
    """Keys sorted, no spaces, UTF-8 kept: the same bytes whatever the input order."""
    assert canonical_json({"b": 1, "a": [True, None, "京"]}) == '{"a":[true,null,"京"],"b":1}'.encode()
    assert canonical_json({"x": 1.0}) == b'{"x":1}'


def test_disclosure_reveals_chosen_fields_and_verifies() -> None:
    """Disclosed fields verify against contentHash with their salts; the others stay out."""
    commitment = ContentCommitment(PAYLOAD, os.urandom(32))
    disclosure = commitment.disclose(["decision", "subjectName"])
    assert set(disclosure.fields) == {"decision", "subjectName"}
    assert disclosure.fields["decision"].value == PAYLOAD["decision"]
    assert verify_disclosure(commitment.content_hash, disclosure)


@pytest.mark.parametrize("change", ["value", "salt", "name"])
def test_altered_disclosure_fails(change: str) -> None:
    """Changing a disclosed value, its salt or its name breaks the multiproof."""
    commitment = ContentCommitment(PAYLOAD, os.urandom(32))
    disclosure = commitment.disclose(["decision"])
    field = disclosure.fields["decision"]
    if change == "value":
        fields = {"decision": DisclosedField({"fine": 5, "currency": "CNY"}, field.salt)}
    elif change == "salt":
        fields = {"decision": DisclosedField(field.value, os.urandom(32))}
    else:
        fields = {"decidedOn": field}
    assert not verify_disclosure(commitment.content_hash, Disclosure(fields, disclosure.proof, disclosure.proof_flags))


def test_content_hash_depends_on_the_seed_and_every_field() -> None:
    """Another seed or any changed field gives another contentHash; key order does not."""
    seed = os.urandom(32)
    base = ContentCommitment(PAYLOAD, seed).content_hash
    assert ContentCommitment(dict(reversed(list(PAYLOAD.items()))), seed).content_hash == base
    assert ContentCommitment(PAYLOAD, os.urandom(32)).content_hash != base
    assert ContentCommitment({**PAYLOAD, "decidedOn": "2026-03-03"}, seed).content_hash != base


def test_disclosing_an_unknown_field_or_an_empty_payload_is_refused() -> None:
    """Only fields of the payload can be disclosed; a payload needs a field and a 32-byte seed."""
    with pytest.raises(KeyError, match="nope"):
        ContentCommitment(PAYLOAD, os.urandom(32)).disclose(["nope"])
    with pytest.raises(ValueError, match="at least one field"):
        ContentCommitment({}, os.urandom(32))
    with pytest.raises(ValueError, match="32 bytes"):
        ContentCommitment(PAYLOAD, b"short")


def test_record_digest_matches_eth_account_typed_data() -> None:
    """Our hand-built CreditRecord digest equals eth-account's generic EIP-712 encoding."""
    leaf = RecordLeaf.create(
        catalog_id=catalog_id("BJ-XZCF-001"),
        catalog_version=2,
        subject_tag=os.urandom(32),
        content_hash=os.urandom(32),
        provider=PROVIDER,
        issued_at=1_760_000_000,
        supersedes=os.urandom(32),
    )
    domain = LedgerDomain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    types = {
        "CreditRecord": [
            {"name": "recordId", "type": "bytes32"},
            {"name": "catalogId", "type": "bytes32"},
            {"name": "catalogVersion", "type": "uint16"},
            {"name": "subjectTag", "type": "bytes32"},
            {"name": "contentHash", "type": "bytes32"},
            {"name": "provider", "type": "address"},
            {"name": "issuedAt", "type": "uint64"},
            {"name": "supersedes", "type": "bytes32"},
        ]
    }
    message = dict(zip([f["name"] for f in types["CreditRecord"]], leaf.values(), strict=True))
    signable = encode_typed_data(domain.as_dict(), types, message)
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert domain.digest(record_struct_hash(leaf)) == expected


_CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
_INSTRUCTION_TAIL = [{"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint64"}]
_RECORD_ID = keccak(b"record")
_COMMITMENT_ID = keccak(b"commitment")
_HASH = keccak(b"document")
_NONCE, _DEADLINE = 7, 1_760_003_600


@pytest.mark.parametrize(
    ("domain_type", "primary", "fields", "values", "struct_hash"),
    [
        (
            LedgerDomain,
            "FileObjection",
            [("recordId", "bytes32"), ("reasonHash", "bytes32")],
            [_RECORD_ID, _HASH],
            file_objection_struct_hash(_RECORD_ID, _HASH, _NONCE, _DEADLINE),
        ),
        (
            LedgerDomain,
            "RequestRepair",
            [("recordId", "bytes32"), ("evidenceHash", "bytes32")],
            [_RECORD_ID, _HASH],
            request_repair_struct_hash(_RECORD_ID, _HASH, _NONCE, _DEADLINE),
        ),
        (
            CommitmentDomain,
            "Fulfil",
            [("commitmentId", "bytes32")],
            [_COMMITMENT_ID],
            fulfil_struct_hash(_COMMITMENT_ID, _NONCE, _DEADLINE),
        ),
        (
            CommitmentDomain,
            "Breach",
            [("commitmentId", "bytes32"), ("breachRecordId", "bytes32"), ("violation", "bool")],
            [_COMMITMENT_ID, _RECORD_ID, True],
            breach_struct_hash(_COMMITMENT_ID, _RECORD_ID, True, _NONCE, _DEADLINE),
        ),
        (
            CommitmentDomain,
            "Withdraw",
            [("commitmentId", "bytes32")],
            [_COMMITMENT_ID],
            withdraw_struct_hash(_COMMITMENT_ID, _NONCE, _DEADLINE),
        ),
    ],
    ids=["FileObjection", "RequestRepair", "Fulfil", "Breach", "Withdraw"],
)
def test_instruction_digests_match_eth_account_typed_data(
    domain_type: type[LedgerDomain | CommitmentDomain],
    primary: str,
    fields: list[tuple[str, str]],
    values: list[object],
    struct_hash: bytes,
) -> None:
    """Each relayed instruction's hand-built digest equals eth-account's generic EIP-712 encoding in its domain."""
    domain = domain_type(chain_id=31337, verifying_contract=_CONTRACT)
    types = {primary: [{"name": n, "type": t} for n, t in fields] + _INSTRUCTION_TAIL}
    message = dict(zip([n for n, _ in fields], values, strict=True)) | {"nonce": _NONCE, "deadline": _DEADLINE}
    signable = encode_typed_data(domain.as_dict(), types, message)
    assert domain.digest(struct_hash) == keccak(b"\x19" + signable.version + signable.header + signable.body)


def test_the_two_domains_differ_only_by_name() -> None:
    """LedgerDomain signs as "CreditLedger", CommitmentDomain as "CreditCommitments"; one can't stand for the other."""
    ledger, commitments = LedgerDomain(31337, _CONTRACT), CommitmentDomain(31337, _CONTRACT)
    assert (ledger.as_dict()["name"], commitments.as_dict()["name"]) == ("CreditLedger", "CreditCommitments")
    assert {k: v for k, v in ledger.as_dict().items() if k != "name"} == {
        k: v for k, v in commitments.as_dict().items() if k != "name"
    }
    assert ledger.separator != commitments.separator
    assert ledger != commitments


def test_signatures_recover_to_their_signer_and_nothing_else() -> None:
    """recover_signer returns the signer, None for malformed or high-s signatures."""
    account = Account.create()
    digest = os.urandom(32)
    signature = sign_digest(account, digest)
    assert recover_signer(digest, signature) == account.address
    assert recover_signer(os.urandom(32), signature) != account.address
    assert recover_signer(digest, signature[:64]) is None
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signature[32:64], "big")
    high_s = signature[:32] + (n - s).to_bytes(32, "big") + bytes([signature[64] ^ 1])
    assert recover_signer(digest, high_s) is None


def test_disclosure_verifies_whatever_the_field_order() -> None:
    """A verifier needs no field order: reversed fields still verify (leaves are consumed by hash)."""
    commitment = ContentCommitment(PAYLOAD, os.urandom(32))
    disclosure = commitment.disclose(["decision", "subjectName", "decidedOn"])
    reversed_fields = dict(reversed(list(disclosure.fields.items())))
    assert verify_disclosure(
        commitment.content_hash, Disclosure(reversed_fields, disclosure.proof, disclosure.proof_flags)
    )


@given(
    name=st.text(max_size=80),
    salt=st.binary(min_size=32, max_size=32),
    value=st.binary(max_size=200),
)
def test_field_encoding_equals_eth_abi(name: str, salt: bytes, value: bytes) -> None:
    """The hand-written field encoding is abi.encode(string, bytes32, bytes) byte for byte."""
    assert encode_field(name.encode(), salt, value) == encode(["string", "bytes32", "bytes"], [name, salt, value])


@pytest.mark.parametrize(
    "term",
    [
        CommitmentTerm(
            dt.date(2026, 12, 24), Term(TermUnit.WORKING_DAYS, 7), (CalendarRef(2026, 1), CalendarRef(2027, 2))
        ),
        CommitmentTerm(dt.date(2026, 12, 24), Term(TermUnit.MONTHS, 12)),
    ],
    ids=["working-days-two-calendars", "months-no-calendar"],
)
def test_record_commitment_digest_matches_eth_account_typed_data(term: CommitmentTerm) -> None:
    """RecordCommitment, with its CalendarRef[] member, hashes as eth-account's generic EIP-712 encoder does."""
    domain = CommitmentDomain(chain_id=31337, verifying_contract=_CONTRACT)
    fields = [
        ("subjectTag", "bytes32"),
        ("kind", "uint8"),
        ("docHash", "bytes32"),
        ("acceptedOn", "uint32"),
        ("termUnit", "uint8"),
        ("termLength", "uint16"),
        ("calendars", "CalendarRef[]"),
        ("dueBy", "uint64"),
    ]
    types = {
        "RecordCommitment": [{"name": n, "type": t} for n, t in fields] + _INSTRUCTION_TAIL,
        "CalendarRef": [{"name": "year", "type": "uint16"}, {"name": "version", "type": "uint16"}],
    }
    message = {
        "subjectTag": _RECORD_ID,
        "kind": 1,
        "docHash": _HASH,
        "acceptedOn": term.accepted_on_number,
        "termUnit": int(term.term.unit),
        "termLength": term.term.length,
        "calendars": [ref.to_json() for ref in term.calendars],
        "dueBy": 1_760_604_800,
        "nonce": _NONCE,
        "deadline": _DEADLINE,
    }
    signable = encode_typed_data(domain.as_dict(), types, message)
    struct_hash = record_commitment_struct_hash(_RECORD_ID, 1, _HASH, term, 1_760_604_800, _NONCE, _DEADLINE)
    assert domain.digest(struct_hash) == keccak(b"\x19" + signable.version + signable.header + signable.body)
