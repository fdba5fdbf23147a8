"""The map Mini App, without a browser: the results page's "🗺 Map" button (only with a public
address), the pins it shows (the same results, numbered as in the list, in the reader's
language) and the way back to a card in the chat (only for a sign-in made with our token)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.i18n import use_locale
from bot.views.labels import category_label
from bot.web.map import sign
from tests.conftest import NOW, PUBLIC_URL, Harness
from tests.data import LEEDS
from tests.fakeapi import SentMessage
from tests.helpers import only, tr

TOKEN = "123456:TEST-token"  # the token start_bot gives the bot


def map_button(message: SentMessage) -> str | None:
    """The URL the results page's Mini App button opens, if it has one."""
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    found = [b["web_app"]["url"] for row in rows for b in row if "web_app" in b]
    assert len(found) <= 1
    return found[0] if found else None


def listed(message: SentMessage) -> list[tuple[str, str]]:
    """(number, title) of each result in a results page's text, in order."""
    return re.findall(r"^(\S+)\. \S+ (.+?) — ", message.plain_text(), re.MULTILINE)


async def fetch(harness: Harness, url: str) -> dict[str, Any]:
    """GET the map's data for a Mini App URL, from the bot's own web server."""
    parts = urlsplit(url)
    local = f"{harness.web_url}/map/api/results?{parts.query}"
    async with aiohttp.ClientSession() as session, session.get(local) as response:
        assert response.status == 200
        data: dict[str, Any] = await response.json()
        return data


async def open_card(harness: Harness, body: dict[str, object]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{harness.web_url}/map/api/open", json=body) as response,
    ):
        return response.status


def init_data(user_id: int, language: str = "en", token: str = TOKEN, age_s: int = 60) -> str:
    user = json.dumps({"id": user_id, "first_name": "Test", "language_code": language})
    auth_date = str(int(NOW.timestamp()) - age_s)
    return sign({"auth_date": auth_date, "query_id": "AAHdF6IQ", "user": user}, token)


async def test_no_map_button_without_a_public_address(bot: Harness) -> None:
    chat = bot.chat(4101)
    await chat.send("/start")
    results = only(await chat.share_location(*LEEDS))
    assert listed(results)
    assert map_button(results) is None
    assert tr("en", "🗺 Map") not in [t for row in results.buttons() for t, _d, _u in row]


async def test_the_map_shows_the_page_numbered_as_in_the_list(mapped: Harness) -> None:
    chat = mapped.chat(4102)
    await chat.send("/start")
    first = only(await chat.share_location(*LEEDS))
    url = map_button(first)
    assert url is not None and url.startswith(PUBLIC_URL + "/map/?")
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"s", "lang"}  # the search the buttons carry, and the language only
    assert query["lang"] == ["en"]
    data = await fetch(mapped, url)
    assert [(p["number"], p["title"]) for p in data["pins"]] == listed(first)
    # each pin's "Open in the chat" is its number's button in the list
    assert [p["card"] for p in data["pins"]] == [d for _t, d, _u in first.buttons()[0]]
    assert data["dir"] == "ltr"
    assert data["tiles"]["url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in data["tiles"]["attribution"]
    assert data["tiles"]["max_zoom"] == 19

    second = only(await chat.press("Next ▶️"))
    data = await fetch(mapped, map_button(second) or "")
    assert [(p["number"], p["title"]) for p in data["pins"]] == listed(second)
    assert [p["card"] for p in data["pins"]] == [d for _t, d, _u in second.buttons()[0]]
    assert data["pins"][0]["number"] == "6"


async def test_the_map_speaks_the_readers_language(mapped: Harness) -> None:
    chat = mapped.chat(4103, "ar")
    await chat.send("/start")
    await chat.press("العربية")
    results = [m for m in await chat.share_location(*LEEDS) if m.has_inline_keyboard()][-1]
    url = map_button(results)
    assert url is not None and parse_qs(urlsplit(url).query)["lang"] == ["ar"]
    data = await fetch(mapped, url)
    assert data["dir"] == "rtl" and data["lang"] == "ar"
    assert data["texts"]["open"] == tr("ar", "💬 Open in the chat")
    assert [(p["number"], p["title"]) for p in data["pins"]] == listed(results)
    first = mapped.services.directory.activities[int(data["pins"][0]["card"].split(":")[1])]
    with use_locale("ar"):
        assert data["pins"][0]["lines"][0] == category_label(first.category)


async def test_a_link_that_does_not_parse_shows_no_pins(mapped: Harness) -> None:
    data = await fetch(mapped, "/map/?s=1:2:3&lang=fa")
    assert data["pins"] == []
    assert data["texts"]["none"] == tr(
        "fa", "This menu has expired. Please start again with /start."
    )
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{mapped.web_url}/map/?s=1") as page,
        session.get(f"{mapped.web_url}/map/static/leaflet/leaflet.js") as leaflet,
    ):
        assert page.status == 200 and "leaflet.js" in await page.text()
        assert "script-src 'self' https://telegram.org" in page.headers["Content-Security-Policy"]
        assert leaflet.status == 200


