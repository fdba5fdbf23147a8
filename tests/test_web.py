"""The web server: Telegram's webhook (secret, bad bodies, repeats, a stop while handling),
/healthz, /readyz and /metrics, through the fake Bot API posting as Telegram does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, aclosing
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import service
from bot.app import ALLOWED_UPDATES
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from bot.web import webhook as webhook_module
from bot.web.health import CONTACT_LIMIT_S
from bot.web.webhook import SECRET_HEADER
from storage.db import Database
from storage.outbox import OutboxItem, OutboxRepository
from storage.updates import HandledUpdates
from tests.conftest import NOW, WEBHOOK_PATH, WEBHOOK_SECRET, Harness, start_bot
from tests.fakeapi import FakeBotAPI
from tests.helpers import eventually

# Distinctive enough that finding it in the metrics page could only mean it leaked there.
PERSON = 918_273_645
WORDS = "Leeds"


@pytest.fixture
async def hooked(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> AsyncIterator[Harness]:
    """The bot taking updates on its webhook."""
    async for harness in start_bot(tmp_path, gazetteer, outcodes, web="webhook"):
        yield harness


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def _sends(server: FakeBotAPI, chat_id: int) -> int:
    return len([c for c in server.calls_to("sendMessage") if c.chat_id == chat_id])


def _replies(bot: Harness, chat_id: int) -> int:
    return _sends(bot.server, chat_id)


async def test_webhook_is_set_with_its_secret_and_updates(hooked: Harness) -> None:
    (call,) = hooked.server.calls_to("setWebhook")
    assert call.params["url"] == hooked.web_url + WEBHOOK_PATH
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert call.params["allowed_updates"] == ALLOWED_UPDATES
    assert not hooked.server.calls_to("getUpdates")
    assert not hooked.server.calls_to("deleteWebhook")


async def test_updates_posted_with_the_secret_are_answered(hooked: Harness) -> None:
    chat = hooked.chat(PERSON)
    replies = await chat.send("/start")
    assert replies, hooked.server.describe_calls()
    update_id = hooked.server.updates[-1]["update_id"]
    await eventually(lambda: update_id in hooked.server.webhook_acknowledged, 5.0)
    replies = await chat.send(WORDS)  # a place: results, through the webhook
    assert replies


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", WEBHOOK_SECRET + "x", "é"])
async def test_a_wrong_or_missing_secret_is_refused_unread(
    hooked: Harness, secret: str | None
) -> None:
    user = hooked.server.user(PERSON)
    update = user.text_update("/start")
    status = await hooked.server.post_to_webhook(update, secret=secret)
    assert status == 403
    # The same update with the secret is handled: it was not remembered as seen.
    assert await hooked.server.post_to_webhook(update) == 200
    assert hooked.processor.last_processed == update["update_id"]
    assert _replies(hooked, PERSON) == 1


async def test_a_body_that_is_not_an_update_gets_400(hooked: Harness) -> None:
    url = hooked.web_url + WEBHOOK_PATH
    headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for body in (b"not json", b"[1, 2]", b'{"update_id": 5}', b'{"message": {}}', b"{"):
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 400, body
        # Without the secret, not even read: 403 before 400.
        async with session.post(url, data=b"not json") as response:
            assert response.status == 403
    assert hooked.processor.last_processed == 0


async def test_the_same_update_twice_is_handled_once(hooked: Harness) -> None:
    user = hooked.server.user(PERSON)
    first = user.text_update("/start")
    assert await hooked.server.post_to_webhook(first) == 200
    assert await hooked.server.post_to_webhook(first) == 200
    assert _replies(hooked, PERSON) == 1
    # Twice at the same moment (Telegram posting again while the first is being handled).
    gate = hooked.server.hold("sendMessage")
    second = user.text_update("/help")
    posts = [asyncio.create_task(hooked.server.post_to_webhook(second)) for _ in range(3)]
    await gate.arrived.wait()
    await asyncio.sleep(0)  # the repeats arrive while the first is held
    assert not any(post.done() for post in posts)  # none acknowledged before it is handled
    gate.release.set()
    assert await asyncio.gather(*posts) == [200, 200, 200]
    assert _replies(hooked, PERSON) == 2


async def test_a_repeat_is_known_by_its_update_id_and_not_read_again(hooked: Harness) -> None:
    update = hooked.server.user(PERSON).text_update("/start")
    assert await hooked.server.post_to_webhook(update) == 200
    # Answered at once by its update_id: the body is not read into an Update again (one
    # python-telegram-bot could not read at all shows it), and nothing is handled twice.
    unreadable = {"update_id": update["update_id"], "message": {"not": "a message"}}
    assert await hooked.server.post_to_webhook(unreadable) == 200
    assert _replies(hooked, PERSON) == 1
    # The same body under a new update_id is read, and refused.
    assert await hooked.server.post_to_webhook(unreadable | {"update_id": 10**9}) == 400


async def test_handled_updates_are_remembered_across_a_restart(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async with FakeBotAPI() as server:
        update = server.user(PERSON).text_update("/start")
        async with aclosing(start_bot(tmp_path, gazetteer, outcodes, server, web="webhook")) as run:
            async for _ in run:
                assert await server.post_to_webhook(update) == 200
        async with aclosing(start_bot(tmp_path, gazetteer, outcodes, server, web="webhook")) as run:
            async for bot in run:
                assert await server.post_to_webhook(update) == 200
                assert bot.processor.last_processed == 0  # not handled again
        assert _sends(server, PERSON) == 1


async def test_an_update_during_a_stop_is_acknowledged_only_once_handled(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async with AsyncExitStack() as stack, FakeBotAPI() as server:
        user = server.user(PERSON)
        runs = start_bot(tmp_path, gazetteer, outcodes, server, web="webhook")
        stack.push_async_callback(runs.aclose)
        bot = await anext(runs)
        gate = server.hold("sendMessage")
        handling = asyncio.create_task(server.post_to_webhook(user.text_update("/start")))
        await gate.arrived.wait()
        stopping = asyncio.create_task(anext(runs, None))  # the bot stops, as on SIGTERM
        await eventually(
            lambda: bot.web is not None and bot.web.webhook is not None and bot.web.webhook.closing,
            5.0,
        )
        # A new update now is refused (Telegram keeps it and posts it again later)...
        later = user.text_update("/help")
        assert await server.post_to_webhook(later) == 503
        assert not handling.done()  # ...and the one being handled is not acknowledged yet
        gate.release.set()
        assert await handling == 200
        assert await stopping is None
        assert _sends(server, PERSON) == 1
        # The next start handles what was refused.
        async with aclosing(start_bot(tmp_path, gazetteer, outcodes, server, web="webhook")) as run:
            async for bot in run:
                assert await server.post_to_webhook(later) == 200
                assert bot.processor.last_processed == later["update_id"]
        assert _sends(server, PERSON) == 2


async def test_a_stop_waits_only_so_long_for_an_update_being_handled(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "STOP_LIMIT_S", 0.2)  # 10 s in the bot
    async with AsyncExitStack() as stack, FakeBotAPI() as server:
        runs = start_bot(tmp_path, gazetteer, outcodes, server, web="webhook")
        stack.push_async_callback(runs.aclose)
        await anext(runs)
        gate = server.hold("sendMessage")  # never released while the bot stops
        handling = asyncio.create_task(
            server.post_to_webhook(server.user(PERSON).text_update("/start"))
        )
        await gate.arrived.wait()
        assert await anext(runs, None) is None  # stopped, the update still unfinished
        assert await handling != 200  # so not acknowledged: Telegram will post it again
        gate.release.set()


async def test_health_and_readiness(hooked: Harness) -> None:
    assert await _get(hooked.web_url + "/healthz") == (200, "ok\n")
    assert await _get(hooked.web_url + "/readyz") == (200, "ready\n")
    await hooked.services.db.close()  # the database is gone
    status, text = await _get(hooked.web_url + "/readyz")
    assert status == 503
    assert text.startswith("not ready: the database does not answer")
    assert text.count("\n") == 1
    assert (await _get(hooked.web_url + "/healthz"))[0] == 200


async def test_not_ready_without_the_sender(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async with aclosing(start_bot(tmp_path, gazetteer, outcodes, web="polling")) as run:
        async for polling in run:
            contact = polling.app.bot_data.contact
            await eventually(lambda c=contact: c.last is not None, 5.0)
            assert (await _get(polling.web_url + "/readyz"))[0] == 200
            await polling.services.stop_sender()
            assert await _get(polling.web_url + "/readyz") == (
                503,
                "not ready: the outbox sender is not running\n",
            )


async def test_not_ready_when_telegram_is_not_heard_from(hooked: Harness) -> None:
    assert (await _get(hooked.web_url + "/readyz"))[0] == 200
    hooked.app.bot_data.contact.last = time.monotonic() - CONTACT_LIMIT_S - 1
    assert await _get(hooked.web_url + "/readyz") == (
        503,
        "not ready: no update and no answer from Telegram for 120 s\n",
    )
    await hooked.chat(PERSON).send("/start")  # an update arrives: ready again
    assert (await _get(hooked.web_url + "/readyz"))[0] == 200


def _value(page: str, name: str) -> float:
    for line in page.splitlines():
        if line.startswith(name + " ") or (
            line.startswith(name + "{") and line.split(" ")[0] == name
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_move_after_a_journey_and_name_nobody(hooked: Harness) -> None:
    _, before = await _get(hooked.web_url + "/metrics")
    chat = hooked.chat(PERSON)
    await chat.send("/start")
    await chat.send(WORDS)
    await chat.press("Next")
    hooked.server.user(PERSON).inline_query("Leeds", "group")  # "@<bot> Leeds" in a group
    await eventually(lambda: bool(hooked.server.inline_answers), 10)
    status, page = await _get(hooked.web_url + "/metrics")
    assert status == 200
    for name in (
        'sanctuary_updates_total{kind="message"}',
        'sanctuary_updates_total{kind="callback_query"}',
        'sanctuary_updates_total{kind="inline_query"}',
        'sanctuary_replies_total{method="sendMessage"}',
        "sanctuary_search_seconds_count",
        "sanctuary_db_statement_seconds_count",
    ):
        assert _value(page, name) > _value(before, name), name
    for name in (
        "sanctuary_handler_errors_total",
        'sanctuary_messages_total{outcome="sent"}',
        'sanctuary_flood_pauses_total{source="outbox"}',
        "sanctuary_send_rate",
        "sanctuary_event_loop_lag_seconds_count",
        "sanctuary_outbox_rows",
    ):
        assert name in page, name
    assert str(PERSON) not in page
    assert WORDS.lower() not in page.lower()
    assert "Test" not in page  # the person's first name


async def test_outbox_counted_by_kind_and_state_in_batches(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "o.db")
    try:
        outbox = OutboxRepository(db)
        assert await outbox.counts_by_kind() == {}
        await outbox.enqueue([OutboxItem("notice", f"n:{i}", 10 + i, {}) for i in range(5)], NOW)
        await outbox.enqueue([OutboxItem("reminder", f"r:{i}", 20 + i, {}) for i in range(2)], NOW)
        claimed = await outbox.claim(NOW + timedelta(days=1), 1)
        expected = {("notice", "pending"): 4, ("notice", "sending"): 1, ("reminder", "pending"): 2}
        assert [row.kind for row in claimed] == ["notice"]
        assert await outbox.counts_by_kind(batch=2) == expected
        assert await outbox.counts_by_kind() == expected
    finally:
        await db.close()


async def test_updates_handled_close_together_are_recorded_in_one_write(
    hooked: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A busy webhook does not write (and commit) each update_id on its own: those handled
    # within the gathering time go to the database together, each answered once written.
    monkeypatch.setattr(webhook_module, "RECORD_GATHER_S", 5.0)
    writes: list[list[int]] = []
    record = HandledUpdates.record

    async def counted(self: HandledUpdates, update_ids: Sequence[int], at: datetime) -> None:
        writes.append(list(update_ids))
        await record(self, update_ids, at)

    monkeypatch.setattr(HandledUpdates, "record", counted)
    updates = [hooked.server.user(PERSON + i).text_update("/start") for i in range(3)]
    posts = [hooked.server.post_to_webhook(update) for update in updates]
    assert await asyncio.gather(*posts) == [200, 200, 200]
    # one write holding the three, in the order their handling ended (on PostgreSQL the three
    # read the database at once, so that order is not theirs)
    assert [sorted(ids) for ids in writes] == [sorted(update["update_id"] for update in updates)]
    since = NOW - timedelta(days=1)
    assert sorted(await HandledUpdates(hooked.services.db).since(since)) == sorted(writes[0])


async def test_updates_posted_together_are_looked_up_in_one_statement(
    hooked: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each post is looked up in the database (another instance may have handled it), but not
    # each on its own: those arriving while a lookup runs go together in the next one.
    assert hooked.web is not None and hooked.web.webhook is not None
    webhook = hooked.web.webhook
    lookups: list[list[int]] = []
    among = HandledUpdates.among

    async def counted(self: HandledUpdates, update_ids: Sequence[int]) -> set[int]:
        lookups.append(list(update_ids))
        if len(lookups) == 1:  # the first lookup takes its time: the other two arrive
            await eventually(lambda: len(webhook._running) == 3, 5.0)
        return await among(self, update_ids)

    monkeypatch.setattr(HandledUpdates, "among", counted)
    updates = [hooked.server.user(PERSON + i).text_update("/start") for i in range(3)]
    first = asyncio.create_task(hooked.server.post_to_webhook(updates[0]))
    await eventually(lambda: len(lookups) == 1, 5.0)
    later = [hooked.server.post_to_webhook(update) for update in updates[1:]]
    assert await asyncio.gather(first, *later) == [200, 200, 200]
    ids = [update["update_id"] for update in updates]
    assert [sorted(batch) for batch in lookups] == [ids[:1], sorted(ids[1:])]
    assert all(_replies(hooked, PERSON + i) == 1 for i in range(3))


async def test_a_lookup_that_fails_leaves_its_updates_to_be_posted_again(
    hooked: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database cannot say whether the update was handled elsewhere: it is not handled
    # (nor acknowledged), and Telegram's next post of it is.
    among = HandledUpdates.among
    failures = [ConnectionError("database gone")]

    async def failing(self: HandledUpdates, update_ids: Sequence[int]) -> set[int]:
        if failures:
            raise failures.pop()
        return await among(self, update_ids)

    monkeypatch.setattr(HandledUpdates, "among", failing)
    update = hooked.server.user(PERSON).text_update("/start")
    assert await hooked.server.post_to_webhook(update) == 500
    assert _replies(hooked, PERSON) == 0
    assert await hooked.server.post_to_webhook(update) == 200
    assert _replies(hooked, PERSON) == 1
