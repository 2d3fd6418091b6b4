"""The console's terminal reader: any bytes become events or nothing, never an exception;
pastes come out whole and bounded; plain text is parsed as Textual's parser would."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st
from textual import events
from textual._xterm_parser import XTermParser

from tui.terminal_input import PASTE_KEEP, PASTE_START, CalmXTermParser, TerminalReader


def keys(messages) -> list[tuple[str, str | None]]:
    return [(m.key, m.character) for m in messages if isinstance(m, events.Key)]


def pastes(messages) -> list[str]:
    return [m.text for m in messages if isinstance(m, events.Paste)]


def test_bytes_that_are_not_utf8_are_dropped_and_the_rest_is_read():
    reader = TerminalReader()
    assert keys(reader.read(b"a\xffb\x80c\xe2\x82")) == [("a", "a"), ("b", "b"), ("c", "c")]
    assert keys(reader.read(b"\xacd")) == [("euro_sign", "€"), ("d", "d")]  # split in two


def test_keys_that_make_textuals_parser_raise_are_ignored():
    for sequence in ("\x1b[1:2;3u", "\x1b[97;1;99999999u", "\x1b[99999999999u"):
        stock = XTermParser()
        try:
            list(stock.feed(sequence))
        except (ValueError, OverflowError):
            pass
        else:  # pragma: no cover - the reason for CalmXTermParser is gone
            raise AssertionError(f"Textual's parser now reads {sequence!r}")
        reader = TerminalReader()
        reader.read(sequence.encode())
        assert keys(reader.read(b"ok")) == [("o", "o"), ("k", "k")]


def test_a_paste_comes_out_whole_with_its_escapes_as_text():
    reader = TerminalReader()
    got = reader.read(b"a\x1b[200~x\x1b[31my\r\nz\x1b[201~b")
    assert keys(got) == [("a", "a"), ("b", "b")]
    assert pastes(got) == ["x\x1b[31my\r\nz"]  # Textual's parser would type "^[31m" as keys


def test_a_paste_split_across_reads_is_one_paste():
    reader = TerminalReader()
    got = []
    for chunk in (b"\x1b[20", b"0~hel", b"lo\x1b[2", b"01~"):
        got += reader.read(chunk)
    assert pastes(got) == ["hello"] and keys(got) == []


def test_a_paste_keeps_at_most_paste_keep_characters_and_never_ends_unbounded():
    reader = TerminalReader()
    got = reader.read(PASTE_START.encode())
    for _ in range(100):
        got += reader.read(b"p" * 10_000)
    got += reader.read(b"\x1b[201~")
    assert pastes(got) == ["p" * PASTE_KEEP]


def test_a_lone_escape_is_not_held_back_once_the_terminal_is_quiet():
    reader = TerminalReader()
    assert reader.read(b"\x1b") == [] and reader.holding
    assert reader.quiet() == []  # now the parser has it, and its own Escape delay runs
    assert not reader.holding


def test_the_parser_never_enters_its_own_paste_mode():
    """A paste start split by a pause reaches the parser in two feeds: it is broken up, so
    the keys after it are still keys (Textual's parser would buffer them, without bound)."""

    def keys_after_split_start(parser) -> list[str]:
        got = [*parser.feed("\x1b[200"), *parser.feed("~after"), *parser.feed("\x1b[A")]
        return [k.key for k in got if isinstance(k, events.Key)]

    assert keys_after_split_start(XTermParser()) == []
    assert keys_after_split_start(CalmXTermParser())[-1] == "up"


PLAIN = st.text(alphabet=string.printable + "éねこ€\x7f\x00\t", max_size=200)
SEQUENCES = st.sampled_from(["\x1b[A", "\x1b[B", "\x1b[Z", "\x1bOP", "\x1b[3~", "\x1b[1;5C",
                             "\x1ba", "\x1b[<0;10;5M", "\x1b[<0;10;5m"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(PLAIN, SEQUENCES), max_size=12))
def test_plain_text_and_keys_parse_as_textuals_parser_parses_them(parts):
    text = "".join(parts)

    def parse(parser):
        return [(type(m).__name__, getattr(m, "key", None), getattr(m, "character", None))
                for m in [*(parser.feed(text) if text else ()), *parser.feed("")]]

    assert parse(CalmXTermParser()) == parse(XTermParser())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_any_bytes_make_events_or_nothing(chunks):
    reader = TerminalReader()
    for chunk in chunks:
        for message in reader.read(chunk):
            assert isinstance(message, events.Event)
    reader.quiet()
