"""Reading the terminal without letting its bytes end the console (the Linux driver's input).

Textual's `LinuxDriver` decodes stdin as strict UTF-8: one `\\xff` (or a lone continuation
byte) raises in its input thread, which panics the app and prints the traceback to the client.
Its xterm parser raises too on some well-formed-looking keys (`\\x1b[1:2;3u`, a code point past
U+10FFFF), and a bracketed paste that never ends grows in memory for good. `CalmLinuxDriver`
reads the same way but:

- decodes with `errors="ignore"`: a byte that is not UTF-8 is dropped, nothing else changes;
- parses with `CalmXTermParser` (those keys are ignored) and, should the parser still raise,
  logs it and starts a fresh one instead of giving up the keyboard;
- takes bracketed pastes out of the stream itself (`PasteSplitter`): one `Paste` event each,
  with at most PASTE_KEEP characters (fields take at most a few hundred; `BoundedInput` cuts
  the rest), so a paste costs memory and time bounded by that, and an escape sequence inside
  it is not typed as keys (Textual's parser does that);
- hands each read's events to the app in one batch, and stops reading while the app has more
  than BACKLOG_HIGH events waiting (the terminal, or the SSH channel, then holds the rest:
  memory stays bounded whatever the client sends).
"""

from __future__ import annotations

import contextvars
import logging
import os
import selectors
import threading
from codecs import getincrementaldecoder
from collections.abc import Iterable, Iterator

from textual import events
from textual._parser import Read1
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.keys import Keys
from textual.message import Message

logger = logging.getLogger("cloudacct")

READ_SIZE = 4096
PASTE_KEEP = 16384
"""Characters of one bracketed paste passed on to the parser (the rest is dropped)."""
BACKLOG_HIGH = 4096
"""Input events the app may have waiting before the driver stops reading the terminal."""
QUIET_S = 0.02
"""How long the terminal stays quiet before held-back text is taken as typed, not a paste."""
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


