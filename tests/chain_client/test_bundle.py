"""Proof bundles: format, offline and online verification, tampering, the npm library, the CLI."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account.signers.local import LocalAccount

from chain_client import (
    BUNDLE_FORMAT,
    LEAF_ENCODING,
    Chain,
    ContentCommitment,
    ObjectionOutcome,
    ProofBundle,
    RecordLeaf,
    RecordProof,
    RecordStatus,
    Role,
    SignedRecord,
    Stack,
    SubjectOpening,
    anchor_records,
    bundle_schema,
    deploy_demo_stack,
    devnet_for,
    verify_bundle,
    verify_bundles,
)
from chain_client.dev import DevChain
from chain_client.spec.records import LEAF_FIELDS
from chain_client.verify.bundle import schema_problems
from chain_client.verify.bundles import OFFLINE_CHECKS, ONLINE_CHECKS
from credit_cli.main import main
from tests.chain_client.conftest import MIN_DAYS_BEFORE_REPAIR, govern, make_leaf, penalty_spec
from tests.support.hardhat import HardhatNode
from tests.support.reference import openzeppelin_merkle

PAYLOAD = {
    "decision": {"fine": 50000, "currency": "CNY"},
    "decidedOn": "2026-03-02",
    "subjectName": "北京某某科技有限公司",
}
REASON = b"\x0e" * 32


@dataclass
class Issued:
    """Bundles of records anchored in one batch; the first opens its subjectTag and discloses two payload fields."""

    bundles: list[ProofBundle]
    gateway: str

    @property
    def disclosed(self) -> ProofBundle:
        return self.bundles[0]

    def proof(self, index: int) -> RecordProof:
        bundle = self.bundles[index]
        return RecordProof(bundle.leaf, self.gateway, bundle.batch.root, bundle.batch.proof)


def issue(stack: Stack, provider: LocalAccount, gateway: LocalAccount, entry: bytes, count: int = 6) -> Issued:
    commitment = ContentCommitment(PAYLOAD, os.urandom(32))
    leaves = [make_leaf(entry, provider.address) for _ in range(count)]
    opening = SubjectOpening(os.urandom(32), os.urandom(32))
    leaves[0] = RecordLeaf.create(
        catalog_id=entry,
        catalog_version=1,
        subject_tag=opening.tag(),
        content_hash=commitment.content_hash,
        provider=provider.address,
        issued_at=1_760_000_000,
    )
    signed = [SignedRecord(leaf, stack.ledger.sign_record(provider, leaf)) for leaf in leaves]
    bundles = anchor_records(stack, gateway, signed)
    bundles[0] = bundles[0].with_subject(opening).with_disclosure(commitment.disclose(["decision", "subjectName"]))
    return Issued(bundles, gateway.address)


@pytest.fixture
def issued(stack: Stack, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes) -> Issued:
    return issue(stack, provider, gateway, penalty_entry)


def test_bundles_follow_the_committed_schema(issued: Issued) -> None:
    """Every bundle validates against the committed JSON Schema and round-trips through JSON."""
    assert bundle_schema()["$id"] == BUNDLE_FORMAT
    for bundle in issued.bundles:
        document = json.loads(bundle.dumps())
        assert schema_problems(document) == []
        assert document["format"] == BUNDLE_FORMAT
        assert document["leafEncoding"] == list(LEAF_ENCODING)
        assert ProofBundle.from_json(document) == bundle


def test_schema_rejects_malformed_documents(issued: Issued) -> None:
    """Missing keys, wrong hex lengths and unknown keys are named by the schema."""
    document = issued.disclosed.to_json()
    del document["batch"]["txHash"]
    document["record"]["recordId"] = "0x1234"
    document["extra"] = True
    problems = " | ".join(schema_problems(document))
    assert "txHash" in problems
    assert "record/recordId" in problems
    assert "extra" in problems
    with pytest.raises(ValueError, match="not a valid credit-ledger/proof@2 bundle"):
        ProofBundle.from_json(document)


def test_bundles_verify_offline(issued: Issued) -> None:
    """Without a chain every offline check passes, the disclosure included."""
    report = verify_bundle(issued.disclosed.to_json())
    assert [c.name for c in report.checks] == list(OFFLINE_CHECKS)
    assert report.valid
    assert report.current is None
    assert [r.valid for r in verify_bundles(issued.bundles)] == [True] * len(issued.bundles)


def test_bundles_verify_against_the_chain(chain: Chain, issued: Issued) -> None:
    """Against the chain every check passes and the record is current."""
    report = verify_bundle(issued.disclosed, chain)
    assert [c.name for c in report.checks] == list(OFFLINE_CHECKS[1:]) + list(ONLINE_CHECKS)
    assert report.valid, report.failed
    assert (report.current, report.status) == (True, RecordStatus.ACTIVE)


def _tampered(bundle: ProofBundle, part: str) -> dict[str, Any]:
    document = bundle.to_json()
    other32 = "0x" + os.urandom(32).hex()
    record, batch, chain = document["record"], document["batch"], document["chain"]
    if part in record:
        record[part] = (
            record[part] + 1
            if isinstance(record[part], int)
            else "0x" + os.urandom(20).hex()
            if part == "provider"
            else other32
        )
    elif part == "proofElement":
        batch["proof"][0] = other32
    elif part in ("root", "txHash"):
        batch[part] = other32
    elif part == "blockNumber":
        batch["blockNumber"] += 1
    elif part == "signature":
        signature = bytearray(bytes.fromhex(document["signature"][2:]))
        signature[5] ^= 0xFF
        document["signature"] = "0x" + signature.hex()
    elif part in ("subjectRef", "subjectSalt"):
        document["subject"][part] = other32
    elif part == "disclosedValue":
        document["disclosure"]["fields"]["decision"]["value"] = {"fine": 5, "currency": "CNY"}
    elif part == "disclosedSalt":
        document["disclosure"]["fields"]["decision"]["salt"] = other32
    elif part == "chainId":
        chain["chainId"] += 1
    elif part in ("ledger", "consortium", "catalog"):
        chain[part] = "0x" + os.urandom(20).hex()
    return document


@pytest.mark.parametrize(
    ("part", "check"),
    [
        ("recordId", "recordId"),
        ("catalogId", "recordId"),
        ("catalogVersion", "batchProof"),
        ("subjectTag", "recordId"),
        ("contentHash", "recordId"),
        ("provider", "recordId"),
        ("issuedAt", "recordId"),
        ("supersedes", "batchProof"),
        ("proofElement", "batchProof"),
        ("root", "batchProof"),
        ("signature", "signature"),
        ("subjectRef", "subjectTag"),
        ("subjectSalt", "subjectTag"),
        ("disclosedValue", "disclosure"),
        ("disclosedSalt", "disclosure"),
        ("chainId", "chainId"),
        ("ledger", "contracts"),
        ("consortium", "contracts"),
        ("catalog", "contracts"),
        ("txHash", "anchored"),
        ("blockNumber", "anchored"),
    ],
)
def test_tampering_is_caught_by_the_right_check(chain: Chain, issued: Issued, part: str, check: str) -> None:
    """Altering any part of a bundle fails the check that guards that part."""
    report = verify_bundle(_tampered(issued.disclosed, part), chain)
    assert not report.valid
    assert check in {c.name for c in report.failed}, [(c.name, c.detail) for c in report.checks]


def test_chain_id_and_ledger_are_bound_by_the_signature(issued: Issued) -> None:
    """Offline, another chain id or ledger address breaks the provider's EIP-712 signature."""
    for part in ("chainId", "ledger"):
        report = verify_bundle(_tampered(issued.disclosed, part))
        assert [c.name for c in report.failed] == ["signature"]


