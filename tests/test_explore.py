"""Random walks through the bot as every kind of person: nothing ever breaks.

Each walk presses the buttons it is shown, types commands, places and nonsense, shares
locations, and now and then presses a button it was never given: another person's, or one
with its numbers changed. After every step nothing may have gone wrong inside the bot (the
error handler logs every failure), and nobody may have changed what their role does not allow
(see the watches below). Every press is answered once, and no message shows a placeholder
left unfilled. Half the walks meet Telegram errors on the way,
and one goes on across restarts.

A seed fixes every choice but not when the outbox's own messages arrive, so a walk may not
repeat exactly: a failure shows the last steps taken.
"""

from __future__ import annotations

import logging
import os
import random
import re
from pathlib import Path

import pytest
from telegram.error import TelegramError

from bot import callbacks as cb
from bot.domain.vocabulary import Intent
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from storage.roles import ADMIN, COORDINATOR, NETWORK
from tests.conftest import NOW, Harness, start_bot
from tests.fakeapi import Conversation, FakeBotAPI
from tests.test_campaigns import COORD, compose
from tests.test_posting import quick_post

TEXTS = [
    "Leeds",
    "ليدز",
    "Sheffeild",
    "LS6",
    "LS6 1AA",
    "Newport",
    "Atlantis",
    "hello",
    "<b>hi</b> & <i>",
    "\u202eabc\u202c",
    "🙂",
    "x" * 300,
    "12",
    "0",
    "-1",
    "2026-12-01 18:00",
    "tomorrow",
    "http://example.org/a",
    "https://example.org/act",
    "yes",
    "/start",
    "/help",
    "/menu",
    "/find",
    "/groups",
    "/language",
    "/privacy",
    "/mydata",
    "/forget",
    "/reminders",
    "/settings",
    "/alerts",
    "/stop",
    "/myactivities",
    "/newactivity",
    "/moderate",
    "/back",
    "/cancel",
    "/campaign",
    "/campaigns",
    "/invite",
    "/team",
    "/reports",
    "/safeguarding",
    "/weekly",
    "/start j-nosuchcode",
    "/nosuchcommand",
]
# Messages that are not text or a location: content, and service messages from the chat.
CONTENTS: list[dict[str, object]] = [
    {"photo": [{"file_id": "p1", "file_unique_id": "up1", "width": 90, "height": 90}]},
    {"contact": {"phone_number": "+447700900000", "first_name": "Friend"}},
    {"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}},
    {"venue": {"location": {"latitude": 53.38, "longitude": -1.47}, "title": "Library",
               "address": "Surrey St, Sheffield"},
     "location": {"latitude": 53.38, "longitude": -1.47}},  # Telegram sets both
    {"pinned_message": {"message_id": 1, "date": 0}},
    {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
]  # fmt: skip
# Answers to the questions the bot asks when it waits for typing (posting, campaigns, reports).
ANSWERS = [
    "Chess club for everyone",
    "Lift the ban on work",
    "We meet, play and talk. Everyone is welcome, beginners too.",
    "St Mary's Hall, 2 Park Lane, Leeds",
    "LS1 1AA",
    "25/12/2026",
    "1/12/2026",
    "31/2/2026",
    "18:00-20:00",
    "20:00-18:00",
    "24/12, 31/12",
    "https://example.org/act",
    "Leeds",
    "£2",
    "Free",
    "0113 496 0000",
    "It was cancelled twice and nobody told us.",
]
PLACES = [(53.7997, -1.5492), (51.5072, -0.1276), (55.8642, -4.2518), (54.597, -5.93), (0.0, 0.0)]
# What each person may never change, whatever they press: (what it is, SQL, parameters).
# Nobody with no role changes any of it; a volunteer changes only their own activities (and
# those reported, when the group made them its safeguarding contact), and never approves
# them; a group admin changes only their own group; coordinators anything.
Watch = list[tuple[str, str, tuple[object, ...]]]


def _whole(*tables: str) -> Watch:
    """Every row of these tables."""
    return [(t, f"SELECT * FROM {t}", ()) for t in tables]


# A call as its coordinator made it. Its figures change as supporters answer, and the sender
# moves it on from sending to sent on its own time: those are left out.
CAMPAIGNS: Watch = [
    (
        "campaigns",
        "SELECT id, title, body, action_url, topics, area, area_lat, area_lon, area_label, "
        "radius_km, send_at, created_by, CASE WHEN state IN ('scheduled', 'sending', 'sent') "
        "THEN 'on its way' ELSE state END AS state FROM campaigns ORDER BY id",
        (),
    ),
    *_whole("campaign_texts"),
]
NO_ROLE = [
    *CAMPAIGNS,
    *_whole(
        "activities",
        "activity_skips",
        "groups",
        "roles",
        "invites",
        "activity_drafts",
        "safeguarding_contacts",
        "group_chats",
    ),
]


def _volunteer(user_id: int) -> Watch:
    return [
        *CAMPAIGNS,
        *_whole("roles", "invites", "groups", "safeguarding_contacts", "group_chats"),
        (
            "activities",  # but a group's safeguarding contact reviews its reported activities
            "SELECT * FROM activities WHERE (created_by IS NULL OR created_by != ?) AND "
            "group_id NOT IN (SELECT group_id FROM safeguarding_contacts WHERE user_id = ?) "
            "ORDER BY id",
            (user_id, user_id),
        ),
        (
            "approved",
            "SELECT id FROM activities WHERE created_by = ? AND moderated = 1 ORDER BY id",
            (user_id,),
        ),
    ]


def _admin(group_id: int) -> Watch:
    return [
        *CAMPAIGNS,
        ("roles", "SELECT * FROM roles WHERE group_id != ?", (group_id,)),
        ("groups", "SELECT * FROM groups WHERE id != ? ORDER BY id", (group_id,)),
        ("activities", "SELECT * FROM activities WHERE group_id != ? ORDER BY id", (group_id,)),
    ]


def _mutations(data: str, rng: random.Random) -> list[str]:
    """A button's data with its numbers changed, cut short, or made longer."""
    changed = re.sub(r"\d+", lambda m: str(rng.choice([0, 1, 2, 3, 999999, 2**63])), data)
    parts = data.split(":")
    return [changed, ":".join(parts[:-1]), data + ":1", data.replace(":", "::", 1)]


class Walker:
    """One person wandering through the bot."""

    def __init__(
        self, bot: Harness, chat: Conversation, rng: random.Random, keeps_role: bool
    ) -> None:
        self.bot, self.chat, self.rng = bot, chat, rng
        self.seen: dict[str, None] = {}  # every button data shown so far, in order
        # a volunteer, admin or coordinator who erased their data would have no role left to
        # explore with: they never do
        self.never = {cb.ForgetConfirmed().encode(), "/forget"} if keeps_role else set()

    def _buttons(self) -> list[str]:
        found = []
        for message in self.bot.server.messages(self.chat.user.chat_id)[-4:]:
            if not message.deleted:
                found += [
                    d for row in message.buttons() for _t, d, _u in row if d and d not in self.never
                ]
        self.seen.update(dict.fromkeys(found))
        return found

    async def step(self, strangers_buttons: list[str]) -> str:
        rng = self.rng
        buttons = self._buttons()
        last = self.chat.last
        if last is not None and not last.has_inline_keyboard() and rng.random() < 0.6:
            text = rng.choice(ANSWERS)  # the bot may be waiting for an answer: give one
            await self.chat.send(text)
            return f"answer {text[:30]!r}"
        roll = rng.random()
        if buttons and roll < 0.55:
            data = rng.choice(buttons)
            await self.chat.press_data(data)
            return f"press {data}"
        strangers_buttons = [d for d in strangers_buttons if d not in self.never]
        if roll < 0.62 and strangers_buttons:
            data = rng.choice(strangers_buttons)
            await self.chat.press_data(data)
            return f"press another's {data}"
        if roll < 0.7 and self.seen:
            data = rng.choice(_mutations(rng.choice(list(self.seen)), rng))
            await self.chat.press_data(data)
            return f"press changed {data}"
        if roll < 0.78:
            lat, lon = rng.choice(PLACES)
            await self.chat.share_location(lat, lon)
            return f"location {lat},{lon}"
        if roll < 0.8:
            content = rng.choice(CONTENTS)
            await self.chat.send_content(content)
            return f"content {next(iter(content))}"
        text = rng.choice([t for t in TEXTS if t not in self.never])
        await self.chat.send(text)
        return f"text {text[:30]!r}"


Rows = dict[str, list[dict[str, object]]]


async def _rows(bot: Harness, watch: Watch) -> Rows:
    """What a person may not change, as it is now."""
    rows = {}
    for name, sql, params in watch:
        found = await bot.services.db.conn.execute_fetchall(sql, params)
        rows[name] = sorted((dict(r) for r in found), key=repr)  # in no engine's own order
    return rows


def _reported(rows: Rows) -> Rows:
    """Anyone may report an activity, and the third person's report hides it: after a report,
    an activity's status (published or hidden) and time of change may differ."""
    for row in rows.get("activities", []):
        if row["status"] in ("published", "hidden"):
            row["status"] = row["updated_at"] = "published or hidden"
    return rows


async def _people(bot: Harness) -> tuple[dict[str, Conversation], dict[str, Watch]]:
    """Five people who have started the bot, and what each of them may not change."""
    services = bot.services
    leeds = (await services.groups.refs())["leeds"]
    watches = {
        "admin": _admin(leeds),
        "volunteer": _volunteer(7003),
        "seeker": NO_ROLE,
        "supporter": NO_ROLE,
    }
    await services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    await services.roles.grant(7002, ADMIN, leeds, None, NOW)
    people = {
        "coordinator": bot.chat(COORD, "en"),
        "admin": bot.chat(7002, "fr"),
        "volunteer": bot.chat(7003, "en"),
        "seeker": bot.chat(7004, "ar"),
        "supporter": bot.chat(7005, "uk"),
    }
    intents = {"volunteer": "volunteer", "supporter": "supporter"}
    for name, chat in people.items():
        await chat.send("/start")
        await chat.press_data(cb.ChooseLanguage(chat.user.language_code, "s"))
        await chat.press_data(cb.ChooseIntent(Intent(intents.get(name, "seeking"))))
    code = await services.roles.create_invite(leeds, 7002, NOW)
    await people["volunteer"].send(f"/start j-{code}")
    # Something in every queue, so the walks reach the deeper buttons: a post waiting for its
    # check, a campaign call ready to send, a report to review.
    await quick_post(people["volunteer"], "Chess club")
    await people["volunteer"].press("Publish")  # a new volunteer's post waits for a check
    await compose(bot)
    seeker = people["seeker"]
    results = await seeker.share_location(53.7997, -1.5492)
    card = await seeker.press_data(results[-1].buttons()[0][0][1] or "")  # the nearest one
    reasons = await seeker.press("⚠️", card[-1])
    await seeker.press_data(reasons[-1].buttons()[0][0][1] or "")
    assert await bot.row("SELECT COUNT(*) FROM reports") == (1,)
    return people, watches


# Longer walks for a hunt: EXPLORE_STEPS=3000 EXPLORE_SEEDS=20 pytest tests/test_explore.py
STEPS = int(os.environ.get("EXPLORE_STEPS", "150"))
SEEDS = range(1, 1 + int(os.environ.get("EXPLORE_SEEDS", "3")))


FAULTS = ["429", "500", "502", "400"]


def _failures(records: list[logging.LogRecord], faults: bool) -> list[logging.LogRecord]:
    """What went wrong inside the bot; with faults, errors from Telegram are expected."""
    return [
        r
        for r in records
        if r.levelno >= logging.ERROR
        and not (faults and r.exc_info and isinstance(r.exc_info[1], TelegramError))
    ]


class Walk:
    """Five people taking turns, checked after every step."""

    def __init__(
        self,
        bot: Harness,
        people: dict[str, Conversation],
        watches: dict[str, Watch],
        rng: random.Random,
        faults: bool,
    ) -> None:
        self.bot, self.watches, self.rng, self.faults = bot, watches, rng, faults
        self.walkers = {
            name: Walker(bot, chat, rng, keeps_role=name not in ("seeker", "supporter"))
            for name, chat in people.items()
        }
        self.trail: list[str] = []
        self.name = "seeker"
        self.answered = len(bot.server.callback_answers)

    def restarted(self, bot: Harness) -> None:
        """Go on with the same people after the bot was restarted."""
        self.bot = bot
        for walker in self.walkers.values():
            walker.bot = bot
            walker.chat = bot.chat(walker.chat.user.user_id, walker.chat.user.language_code)
        self.trail.append("(the bot restarts)")

    async def step(self, records: list[logging.LogRecord]) -> None:
        bot, rng = self.bot, self.rng
        if rng.random() < 0.3:  # a few steps in a row by the same person, then someone else
            self.name = rng.choice(list(self.walkers))
        name, walker = self.name, self.walkers[self.name]
        fault = rng.choice(FAULTS) if self.faults and rng.random() < 1 / 7 else None
        if fault:  # a 429 either waited out by the reply (0 s here) or too long to wait (over
            # PatientReplies' 5 s; short enough for the outbox sender, should it meet it and
            # pause all sending, to be done within Harness.delivered's 10 s)
            wait = rng.choice([0, 6]) if fault == "429" else 1
            bot.server.fail_next(
                None, kind=fault, chat_id=walker.chat.user.chat_id, retry_after=wait
            )
        watch = self.watches.get(name, [])
        before = await _rows(bot, watch)
        others = [d for w in self.walkers.values() if w is not walker for d in w.seen]
        did = await walker.step(others)
        after = await _rows(bot, watch)
        if re.match(r"press .*Q:r:", did):
            before, after = _reported(before), _reported(after)
        trail = self.trail
        trail.append(f"{name}: {did}" + (f" (Telegram answers {fault})" if fault else ""))
        assert after == before, "\n".join([*trail[-8:], f"the {name} changed what they may not"])
        answered = len(bot.server.callback_answers)
        if did.startswith("press") and not self.faults:  # answered once: no spinner left
            assert answered == self.answered + 1, "\n".join(trail[-8:])
        self.answered = answered
        failures = _failures(records, self.faults)
        assert not failures, "\n".join(trail[-8:] + [r.getMessage() for r in failures])

    async def end(self) -> None:
        """Everyone is still answered, and no message ever showed a placeholder."""
        bot = self.bot
        bot.server.clear_faults()  # one injected for a step that never called Telegram
        for walker in self.walkers.values():
            chat = walker.chat
            assert await chat.send("/help"), f"chat {chat.user.chat_id} is no longer answered"
            for message in bot.server.messages(chat.user.chat_id):
                texts = [message.text] + [t for row in message.buttons() for t, _d, _u in row]
                assert not [t for t in texts if re.search(r"\{\w*\}|%\(\w+\)", t)], message
        if os.environ.get("EXPLORE_SHOW"):
            print("\n".join(self.trail))


@pytest.mark.parametrize("faults", [False, True], ids=["calm", "faults"])
@pytest.mark.parametrize("seed", SEEDS)
async def test_random_walks_never_break_anything(
    bot: Harness, seed: int, faults: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``faults``, one step in seven meets a Telegram error (429, 5xx or 400): the walk
    goes on, nothing but that error is logged, and at the end everyone is still answered."""
    caplog.set_level(logging.WARNING)
    walk = Walk(bot, *await _people(bot), random.Random(seed), faults)
    for _ in range(STEPS):
        await walk.step(caplog.records)
    await walk.end()


async def test_walks_go_on_across_restarts(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot is restarted three times during a walk (same database and Telegram): what
    was only in memory is gone, yet no button or answer from before breaks anything."""
    caplog.set_level(logging.WARNING)
    walk: Walk | None = None
    async with FakeBotAPI() as server:
        for _ in range(4):
            async for bot in start_bot(tmp_path, gazetteer, outcodes, server):
                if walk is None:
                    walk = Walk(bot, *await _people(bot), random.Random(0), faults=False)
                else:
                    walk.restarted(bot)
                for _ in range(STEPS // 2):
                    await walk.step(caplog.records)
        assert walk is not None
        async for bot in start_bot(tmp_path, gazetteer, outcodes, server):
            walk.restarted(bot)
            await walk.end()
