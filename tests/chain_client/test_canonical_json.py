"""canonical_json's fast path writes exactly what rfc8785 writes, and refuses what it refuses."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from chain_client import canonical_json

# Keys and strings with what makes JCS differ from a plain JSON encoder: escapes, control
# characters, DEL, CJK, characters past U+FFFF (UTF-16 key order) and lone surrogates.
TRICKY = st.sampled_from(["", "a", "京", '"', "\\", "\n", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "😀", "\ud800"])
texts = st.one_of(st.text(max_size=8), TRICKY, st.lists(TRICKY, max_size=3).map("".join))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.sampled_from([2**53 - 1, -(2**53 - 1), 2**53, -(2**53)]),
    st.floats(),
    texts,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(texts, inner, max_size=4),
        st.tuples(inner, inner),
    ),
    max_leaves=12,
)


def _outcome(encode: Any, value: Any) -> bytes | type[BaseException]:
    try:
        result: bytes = encode(value)
    except ValueError as exc:  # rfc8785's CanonicalizationError and its subclasses
        return type(exc)
    return result


@settings(max_examples=1500)
@given(values)
def test_canonical_json_equals_rfc8785(value: Any) -> None:
    """Every JSON-like value encodes to rfc8785's bytes, or fails with rfc8785's error."""
    assert _outcome(canonical_json, value) == _outcome(rfc8785.dumps, value)


def test_keys_past_the_basic_plane_sort_by_utf16() -> None:
    """A key beyond U+FFFF sorts before U+E000..U+FFFF in JCS (UTF-16 order), unlike code point order."""
    value = {"\ue000": 1, "😀": 2}
    assert canonical_json(value) == rfc8785.dumps(value) == '{"😀":2,"\ue000":1}'.encode()
