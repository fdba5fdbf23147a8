"""What people read (issue 22, items 20-22): source texts that mislead in translation, right-to-
left lines and inserted values, and the small things a tester found. End to end through the
fake Bot API where it is behaviour; the catalogs themselves where it is a catalog rule."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from bot import callbacks as cb
from bot.catalogs import check, check_message
from bot.domain.recurrence import zone
from bot.domain.vocabulary import Intent
from bot.i18n import use_locale
from bot.places.place import AREA_KM
from bot.views import admin as av
from bot.views import formatting as fmt
from bot.views import reminders as rv
from storage.roles import ADMIN, COORDINATOR, NETWORK
from tests.conftest import NOW, Harness
from tests.data import LEEDS
from tests.fakeapi import Conversation, SentMessage
from tests.helpers import button_texts, last_callback_answer, only, tr
from tests.test_campaigns import COORD, _start, compose
from tests.test_posting import ADMIN_ID, VOL_ID, last, notices, queue, quick_post, team

LOCALES = Path(__file__).resolve().parent.parent / "locales"
FSI, PDI, RLM = "\u2068", "\u2069", "\u200f"


def _catalog(code: str) -> dict[str, str]:
    with (LOCALES / code / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=code)
    return {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id}


# --- 20. source texts that mislead in translation -------------------------------------------


@pytest.mark.parametrize("code", ["en", "ar", "fa", "ti"])
async def test_privacy_says_account_id_keep_using_and_a_babel_distance(
    bot: Harness, code: str
) -> None:
    chat = bot.chat(9301, code)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage(code, "s"))
    privacy = only(await chat.send("/privacy")).plain_text()
    with use_locale(code):
        rounded = fmt.bidi(fmt.distance(AREA_KM))
    assert rounded in privacy and "1 km" not in privacy, privacy
    assert tr(code, "If you do not write for 12 months, I ask if you want to keep using this bot. With no answer in 30 days, I delete everything.") in privacy  # fmt: skip
    if code == "en":
        assert "Telegram account ID (not your phone number)" in privacy
        assert "0.6 mi" in privacy
    moved = only(await chat.press_data(cb.Moved(), chat.last.message_id if chat.last else None))
    assert rounded in moved.plain_text() and "1 km" not in moved.plain_text()


def test_nation_ti_campaign_word_and_city_of_sanctuary_glossed() -> None:
    template = _catalog("ar")  # any catalog: its msgids are the template's
    assert not [m for m in template if "my nation" in m or "want to stay" in m]
    assert not [m for m in template if "Telegram number" in m or "1 km" in m]
    ti = _catalog("ti")
    assert not [s for s in ti.values() if "ወፈራ" in str(s)]
    for code in ("ti", "am", "so"):
        for msgid, string in _catalog(code).items():
            if "City of Sanctuary" not in msgid:
                continue
            text = str(string)
            assert text.count("(City of Sanctuary)") == 1, (code, text)
            assert text.count("City of Sanctuary") == 1, (code, text)  # translated after that


def test_stream_names_in_urdu_and_bengali_mean_welcoming() -> None:
    for code, asylum in (("ur", "پناہ"), ("bn", "আশ্রয়")):
        catalog = _catalog(code)
        for msgid in ("School of Sanctuary", "Council of Sanctuary", "University of Sanctuary"):
            assert asylum not in catalog[msgid] and f"({msgid})" in catalog[msgid], catalog[msgid]


# --- 21. right-to-left lines and isolated values -------------------------------------------------


def test_the_catalog_check_refuses_a_right_to_left_line_starting_with_a_command() -> None:
    message = Message("/find – welcoming activities near you", "/find – نشاطات قريبة منك")
    assert check_message(message, 6, rtl=True)
    assert check_message(message, 6, rtl=False) == []
    two_lines = Message("a\n/b c", "أ\n/b ج")
    assert check_message(two_lines, 6, rtl=True)
    assert check_message(Message("x", RLM + "/find – نشاطات"), 6, rtl=True) == []
    assert check_message(Message("x", "الأمر /back"), 6, rtl=True) == []
    assert check(LOCALES) == []  # every catalog as committed


async def test_rtl_help_lines_start_right_to_left(bot: Harness) -> None:
    for code in ("ar", "fa", "fa_AF", "ps", "ur", "ckb"):
        chat = bot.chat(9310 + len(code) + ord(code[-1]), code)
        await chat.send("/start")
        await chat.press_data(cb.ChooseLanguage(code, "s"))
        text = only(await chat.send("/help")).text
        lines = [line for line in text.split("\n") if "/" in line]
        assert lines and all(not line.startswith("/") for line in lines), (code, lines)


async def test_values_are_isolated_in_arabic(bot: Harness) -> None:
    chat = bot.chat(9320, "ar")
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("ar", "s"))
    await chat.press_data(cb.ChooseIntent(Intent.SUPPORTER))
    await bot.services.users.save_area(9320, *LEEDS, "Leeds")
    menu = only(await chat.send("/menu"))
    assert any(f"{FSI}Leeds{PDI}" in b for b in button_texts(menu)), button_texts(menu)
    alerts = only(await chat.send("/alerts"))
    assert any(f"{FSI}Leeds{PDI}" in b for b in button_texts(alerts)), button_texts(alerts)
    results = await chat.send("Leeds")
    page = next(
        m for m in results if any(d and d.startswith("A:") for r in m.buttons() for _t, d, _u in r)
    )
    data = next(d for r in page.buttons() for _t, d, _u in r if d and d.startswith("A:"))
    card = last(await chat.press_data(data, page.message_id))
    activity_id = int(data.split(":")[1])
    activity = await bot.services.directory.activity(activity_id)  # the whole activity
    assert activity is not None
    group = bot.services.directory.groups[activity.group_id]
    assert f"{FSI}{fmt.escape(group.name)}{PDI}" in card.text
    assert f"{FSI}{fmt.escape(activity.venue)}" in card.text
    with use_locale("ar"):
        reminder = rv.reminder_message(activity, group, NOW, cancelled=False)
        from bot.views import safeguarding as sv
        from storage.safeguarding import Report

        reports = sv.reports_list([(7, "Café", "Leeds", True, [Report(1, 7, "money", "", NOW)])])
    assert f"{FSI}{fmt.escape(activity.title)}{PDI}" in reminder.text
    assert all(FSI + "Café" + PDI in b for b in button_texts_of(reports.markup))


def button_texts_of(markup: object) -> list[str]:
    return [b.text for r in getattr(markup, "inline_keyboard", ()) for b in r]


# --- 22. smaller things ------------------------------------------------------------------------


async def test_a_reason_ending_with_a_full_stop_gets_no_second_one(bot: Harness) -> None:
    _leeds, chat = await team(bot)
    preview = await quick_post(chat, "Park picnic")
    await chat.press("Publish", preview)
    admin = bot.chat(ADMIN_ID)
    await admin.press("Ask for changes", await queue(admin))
    await admin.send("Please add the meeting point.")
    told = (await notices(bot, VOL_ID, "Please change"))[0]
    assert "meeting point. Open /myactivities" in told and ".." not in told, told


@pytest.mark.parametrize("code", ["en", "ar"])
async def test_an_admin_is_shown_by_first_name_never_a_grouped_number(
    bot: Harness, code: str
) -> None:
    leeds = (await bot.services.groups.refs())["leeds"]
    await bot.services.roles.grant(424242, ADMIN, leeds, None, NOW)  # from the command line
    admin = bot.chat(424242, code, first_name="Demo")
    await admin.send("/start")
    await admin.press_data(cb.ChooseLanguage(code, "s"))
    team_view = only(await admin.send("/team")).plain_text()
    assert "⭐ " in team_view and "Demo" in team_view, team_view
    assert "424" not in team_view and "٤٢٤" not in team_view
    with use_locale(code):
        fallback = av.team("Leeds", leeds, [(424242, "admin", "")]).text
    assert "#424242" in fallback and "424,242" not in fallback  # the id, as a last resort


async def test_refresh_with_nothing_changed_is_answered(bot: Harness) -> None:
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    await compose(bot)
    chat = bot.chat(COORD)
    await chat.press("Send time")
    await chat.press("Tomorrow 18:00")  # scheduled: nothing changes on its own meanwhile
    await chat.press("Confirm")
    await chat.press("Yes, send")
    listing = only(await chat.send("/campaigns"))
    assert await chat.press("Refresh", listing) == []  # nothing to edit...
    assert last_callback_answer(bot.server) == "Nothing has changed since you last looked."


async def test_the_last_topic_cannot_be_unticked(bot: Harness) -> None:
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    cid = await compose(bot)  # asylum system ticked
    chat = bot.chat(COORD)
    await chat.press("Topics")
    await chat.press("Asylum system")
    answer = last_callback_answer(bot.server) or ""
    assert "reaches nobody" in answer and "chose one of its topics" in answer
    assert await bot.row("SELECT topics FROM campaigns WHERE id = ?", cid) == (1,)


async def test_the_send_times_example_is_tomorrow_and_a_wrong_one_keeps_the_buttons(
    bot: Harness,
) -> None:
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    await compose(bot)
    chat = bot.chat(COORD)
    asked = only(await chat.press("Send time"))
    tomorrow = (bot.services.now().astimezone(zone("Europe/London")) + timedelta(days=1)).date()
    example = f"{tomorrow.isoformat()} 18:00"
    assert f"for example {example}," in asked.plain_text(), asked.plain_text()
    wrong = only(await chat.send("next Tuesday"))
    assert f"Use the form {example}." in wrong.plain_text()
    assert "As soon as I confirm" in button_texts(wrong)  # the question's buttons again


async def _one_off_post(bot: Harness) -> tuple[Conversation, SentMessage]:
    """A volunteer's new one-off post, up to "on which date?": the chat and that question."""
    _leeds, chat = await team(bot)
    await chat.send("/newactivity")
    await chat.send("Sewing circle")
    await chat.press("Conversation café")
    await chat.press("No description")
    return chat, last(await chat.press("Once"))


