"""The lifecycle's vocabulary, shared by the gateway and its client: evidence kinds,
objection outcomes, commitment kinds, and how repair evidence is hashed."""

from __future__ import annotations

from enum import StrEnum

import rfc8785
from eth_utils.crypto import keccak

from chain_client import CommitmentKind, ObjectionOutcome


class EvidenceKind(StrEnum):
    """What a subject offers for credit repair (信用修复材料)."""

    COMMITMENT = "commitment"  # 信用修复承诺书
    PENALTY_FULFILLED = "penalty-fulfilled"  # 已履行行政处罚决定
    TRAINING = "training"  # 信用修复专题培训
    CREDIT_REPORT = "credit-report"  # 第三方信用报告
    PUBLIC_INTEREST_SERVICE = "public-interest-service"  # 公益慈善活动
    OTHER = "other"


class Resolution(StrEnum):
    """How a provider answers an objection."""

    REJECTED = "rejected"
    REVOKED = "revoked"
    CORRECTED = "corrected"


OUTCOMES = {
    Resolution.REJECTED: ObjectionOutcome.REJECTED,
    Resolution.REVOKED: ObjectionOutcome.REVOKED,
    Resolution.CORRECTED: ObjectionOutcome.CORRECTED,
}


class KindName(StrEnum):
    """Commitment kinds as the API names them."""

    NOTIFICATION = "notification"  # 告知承诺
    INCOMPLETE_ACCEPTANCE = "incomplete-acceptance"  # 容缺受理
    SELF_DISCIPLINE = "self-discipline"  # 自律承诺


KINDS = {
    KindName.NOTIFICATION: CommitmentKind.NOTIFICATION_COMMITMENT,
    KindName.INCOMPLETE_ACCEPTANCE: CommitmentKind.INCOMPLETE_ACCEPTANCE,
    KindName.SELF_DISCIPLINE: CommitmentKind.SELF_DISCIPLINE,
}
KIND_NAMES = {kind: name for name, kind in KINDS.items()}


def repair_evidence_hash(kind: EvidenceKind, documents_hash: bytes) -> bytes:
    """The evidenceHash put on chain: keccak256 of the RFC 8785 form of the kind and the documents' hash."""
    return keccak(rfc8785.dumps({"documentsHash": "0x" + documents_hash.hex(), "evidenceKind": kind.value}))
