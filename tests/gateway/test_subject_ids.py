"""Subject identifiers: GB 32100 unified social credit codes and GB 11643 resident numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.subject_ids import (
    USCC_ALPHABET,
    SubjectIdError,
    SubjectKind,
    parse_resident_id,
    parse_subject,
    parse_uscc,
    resident_check_character,
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
