"""Subject identifiers: the unified social credit code and the resident identity number.

- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
  31-character alphabet (digits and capitals without I, O, S, V, Z); characters 3 to 8
  are the GB/T 2260 administrative division; the 18th is a check character,
  31 - (Σ value(c_i) · 3^(i-1) mod 31) mod 31 over the first 17.
- Resident identity number (公民身份号码, GB 11643-1999): 17 digits (6 division, 8
  birth date, 3 sequence) and a check character, (12 - Σ d_i · 2^(17-i) mod 11) mod 11,
  written X for 10.

A single wrong character always changes either check, so any typo is caught. Every
17 digits are a well-formed code body too, so an 18-character id of 17 digits and a check
character may be either kind: only a real birth date in characters 7 to 14 tells it is a
resident number. `parse_subject` reports one valid as neither, and without that birth
date, as SUBJECT_ID_INVALID with the reason under each standard: it may be a mistyped
code as much as a mistyped resident number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from operator import mul
from typing import Any

from chain_client import subject_ref_resident, subject_ref_uscc
from gateway.infra.errors import GatewayError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_CHARS = frozenset(USCC_ALPHABET)
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_RID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
SUBJECT_ID_INVALID = "SUBJECT_ID_INVALID"


class SubjectKind(Enum):
    """Which identifier a subject is known by."""

    USCC = "USCC"
    RESIDENT = "RID"


class SubjectIdError(GatewayError, ValueError):
    """A subject identifier is malformed; `code` says how, stably, and `detail` (JSON, or
    None) what each standard found (SUBJECT_ID_INVALID)."""

    def __init__(self, code: str, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, detail=detail)


@dataclass(frozen=True)
class SubjectId:
    """A validated subject identifier."""

    kind: SubjectKind
    value: str


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a code."""
    if len(first17) != len(_USCC_WEIGHTS):
        raise ValueError("a unified social credit code's check covers exactly 17 characters")
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def resident_check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an identity number."""
    total = sum(int(c) * w for c, w in zip(first17, _RID_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def parse_uscc(text: str) -> SubjectId:
    """A unified social credit code, or SubjectIdError with a stable code."""
    code = text.strip().upper()
    if len(code) != 18:
        raise SubjectIdError("USCC_LENGTH", f"a unified social credit code has 18 characters, not {len(code)}")
    if not _USCC_CHARS.issuperset(code):
        bad = sorted({c for c in code if c not in _USCC_VALUE})
        raise SubjectIdError("USCC_CHARSET", f"characters not allowed in a unified social credit code: {''.join(bad)}")
    if not code[2:8].isdigit():
        raise SubjectIdError("USCC_DIVISION", "characters 3 to 8 must be a six-digit administrative division code")
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise SubjectIdError("USCC_CHECK", "the check character does not match (GB 32100)")
    return SubjectId(SubjectKind.USCC, code)


def parse_resident_id(text: str) -> SubjectId:
    """A resident identity number, or SubjectIdError with a stable code."""
    number = text.strip().upper()
    if len(number) != 18:
        raise SubjectIdError("RID_LENGTH", f"a resident identity number has 18 characters, not {len(number)}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise SubjectIdError("RID_CHARSET", "a resident identity number is 17 digits and a digit or X")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise SubjectIdError("RID_BIRTH_DATE", "characters 7 to 14 are not a valid birth date") from None
    if birth.year < 1900:
        raise SubjectIdError("RID_BIRTH_DATE", "characters 7 to 14 are not a valid birth date")
    if number[17] != resident_check_character(number[:17]):
        raise SubjectIdError("RID_CHECK", "the check character does not match (GB 11643)")
    return SubjectId(SubjectKind.RESIDENT, number)


def parse_subject(text: str) -> SubjectId:
    """Either identifier, or SubjectIdError with a stable code.

    An id with a letter among its first 17 characters, or not 18 long, can only be a
    unified social credit code and gets its USCC_* code. One of 17 digits and a check
    character is a resident number when valid as one, else a code when valid as one; valid
    as neither, it is RID_CHECK when characters 7 to 14 are a birth date (a resident
    number with a wrong check character), and SUBJECT_ID_INVALID otherwise.
    """
    candidate = text.strip().upper()
    if len(candidate) != 18 or not candidate[:17].isdigit():
        return parse_uscc(candidate)
    try:
        return parse_resident_id(candidate)  # first, as always: the kind decides the subjectRef
    except SubjectIdError as resident_error:
        as_resident = resident_error
    try:
        return parse_uscc(candidate)
    except SubjectIdError as uscc_error:
        as_uscc = uscc_error
    both = {
        "uscc": {"code": as_uscc.code, "reason": str(as_uscc)},
        "residentId": {"code": as_resident.code, "reason": str(as_resident)},
    }
    if as_resident.code == "RID_CHECK":
        raise SubjectIdError(as_resident.code, str(as_resident), detail=both)
    raise SubjectIdError(
        SUBJECT_ID_INVALID,
        "neither a valid unified social credit code (GB 32100) nor a valid resident identity number "
        f"(GB 11643): as a code, {as_uscc}; as a resident number, {as_resident}",
        detail=both,
    )


def subject_ref(subject_key: bytes, subject: SubjectId) -> bytes:
    """The HMAC subjectRef of a validated identifier (docs/formats.md, "Subject references")."""
    if subject.kind == SubjectKind.USCC:
        return subject_ref_uscc(subject_key, subject.value)
    return subject_ref_resident(subject_key, subject.value)