class CalmXTermParser(XTermParser):
    """Textual's parser, minus the keys that make it raise, with a fast path for plain text.

    The parser reads one character at a time through a generator and formats every event
    it makes for its debug log (about 40 µs a character); a run of characters without an
    Escape, read while the parser is between sequences, becomes keys directly here, exactly
    as the parser would make them. The parser never sees a paste-start marker
    (`PasteSplitter` takes pastes out, `feed` breaks any that straddles two feeds), so it is
    never in its own paste mode, whose buffer has no bound."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._fed_tail = ""

    def _parse_extended_key(self, sequence: str):  # type: ignore[no-untyped-def]
        try:
            return super()._parse_extended_key(sequence)
        except (ValueError, OverflowError):  # e.g. "\x1b[1:2;3u", chr() past U+10FFFF
            return [events.Key(Keys.Ignore, sequence)]  # the whole sequence, read and dropped

    def feed(self, data: str) -> Iterable[Message]:
        if not data:
            return super().feed(data)
        data = self._without_paste_start(data)
        self._fed_tail = (self._fed_tail + data)[-(len(PASTE_START) - 1):]
        return self._feed(data)

    def _feed(self, data: str) -> Iterator[Message]:
        pos, size = 0, len(data)
        while pos < size:
            if self._between_sequences():
                escape = data.find("\x1b", pos)
                stop = size if escape < 0 else escape
                for character in data[pos:stop]:
                    for key in self._sequence_to_key_events(character):
                        if key.key != Keys.Ignore:
                            yield key
                pos = stop
                if pos >= size:
                    break
            yield from super().feed(data[pos])
            pos += 1

    def _between_sequences(self) -> bool:
        awaiting = self._awaiting
        return isinstance(awaiting, Read1) and awaiting.timeout is None and not self._tokens

    def _without_paste_start(self, data: str) -> str:
        """`data` less the characters that would complete a paste-start marker."""
        tail = self._fed_tail
        while True:
            found = (tail + data).find(PASTE_START)
            if found < 0:
                return data
            cut_from = max(found - len(tail), 0)
            data = data[:cut_from] + data[found - len(tail) + len(PASTE_START):]


class PasteSplitter:
    """Takes bracketed pastes out of the terminal's text, keeping at most `keep` characters of
    each, and passes the rest on for the parser.

    Textual's parser turns an escape sequence inside a paste back into keystrokes (a pasted
    `\\x1b[31m` types `^[31m`), and buffers a paste that never ends without bound; here a
    paste becomes one `Paste` event, whatever it holds (fields clean it). A read that ends
    with what may be the start of a paste marker is held back until the next read, or until
    `flush()` (the driver calls it when the terminal has gone quiet, so a lone Escape is not
    kept waiting)."""

    def __init__(self, keep: int = PASTE_KEEP) -> None:
        self.keep = keep
        self.inside = False
        self._paste: list[str] = []
        self._kept = 0
        self._carry = ""

    def __call__(self, text: str) -> list[str | events.Paste]:
        out: list[str | events.Paste] = []
        pos = 0
        if self._carry:
            text, self._carry = self._carry + text, ""
        while pos < len(text):
            marker = PASTE_END if self.inside else PASTE_START
            found = text.find(marker, pos)
            stop = found if found >= 0 else len(text) - _marker_prefix(text, marker, pos)
            if self.inside:
                self._take(text, pos, stop)
            elif stop > pos:
                out.append(text[pos:stop])
            if found < 0:
                self._carry = text[stop:]
                break
            pos = found + len(marker)
            if self.inside:
                out.append(events.Paste("".join(self._paste)))
                self._paste, self._kept = [], 0
            self.inside = not self.inside
        return out

    @property
    def holding(self) -> bool:
        """Is text outside a paste held back (a possible start of a paste marker)?"""
        return bool(self._carry) and not self.inside

    def flush(self) -> str:
        """The text held back outside a paste: it was not a paste after all."""
        if self.inside:
            return ""
        text, self._carry = self._carry, ""
        return text

    def _take(self, text: str, start: int, stop: int) -> None:
        room = self.keep - self._kept
        if room > 0 and stop > start:
            piece = text[start:min(stop, start + room)]
            self._paste.append(piece)
            self._kept += len(piece)


def _marker_prefix(text: str, marker: str, start: int) -> int:
    """How many characters at the end of text[start:] could begin `marker`."""
    for size in range(min(len(marker) - 1, len(text) - start), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


class TerminalReader:
    """Bytes from the terminal to Textual's events: tolerant UTF-8, pastes taken out whole
    (`PasteSplitter`), then the parser; a parser that raises is replaced by a fresh one."""

    def __init__(self, debug: bool = False) -> None:
        self._debug = debug
        self._decode = getincrementaldecoder("utf-8")(errors="ignore").decode
        self._split = PasteSplitter()
        self._parser = CalmXTermParser(debug)

    @property
    def holding(self) -> bool:
        """Is text held back that `quiet()` should release if nothing follows soon?"""
        return self._split.holding

    def read(self, data: bytes) -> list[Message]:
        """The events `data` completes (and any the parser's Escape clock releases)."""
        events_out: list[Message] = []
        for piece in self._split(self._decode(data)):
            if isinstance(piece, str):
                self._parse(piece, events_out)
            else:
                events_out.append(piece)
        self._parse("", events_out)
        return events_out

    def quiet(self) -> list[Message]:
        """The terminal has been quiet a moment: release what was held back."""
        events_out: list[Message] = []
        self._parse(self._split.flush(), events_out)
        return events_out

    def _parse(self, text: str, out: list[Message]) -> None:
        parser = self._parser
        try:
            if text:
                out.extend(parser.feed(text))
            out.extend(parser.tick())
        except Exception:
            logger.warning("terminal input the parser could not read was dropped",
                           exc_info=True)
            self._parser = CalmXTermParser(self._debug)


class CalmLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread survives any bytes (see the module's docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._batch: list[Message] | None = None
        self._in_transit = 0
        self._transit_lock = threading.Lock()
        self._context: contextvars.Context | None = None

    def start_application_mode(self) -> None:
        self._context = contextvars.copy_context()  # the app's: events are posted in it
        super().start_application_mode()

    def _run_input_thread(self) -> None:
        """Textual's version panics the app with a traceback; this one stops it calmly."""
        try:
            self.run_input_thread()
        except BaseException as error:
            self._loop.call_soon_threadsafe(self._app._handle_exception, error,
                                            context=self._context)

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        reader = TerminalReader(self._debug)
        self._batch = []
        try:
            while not self.exit_event.is_set():
                ready = selector.select(QUIET_S if reader.holding else 0.1)
                events_in: list[Message] = []
                for _key, mask in ready:
                    if mask & selectors.EVENT_READ:
                        try:
                            data = os.read(self.fileno, READ_SIZE)
                        except OSError:  # the terminal hung up (EIO): the console ends
                            self._loop.call_soon_threadsafe(self._app.exit,
                                                            context=self._context)
                            return
                        if not data:  # end of input (a pipe): nothing more will come
                            self.exit_event.wait(0.1)
                            continue
                        events_in.extend(reader.read(data))
                if not ready:
                    events_in.extend(reader.quiet() if reader.holding else reader.read(b""))
                for event in events_in:
                    self.process_message(event)
                self._deliver_batch()
                self._wait_for_room()
        finally:
            selector.close()
            self._batch = None

    def send_message(self, message: Message) -> None:
        """From the input thread: collect for one hand-over per read."""
        if self._batch is not None and threading.current_thread() is self._key_thread:
            self._batch.append(message)
        else:
            super().send_message(message)

    def _deliver_batch(self) -> None:
        batch = self._batch
        if not batch:
            return
        self._batch = []
        with self._transit_lock:
            self._in_transit += len(batch)
        self._loop.call_soon_threadsafe(self._post_batch, batch, context=self._context)

    def _post_batch(self, batch: list[Message]) -> None:
        """On the event loop: post each event to the app (its input queue holds them)."""
        with self._transit_lock:
            self._in_transit -= len(batch)
        for message in batch:
            self._app.post_message(message)

    def _wait_for_room(self) -> None:
        """Stop reading while the app is this far behind; the terminal keeps the rest."""
        while not self.exit_event.is_set() and self._backlog() > BACKLOG_HIGH:
            self.exit_event.wait(0.01)

    def _backlog(self) -> int:
        waiting = getattr(self._app, "input_backlog", 0)
        return self._in_transit + (waiting if isinstance(waiting, int) else 0)
