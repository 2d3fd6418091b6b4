"""The start queue (issue 16): consoles start in turn, in the order people came, and nobody
waiting is ever dropped; a console that never draws cannot hold the queue."""

from __future__ import annotations

import asyncio

import pytest

from tui.ssh import start_queue
from tui.ssh.start_queue import StartQueue


async def _arrive(queue: StartQueue, name: str, order: list[str]):
    ticket = await queue.enter()
    order.append(name)
    return ticket


async def test_consoles_start_in_the_order_they_came_and_none_is_dropped():
    queue = StartQueue(2)
    order: list[str] = []
    tasks = [asyncio.create_task(_arrive(queue, f"s{i}", order)) for i in range(10)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == ["s0", "s1"]  # two slots: the others wait
    assert queue.waiting == 8
    started = 2
    while started < 10:
        first_running = tasks[started - 2].result()
        first_running.started()  # a console's first screen is out: the next one starts
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        started += 1
        assert order == [f"s{i}" for i in range(started)]
    for task in tasks[-2:]:
        task.result().started()
    assert queue.starting == 0 and queue.waiting == 0


async def test_one_who_leaves_while_waiting_just_leaves_the_queue():
    queue = StartQueue(1)
    order: list[str] = []
    first = await _arrive(queue, "a", order)
    leaving = asyncio.create_task(_arrive(queue, "b", order))
    staying = asyncio.create_task(_arrive(queue, "c", order))
    await asyncio.sleep(0)
    leaving.cancel()  # the client disconnected while waiting
    with pytest.raises(asyncio.CancelledError):
        await leaving
    first.started()
    ticket = await asyncio.wait_for(staying, 1)
    assert order == ["a", "c"]
    ticket.started()
    assert queue.starting == 0 and queue.waiting == 0


async def test_a_turn_given_as_its_console_left_goes_to_the_next_one():
    queue = StartQueue(1)
    order: list[str] = []
    first = await _arrive(queue, "a", order)
    leaving = asyncio.create_task(_arrive(queue, "b", order))
    staying = asyncio.create_task(_arrive(queue, "c", order))
    await asyncio.sleep(0)
    first.started()  # b's turn is set ...
    leaving.cancel()  # ... and b leaves before it runs
    with pytest.raises(asyncio.CancelledError):
        await leaving
    ticket = await asyncio.wait_for(staying, 1)
    assert order[-1] == "c"
    ticket.started()
    assert queue.starting == 0


async def test_the_first_frame_or_a_timeout_ends_a_start():
    queue = StartQueue(1)
    ticket = await queue.enter()
    ticket.output(100, cells=80 * 24)  # the driver's set-up sequences: still starting
    assert queue.starting == 1
    ticket.output(80 * 24, cells=80 * 24)  # a whole frame is out
    assert queue.starting == 0
    ticket.started()  # again (the session ending): nothing more is given back
    assert queue.starting == 0


async def test_a_console_that_never_draws_lets_the_next_one_start(monkeypatch):
    monkeypatch.setattr(start_queue, "STARTING_AT_MOST_S", 0.05)
    queue = StartQueue(1)
    await queue.enter()  # never draws
    ticket = await asyncio.wait_for(queue.enter(), 2)
    ticket.started()
    assert queue.starting == 0


async def test_no_limit_admits_everyone_at_once():
    queue = StartQueue(0)
    tickets = [await asyncio.wait_for(queue.enter(), 1) for _ in range(50)]
    assert queue.starting == 50
    for ticket in tickets:
        ticket.started()
    assert queue.starting == 0


async def test_six_at_once_through_one_slot_all_see_the_welcome_screen(db):
    """Through the server: one console starting at a time, six people connecting at once
    each get their Welcome screen, and the queue is empty afterwards."""
    from core.config import settings
    from tests.ssh.conftest import connect, eventually
    from tui.ssh.limits import Limits
    from tui.ssh.server import start_server

    service = await start_server("127.0.0.1", 0, settings().home, Limits(),
                                 starting_at_once=1)
    port = service.sockets[0].getsockname()[1]
    sessions = []
    try:
        sessions = await asyncio.gather(*(connect(port) for _ in range(6)))
        await asyncio.gather(*(s.wait_for("Free Account", 120) for s in sessions))
        queue = service.start_queue
        # the rest of the last first frame may still be on its way to the client
        await eventually(lambda: queue.starting == 0 and queue.waiting == 0, 10,
                         what="every start ended")
    finally:
        for session in sessions:
            await session.close()
        service.close()
        await service.wait_closed()
