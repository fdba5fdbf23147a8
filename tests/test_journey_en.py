"""The seeker's journey end to end in English, through the fake Bot API server."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from icalendar import Calendar

from tests.conftest import Harness
from tests.data import LEEDS
from tests.helpers import button_texts, only


def _distances(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"— ([0-9.]+) mi", text)]


async def test_start_language_intent_menu(bot: Harness) -> None:
    chat = bot.chat(1001, "en")
    picker = only(await chat.send("/start"))
    assert button_texts(picker)[0] == "✓ English"
    assert "العربية" in button_texts(picker) and "فارسی" in button_texts(picker)
    assert await bot.row("SELECT id FROM users WHERE id = 1001") is None  # nothing stored yet
    intent = only(await chat.press("English"))
    assert "What brings you here?" in intent.plain_text()
    assert "/privacy" in intent.plain_text()
    assert "name" in intent.plain_text()  # "I never ask your name..."
    menu = only(await chat.press("looking for welcome"))
    assert "What would you like to do?" in menu.plain_text()
    assert "🔎 Find welcoming activities" in button_texts(menu)
    assert "📣 Campaign alerts" not in button_texts(menu)  # never offered unasked to seekers
    assert await bot.row(
        "SELECT locale, intent, area_lat, area_lon FROM users WHERE id = 1001"
    ) == (
        "en",
        "seeking",
        None,
        None,
    )


async def test_commands_menu_set_per_language(bot: Harness) -> None:
    codes = set(bot.server.commands)
    assert {"", "ar", "fa", "uk", "fr"} <= codes
    english = {c["command"]: c["description"] for c in bot.server.commands[""]}
    arabic = {c["command"]: c["description"] for c in bot.server.commands["ar"]}
    assert (
        set(english)
        == set(arabic)
        == {
            "find",
            "groups",
            "reminders",
            "alerts",
            "language",
            "privacy",
            "help",
            "start",
        }
    )
    assert english["find"] != arabic["find"]


async def test_find_by_location_nearest_first_with_paging(bot: Harness) -> None:
    chat = bot.chat()
    ask = only(await chat.send("/find"))
    keyboard = ask.reply_markup or {}
    assert keyboard["keyboard"][0][0]["request_location"] is True
    page1 = only(await chat.share_location(*LEEDS))
    text = page1.plain_text()
    assert "7 welcoming activities near you" in text  # the July picnic is over: not counted
    assert "Summer picnic" not in text
    assert "Page 1 of 2" in text
    distances = _distances(text)
    assert len(distances) == 5 and distances == sorted(distances)
    assert "Conversation café" in text.splitlines()[3]  # nearest first
    assert "Tue 24 Nov, 18:00" in text  # next occurrence, London time
    page2 = only(await chat.press("Next"))
    assert page2.message_id == page1.message_id  # edited in place
    assert "Page 2 of 2" in page2.plain_text()
    assert "6." in page2.plain_text() and "7." in page2.plain_text()
    assert _distances(page2.plain_text())[0] >= distances[-1]
    back = only(await chat.press("Previous"))
    assert "Page 1 of 2" in back.plain_text()
    # The shared location is not stored anywhere.
    assert await bot.row("SELECT COUNT(*) FROM users WHERE area_lat IS NOT NULL") == (0,)


async def test_find_by_typed_place_other_script_and_misspelling(bot: Harness) -> None:
    chat = bot.chat()
    for query in ("Leeds", "ليدز", "  LEEDS "):
        result = only(await chat.send(query))
        assert "7 welcoming activities near Leeds" in result.plain_text(), query  # as understood
    sheffield = only(await chat.send("Sheffeild"))
    assert "1 welcoming activity near Sheffield" in sheffield.plain_text()
    assert "Sheffield welcome café" in sheffield.plain_text()


async def test_postcodes(bot: Harness, bot_no_postcodes: Harness) -> None:
    result = only(await bot.chat().send("LS6 1AA"))
    assert "welcoming activities near LS6" in result.plain_text()
    assert "Friday football" in result.plain_text().splitlines()[3]  # LS6 is Hyde Park
    district = only(await bot.chat(1002).send("ls6"))
    assert "Friday football" in district.plain_text()
    unknown = only(await bot.chat(1003).send("ZZ9 9ZZ"))
    assert "couldn't find" in unknown.plain_text()
    without = only(await bot_no_postcodes.chat().send("LS6 1AA"))
    assert "can't look up postcodes" in without.plain_text()


async def test_ambiguous_place_and_nothing_nearby(bot: Harness) -> None:
    chat = bot.chat()
    choose = only(await chat.send("Bangor"))
    assert "Which “Bangor” do you mean?" in choose.plain_text()
    assert set(button_texts(choose)) >= {"Bangor, Wales", "Bangor, Northern Ireland"}
    nothing = only(await chat.press("Wales"))
    text = nothing.plain_text()
    assert "I found no welcoming activities within 25 mi" in text
    assert "Leeds City of Sanctuary (test)" in text or "Cardiff City of Sanctuary (test)" in text
    assert "@example.org" in text  # the nearest groups come with their contacts


async def test_unknown_place_suggests(bot: Harness) -> None:
    reply = only(await bot.chat().send("Xyzzyville"))
    assert "I couldn't find “Xyzzyville”." in reply.plain_text()
    assert "Type a town, city or postcode" in reply.plain_text()


async def test_category_and_needs_filters(bot: Harness) -> None:
    chat = bot.chat()
    await chat.share_location(*LEEDS)
    picker = only(await chat.press("Type of activity"))
    assert "Sport" in " ".join(button_texts(picker))
    sport = only(await chat.press("Sport"))
    assert "1 welcoming activity near you" in sport.plain_text()
    assert "Friday football" in sport.plain_text()
    needs = only(await chat.press("My needs"))
    assert "▫️ No ID needed" in button_texts(needs)
    await chat.press("Show results")
    await chat.press("Type of activity")
    everything = only(await chat.press("All activities"))
    assert "7 welcoming activities near you" in everything.plain_text()
    await chat.press("My needs")
    toggled = only(await chat.press("No ID needed"))
    assert "✅ No ID needed" in button_texts(toggled)
    result = only(await chat.press("Show results"))
    text = result.plain_text()
    assert "3 welcoming activities near you" in text
    assert "No ID needed" in text  # the filter line
    for title in ("Conversation café", "English for beginners", "Advice drop-in"):
        assert title in text
    await chat.press("My needs")
    await chat.press("Women only")
    empty = only(await chat.press("Show results"))
    assert "no activities with these filters" in empty.plain_text()
    cleared = only(await chat.press("Clear filters"))
    assert "7 welcoming activities" in cleared.plain_text()


async def test_card_map_calendar(bot: Harness) -> None:
    chat = bot.chat()
    await chat.share_location(*LEEDS)
    card = only(await chat.press("1"))
    text = card.plain_text()
    # it leads with what is always in the reader's language, then what the organiser wrote
    assert text.startswith("☕ Conversation café · 0.1 mi\n🗓 When: ")
    assert text.index("Languages:") < text.index("\nConversation café") < text.index("Where:")
    assert "Every Tuesday, 18:00–20:00" in text
    assert "Next: Tue 24 Nov, 18:00; Tue 1 Dec, 18:00; Tue 8 Dec, 18:00" in text
    assert "St Mary's Hall, 1 Church Lane, LS1 1AA" in text
    assert "English, Arabic and Persian" in text
    assert "Cost: Free" in text
    assert "No ID needed" in text and "Step-free access" in text
    assert "Leeds City of Sanctuary (test) ✔️ verified" in text
    assert "Just come along" in text
    assert "Show in English" not in " ".join(button_texts(card))  # already English
    venue = only(await chat.press("Map", card))
    assert venue.kind == "venue"
    assert (venue.lat, venue.lon) == (53.8, -1.55)
    ics = only(await chat.press("Add to calendar", card))
    assert ics.kind == "document" and ics.document is not None
    name, data = ics.document
    assert name.endswith(".ics")
    event = next(iter(Calendar.from_ical(data).walk("VEVENT")))
    assert str(event["SUMMARY"]) == "Conversation café"
    assert event["RRULE"]["FREQ"] == ["WEEKLY"] and event["RRULE"]["BYDAY"] == ["TU"]
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2026, 1, 6, 18, tzinfo=UTC)
    back = only(await chat.press("Back to results"))
    assert "7 welcoming activities" in back.plain_text()


async def test_groups_near_me(bot: Harness) -> None:
    chat = bot.chat()
    ask = only(await chat.send("/groups"))
    assert "City of Sanctuary groups" in ask.plain_text()
    groups = only(await chat.share_location(*LEEDS))
    text = groups.plain_text()
    assert text.index("Leeds City of Sanctuary (test)") < text.index("University of Leeds (test)")
    assert "University of Sanctuary" in text  # the stream is named
    assert "leeds@example.org" in text and "0113 496 0000" in text
    assert "Sheffield City of Sanctuary (test)" in text
    activities = only(await chat.press("Activities here"))
    assert "welcoming activities near you" in activities.plain_text()


async def test_save_area_menu_and_forget(bot: Harness) -> None:
    chat = bot.chat(2001)
    await chat.send("Leeds")
    saved = only(await chat.press("Save this area"))
    assert "Saved: Leeds" in saved.plain_text()
    row = await bot.row("SELECT area_lat, area_lon, area_label FROM users WHERE id = 2001")
    assert row is not None
    lat, lon, label = row
    assert label == "Leeds"
    assert round(float(str(lat)), 2) == float(str(lat)) and round(float(str(lon)), 2) == float(
        str(lon)
    )
    menu = only(await chat.send("/menu"))
    assert "📍 Activities near Leeds" in button_texts(menu)
    near = only(await chat.press("Activities near Leeds"))
    assert "welcoming activities near Leeds" in near.plain_text()
    privacy = only(await chat.send("/privacy"))
    assert "rounded to about 0.6 mi" in privacy.plain_text()  # Babel, in miles in English
    assert "GeoNames" in privacy.plain_text() and "Ordnance Survey" not in privacy.plain_text()
    assert "Office for National Statistics" in privacy.plain_text()  # outcodes loaded: credit
    forgotten = only(await chat.press("Forget my area"))
    assert "forgotten" in forgotten.plain_text()
    assert await bot.row("SELECT area_lat, area_label FROM users WHERE id = 2001") == (None, None)


async def test_help_and_language_change(bot: Harness) -> None:
    chat = bot.chat(3001)
    helped = only(await chat.send("/help"))
    assert "/find" in helped.plain_text() and "/privacy" in helped.plain_text()
    await chat.send("/language")
    confirm = only(await chat.press("Français"))
    assert "français" in confirm.plain_text().lower()
    assert await bot.row("SELECT locale FROM users WHERE id = 3001") == ("fr",)
    scoped = [c for c in bot.server.calls_to("setMyCommands") if "scope" in c.params]
    assert scoped, "the chat's command menu follows the chosen language"


async def test_location_outside_uk(bot: Harness) -> None:
    reply = only(await bot.chat().share_location(48.85, 2.35))
    assert "outside the UK" in reply.plain_text()


async def test_things_the_bot_cannot_read(bot: Harness) -> None:
    chat = bot.chat()
    reply = only(await chat.send("/nosuchcommand"))
    assert "/help" in reply.plain_text()
