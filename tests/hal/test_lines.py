"""The line reader: any line ending, any split, prompts, Ctrl-Z."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from tocsin.hal.lines import LineReader, Token

ENDINGS = st.sampled_from(["\r\n", "\n", "\r", "\n\r", "\r\n\r\n"])
LINE = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\x1a", blacklist_categories=("Cs",)),
    min_size=1, max_size=40,
).map(str.strip).filter(lambda s: bool(s) and not s.startswith(">"))


def feed_in_chunks(data: bytes, cuts: list[int]) -> list[str | Token]:
    reader = LineReader()
    out: list[str | Token] = []
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        out.extend(reader.feed(data[start:end]))
    return out


@given(st.lists(st.tuples(LINE, ENDINGS), max_size=20), st.lists(st.integers(0, 10_000)))
def test_lines_come_out_whole_whatever_the_endings_and_splits(lines, cuts):
    data = "".join(text + end for text, end in lines).encode()
    assert feed_in_chunks(data, cuts) == [text for text, _ in lines]


@given(st.lists(LINE, min_size=1, max_size=5), st.lists(st.integers(0, 1000)))
def test_a_prompt_without_line_ending_is_reported_after_the_lines_before_it(lines, cuts):
    data = ("".join(f"\r\n{line}\r\n" for line in lines) + "\r\n> ").encode()
    assert feed_in_chunks(data, cuts) == [*lines, Token.PROMPT]


def test_ctrl_z_and_surrounding_blanks_are_removed_from_lines():
    reader = LineReader()
    assert reader.feed(b"0011000B91\x1a\r\n  +CMGS: 4 \r\n\r\nOK\r\n") == ["0011000B91", "+CMGS: 4", "OK"]


def test_an_incomplete_line_waits_for_its_ending():
    reader = LineReader()
    assert reader.feed(b"+CSQ: 2") == []
    assert reader.pending == b"+CSQ: 2"
    assert reader.feed(b"0,99\r") == ["+CSQ: 20,99"]


def test_a_multibyte_character_split_between_reads_survives():
    reader = LineReader()
    data = "+CUSD: 0,\"Crédit: 5 €\",15\r\n".encode()
    cut = data.index("€".encode()) + 1
    assert reader.feed(data[:cut]) == []
    assert reader.feed(data[cut:]) == ['+CUSD: 0,"Crédit: 5 €",15']


@given(LINE, st.lists(st.integers(0, 100)))
def test_a_prompt_completed_by_a_following_urc_is_still_a_prompt(urc, cuts):
    data = f"\r\n> \r\n{urc}\r\n".encode()
    assert feed_in_chunks(data, cuts) == [Token.PROMPT, urc]


def test_a_prompt_followed_by_the_echo_of_the_body_gives_the_prompt_then_the_echo():
    assert LineReader().feed(b"\r\n> 0011000B91\x1a\r\n") == [Token.PROMPT, "0011000B91"]