def test_a_record_of_a_provider_that_is_not_the_source_fails_the_catalog_check(
    stack: Stack, chain: Chain, other_provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """A record signed by a provider that is not the catalog entry's source is authentic but fails `catalog`."""
    issued = issue(stack, other_provider, gateway, penalty_entry, count=2)
    report = verify_bundle(issued.bundles[1], chain)
    assert [c.name for c in report.failed] == ["catalog"]


@pytest.mark.parametrize("outcome", ["revoked", "corrected", "repaired"])
def test_withdrawn_records_are_authentic_but_not_current(
    stack: Stack,
    chain: Chain,
    issued: Issued,
    provider: LocalAccount,
    gateway: LocalAccount,
    penalty_entry: bytes,
    outcome: str,
) -> None:
    """Revoked, corrected and repaired records still verify, as not current, naming status and successor."""
    ledger = stack.ledger
    proof = issued.proof(1)
    successor = None
    if outcome == "revoked":
        ledger.revoke(provider, proof, REASON)
    elif outcome == "corrected":
        leaf = make_leaf(
            penalty_entry, provider.address, subject_tag=proof.leaf.subject_tag, supersedes=proof.leaf.record_id
        )
        (correction,) = anchor_records(stack, gateway, [SignedRecord(leaf, ledger.sign_record(provider, leaf))])
        ledger.file_objection(provider, proof, REASON)
        ledger.resolve_objection(
            provider,
            proof,
            ObjectionOutcome.CORRECTED,
            RecordProof(leaf, gateway.address, correction.batch.root, correction.batch.proof),
        )
        successor = "0x" + leaf.record_id.hex()
        assert verify_bundle(correction, chain).current
    else:
        ledger.request_repair(provider, proof, REASON)
        chain.increase_time(MIN_DAYS_BEFORE_REPAIR * 24 * 3600)
        ledger.approve_repair(provider, proof)
    report = verify_bundle(issued.bundles[1], chain)
    assert report.valid
    assert report.current is False
    assert report.status == RecordStatus[outcome.upper()]
    assert report.superseded_by == successor
    assert "no longer in force" in report.check("status").detail


def test_provider_suspended_after_anchoring_still_verifies(
    stack: Stack, chain: Chain, issued: Issued, governors: list[LocalAccount], provider: LocalAccount
) -> None:
    """The provider's role is judged at the anchoring block, so a later suspension leaves old records valid."""
    govern(stack.consortium, governors, stack.consortium.suspend_call(provider.address))
    report = verify_bundle(issued.bundles[2], chain)
    assert report.valid, report.failed
    assert "at block" in report.check("provider").detail


def test_the_npm_library_accepts_every_bundle(issued: Issued) -> None:
    """StandardMerkleTree.verify(root, leafEncoding, values, proof) from npm returns true for each bundle."""
    cases = []
    for bundle in issued.bundles:
        document = bundle.to_json()
        record = document["record"]
        values = [record[name] for name in LEAF_FIELDS]
        cases.append({"root": document["batch"]["root"], "values": values, "proof": document["batch"]["proof"]})
    reference = openzeppelin_merkle({"encoding": list(LEAF_ENCODING), "values": [], "verify": cases})
    assert reference["verified"] == [True] * len(cases)


# ------------------------------------------------------------------------ CLI


def _write(tmp_path: Path, bundles: list[ProofBundle]) -> list[str]:
    paths = []
    for i, bundle in enumerate(bundles):
        path = tmp_path / f"bundle-{i}.json"
        path.write_text(bundle.dumps(), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_cli_verifies_offline_and_exits_by_validity(issued: Issued, tmp_path: Path) -> None:
    """`credit-ledger verify` prints a PASS line per check and exits 0; a tampered bundle gives FAIL and exit 1."""
    paths = _write(tmp_path, issued.bundles[:2])
    result = CliRunner().invoke(main, ["verify", *paths])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS signature") == 2
    assert "VALID offline" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_tampered(issued.disclosed, "signature")), encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", paths[0], str(bad), "--json"])
    assert result.exit_code == 1
    reports = json.loads(result.output)
    assert [r["valid"] for r in reports] == [True, False]
    assert [c["name"] for c in reports[1]["checks"] if not c["passed"]] == ["signature"]


def test_cli_usage_and_connection_errors_exit_2(issued: Issued, tmp_path: Path) -> None:
    """A missing file or an unreachable chain is exit 2; a file that is not JSON is an invalid bundle."""
    missing = CliRunner().invoke(main, ["verify", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    (path,) = _write(tmp_path, issued.bundles[:1])
    from tests.support.hardhat import free_port

    unreachable = CliRunner().invoke(main, ["verify", path, "--rpc", f"http://127.0.0.1:{free_port()}"])
    assert unreachable.exit_code == 2
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", str(garbage)])
    assert result.exit_code == 1
    assert "FAIL schema" in result.output


@pytest.mark.hardhat
def test_cli_verifies_against_a_hardhat_node(hardhat_node: HardhatNode, tmp_path: Path) -> None:
    """A Tianjin auditor with only bundle files and the RPC URL verifies Beijing records online."""
    chain = DevChain.connect(hardhat_node.url)
    stack = deploy_demo_stack(chain)
    devnet = devnet_for(chain.chain_id)
    provider = devnet.by_label("samr-beijing").account
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)]
    govern(stack.consortium, governors, stack.catalog.create_call(penalty_spec(provider.address)))
    issued = issue(
        stack, provider, devnet.by_label("gateway-beijing").account, penalty_spec(provider.address).catalog_id
    )
    paths = _write(tmp_path, issued.bundles)
    result = CliRunner().invoke(main, ["verify", *paths, "--rpc", hardhat_node.url])
    assert result.exit_code == 0, result.output
    assert result.output.count("VALID and current") == len(paths)
    assert "PASS anchored" in result.output
