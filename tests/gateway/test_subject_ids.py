"""Subject identifiers: GB 32100 unified social credit codes and GB 11643 resident numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credit_client.subject_refs import resolve_subject_ref
from gateway.infra.subject_ids import (
    SUBJECT_ID_INVALID,
    USCC_ALPHABET,
    SubjectId,
    SubjectIdError,
    SubjectKind,
    parse_resident_id,
    parse_subject,
    parse_uscc,
    resident_check_character,
    subject_ref,
    uscc_check_character,
)

# GB 11643-1999's own worked example.
STANDARD_RESIDENT_ID = "11010519491231002X"

uscc_bodies = st.tuples(
    st.text(USCC_ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


# Public registration codes of well-known companies (from their business licences).
PUBLISHED_CODES = ["9144030071526726XG", "914403001922038216", "91330100799655058B"]


@pytest.mark.parametrize("code", PUBLISHED_CODES)
def test_published_codes_are_valid(code: str) -> None:
    """Codes printed on real business licences pass the GB 32100 check."""
    assert uscc_check_character(code[:17]) == code[17]
    assert parse_subject(code).kind == SubjectKind.USCC


def test_the_standard_example_resident_number_is_valid() -> None:
    """The example in GB 11643 itself, check character X, is accepted."""
    assert resident_check_character(STANDARD_RESIDENT_ID[:17]) == "X"
    assert parse_resident_id(STANDARD_RESIDENT_ID).kind == SubjectKind.RESIDENT
    assert parse_subject(STANDARD_RESIDENT_ID.lower()).value == STANDARD_RESIDENT_ID


@given(uscc_bodies)
def test_every_code_with_its_check_character_is_valid(body: str) -> None:
    """Appending the computed check character to any well-formed body gives a valid code."""
    code = body + uscc_check_character(body)
    assert parse_uscc(code).value == code


@given(uscc_bodies, st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_substitution_is_caught(body: str, position: int, replacement: str) -> None:
    """Changing one character of a valid code always breaks it (31 is prime, weights nonzero)."""
    code = body + uscc_check_character(body)
    if code[position] == replacement or (2 <= position < 8 and not replacement.isdigit()):
        return
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(SubjectIdError) as caught:
        parse_uscc(changed)
    assert caught.value.code == "USCC_CHECK"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("91110108MA01ABCD2", "USCC_LENGTH"),
        ("91110108MA01ABCDIO", "USCC_CHARSET"),
        ("911A0108MA01ABCD2X", "USCC_DIVISION"),
    ],
)
def test_malformed_codes_name_the_problem(text: str, code: str) -> None:
    """Wrong length, letters outside the alphabet and a non-numeric division each have a code."""
    with pytest.raises(SubjectIdError) as caught:
        parse_uscc(text)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1101051949123100", "RID_LENGTH"),
        ("11010519491231002Y", "RID_CHARSET"),
        ("110105194913310021", "RID_BIRTH_DATE"),
        ("110105194912310021", "RID_CHECK"),
    ],
)
def test_malformed_resident_numbers_name_the_problem(text: str, code: str) -> None:
    """Wrong length, characters, birth date and check digit each have a code."""
    with pytest.raises(SubjectIdError) as caught:
        parse_resident_id(text)
    assert caught.value.code == code


def test_parse_subject_tells_the_kinds_apart() -> None:
    """A resident number and a code are recognised; a broken number reports the resident error."""
    body = "91110108MA01ABCD2"
    assert parse_subject(body + uscc_check_character(body)).kind == SubjectKind.USCC
    assert parse_subject(STANDARD_RESIDENT_ID).kind == SubjectKind.RESIDENT
    with pytest.raises(SubjectIdError) as caught:
        parse_subject("110105194912310021")
    assert caught.value.code == "RID_CHECK"
    assert caught.value.detail == {
        "uscc": {"code": "USCC_CHECK", "reason": "the check character does not match (GB 32100)"},
        "residentId": {"code": "RID_CHECK", "reason": "the check character does not match (GB 11643)"},
    }


ALL_DIGIT_CODE = PUBLISHED_CODES[1]  # 914403001922038216: characters 7 to 14 are no birth date


@pytest.mark.parametrize(
    ("check", "resident_code"), [("7", "RID_BIRTH_DATE"), ("X", "RID_BIRTH_DATE"), ("A", "RID_CHARSET")]
)
def test_an_all_digit_code_with_a_wrong_check_is_reported_as_neither_kind(check: str, resident_code: str) -> None:
    """A mistyped code of 17 digits gets SUBJECT_ID_INVALID and the reason under each standard, not a resident error."""
    mistyped = ALL_DIGIT_CODE[:17] + check
    with pytest.raises(SubjectIdError) as caught:
        parse_subject(mistyped)
    assert caught.value.code == SUBJECT_ID_INVALID
    assert caught.value.detail is not None
    assert caught.value.detail["uscc"]["code"] == "USCC_CHECK"
    assert caught.value.detail["residentId"]["code"] == resident_code
    message = str(caught.value)
    assert "neither a valid unified social credit code (GB 32100) nor a valid resident identity number (GB 11643)" in (
        message
    )
    assert caught.value.detail["uscc"]["reason"] in message
    assert caught.value.detail["residentId"]["reason"] in message
    assert mistyped not in message  # reasons only, never the id


def _error_of(parse: Callable[[str], object], text: str) -> SubjectIdError | None:
    try:
        parse(text)
    except SubjectIdError as exc:
        return exc
    return None


@given(st.text("0123456789", min_size=17, max_size=17), st.sampled_from(USCC_ALPHABET))
def test_an_id_of_17_digits_is_either_kind_or_says_why_not(body: str, check: str) -> None:
    """Any 17 digits and a check character: a valid kind, RID_CHECK for a real birth date, else both reasons."""
    text = body + check
    as_resident, as_uscc = _error_of(parse_resident_id, text), _error_of(parse_uscc, text)
    if as_resident is None or as_uscc is None:
        kind = SubjectKind.RESIDENT if as_resident is None else SubjectKind.USCC
        assert parse_subject(text) == SubjectId(kind, text)
        return
    with pytest.raises(SubjectIdError) as caught:
        parse_subject(text)
    assert caught.value.code == ("RID_CHECK" if as_resident.code == "RID_CHECK" else SUBJECT_ID_INVALID)
    assert caught.value.detail == {
        "uscc": {"code": as_uscc.code, "reason": str(as_uscc)},
        "residentId": {"code": as_resident.code, "reason": str(as_resident)},
    }


def test_a_code_with_letters_keeps_its_specific_code() -> None:
    """An id with a letter among its first 17 characters can only be a code: USCC_CHECK, no resident reason."""
    body = "91110108MA01ABCD2"
    wrong = next(c for c in USCC_ALPHABET if c != uscc_check_character(body))
    with pytest.raises(SubjectIdError) as caught:
        parse_subject(body + wrong)
    assert (caught.value.code, caught.value.detail) == ("USCC_CHECK", None)


def test_a_client_signs_with_the_given_subject_ref_or_one_derived_from_the_key_never_both() -> None:
    key = b"\x07" * 32
    derived = subject_ref(key, parse_subject("91110108MA01C5XL6R"))
    assert resolve_subject_ref("91110108MA01C5XL6R", subject_ref=None, subject_key=key) == derived
    assert resolve_subject_ref("91110108MA01C5XL6R", subject_ref=b"\x01" * 32, subject_key=None) == b"\x01" * 32
    with pytest.raises(ValueError, match="not both"):
        resolve_subject_ref("91110108MA01C5XL6R", subject_ref=derived, subject_key=key)
    with pytest.raises(ValueError, match="give subject_ref"):
        resolve_subject_ref("91110108MA01C5XL6R", subject_ref=None, subject_key=None)
    with pytest.raises(SubjectIdError):
        resolve_subject_ref("91110108MA01C5XL6X", subject_ref=b"\x01" * 32, subject_key=None)
