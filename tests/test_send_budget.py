"""One send budget for replies and the outbox (issue #25, item 5): Telegram counts its limits
per bot, so the messages handlers send and the rows the outbox sender sends take their slots of
one budget: 30 a second in all, a second between two messages to one person, and a 429 met by
either pauses both. Through the whole bot and the fake Bot API, on both engines (in the process
on SQLite, through the database on PostgreSQL); across two instances on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from bot import callbacks as cb
from bot.i18n import N_
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from storage.outbox import OutboxItem
from tests import test_instances
from tests.conftest import Harness, start_bot
from tests.fakeapi import ApiCall, Conversation, FakeBotAPI
from tests.helpers import eventually
from tests.test_instances import HYDE_PARK, Network

NOTICE = N_("Sorry, something went wrong on our side. Please try again in a moment.")


@pytest.fixture
async def bot(tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes) -> AsyncIterator[Harness]:
    """The bot with Telegram's own second between two messages to one person (the other
    tests' bot has it shortened)."""
    async for harness in start_bot(tmp_path, gazetteer, outcodes, chat_gap_s=1.0):
        yield harness


two_instances = test_instances.network  # the fixture: "a" (the leases' holder) and "b"
PERSON = 955_001
BULK = range(955_101, 955_251)  # 150 notices: five seconds of the budget


async def _queue(bot: Harness | Network, people: Iterable[int], subject: str) -> None:
    services = bot.services if isinstance(bot, Harness) else bot.instances[0].services
    items = [OutboxItem("notice", subject, p, {"message": NOTICE}) for p in people]
    for person in {i.chat_id for i in items}:
        await services.users.set_locale(person, "en")
    await services.outbox.enqueue(items, services.now())
    assert services.sender is not None
    services.sender.wake()


def _sends(server: FakeBotAPI, chats: Iterable[int] | None = None) -> list[ApiCall]:
    """Messages Telegram took (a chat action, an edit, a button's answer are not counted)."""
    wanted = None if chats is None else set(chats)
    return [
        c
        for c in server.calls
        if c.method.startswith("send")
        and c.method != "sendChatAction"
        and c.status == 200
        and (wanted is None or c.chat_id in wanted)
    ]


async def _search(chat: Conversation) -> None:
    """A short conversation whose answers are several messages each."""
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("en", "s"))
    found = await chat.share_location(*HYDE_PARK)
    assert any("Conversation café" in m.plain_text() for m in found), found
    await chat.send("/help")
    await chat.send("/groups")


async def test_replies_and_the_outbox_keep_the_limits_together(bot: Harness) -> None:
    server = bot.server
    server.enforce_limits()  # 30 a second, a second to a person, 20 a minute to a group
    await _queue(bot, BULK, "bulk")
    await eventually(lambda: len(_sends(server, BULK)) >= 10, 10.0, server.describe_calls)
    await _search(bot.chat(PERSON))  # while the outbox sends
    await eventually(lambda: len(_sends(server, BULK)) == len(BULK), 30.0, server.describe_calls)
    assert server.violations == 0, server.violation_log[:10]
    replies = _sends(server, [PERSON])
    assert len(replies) >= 4
    assert all(b.at - a.at >= 1.0 for a, b in itertools.pairwise(replies))
    # Replies come first: the outbox was still sending after the person's last answer.
    assert _sends(server, BULK)[-1].at > replies[-1].at


async def test_a_reply_waits_out_the_second_after_an_outbox_message(bot: Harness) -> None:
    server = bot.server
    server.enforce_limits()
    chat = bot.chat(PERSON)
    await chat.send("/start")
    await _queue(bot, [PERSON], "one")
    await eventually(lambda: len(_sends(server, [PERSON])) == 2, 10.0, server.describe_calls)
    await chat.send("/help")  # at once after the notice
    await chat.send("/groups")
    times = [c.at for c in _sends(server, [PERSON])]
    assert len(times) >= 4
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times)), times
    assert server.violations == 0, server.violation_log


async def test_a_429_met_by_a_reply_pauses_the_outbox(bot: Harness) -> None:
    server = bot.server
    chat = bot.chat(PERSON)
    await chat.send("/start")
    await _queue(bot, BULK, "bulk")
    await eventually(lambda: len(_sends(server, BULK)) >= 10, 10.0, server.describe_calls)
    server.fail_next("sendMessage", kind="429", retry_after=2, chat_id=PERSON)
    await chat.send("/help")
    met = next(c.at for c in server.calls if c.status == 429)
    answered = _sends(server, [PERSON])[-1].at
    assert answered - met >= 2.0  # the reply waited and went again
    # Nothing of the outbox went meanwhile (bar a message already on its way), then it went on.
    await eventually(lambda: len(_sends(server, BULK)) == len(BULK), 30.0, server.describe_calls)
    during = [c.at - met for c in _sends(server, BULK) if met + 0.2 < c.at < met + 1.9]
    assert during == []


async def test_a_429_met_by_the_outbox_pauses_replies(bot: Harness) -> None:
    server = bot.server
    chat = bot.chat(PERSON)
    await chat.send("/start")
    server.fail_next("sendMessage", kind="429", retry_after=2, chat_id=BULK[0])
    await _queue(bot, [BULK[0]], "one")
    await eventually(lambda: any(c.status == 429 for c in server.calls), 10.0)
    met = next(c.at for c in server.calls if c.status == 429)
    await chat.send("/help")
    assert _sends(server, [PERSON])[-1].at - met >= 1.9


@pytest.mark.postgresql_only
async def test_two_instances_keep_one_budget(two_instances: Network) -> None:
    """Each update of one person goes to the other instance, while the first sends the
    outbox: the person's gap holds across instances, and all of it within 30 a second."""
    network = two_instances
    server = network.server
    server.enforce_limits()
    await _queue(network, BULK, "bulk")
    await eventually(lambda: len(_sends(server, BULK)) >= 10, 10.0, server.describe_calls)
    await _search(network.chat(PERSON))
    turns = [who[0] for _, who in sorted(network.front.handled_by.items())]
    assert set(turns) == {0, 1}
    await eventually(lambda: len(_sends(server, BULK)) == len(BULK), 30.0, server.describe_calls)
    assert server.violations == 0, server.violation_log[:10]
