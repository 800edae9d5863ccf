"""Portable proof bundles, format `credit-ledger/proof@2` (schemas/proof-bundle.schema.json).

A bundle holds one record's leaf fields, optionally the opening of its subjectTag
(subjectRef and subjectSalt), its provider's EIP-712 signature, the batch
root with the record's Merkle proof and anchoring transaction, and optionally some
payload fields disclosed with their salts and a multiproof against contentHash. With
it and read access to the chain, anyone verifies the record without a gateway.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from chain_client.contracts.ledger import BatchKind
from chain_client.contracts.stack import Stack
from chain_client.spec.content import DisclosedField, Disclosure
from chain_client.spec.records import LEAF_ENCODING, RecordLeaf, checksummed, record_tree, subject_tag
from chain_client.spec.schemas import load_schema
from chain_client.spec.schemas import schema_problems as problems_under

BUNDLE_FORMAT = "credit-ledger/proof@2"

SCHEMA_FILE = "proof-bundle.schema.json"


@dataclass(frozen=True)
class ChainRef:
    """Which chain and contracts a bundle speaks of."""

    chain_id: int
    consortium: ChecksumAddress
    catalog: ChecksumAddress
    ledger: ChecksumAddress


@dataclass(frozen=True)
class BatchRef:
    """The anchored batch and the record's place in it."""

    root: bytes
    proof: tuple[bytes, ...]
    tx_hash: bytes
    block_number: int
    anchored_at: int


@dataclass(frozen=True)
class SubjectOpening:
    """What a record's subjectTag hides: subjectTag = keccak256(abi.encode(subjectRef, subjectSalt))."""

    subject_ref: bytes
    subject_salt: bytes

    def tag(self) -> bytes:
        """The subjectTag this opening gives."""
        return subject_tag(self.subject_ref, self.subject_salt)


@dataclass(frozen=True)
class SignedRecord:
    """A record leaf with its provider's EIP-712 CreditRecord signature."""

    leaf: RecordLeaf
    signature: bytes


