"""JSON from outside is read so that it cannot hurt: bounded depth, valid text, 64-bit numbers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.kernel import jsontext

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_DOCUMENTS = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=30
)


@given(_DOCUMENTS)
def test_any_ordinary_document_reads_back_as_it_was_written(document: object) -> None:
    # Depth is tested below; here, that nothing ordinary is changed or refused.
    assert jsontext.loads(json.dumps(document), max_depth=1000) == document


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{nope", "bad_json"),
        ("[" * 5000 + "]" * 5000, "bad_json"),
        ("[" * 33 + "]" * 33, "too_deep"),
        ('"\\ud800"', "bad_text"),
        ('{"\\udc00": 1}', "bad_text"),
        ('["ok", {"x": "\\udbff"}]', "bad_text"),
        ("9223372036854775808", "bad_number"),
        ("-9223372036854775809", "bad_number"),
        ("NaN", "bad_number"),
        ("[Infinity]", "bad_number"),
    ],
)
def test_what_cannot_be_stored_or_answered_is_refused_with_its_reason(text: str, code: str) -> None:
    with pytest.raises(jsontext.BadJson) as refused:
        jsontext.loads(text)
    assert refused.value.code == code


def test_the_limits_themselves_are_allowed() -> None:
    assert jsontext.loads("[" * 32 + "]" * 32) is not None
    assert jsontext.loads("[9223372036854775807, -9223372036854775808]") == [2**63 - 1, -(2**63)]
    assert jsontext.loads('"\\ud83d\\ude00"') == "😀"  # a surrogate pair is a character
