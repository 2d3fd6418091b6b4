"""Keys land where they were typed: the console takes input one event at a time.

How Textual 8 dispatches a key, and why a burst goes astray: the driver posts every key of a
read to the app's queue at once. The app takes each in turn and forwards it to the widget
focused at that moment (`App.on_event`: `self.focused._forward_event(key)`), which only puts it
on that widget's queue. A Tab is handled later, after it has bubbled from the Input through
its containers back up to the app (`App._on_key`, the screen's `focus_next` binding), and even
then the focus moves through `call_later`. By then the app has long forwarded the rest of the
burst to the old widget: `email TAB password` all lands in the email field. The same holds for
Enter that opens a screen: its keys go to the screen that is leaving.

`InputQueue` holds every key, paste and mouse event the terminal sends and releases the next
one only when the console has settled: every message pump's queue is empty, none is in the
middle of a message, and no widget is still composing or mounting. By then the previous key,
its bindings and bubbling, and any focus change or screen push it caused have taken effect.
Running printable keys bound for a focused Input are typed into it as one piece of text
(`BoundedInput` cuts it at the field's limit), so a flood or an unbracketed paste costs time
linear in its length instead of one dispatch (and one re-render) per character. A paste into a
field is cleaned and cut the same way. In a flood (FLOOD_BACKLOG events waiting) only such
text and the first FLOOD_KEEP other events go on: a flood of Tabs or mouse moves costs
microseconds an event, not a screen update each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events

from core.i18n import _

if TYPE_CHECKING:
    from textual.app import App
    from textual.message import Message
    from textual.message_pump import MessagePump
    from textual.widgets import Input

logger = logging.getLogger("cloudacct")

SETTLE_LIMIT_S = 2.0
"""A safety valve, not a timing: if some handler keeps the console busy this long (it awaits
something slow), the next key is released anyway rather than the keyboard freezing."""
FLOOD_BACKLOG = 256
"""With this many events waiting, input is a flood (no person or auto-type sends that much at
once) until the terminal has been quiet for FLOOD_QUIET_S. Text typed into a field still goes
on (it costs little), and the first FLOOD_KEEP other keys, pastes or mouse events (the Tab and
Enter after a huge unbracketed paste); the rest are left out, since each may cost a whole
screen update (a Tab about 15 ms here): 100 000 Tabs would otherwise take half an hour."""
FLOOD_KEEP = 64
FLOOD_QUIET_S = 0.25
"""A flood is over when no input has come for this long."""
PASTE_LIMIT = 4096
"""A paste bound for something that is not a field (a list, a button) keeps this much."""
_SPINS_BEFORE_BACKOFF = 500


def held(message: Message) -> bool:
    """Is this a message from the terminal that must wait its turn?"""
    return (isinstance(message, events.Key | events.Paste | events.MouseEvent)
            and not message.is_forwarded)


class InputQueue:
    """The app's input, one event at a time (see the module's docstring)."""

    def __init__(self, app: App, post: Callable[[Message], bool]) -> None:
        self._app = app
        self._post = post
        """The app's own `post_message` (the one that does not come back here)."""
        self._pending: deque[Message] = deque()
        self._releasing: Message | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._last_busy: MessagePump | None = None
        self._dropped = 0
        self._flooding = False
        self._flood_keeps = 0
        self._flood_priority: frozenset[str] = frozenset()

    # -- in --------------------------------------------------------------------------------

    def hold(self, message: Message) -> bool:
        """Keep `message` for its turn (True), or let it through now (False): not input, or
        the very event being released."""
        if message is self._releasing or not held(message):
            return False
        self._pending.append(message)
        self._wake.set()
        return True

    @property
    def backlog(self) -> int:
        """Events waiting their turn (the driver stops reading the terminal above a bound)."""
        return len(self._pending)

    # -- the feeder ------------------------------------------------------------------------

    def start(self) -> None:
        """Start releasing input (call from the app's own context, e.g. on mount)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._feed(),
                                                                 name="cloudacct input")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._pending.clear()

    async def _feed(self) -> None:
        while True:
            if self._flooding:  # the flood is over once the terminal has been quiet a moment
                try:
                    await asyncio.wait_for(self._wake.wait(), FLOOD_QUIET_S)
                except TimeoutError:
                    self._flood_over()
                    continue
            else:
                await self._wake.wait()
            self._wake.clear()
            while self._pending:
                app = self._app
                if app._closing or app._closed or app._exit:
                    self._pending.clear()
                    break
                if not self._flooding and len(self._pending) >= FLOOD_BACKLOG:
                    self._flooding, self._flood_keeps = True, FLOOD_KEEP
                    self._flood_priority = self._priority_keys()
                message = self._pending.popleft()
                try:
                    waits = self._dispatch(message)
                except Exception:  # never lose the keyboard to one bad event
                    logger.exception("input event %r could not be dispatched", message)
                    continue
                if waits:
                    await self._settled()

    def _dispatch(self, message: Message) -> bool:
        """Deliver one event (or a run of typed characters); True to wait for the console to
        settle before the next. In a flood, past FLOOD_KEEP other events, only text typed
        into a field is delivered."""
        if isinstance(message, events.Key) and message.is_printable:
            field = self._typing_target()
            priority = self._priority_keys() if field is not None else frozenset()
            if field is not None and message.key not in priority:
                self._type(field, self._printable_run(message, priority))
                return True
        if self._flooding and not (isinstance(message, events.Key)
                                   and message.key in self._flood_priority):  # e.g. ctrl+q
            if not self._flood_keeps:
                self._dropped += 1
                return False
            self._flood_keeps -= 1
        if isinstance(message, events.Paste):
            field = self._typing_target()
            if field is not None:
                self._type(field, message.text)
                return True
            message.text = message.text[:PASTE_LIMIT]
        self._releasing = message
        try:
            self._post(message)
        finally:
            self._releasing = None
        return not isinstance(message, events.MouseMove)

    def _printable_run(self, first: events.Key, priority: frozenset[str]) -> str:
        """The first key's character and those of the printable keys right behind it."""
        assert first.character is not None
        chars = [first.character]
        pending = self._pending
        while pending:
            message = pending[0]
            if not (isinstance(message, events.Key) and message.is_printable
                    and message.key not in priority):
                if not self._flooding or self._flood_keeps:
                    break
                self._dropped += 1  # a flood: what is not text for the field is left out
            else:
                chars.append(message.character)  # type: ignore[arg-type]
            pending.popleft()
        return "".join(chars)

    def _flood_over(self) -> None:
        """No input for FLOOD_QUIET_S: if the flood was cut, log it and tell the person once."""
        self._flooding = False
        if self._dropped:
            logger.warning("input flood: %d keys, pastes or mouse events left out",
                           self._dropped)
            self._dropped = 0
            self._app.notify(_("Too many keys arrived at once: some were left out."),
                             severity="warning", timeout=5, markup=False)

    def _priority_keys(self) -> frozenset[str]:
        """Keys that a priority binding takes before any focused widget sees them."""
        try:
            chain = self._app.screen._binding_chain
        except Exception:  # no screen yet
            return frozenset()
        return frozenset(key for _node, bindings in chain for key, binding in bindings
                         if binding.priority)

    def _typing_target(self) -> Input | None:
        """The focused Input that would take printable keys as its own, if any."""
        try:
            field = self._app.focused
        except Exception:  # no screen yet
            return None
        if field is None or "Input" not in field._css_type_names:
            return None  # (Input itself is imported only once one is on screen)
        from textual.widgets import Input

        if (not isinstance(field, Input) or type(field)._on_key is not Input._on_key
                or field.disabled or not field.is_attached or not _alive(field)):
            return None
        return field

    def _type(self, field: Input, text: str) -> None:
        """Type `text` into `field` as its own keys would, in its own message loop."""
        from tui.widgets.bounded_input import BoundedInput, clean_field_text, field_limit

        self._app.app_focus = True
        if not isinstance(field, BoundedInput):  # an Input of Textual's: cut it here
            start, end = sorted(field.selection)
            limit = field.max_length or field_limit(field.id)
            text, _ = clean_field_text(text, max(0, limit - (len(field.value) - (end - start))))
            if not text:
                return
        field.call_later(_type_into, field, text)

    # -- settling ----------------------------------------------------------------------------

    async def _settled(self) -> None:
        """Return once every message pump is idle (or after SETTLE_LIMIT_S)."""
        deadline = time.monotonic() + SETTLE_LIMIT_S
        spins = 0
        await asyncio.sleep(0)
        while True:
            busy = self._busy_pump()
            if busy is None:
                return
            spins += 1
            if time.monotonic() > deadline:
                logger.debug("input released while %r is still busy", busy)
                return
            await asyncio.sleep(0 if spins < _SPINS_BEFORE_BACKOFF else 0.002)

    def _busy_pump(self) -> MessagePump | None:
        """A message pump with work pending or under way, or None when all are idle."""
        last = self._last_busy
        if last is not None and _busy(last):
            return last
        app = self._app
        if _queue_busy(app):
            self._last_busy = app
            return app
        for node in app._registry:
            if _busy(node):
                self._last_busy = node
                return node
        self._last_busy = None
        return None


def _type_into(field: Input, text: str) -> None:
    """What `Input._on_key` does for a printable key, for a whole run of them."""
    field._restart_blink()
    selection = field.selection
    if selection.is_empty:
        field.insert_text_at_cursor(text)
    else:
        field.replace(text, *selection)


def _alive(pump: MessagePump) -> bool:
    task = pump._task
    return task is not None and not task.done()


def _busy(pump: MessagePump) -> bool:
    if not _alive(pump):  # not started, or its loop has ended: nothing will happen there
        return False
    if not pump._mounted_event.is_set():  # still composing or mounting
        return True
    return _queue_busy(pump)


def _queue_busy(pump: MessagePump) -> bool:
    """Messages wait in the pump's queue, or it is handling one (not waiting for the next)."""
    if pump._next_callbacks or pump._pending_message is not None:
        return True
    queue = pump._message_queue
    if not queue.empty():
        return True
    waiters = getattr(queue.ready_event, "_waiters", None)
    return waiters is not None and not waiters