@dataclass(frozen=True)
class ProofBundle:
    """One record, provable offline and against the chain."""

    chain: ChainRef
    leaf: RecordLeaf
    signature: bytes
    batch: BatchRef
    disclosure: Disclosure | None = None
    subject: SubjectOpening | None = None

    def with_disclosure(self, disclosure: Disclosure) -> ProofBundle:
        """The same bundle revealing some payload fields."""
        return replace(self, disclosure=disclosure)

    def with_subject(self, subject: SubjectOpening) -> ProofBundle:
        """The same bundle opening its subjectTag."""
        return replace(self, subject=subject)

    def to_json(self) -> dict[str, Any]:
        """The bundle as its normative JSON document."""
        document: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "chain": {
                "chainId": self.chain.chain_id,
                "consortium": self.chain.consortium,
                "catalog": self.chain.catalog,
                "ledger": self.chain.ledger,
            },
            "record": {
                "recordId": _hex(self.leaf.record_id),
                "catalogId": _hex(self.leaf.catalog_id),
                "catalogVersion": self.leaf.catalog_version,
                "subjectTag": _hex(self.leaf.subject_tag),
                "contentHash": _hex(self.leaf.content_hash),
                "provider": self.leaf.provider,
                "issuedAt": self.leaf.issued_at,
                "supersedes": _hex(self.leaf.supersedes),
            },
            "leafEncoding": list(LEAF_ENCODING),
            "signature": _hex(self.signature),
            "batch": {
                "root": _hex(self.batch.root),
                "proof": [_hex(p) for p in self.batch.proof],
                "txHash": _hex(self.batch.tx_hash),
                "blockNumber": self.batch.block_number,
                "anchoredAt": self.batch.anchored_at,
            },
        }
        if self.subject is not None:
            document["subject"] = {
                "subjectRef": _hex(self.subject.subject_ref),
                "subjectSalt": _hex(self.subject.subject_salt),
            }
        if self.disclosure is not None:
            document["disclosure"] = {
                "fields": {
                    name: {"value": f.value, "salt": _hex(f.salt)} for name, f in self.disclosure.fields.items()
                },
                "proof": [_hex(p) for p in self.disclosure.proof],
                "proofFlags": list(self.disclosure.proof_flags),
            }
        return document

    def dumps(self) -> str:
        """The JSON text of the bundle."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, document: dict[str, Any], *, validate: bool = True) -> ProofBundle:
        """Parse a bundle document; ValueError (with the schema's complaint) when malformed.

        validate=False skips the JSON Schema, for documents already validated.
        """
        problems = schema_problems(document) if validate else []
        if problems:
            raise ValueError(f"not a valid {BUNDLE_FORMAT} bundle: {problems[0]}")
        chain, record, batch = document["chain"], document["record"], document["batch"]
        disclosure = None
        if "disclosure" in document:
            d = document["disclosure"]
            disclosure = Disclosure(
                fields={
                    name: DisclosedField(value=f["value"], salt=_bytes(f["salt"])) for name, f in d["fields"].items()
                },
                proof=tuple(_bytes(p) for p in d["proof"]),
                proof_flags=tuple(bool(flag) for flag in d["proofFlags"]),
            )
        opening = document.get("subject")
        return cls(
            subject=(
                SubjectOpening(_bytes(opening["subjectRef"]), _bytes(opening["subjectSalt"]))
                if opening is not None
                else None
            ),
            chain=ChainRef(
                chain_id=int(chain["chainId"]),
                consortium=checksummed(chain["consortium"]),
                catalog=checksummed(chain["catalog"]),
                ledger=checksummed(chain["ledger"]),
            ),
            leaf=RecordLeaf(
                record_id=_bytes(record["recordId"]),
                catalog_id=_bytes(record["catalogId"]),
                catalog_version=int(record["catalogVersion"]),
                subject_tag=_bytes(record["subjectTag"]),
                content_hash=_bytes(record["contentHash"]),
                provider=checksummed(record["provider"]),
                issued_at=int(record["issuedAt"]),
                supersedes=_bytes(record["supersedes"]),
            ),
            signature=_bytes(document["signature"]),
            batch=BatchRef(
                root=_bytes(batch["root"]),
                proof=tuple(_bytes(p) for p in batch["proof"]),
                tx_hash=_bytes(batch["txHash"]),
                block_number=int(batch["blockNumber"]),
                anchored_at=int(batch["anchoredAt"]),
            ),
            disclosure=disclosure,
        )

    @classmethod
    def loads(cls, text: str) -> ProofBundle:
        """Parse the JSON text of a bundle."""
        return cls.from_json(json.loads(text))


def schema_problems(document: object) -> list[str]:
    """What the committed JSON Schema finds wrong with a document (empty when valid)."""
    return problems_under(SCHEMA_FILE, document)


def bundle_schema() -> dict[str, Any]:
    """The committed JSON Schema of credit-ledger/proof@2."""
    return load_schema(SCHEMA_FILE)


def anchor_records(stack: Stack, gateway: LocalAccount, records: Sequence[SignedRecord]) -> list[ProofBundle]:
    """Anchor records as one batch through the ledger and return their proof bundles.

    The building block of the gateway's anchoring worker, and the direct path for
    scripts and tests. The signatures are carried into the bundles as given.
    """
    leaves = [r.leaf for r in records]
    tree = record_tree(leaves)
    receipt = stack.ledger.anchor_batch(gateway, tree.root, len(leaves), BatchKind.RECORDS)
    block = stack.chain.w3.eth.get_block(receipt["blockNumber"])
    chain = chain_ref(stack)
    return [
        ProofBundle(
            chain=chain,
            leaf=record.leaf,
            signature=record.signature,
            batch=BatchRef(
                root=tree.root,
                proof=tuple(tree.proof(i)),
                tx_hash=bytes(receipt["transactionHash"]),
                block_number=int(receipt["blockNumber"]),
                anchored_at=int(block["timestamp"]),
            ),
        )
        for i, record in enumerate(records)
    ]


def chain_ref(stack: Stack) -> ChainRef:
    """The chain and contract addresses of a deployed stack."""
    return ChainRef(
        chain_id=stack.chain.chain_id,
        consortium=stack.consortium.address,
        catalog=stack.catalog.address,
        ledger=stack.ledger.address,
    )


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:])