async def test_open_in_the_chat_sends_the_card(mapped: Harness) -> None:
    chat = mapped.chat(4104, "fr")
    await chat.send("/start")
    await chat.press("Français")
    results = [m for m in await chat.share_location(*LEEDS) if m.has_inline_keyboard()][-1]
    url = map_button(results) or ""
    pin = (await fetch(mapped, url))["pins"][1]
    state = parse_qs(urlsplit(url).query)["s"][0]
    before = len(mapped.server.calls_to("sendMessage"))
    status = await open_card(mapped, {"init_data": init_data(4104), "card": pin["card"]})
    assert status == 200
    card = mapped.server.last_message(chat.user.chat_id, inline_keyboard=True)
    assert card is not None and len(mapped.server.calls_to("sendMessage")) == before + 1
    assert pin["title"] in card.plain_text()
    assert tr("fr", "⏰ Remind me") in [t for row in card.buttons() for t, _d, _u in row]
    back = card.button_data(tr("fr", "⬅️ Back to results"))
    assert back == state  # the card leads back to the page the map showed (its S: code)


@pytest.mark.parametrize(
    "forged",
    [
        init_data(4105, token="654321:OTHER-token"),  # not signed by Telegram for this bot
        init_data(4105, age_s=2 * 86400),  # two days old
        init_data(4105).replace("4105", "4106"),  # someone else's id in a signed sign-in
        "",
        "user=%7B%22id%22%3A4105%7D",
    ],
)
async def test_a_sign_in_not_made_by_telegram_sends_nothing(mapped: Harness, forged: str) -> None:
    chat = mapped.chat(4105)
    await chat.send("/start")
    before = len(mapped.server.calls_to("sendMessage"))
    state = f"{round(LEEDS[0] * 100)}:{round(LEEDS[1] * 100)}:-:0:0"
    activity_id = next(iter(mapped.services.directory.activities))
    card = f"A:{activity_id}:{state}"
    status = await open_card(mapped, {"init_data": forged, "card": card})
    assert status == 403
    assert len(mapped.server.calls_to("sendMessage")) == before


@pytest.mark.parametrize("card", ["S:5380:-155:-:0:0", "A:0:5380:-155:-:0:0", "A:1", "A:x:y"])
async def test_a_pin_that_is_no_card_sends_nothing(mapped: Harness, card: str) -> None:
    chat = mapped.chat(4107)
    await chat.send("/start")
    before = len(mapped.server.calls_to("sendMessage"))
    assert await open_card(mapped, {"init_data": init_data(4107), "card": card}) == 403
    assert len(mapped.server.calls_to("sendMessage")) == before


async def test_the_map_shows_titles_organisers_translated(mapped: Harness) -> None:
    arabic = "مقهى الشاي والحديث"
    await mapped.services.db.conn.execute(
        "INSERT INTO activity_translations (activity_id, lang, field, text, original, status, "
        "updated_at) SELECT id, 'ar', 'title', ?, title, 'published', '2026-11-23' "
        "FROM activities WHERE ref = 'leeds-cafe'",
        (arabic,),
    )
    chat = mapped.chat(4104, "ar")
    await chat.send("/start")
    await chat.press("العربية")
    results = [m for m in await chat.share_location(*LEEDS) if m.has_inline_keyboard()][-1]
    url = map_button(results)
    assert url is not None
    data = await fetch(mapped, url)
    titles = [p["title"] for p in data["pins"]]
    assert arabic in titles  # as in the list, which shows it too
    assert [(p["number"], p["title"]) for p in data["pins"]] == listed(results)
