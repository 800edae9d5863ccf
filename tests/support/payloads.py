"""Payloads that satisfy the demo catalog's schemas (gateway/demo/schemas)."""

from __future__ import annotations

from typing import Any

PENALTY = "BJ-XZCF-001"  # class A, black list, samr-beijing
LICENCE = "BJ-XZXK-001"  # class A, samr-beijing
INSPECTION = "BJ-JCJG-001"  # class C, samr-beijing
TAX_ARREARS = "BJ-QSXX-001"  # class B, tax-beijing
SAMR = "samr-beijing"
TAX = "tax-beijing"

# A marker that only ever appears inside payloads: a test finds it if plaintext leaks.
SECRET_MARK = "机密-案件承办人-7f3a"


def penalty(name: str = "北京示例科技有限公司", **changes: Any) -> dict[str, Any]:
    """An administrative penalty, with a private field holding SECRET_MARK."""
    payload: dict[str, Any] = {
        "subjectName": name,
        "decisionNumber": "京市监罚〔2026〕101号",
        "violation": "虚假宣传",
        "penalty": {"kind": "fine", "amountYuan": 50000},
        "decidedOn": "2026-10-09",
        "authority": "北京市市场监督管理局",
        "caseOfficer": SECRET_MARK,
    }
    payload.update(changes)
    return payload


def inspection(name: str = "北京示例科技有限公司") -> dict[str, Any]:
    """A department-shared inspection result."""
    return {
        "subjectName": name,
        "inspectedOn": "2026-09-01",
        "result": "rectification-required",
        "findings": ["消防通道堵塞", SECRET_MARK],
    }


def tax_arrears(name: str = "北京示例科技有限公司") -> dict[str, Any]:
    """Tax arrears, readable with the subject's consent."""
    return {"subjectName": name, "taxKind": "增值税", "amountYuan": 120000.5, "since": "2026-03-31"}


BREACH = "BJ-WNSX-001"  # class A, black list, samr-beijing: breached commitments
TAX_GRADE = "BJ-NSXY-A01"  # class A, red list, tax-beijing


def taxpayer_grade(name: str = "北京示例科技有限公司", year: int = 2025) -> dict[str, Any]:
    """An A-grade taxpayer: puts the subject on the red list."""
    return {"subjectName": name, "grade": "A", "year": year}


def commitment_breach(
    commitment_id: str, deadline: str, breached_on: str, name: str = "北京示例科技有限公司"
) -> dict[str, Any]:
    """The dishonesty record of a breached incomplete-acceptance commitment."""
    return {
        "subjectName": name,
        "commitmentKind": "incomplete-acceptance",
        "commitmentId": commitment_id,
        "deadline": deadline,
        "breachedOn": breached_on,
        "authority": "北京市市场监督管理局",
        "missingDocuments": ["消防安全检查合格证明"],
    }


TJ_PENALTY = "TJ-XZCF-001"  # class A, black list, samr-tianjin (schema: administrative-penalty)


def tianjin_penalty(name: str = "天津示例商贸有限公司", **changes: Any) -> dict[str, Any]:
    """An administrative penalty decided in Tianjin, with a private field holding SECRET_MARK."""
    tianjin = {"decisionNumber": "津市监罚〔2026〕27号", "authority": "天津市市场监督管理局"}
    return penalty(name, **{**tianjin, **changes})