async def test_times_typed_as_people_write_them(bot: Harness) -> None:
    chat, _date = await _one_off_post(bot)
    asked = last(await chat.press_data(cb.PostDate(date(2026, 11, 26))))
    assert "What time does it start and end?" in asked.plain_text()
    refused = only(await chat.send("soon"))
    assert "I couldn't read that time" in refused.plain_text()
    where = last(await chat.send("10am-12pm"))
    assert "Where is it?" in where.plain_text()
    await chat.send("/back")
    end = last(await chat.send("10:00"))
    assert "It starts at 10:00. What time does it end? Type it like 12:00." in end.plain_text()
    assert "Where is it?" in last(await chat.send("12pm")).plain_text()
    draft = await bot.services.drafts.get(VOL_ID)
    assert draft is not None and (draft.data["start"], draft.data["end"]) == ("10:00", "12:00")


async def test_a_wrong_typed_date_shows_the_date_buttons_again(bot: Harness) -> None:
    chat, asked = await _one_off_post(bot)
    wrong = only(await chat.send("soon"))
    assert "I couldn't read that date" in wrong.plain_text()
    assert button_texts(wrong) == button_texts(asked) != []


async def test_alerts_without_an_area_tick_nothing_that_needs_one_and_ask_for_it(
    bot: Harness,
) -> None:
    await _start(bot, 9330, "supporter")
    chat = bot.chat(9330)
    settings = only(await chat.send("/alerts"))
    assert "calls near you need your area: tap one of them" in settings.plain_text()
    labels = button_texts(settings)
    needs = [b for b in labels if "save an area first" in b]
    assert len(needs) == 2 and all(b.startswith("▫️") for b in needs), labels
    assert any(
        "my part of the UK (England, Scotland, Wales or Northern Ireland)" in b for b in needs
    )
    asked = only(await chat.press("my part of the UK", settings))
    assert "Where are you now?" in asked.plain_text()
    assert await bot.row("SELECT areas FROM alert_subs WHERE user_id = 9330") == (7,)
    await chat.send("Leeds")
    settings = only(await chat.send("/alerts"))
    assert "✅ Calls for England" in button_texts(settings)
    assert "need your area" not in settings.plain_text()
    assert any(b.startswith("✅ Calls near") and "Leeds" in b for b in button_texts(settings))
