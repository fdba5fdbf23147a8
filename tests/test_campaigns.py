"""Supporters' alerts and coordinators' campaign calls, end to end through the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import callbacks as cb
from bot.cli import commands as cli
from bot.delivery.outbox import IN_FLIGHT
from bot.domain.vocabulary import Intent, Topic
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from handlers.campaigns import parse_when
from storage.roles import COORDINATOR, NETWORK
from tests.conftest import NOW, Harness, start_bot
from tests.fakeapi import SentMessage
from tests.helpers import button_texts, eventually, has_button, last_callback_answer, only, tr

COORD = 7001
URL = "https://example.org/write-to-your-mp"


def _calls(bot: Harness, user_id: int) -> list[SentMessage]:
    return [m for m in bot.server.messages(user_id) if has_button(m, cb.CallDid)]


async def _start(bot: Harness, user_id: int, intent: str, language: str = "en") -> None:
    chat = bot.chat(user_id, language)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage(language, "s"))
    await chat.press_data(cb.ChooseIntent(Intent(intent)))


async def _coordinator(bot: Harness) -> None:
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)


async def compose(bot: Harness, title: str = "Lift the ban on work") -> int:
    """A complete draft (English only, asylum topic, whole UK, as soon as confirmed)."""
    chat = bot.chat(COORD)
    ask = only(await chat.send("/campaign"))
    assert "Send the title of the call" in ask.plain_text()
    assert "Send the text" in only(await chat.send(title)).plain_text()
    assert "action link" in only(await chat.send("People wait years. Ask your MP.")).plain_text()
    assert "not a link I can use" in only(await chat.send("http://example.org/x")).plain_text()
    topics = only(await chat.send(URL))
    assert "Which topics" in topics.plain_text()
    await chat.press("Asylum system")
    summary = only(await chat.press("Done"))
    assert "Campaign call #" in summary.plain_text()
    row = await bot.row("SELECT id FROM campaigns ORDER BY id DESC LIMIT 1")
    assert row is not None
    return int(str(row[0]))


async def test_supporter_is_subscribed_and_changes_or_stops_alerts(bot: Harness) -> None:
    await _start(bot, 7101, "supporter")
    menu = bot.chat(7101).last
    assert menu is not None and "You will get campaign calls on every topic" in menu.plain_text()
    assert "📣 Campaign alerts" in button_texts(menu)
    assert await bot.row("SELECT topics, areas FROM alert_subs WHERE user_id = 7101") == (63, 7)
    chat = bot.chat(7101)
    settings = only(await chat.send("/alerts"))
    assert "✅ Detention" in button_texts(settings)
    assert "Calls for my nation (save an area first)" in settings.plain_text() or any(
        "save an area first" in b for b in button_texts(settings)
    )
    changed = only(await chat.press("Detention"))
    assert "▫️ Detention" in button_texts(changed)
    await chat.press("Calls for the whole UK")
    assert await bot.row("SELECT topics, areas FROM alert_subs WHERE user_id = 7101") == (
        63 & ~2,
        6,
    )
    stopped = only(await chat.send("/stop alerts"))
    assert "no more campaign calls" in stopped.plain_text()
    assert await bot.row("SELECT COUNT(*) FROM alert_subs") == (0,)
    # An old settings button after stopping asks again; it never re-subscribes.
    again = only(await chat.press("Detention", settings))
    assert "Would you like to receive campaign calls?" in again.plain_text()
    assert await bot.row("SELECT COUNT(*) FROM alert_subs") == (0,)
    assert "/stop alerts" in only(await chat.send("/stop")).plain_text()
    await _start(bot, 7101, "supporter")  # saying it again at /start does not undo the stop
    assert await bot.row("SELECT COUNT(*) FROM alert_subs") == (0,)


async def test_a_seeker_is_told_what_calls_are_before_opting_in(bot: Harness) -> None:
    await _start(bot, 7102, "seeking", "ar")
    assert await bot.row("SELECT COUNT(*) FROM alert_subs") == (0,)
    chat = bot.chat(7102)
    explained = only(await chat.send("/alerts"))
    assert (
        tr(
            "ar",
            "These messages are only for people who ask for them. You never need them to find welcome or support, and nothing else changes if you say no.",
        )
        in explained.plain_text()
    )
    await chat.press(tr("ar", "No, thank you"))
    assert await bot.row("SELECT COUNT(*) FROM alert_subs") == (0,)
    await chat.send("/alerts")
    settings = only(await chat.press(tr("ar", "✅ Yes, send me campaign calls")))
    assert tr("ar", "🔕 Stop all campaign calls") in " ".join(button_texts(settings))
    assert await bot.row("SELECT topics FROM alert_subs WHERE user_id = 7102") == (63,)


async def test_compose_translate_preview_schedule_pause_resume_and_send(bot: Harness) -> None:
    await _coordinator(bot)
    await _start(bot, 7201, "supporter")  # English
    await _start(bot, 7202, "supporter", "ar")  # gets the Arabic translation
    await _start(bot, 7203, "supporter", "fr")  # no French: English, said so
    await _start(bot, 7204, "seeking")  # never asked for calls
    await _start(bot, 7205, "seeking")
    await bot.chat(7205).send("/alerts")
    await bot.chat(7205).press("Yes, send me campaign calls")  # opted in: gets it
    cid = await compose(bot)
    chat = bot.chat(COORD)
    await chat.press("Add a translation")
    assert "Send the title in Arabic" in only(await chat.press("العربية")).plain_text()
    assert "Now send the text in Arabic" in only(await chat.send("ارفعوا الحظر")).plain_text()
    summary = only(await chat.send("الناس ينتظرون سنوات."))
    assert "Translations:</b> ar" in summary.text
    await chat.press("Send time")
    assert "could not read that" in only(await chat.send("2020-01-01 10:00")).plain_text()
    summary = only(await chat.press("Tomorrow 18:00"))
    assert "Tue 24 Nov, 18:00" in summary.plain_text()
    preview = await chat.press("Preview")
    assert "exactly what supporters will see" in preview[0].plain_text()
    assert "Lift the ban on work" in preview[1].plain_text()
    assert button_texts(preview[1]) == ["➡️ Take action", "✅ I did it", "Not for me"]
    assert preview[1].buttons()[0][0][2] == URL
    confirm = only(await chat.press("Confirm", summary))
    assert "It goes to 4 people who asked for these calls." in confirm.plain_text()
    done = only(await chat.press("Yes, send", confirm))
    assert "Scheduled" in done.plain_text()
    assert await bot.row("SELECT state FROM campaigns WHERE id = ?", cid) == ("scheduled",)

    listed = only(await chat.send("/campaigns"))
    assert f"#{cid} Lift the ban on work" in listed.plain_text() and "scheduled" in listed.text
    await chat.press(f"Pause #{cid}")
    assert await bot.row("SELECT state FROM campaigns WHERE id = ?", cid) == ("paused",)
    await chat.press(f"Resume #{cid}")
    assert await bot.row("SELECT state FROM campaigns WHERE id = ?", cid) == ("scheduled",)
    edit = only(await chat.press(f"Edit #{cid}"))  # a scheduled call can still be changed
    assert "Confirm" not in " ".join(button_texts(edit))  # ...and stays scheduled
    await chat.press("✏️ Title", edit)
    await chat.send("Lift the ban on work now")
    assert await bot.row("SELECT title, state FROM campaigns WHERE id = ?", cid) == (
        "Lift the ban on work now",
        "scheduled",
    )

    await _start(bot, 7206, "supporter")  # subscribes before the send time: included
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 24, 18, 0, 30, tzinfo=UTC)
    await services.plan_reminders()
    assert await bot.row("SELECT state, recipients FROM campaigns WHERE id = ?", cid) == (
        "sending",
        5,
    )
    await _start(bot, 7207, "supporter")  # subscribes after: the audience is fixed
    await eventually(lambda: all(_calls(bot, u) for u in (7201, 7202, 7203, 7205, 7206)), 10.0)
    assert "Lift the ban on work" in _calls(bot, 7201)[0].plain_text()
    arabic = _calls(bot, 7202)[0].plain_text()
    assert "ارفعوا الحظر" in arabic and "Lift the ban" not in arabic
    french = _calls(bot, 7203)[0].plain_text()
    assert "Lift the ban on work" in french
    note = "<i>This call is in English: there is no translation yet.</i>"
    assert tr("fr", note) in _calls(bot, 7203)[0].text
    assert note not in _calls(bot, 7201)[0].text
    await bot.delivered()
    assert not _calls(bot, 7204) and not _calls(bot, 7207)
    assert await bot.row("SELECT COUNT(*) FROM outbox WHERE chat_id IN (7204, 7207)") == (0,)
    await services.plan_reminders()
    assert await bot.row("SELECT state, sent FROM campaigns WHERE id = ?", cid) == ("sent", 5)
    listed = only(await chat.send("/campaigns"))
    assert "👥 5 · ✉️ sent 5 · ⏳ pending 0" in listed.plain_text()
    actions = [e.action for e in await services.roles.audit()]
    for action in ("campaign_schedule", "campaign_pause", "campaign_resume"):
        assert action in actions


async def test_pause_stops_at_once_and_resume_finishes(bot: Harness) -> None:
    await _coordinator(bot)
    services = bot.services
    people = range(800_001, 800_061)
    for user_id in people:
        await services.users.set_locale(user_id, "en")
        await services.alerts.set(user_id, 1, 1, NOW)
    bot.server.block(800_060)
    cid = await compose(bot)
    chat = bot.chat(COORD)
    await chat.press("Confirm")
    await chat.press("Yes, send")
    await eventually(lambda: sum(len(_calls(bot, u)) for u in people) >= 5, 10.0)
    await services.desk.pause(cid, COORD)
    paused_at = sum(len(_calls(bot, u)) for u in people)
    await bot.delivered()  # the message in flight, if any, has gone: nothing else is due
    after = sum(len(_calls(bot, u)) for u in people)
    assert after <= paused_at + IN_FLIGHT  # at most the messages already on their way
    campaign = await services.campaigns.get(cid)
    assert campaign is not None
    figures = await services.campaigns.figures(campaign)
    assert figures.pending > 0 and figures.sent + figures.pending + figures.unreachable >= 59
    assert await services.desk.resume(cid, COORD)
    await eventually(lambda: all(_calls(bot, u) for u in people if u != 800_060), 15.0)
    assert all(len(_calls(bot, u)) == 1 for u in people if u != 800_060)
    for _ in range(100):
        await services.plan_reminders()
        if await bot.row("SELECT state FROM campaigns WHERE id = ?", cid) == ("sent",):
            break
        await asyncio.sleep(0.05)
    assert await bot.row(
        "SELECT state, recipients, sent, unreachable FROM campaigns WHERE id = ?", cid
    ) == ("sent", 60, 59, 1)


async def test_answers_count_once_per_person_and_never_for_strangers(bot: Harness) -> None:
    await _coordinator(bot)
    await _start(bot, 7301, "supporter")
    cid = await compose(bot)
    chat = bot.chat(COORD)
    await chat.press("Confirm")
    first = await chat.press("Yes, send")
    assert "Sending now" in first[0].plain_text()
    await chat.press_data(cb.CampaignSend(cid))  # a second confirmation sends nothing more
    assert last_callback_answer(bot.server) == "This call can no longer be changed that way."
    supporter = bot.chat(7301)
    await eventually(lambda: bool(_calls(bot, 7301)), 10.0)
    message = _calls(bot, 7301)[0]
    await supporter.press("I did it", message)
    assert "Thank you!" in (last_callback_answer(bot.server) or "")
    await supporter.press("I did it", message)
    assert await bot.row("SELECT did, not_for_me FROM campaigns WHERE id = ?", cid) == (1, 0)
    await supporter.press("Not for me", message)
    assert await bot.row("SELECT did, not_for_me FROM campaigns WHERE id = ?", cid) == (0, 1)
    stranger = bot.chat(7302)
    await stranger.send("/start")
    await stranger.press_data(cb.CallDid(cid))
    assert "expired" in (last_callback_answer(bot.server) or "").lower()
    assert await bot.row("SELECT did, not_for_me FROM campaigns WHERE id = ?", cid) == (0, 1)
    await bot.delivered()
    assert len(_calls(bot, 7301)) == 1
    assert await bot.row("SELECT COUNT(*) FROM outbox WHERE kind = 'campaign'") == (1,)


async def test_everyone_but_a_coordinator_is_refused_at_every_step(bot: Harness) -> None:
    await _coordinator(bot)
    cid = await compose(bot)
    intruder = bot.chat(7401)
    await intruder.send("/start")
    refusal = "Only a network coordinator can do this."
    assert only(await intruder.send("/campaign")).plain_text() == refusal
    assert only(await intruder.send("/campaigns")).plain_text() == refusal
    for data in (
        cb.CampaignSend(cid),
        cb.CampaignConfirmAsk(cid),
        cb.CampaignPause(cid),
        cb.CampaignCancel(cid),
        cb.CampaignTopic(cid, Topic.WORK),
    ):
        await intruder.press_data(data)
        assert last_callback_answer(bot.server) == refusal
    assert await bot.row("SELECT state, topics FROM campaigns WHERE id = ?", cid) == ("draft", 1)
    # A coordinator whose role was taken away is refused too: roles are read every time.
    await bot.services.roles.revoke(COORD, COORDINATOR, NETWORK, None, NOW)
    await bot.chat(COORD).press_data(cb.CampaignSend(cid))
    assert last_callback_answer(bot.server) == refusal
    refused = [e for e in await bot.services.roles.audit() if e.action == "refused"]
    assert len(refused) == 8
    assert await bot.row("SELECT COUNT(*) FROM outbox") == (0,)


async def test_area_calls_reach_only_their_area(bot: Harness) -> None:
    await _coordinator(bot)
    services = bot.services
    # Leeds (England), Glasgow (Scotland), no saved area.
    for user_id, area in ((7501, (53.80, -1.55)), (7502, (55.86, -4.25)), (7503, None)):
        await services.users.set_locale(user_id, "en")
        if area:
            await services.users.save_area(user_id, area[0], area[1], "somewhere")
        await services.alerts.set(user_id, 63, 7, NOW)
    cid = await compose(bot)
    chat = bot.chat(COORD)
    await chat.press("Area")
    await chat.press("Scotland")
    confirm = only(await chat.press("Confirm"))
    assert "It goes to 1 person" in confirm.plain_text()
    await chat.press("Back")
    await chat.press("Area")
    assert "Send the town or city" in only(await chat.press("Near a town")).plain_text()
    summary = only(await chat.send("Bradford"))
    assert "Within 40 km of Bradford" in summary.plain_text()
    await chat.press("Confirm")
    await chat.press("Yes, send")
    await eventually(lambda: bool(_calls(bot, 7501)), 10.0)
    await bot.delivered()
    assert not _calls(bot, 7502) and not _calls(bot, 7503)
    assert await bot.row("SELECT recipients FROM campaigns WHERE id = ?", cid) == (1,)


def test_send_times_are_read_in_london_time() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert parse_when("2026-06-02 18:00", now) == datetime(2026, 6, 2, 17, tzinfo=UTC)  # BST
    assert parse_when("02/06/2026 9.30", now) == datetime(2026, 6, 2, 8, 30, tzinfo=UTC)
    assert parse_when("1/6 11:00", now) == datetime(2027, 6, 1, 10, tzinfo=UTC)  # next year
    assert parse_when("2026-02-30 10:00", now) is None
    assert parse_when("2026-06-01 12:00", now) is None  # past (13:00 BST now)
    assert parse_when("tomorrow", now) is None
    assert parse_when("2026-12-01 18:00", now) == datetime(2026, 12, 1, 18, tzinfo=UTC)


async def test_stats_and_retention_keep_counts_not_people(bot: Harness) -> None:
    await _coordinator(bot)
    await _start(bot, 7601, "supporter", "ar")
    cid = await compose(bot)
    chat = bot.chat(COORD)
    await chat.press("Confirm")
    await chat.press("Yes, send")
    await eventually(lambda: bool(_calls(bot, 7601)), 10.0)
    await bot.chat(7601).press(tr("ar", "✅ I did it"), _calls(bot, 7601)[0])
    services = bot.services
    for _ in range(100):
        if await services.desk.finish():
            break
        await asyncio.sleep(0.05)
    text = await cli._stats(services.config, as_csv=True)
    rows = set(text.splitlines())
    assert "figure,key,month,count" in rows
    assert "users_by_purpose,supporter,,1" in rows and "users_by_language,ar,,1" in rows
    assert "alert_subscribers,,,1" in rows and "people_with_role,coordinator,,1" in rows
    assert "calls_launched,,2026-11,1" in rows and "call_messages_sent,,2026-11,1" in rows
    assert "calls_i_did_it,,2026-11,1" in rows
    printed = await cli._stats(services.config, as_csv=False)
    assert "calls_i_did_it" in printed and "7601" not in printed
    # 90 days after the call finished, who received it is forgotten; the counts stay.
    services.clock = lambda: NOW + timedelta(days=91)
    report = await services.run_retention()
    assert report.recipients_purged == 1
    assert await bot.row("SELECT COUNT(*) FROM campaign_recipients") == (0,)
    assert await bot.row("SELECT recipients, did FROM campaigns WHERE id = ?", cid) == (1, 1)


async def test_a_draft_without_its_link_previews_without_the_action_button(bot: Harness) -> None:
    await _coordinator(bot)
    chat = bot.chat(COORD)
    await chat.send("/campaign")
    await chat.send("Lift the ban on work")
    assert "action link" in only(await chat.send("People wait years.")).plain_text()
    row = await bot.row("SELECT id FROM campaigns ORDER BY id DESC LIMIT 1")
    assert row is not None
    preview = await chat.press_data(
        cb.CampaignPreview(int(str(row[0])))
    )  # the draft's summary, opened before
    assert "Lift the ban on work" in preview[1].plain_text()
    assert button_texts(preview[1]) == ["✅ I did it", "Not for me"]


async def test_restarts_while_composing_lose_no_answer(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async for bot in start_bot(tmp_path, gazetteer, outcodes):
        await _coordinator(bot)
        chat = bot.chat(COORD)
        await chat.send("/campaign")
        assert "Send the text" in only(await chat.send("Lift the ban on work")).plain_text()
    async for bot in start_bot(tmp_path, gazetteer, outcodes):  # the same database, restarted
        chat = bot.chat(COORD)
        asked = only(await chat.send("Leeds"))  # the text of the call, not a place to search
        assert "action link" in asked.plain_text()
        assert await bot.row("SELECT title, body FROM campaigns") == (
            "Lift the ban on work",
            "Leeds",
        )
        await chat.send(URL)
        await chat.press("Asylum system")
        await chat.press("Done")
        await chat.press("Add a translation")
        await chat.press("العربية")
        assert "Now send the text in Arabic" in only(await chat.send("ارفعوا الحظر")).plain_text()
    async for bot in start_bot(tmp_path, gazetteer, outcodes):  # the title typed before it, too
        summary = only(await bot.chat(COORD).send("الناس ينتظرون سنوات."))
        assert "Translations:</b> ar" in summary.text
        assert await bot.row("SELECT locale, title, body FROM campaign_texts") == (
            "ar",
            "ارفعوا الحظر",
            "الناس ينتظرون سنوات.",
        )
        assert await bot.row("SELECT COUNT(*) FROM awaited_answers") == (0,)
        found = only(await bot.chat(COORD).send("Leeds"))  # nothing asked now: a place again
        assert "welcoming activities near Leeds" in found.plain_text()


async def test_a_question_the_bot_cannot_read_is_dropped_politely(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    unreadable = ('"title"', "[1]", "[1, 2]", "{}", "not json", '[1, "tr_body", "ar"]')
    async for bot in start_bot(tmp_path, gazetteer, outcodes):
        for n, about in enumerate(unreadable):  # as another version of the bot might leave them
            await bot.services.roles.grant(COORD + n, COORDINATOR, NETWORK, None, NOW)
            await bot.services.db.conn.execute(
                "INSERT INTO awaited_answers VALUES (?, 'compose', ?, ?)",
                (COORD + n, about, NOW.isoformat()),
            )
    async for bot in start_bot(tmp_path, gazetteer, outcodes):
        for n in range(len(unreadable)):
            chat = bot.chat(COORD + n)
            stopped = only(await chat.send("Lift the ban on work"))
            assert "Your draft is kept: send /campaign to carry on." in stopped.plain_text()
            found = only(await chat.send("Leeds"))  # asked nothing now: a place
            assert "welcoming activities near Leeds" in found.plain_text()
        assert await bot.row("SELECT COUNT(*) FROM awaited_answers") == (0,)
        assert await bot.row("SELECT COUNT(*) FROM campaigns") == (0,)
