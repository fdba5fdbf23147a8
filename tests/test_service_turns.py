"""Updates of different people are handled at the same time, each person's in turn
(bot.app.InTurnProcessor), as `sanctuary-bot run` builds the bot: on the webhook and polling."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Literal

import pytest
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import InTurnProcessor, build_app
from bot.config import Config
from bot.context import App, AppContext
from bot.places.gazetteer import Gazetteer
from bot.service import serving
from bot.services import Services
from tests.conftest import WEBHOOK_PATH, WEBHOOK_SECRET
from tests.fakeapi import FakeBotAPI
from tests.helpers import eventually

ANNE, BILAL = 5101, 5102
GROUP = -100_555


class Turns:
    """What the bot began and finished, by message text, and gates that hold an update."""

    def __init__(self, app: App) -> None:
        self.events: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.arrived: dict[str, asyncio.Event] = {}
        app.add_handler(TypeHandler(Update, self.begin), group=-2)  # before everything
        app.add_handler(TypeHandler(Update, self.end), group=99)  # after everything

    def hold(self, text: str) -> asyncio.Event:
        """The update with ``text`` waits, once begun, until the event returned is set."""
        self.gates[text] = asyncio.Event()
        self.arrived[text] = asyncio.Event()
        return self.gates[text]

    async def begin(self, update: Update, context: AppContext) -> None:
        text = _text(update)
        self.events.append(f"{text} begun")
        if text in self.gates:
            self.arrived[text].set()
            await self.gates[text].wait()

    async def end(self, update: Update, context: AppContext) -> None:
        self.events.append(f"{_text(update)} done")


def _text(update: Update) -> str:
    assert update.effective_message is not None
    return update.effective_message.text or ""


async def _bot(
    stack: AsyncExitStack,
    tmp_path: Path,
    gazetteer: Gazetteer,
    mode: Literal["webhook", "polling"],
) -> tuple[FakeBotAPI, App, Turns]:
    """The bot as `run` builds it (no processor given), with its web server."""
    server = await stack.enter_async_context(FakeBotAPI())
    sock = stack.enter_context(socket.socket())
    sock.bind(("127.0.0.1", 0))
    hook = f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
    config = Config(
        token="123456:TEST-token",
        api_url=server.base_url,
        db_path=tmp_path / "bot.db",
        cache_dir=tmp_path / "cache",
        outcodes_path=None,
        webhook_url=hook if mode == "webhook" else None,
        webhook_secret=WEBHOOK_SECRET if mode == "webhook" else None,
    )
    services = await Services.create(config, gazetteer=gazetteer)
    stack.push_async_callback(services.close)
    app = build_app(config, services=services)
    turns = Turns(app)
    await stack.enter_async_context(serving(app, config, sock=sock, poll_timeout=1))
    return server, app, turns


@pytest.fixture(params=["webhook", "polling"])
async def running_bot(
    request: pytest.FixtureRequest, tmp_path: Path, gazetteer: Gazetteer
) -> AsyncIterator[tuple[FakeBotAPI, App, Turns]]:
    async with AsyncExitStack() as stack:
        yield await _bot(stack, tmp_path, gazetteer, request.param)


async def test_one_persons_updates_in_order_while_anothers_go_ahead(
    running_bot: tuple[FakeBotAPI, App, Turns],
) -> None:
    server, app, turns = running_bot
    assert isinstance(app.update_processor, InTurnProcessor)
    anne, bilal = server.user(ANNE), server.user(BILAL)
    gate = turns.hold("anne one")
    try:
        anne.send_text("anne one")
        await turns.arrived["anne one"].wait()  # Anne's first update is being handled
        anne.send_text("anne two")
        # Her second update has been taken by the bot: it waits for her first.
        await eventually(lambda: app.update_processor.current_concurrent_updates == 2, 10.0)
        bilal.send_text("bilal")
        # Bilal is answered while Anne's first is still held, and her second waits for it.
        await eventually(lambda: "bilal done" in turns.events, 10.0, lambda: str(turns.events))
        assert turns.events == ["anne one begun", "bilal begun", "bilal done"]
    finally:
        gate.set()
    await eventually(lambda: "anne two done" in turns.events, 10.0, lambda: str(turns.events))
    assert turns.events[3:] == ["anne one done", "anne two begun", "anne two done"]
    # The replies reached each of them (the journeys ran as usual).
    assert {c.chat_id for c in server.calls_to("sendMessage")} >= {ANNE, BILAL}


def _update(update_id: int, user_id: int, chat_id: int) -> Update:
    chat_type = "private" if chat_id == user_id else "supergroup"
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": chat_type},
                "from": {"id": user_id, "is_bot": False, "first_name": "T"},
                "text": str(update_id),
            },
        },
        None,
    )


async def test_a_person_waits_for_their_group_chat_and_a_group_for_its_members() -> None:
    # Anne in a group, then Anne in private, then Bilal in that group: each waits for the
    # one before it (the same person, the same chat), though no two share both.
    processor = InTurnProcessor(running=8)
    events: list[str] = []
    gates = {n: asyncio.Event() for n in (1, 2, 3, 4)}

    async def handle(n: int) -> None:
        events.append(f"{n} begun")
        await gates[n].wait()
        events.append(f"{n} done")

    def process(n: int, user_id: int, chat_id: int) -> asyncio.Task[None]:
        coroutine = handle(n)
        return asyncio.create_task(
            processor.process_update(_update(n, user_id, chat_id), coroutine)
        )

    tasks = [
        process(1, ANNE, GROUP),
        process(2, ANNE, ANNE),
        process(3, BILAL, GROUP),
        process(4, BILAL, BILAL),  # waits for 3 (Bilal), so for 1 too
    ]
    await _settled()
    assert events == ["1 begun"]
    for n in (1, 2, 3, 4):
        gates[n].set()
    await asyncio.gather(*tasks)
    assert events.index("1 done") < events.index("2 begun")
    assert events.index("1 done") < events.index("3 begun")
    assert events.index("3 done") < events.index("4 begun")


async def test_an_update_cancelled_while_waiting_keeps_the_next_one_waiting() -> None:
    processor = InTurnProcessor()
    events: list[str] = []
    first_gate = asyncio.Event()

    async def handle(n: int, gate: asyncio.Event | None = None) -> None:
        events.append(f"{n} begun")
        if gate is not None:
            await gate.wait()
        events.append(f"{n} done")

    def process(n: int, work: Awaitable[Any]) -> asyncio.Task[None]:
        return asyncio.create_task(processor.process_update(_update(n, ANNE, ANNE), work))

    first = process(1, handle(1, first_gate))
    second = process(2, handle(2))
    third = process(3, handle(3))
    await _settled()
    second.cancel()  # e.g. a stop: the second never runs...
    await asyncio.gather(second, return_exceptions=True)
    await _settled()
    assert events == ["1 begun"]  # ...and the third still waits for the first
    first_gate.set()
    await asyncio.gather(first, third)
    assert events == ["1 begun", "1 done", "3 begun", "3 done"]
    assert processor.current_concurrent_updates == 0


async def _settled() -> None:
    """Let every task that can run do so (nothing here waits on anything outside the loop)."""
    for _ in range(20):
        await asyncio.sleep(0)
