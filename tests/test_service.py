"""`sanctuary-bot run` as a real process: webhook or polling, and a graceful stop on SIGTERM
or SIGINT (updates being handled finish and are acknowledged, new ones are left to Telegram,
the database is closed, exit code 0)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.places.gazetteer import Gazetteer
from tests.fakeapi import FakeBotAPI
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[1]
PERSON = 4242
SECRET = "Service-test_secret"
START_S = 60.0  # a cold Python under a loaded machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


def _env(
    server: FakeBotAPI, tmp_path: Path, geo_cache: Path, port: int, hook: bool
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANCTUARY_", "TELEGRAM_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": "123456:SERVICE-test",
        "TELEGRAM_API_URL": server.base_url,
        "SANCTUARY_DB": str(tmp_path / "bot.db"),
        "SANCTUARY_CACHE_DIR": str(geo_cache),
        "SANCTUARY_LISTEN": f"127.0.0.1:{port}",
    }
    if hook:
        env["SANCTUARY_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/tg/{PERSON}"
        env["SANCTUARY_WEBHOOK_SECRET"] = SECRET
    return env


def _read(path: Path) -> str:
    """What the bot logged (for assertion messages)."""
    return path.read_text() if path.exists() else ""


async def _start(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.commands", "run", env=env, cwd=ROOT, stdout=fd, stderr=fd
        )
    finally:
        os.close(fd)


async def _stopped(proc: asyncio.subprocess.Process, log: Path) -> int:
    try:
        async with asyncio.timeout(START_S):
            return await proc.wait()
    except TimeoutError:
        proc.kill()
        raise AssertionError("the bot did not stop:\n" + _read(log)) from None


def _answered(server: FakeBotAPI, update_id: int) -> list[int]:
    return [p.status for p in server.webhook_posts if p.update_id == update_id and p.answered_at]


def _replies(server: FakeBotAPI) -> int:
    return len(
        [c for c in server.calls_to("sendMessage") if c.chat_id == PERSON and c.status == 200]
    )


async def test_sigterm_finishes_the_update_being_handled_and_leaves_new_ones_to_telegram(
    server: FakeBotAPI, tmp_path: Path, gazetteer: Gazetteer, geo_cache: Path
) -> None:
    port, log = _free_port(), tmp_path / "bot.log"
    env = _env(server, tmp_path, geo_cache, port, hook=True)
    proc = await _start(env, log)
    try:
        call = await server.wait_for_call(lambda c: c.method == "setWebhook", START_S)
        assert call.params["secret_token"] == SECRET
        user = server.user(PERSON)
        gate = server.hold("sendMessage")
        first = user.send_text("/start")  # posted by the fake Telegram to the webhook
        async with asyncio.timeout(START_S):
            await gate.arrived.wait()  # its handler is sending the reply now
        proc.send_signal(signal.SIGTERM)
        second = user.send_text("/help")
        # Refused while stopping (503, or no answer once the port is closed): not handled.
        await eventually(lambda: bool(_answered(server, second)), 10.0, lambda: _read(log))
        assert 200 not in _answered(server, second)
        assert _answered(server, first) == []  # not acknowledged before it is handled
        gate.release.set()
        assert await _stopped(proc, log) == 0, _read(log)
    finally:
        gate.release.set()
        if proc.returncode is None:
            proc.kill()
    assert _answered(server, first) == [200]
    assert _replies(server) == 1
    assert not _read(Path(env["SANCTUARY_DB"] + "-wal"))  # the database was closed
    # Started again, the bot gets what Telegram kept, and SIGINT stops it as well.
    since = len(server.calls)
    proc = await _start(env, log)
    try:
        await server.wait_for_call(lambda c: c.method == "setWebhook", START_S, since)
        await eventually(lambda: 200 in _answered(server, second), START_S, lambda: _read(log))
        assert _replies(server) == 2
        proc.send_signal(signal.SIGINT)
        assert await _stopped(proc, log) == 0, _read(log)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert _answered(server, first) == [200]  # handled once, never posted again


async def test_polling_serves_health_and_stops_on_sigterm(
    server: FakeBotAPI, tmp_path: Path, gazetteer: Gazetteer, geo_cache: Path
) -> None:
    port, log = _free_port(), tmp_path / "bot.log"
    proc = await _start(_env(server, tmp_path, geo_cache, port, hook=False), log)
    try:
        await server.wait_polling(START_S)
        assert server.calls_to("deleteWebhook")  # any webhook is deleted first
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200

            async def ready() -> bool:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    return (response.status, await response.text()) == (200, "ready\n")

            await eventually(ready, 10.0)
        proc.send_signal(signal.SIGTERM)
        assert await _stopped(proc, log) == 0, _read(log)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert "Traceback" not in _read(log)
