"""What people read: same-named places told apart, the place understood named, plain words
not taken as places, and menus that follow the person's roles (issue 22, items 16 to 19)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bot.cli import commands as cli
from bot.i18n import LANGUAGES
from bot.places import words
from bot.places.gazetteer import Gazetteer
from bot.places.words import HELLO, HELP
from bot.views.formatting import FSI, PDI
from storage.roles import ADMIN, COORDINATOR, NETWORK
from tests.conftest import Harness
from tests.fakeapi import SentMessage
from tests.helpers import button_texts, only, tr


def _places(message: SentMessage) -> list[str]:
    return [t for t in button_texts(message) if "Menu" not in t]


# --- 16: same-named places -----------------------------------------------------------------


async def test_same_named_places_say_what_tells_them_apart(bot: Harness) -> None:
    chat = bot.chat(7601)
    newport = only(await chat.send("Newport"))
    places = _places(newport)
    assert len(places) == len(set(places)), places  # no two buttons alike
    english = [p for p in places if p.startswith("Newport,") and "Wales" not in p]
    assert len(english) >= 3, places
    assert all(" mi from " in p for p in english), places  # a better-known place, how far
    assert "Newport, 6.9 mi from Telford" in places
    assert "Newport, Wales" in places  # alone in its nation: the nation tells it apart
    for name in ("Richmond", "Sutton"):
        choose = only(await chat.send(name))
        labels = _places(choose)
        assert len(labels) == len(set(labels)), labels
        same = [label for label in labels if label.startswith(f"{name},")]
        assert len(same) >= 2 and all(" from " in label for label in same), labels
    # In the reader's language and unit, and the button still searches there.
    french = bot.chat(7602, "fr")
    await french.send("/start")
    await french.press("Français")
    choose = only(await french.send("Newport"))
    shown = _places(choose)
    assert any("km" in p and "Telford" in p for p in shown), shown
    telford = next(p for p in shown if "Telford" in p)
    assert telford != "Newport, 6.9 mi from Telford"
    found = only(await french.press(telford, choose))
    assert "Newport" in found.plain_text()


# --- 17: the place understood ----------------------------------------------------------------


async def test_results_name_the_place_understood_in_the_readers_language(bot: Harness) -> None:
    english = bot.chat(7701)
    assert "near Sheffield" in only(await english.send("Sheffeild")).plain_text()
    assert "near Leeds" in only(await english.send("ليدز")).plain_text()
    page2 = only(await english.press("Next"))
    assert "7 welcoming activities near Leeds" in page2.plain_text()  # paging keeps it
    arabic = bot.chat(7702, "ar")
    await arabic.send("/start")
    await arabic.press("العربية")
    found = only(await arabic.send("Leeds"))
    assert f"{FSI}ليدز{PDI}" in found.text  # the Arabic name, isolated inside Arabic text
    ukrainian = bot.chat(7703, "uk")
    await ukrainian.send("/start")
    await ukrainian.press("Українська")
    assert "Лідс" in only(await ukrainian.send("Leeds")).plain_text()
    nothing = only(await english.send("Bangor"))
    wales = only(await english.press("Bangor, Wales", nothing))
    assert "within 25 mi of Bangor" in wales.plain_text()
    # A shared location is still "near you".
    assert "near you" in only(await english.share_location(53.80, -1.55)).plain_text()


# --- 18: plain words are not places ----------------------------------------------------------


async def test_greetings_thanks_and_help_in_every_language_are_not_places(bot: Harness) -> None:
    for n, language in enumerate(LANGUAGES):
        chat = bot.chat(7800 + n, language.code)
        await chat.send("/start")
        await chat.press(language.native_name)
        menu_text = tr(language.code, "What would you like to do?")
        help_text = tr(language.code, "<b>How this bot helps</b>").replace("<b>", "")
        help_text = help_text.replace("</b>", "")
        for word in HELLO[language.code]:
            reply = only(await chat.send(word)).plain_text()
            assert menu_text in reply, (language.code, word, reply)
        for word in HELP[language.code]:
            reply = only(await chat.send(word + "!")).plain_text()
            assert help_text in reply, (language.code, word, reply)
    english = bot.chat(7899)
    for word in ("hello", "hi", "thanks", "Thank you so much", "مرحبا", "HELP", "help please"):
        reply = only(await english.send(word)).plain_text()
        assert "couldn't find" not in reply and "Did you mean" not in reply, word
    # Places are still places.
    assert "near Leeds" in only(await english.send("Leeds")).plain_text()


async def test_a_kind_of_activity_and_a_place_or_a_town_and_its_district(bot: Harness) -> None:
    chat = bot.chat(7901)
    english = only(await chat.send("English class in Leeds"))
    text = english.plain_text()
    assert "near Leeds" in text and "English classes" in text.splitlines()[1]  # the filter
    assert "Conversation café" not in text
    polite = only(await chat.send("Hi, I need an English class in Leeds please"))
    assert polite.plain_text().splitlines()[:2] == text.splitlines()[:2]
    arabic = only(await bot.chat(7902, "ar").send("دروس انجليزي في ليدز"))
    assert "Conversation café" not in arabic.plain_text() and "ليدز" in arabic.text
    football = only(await chat.send("football Sheffield"))
    assert "I found no activities with these filters within 25 mi of Sheffield" in (
        football.plain_text()
    )
    district = only(await chat.send("Leeds LS6"))
    assert "near LS6" in district.plain_text()
    assert "Friday football" in district.plain_text().splitlines()[3]  # LS6 is Hyde Park
    where = only(await chat.send("English classes"))  # a kind alone: where, then?
    assert "Where should I look for welcoming activities?" in where.plain_text()
    then = only(await chat.send("Leeds"))
    assert then.plain_text().splitlines()[:2] == text.splitlines()[:2]
    assert "English classes" not in only(await chat.send("Leeds")).plain_text().splitlines()[1]
    kind_newport = only(await chat.send("English class in Newport"))
    assert all(d.startswith("P:") and d.endswith(":f:english") for d in _data(kind_newport))


async def test_a_town_and_a_district_without_postcode_data_is_the_town(
    bot_no_postcodes: Harness,
) -> None:
    found = only(await bot_no_postcodes.chat(7903).send("Leeds LS6"))
    assert "near Leeds" in found.plain_text()


def _data(message: SentMessage) -> list[str]:
    return [data for row in message.buttons() for _t, data, _u in row if data and "P:" in data]


# --- 19: menus follow roles --------------------------------------------------------------------


def _chat_commands(bot: Harness, user_id: int) -> set[str]:
    scoped = bot.server.commands_for({"type": "chat", "chat_id": user_id})
    return {c["command"] for c in scoped}


async def test_menu_help_and_command_menu_follow_roles(bot: Harness) -> None:
    leeds = (await bot.services.groups.refs())["leeds"]
    now = datetime.now(UTC)
    await bot.services.roles.grant(7951, ADMIN, leeds, None, now)
    person = bot.chat(7952)
    await person.send("/start")
    await person.press("English")
    seeking = only(await person.press("looking for welcome"))
    assert "📝 Post an activity" not in button_texts(seeking)
    assert "newactivity" not in _chat_commands(bot, 7952)
    # They join a group's team through an invite: the menu, /help and the command menu follow.
    link = only(await bot.chat(7951).send("/invite")).plain_text()
    await person.send("/start " + link.rsplit("?start=", 1)[1].strip())
    assert {"newactivity", "myactivities"} <= _chat_commands(bot, 7952)
    assert "moderate" not in _chat_commands(bot, 7952)
    menu = only(await person.send("/menu"))
    assert "📝 Post an activity" in button_texts(menu)
    assert "📋 My activities" in button_texts(menu)
    helped = only(await person.send("hello"))
    assert "📝 Post an activity" in button_texts(helped)
    text = only(await person.send("/help")).plain_text()
    assert "For volunteers" in text and "/newactivity" in text and "/moderate" not in text
    # Removed from the team: the command menu loses the volunteer's commands at once.
    team = only(await bot.chat(7951).send("/team"))
    await bot.chat(7951).press("Test", team)
    assert "newactivity" not in _chat_commands(bot, 7952)
    assert "📝 Post an activity" not in button_texts(only(await person.send("/menu")))
    # Made an admin, then a coordinator, from the command line: read the next time they look.
    await bot.services.roles.grant(7952, ADMIN, leeds, None, now)
    text = only(await person.send("/help")).plain_text()
    assert "For group admins" in text and "/moderate" in text and "/invite" in text
    assert "/campaign" not in text
    assert {"moderate", "team", "reports"} <= _chat_commands(bot, 7952)
    await bot.services.roles.grant(7952, COORDINATOR, NETWORK, None, now)
    text = only(await person.send("/help")).plain_text()
    assert "For coordinators" in text and "/campaign " in text + " "
    assert "campaign" in _chat_commands(bot, 7952)
    # In the person's language too.
    await person.send("/language")
    await person.press("العربية")
    arabic = bot.server.commands_for({"type": "chat", "chat_id": 7952})
    described = {c["command"]: c["description"] for c in arabic}
    assert described["newactivity"] == tr("ar", "Post an activity")
    text = only(await person.send("/help")).plain_text()
    assert tr("ar", "<b>For coordinators</b>").replace("<b>", "").replace("</b>", "") in text


def test_place_names_in_each_readers_script(gazetteer: Gazetteer) -> None:
    leeds = gazetteer.search("Leeds").places[0]
    names = {code: gazetteer.local_name(leeds, code) for code in ("en", "ar", "fa", "ur", "uk")}
    assert names == {"en": "Leeds", "ar": "ليدز", "fa": "لیدز", "ur": "لیڈز", "uk": "Лідс"}
    london = gazetteer.search("London").places[0]
    assert gazetteer.local_name(london, "uk") == "Лондон"  # not the Belarusian Лондан
    sutton = next(p for p in gazetteer.search("Sutton").places if p.population > 100_000)
    landmark = gazetteer.landmark(sutton)
    assert landmark is not None and landmark[0].name == "London"  # not a London borough


async def test_a_role_granted_or_revoked_on_the_command_line_updates_the_command_menu(
    bot: Harness,
) -> None:
    person = bot.chat(7960, "fr")
    await person.send("/start")
    await person.press("Français")
    assert "moderate" not in _chat_commands(bot, 7960)
    config = bot.services.config  # the running bot's token and (fake) Bot API
    grant = argparse.Namespace(command="grant", role="admin", telegram_id=7960, group="leeds")
    code, output = await cli._roles_command(config, grant)
    assert code == 0 and "command menu now shows" in output, output
    french = bot.server.commands_for({"type": "chat", "chat_id": 7960})
    described = {c["command"]: c["description"] for c in french}
    assert described["moderate"] == tr("fr", "Check volunteers' posts")
    revoke = argparse.Namespace(command="revoke", role="admin", telegram_id=7960, group="leeds")
    code, output = await cli._roles_command(config, revoke)
    assert code == 0 and "moderate" not in _chat_commands(bot, 7960)
    assert "find" in _chat_commands(bot, 7960)


async def test_forget_takes_the_roles_commands_out_of_the_chat(bot: Harness) -> None:
    leeds = (await bot.services.groups.refs())["leeds"]
    await bot.services.roles.grant(7970, ADMIN, leeds, None, datetime.now(UTC))
    person = bot.chat(7970)
    await person.send("/start")
    await person.press("English")
    assert "moderate" in _chat_commands(bot, 7970)
    ask = only(await person.send("/forget"))
    await person.press(button_texts(ask)[0], ask)
    assert await bot.row("SELECT COUNT(*) FROM roles WHERE user_id = 7970") == (0,)
    assert _chat_commands(bot, 7970) == set()  # the language's menu for everyone again


def test_place_names_that_start_like_a_kind_of_activity_stay_places() -> None:
    for text in ("Chatham Kent", "Kidsgrove Staffs", "Churchdown Glos", "Leeds"):
        assert words.wanted(text) is None, text
    asked = words.wanted("Hi, I need an English class in Leeds please")
    assert asked is not None and (asked.category, asked.place) == ("english", "leeds")
    assert words.said("Leeds") is None and words.said("please") is None
