"""Telegram's flood limits counted by a witness in a process of its own, in front of the fake
Bot API.

The fake Bot API counts each send when its event loop reads it. In a test where several bot
processes share two cores with a database server and with the test itself (which drives the
fake's conversations and watches the database), a moment the test's process is not scheduled
bunches the sends that came meanwhile: a second then counts more than 30 that were sent within
the limit, a failure of the counter, not of the bot. The witness does nothing but note when each
call arrives, count the limits on those times (:class:`~tests.fakeapi.limits.FloodLimits`), and
pass the call on to the fake Bot API and its answer back. It runs at a higher priority where the
system allows it.

Use it as ``async with LimitsWitness(server) as witness:`` and give the bot
``witness.base_url`` instead of ``server.base_url``; ``await witness.report()`` gives the
violations and every send as the witness timed it. The fake Bot API itself counts nothing
(``server.enforce_limits()`` is not called).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from tests.fakeapi.limits import FloodLimits
from tests.fakeapi.rules import ApiError, coerce
from tests.fakeapi.server import HOST, FakeBotAPI


class _Counter(FloodLimits):
    """The fake Bot API's own count of the limits, on the times the witness noted."""

    def arrived(self, key: str, chat_id: int | None, at: float) -> None:
        with contextlib.suppress(ApiError):  # a 429 to answer: the witness only counts
            self._check_limits(key, chat_id, at)


@dataclass(frozen=True, slots=True)
class Send:
    """A send* call as it arrived (sendChatAction is not one)."""

    at: float  # time.monotonic(): CLOCK_MONOTONIC, the same clock in every process
    method: str  # lower case
    chat_id: int | None
    status: int  # the fake Bot API's answer


@dataclass(frozen=True, slots=True)
class Witnessed:
    violations: list[str]
    sends: list[Send]


class LimitsWitness:
    """The witness's process, started and stopped around a test (see the module's docstring).
    ``limits``: as :meth:`~tests.fakeapi.limits.FloodLimits.enforce_limits` takes them."""

    def __init__(self, server: FakeBotAPI, **limits: Any) -> None:
        self._upstream = f"http://{HOST}:{server.port}"
        self._limits = limits
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        """For the bot's TELEGRAM_API_URL: every call goes through the witness."""
        if self._port is None:
            raise RuntimeError("LimitsWitness is not started")
        return f"http://{HOST}:{self._port}/bot"

    async def __aenter__(self) -> LimitsWitness:
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=_witness, args=(child, self._upstream, self._limits), daemon=True
        )
        process.start()
        child.close()  # so that a witness that died is an EOFError here, not a wait forever
        self._conn, self._process = parent, process
        self._port = await self._ask(None)
        return self

    async def report(self) -> Witnessed:
        """The violations so far, and every send the witness passed on."""
        found: Witnessed = await self._ask("report")
        return found

    async def _ask(self, command: str | None) -> Any:
        assert self._conn is not None
        conn = self._conn
        if command is not None:
            conn.send(command)
        return await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            self._conn.close()
        if self._process is not None:
            process = self._process
            await asyncio.get_running_loop().run_in_executor(None, process.join, 10)
            if process.is_alive():
                process.kill()


def _witness(conn: Connection, upstream: str, limits: dict[str, Any]) -> None:
    """The witness's process: serves until told "stop" through ``conn``."""
    with contextlib.suppress(OSError):  # the counter goes first, where the system allows it
        os.setpriority(os.PRIO_PROCESS, 0, -15)
    asyncio.run(_serve(conn, upstream, limits))


async def _serve(conn: Connection, upstream: str, limits: dict[str, Any]) -> None:
    import aiohttp
    from aiohttp import web

    counter = _Counter()
    counter.enforce_limits(**limits)
    sends: list[Send] = []
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None)
    )

    async def forward(request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.read()
        key = request.path.rsplit("/", 1)[-1].lower()
        counted = key.startswith("send") and key != "sendchataction"
        chat_id = await _chat_id(request) if counted else None
        if counted:
            counter.arrived(key, chat_id, arrived)
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with session.request(
            request.method, upstream + request.path_qs, data=body, headers=headers
        ) as answer:
            answered = await answer.read()
            status = answer.status
            kind = answer.headers.get("Content-Type", "application/json")
        if counted:
            sends.append(Send(arrived, key, chat_id, status))
        return web.Response(body=answered, status=status, headers={"Content-Type": kind})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket()
    sock.bind((HOST, 0))
    await web.SockSite(runner, sock).start()
    conn.send(sock.getsockname()[1])
    gc.freeze()  # what is loaded is never collected again: shorter collections
    loop = asyncio.get_running_loop()
    try:
        while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
            if command == "report":
                conn.send(Witnessed(list(counter.violation_log), list(sends)))
    except EOFError:  # the test's process is gone
        pass
    finally:
        await runner.cleanup()
        await session.close()


async def _chat_id(request: Any) -> int | None:
    """The call's chat_id, read as the fake Bot API reads it (a JSON body or a form)."""
    if request.content_type == "application/json":
        try:
            value = json.loads(await request.read()).get("chat_id")
        except (ValueError, AttributeError):
            return None
    else:
        value = (await request.post()).get("chat_id")
    chat = coerce("chat_id", value) if value is not None else None
    return chat if isinstance(chat, int) and not isinstance(chat, bool) else None
