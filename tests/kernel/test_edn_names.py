"""EDN library entry points on input they could not take before: bytes that are not
UTF-8 (``edn.loads`` raised UnicodeDecodeError) and keywords or symbols whose text would
read back as something else (``edn.dumps`` wrote ``::x`` for the keyword named ``:x``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gtcheck.kernel import edn
from gtcheck.kernel.edn import EdnError, Keyword, Symbol


@pytest.mark.parametrize("data,line,column", [(b"\xff", 1, 1), (b'[1\n "\xc3"]', 2, 3),
                                              ('[:a "é" \n "x'.encode() + b"\xe9", 2, 4)])
def test_bytes_that_are_not_utf8_are_an_edn_error_at_their_place(data, line, column):
    with pytest.raises(EdnError) as info:
        edn.loads(data, source="h.edn")
    text = info.value.render()
    assert text.startswith(f"h.edn: EDN line {line}, column {column}: byte") and "not UTF-8" in text
    with pytest.raises(EdnError):
        edn.loads_all(data)


def test_bytes_that_are_utf8_read_as_text():
    assert edn.loads("[:a \"é\"]".encode()) == [Keyword("a"), "é"]
    assert edn.loads(bytearray(b"[1 2]")) == [1, 2]


@pytest.mark.parametrize("value", [Keyword(":x"), Keyword(""), Keyword("a b"), Keyword("x]"),
                                   Symbol("nil"), Symbol("1a"), Symbol("")])
def test_a_name_without_an_edn_text_is_refused_not_written_wrong(value):
    with pytest.raises(ValueError, match="would not read back"):
        edn.dumps([value])


@pytest.mark.parametrize("value", [Keyword("ok"), Keyword("a/b"), Keyword("x?"), Symbol("x"), Symbol("a.b/c")])
def test_ordinary_names_round_trip(value):
    assert edn.loads(edn.dumps(value)) == value


@given(st.text(max_size=12), st.booleans())
def test_dumps_writes_a_name_only_when_it_reads_back(name, keyword):
    value = Keyword(name) if keyword else Symbol(name)
    try:
        text = edn.dumps({Keyword("k"): [value]})
    except ValueError:
        assert not edn.can_write(value)
        return
    back = edn.loads(text)[Keyword("k")][0]
    assert type(back) is type(value) and back == value
