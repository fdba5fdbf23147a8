"""The seeker's journey in Arabic: right to left, translated, Babel dates and distances."""

from __future__ import annotations

from bot.views.formatting import FSI, PDI
from tests.conftest import Harness
from tests.data import LEEDS
from tests.helpers import button_texts, only, tr


async def test_arabic_journey(bot: Harness) -> None:
    chat = bot.chat(5001, "ar-SY")
    picker = only(await chat.send("/start"))
    assert button_texts(picker)[0] == "✓ العربية"  # Telegram's language first
    assert tr("ar", "Choose your language") in picker.plain_text()
    intent = only(await chat.press("العربية"))
    assert tr("ar", "What brings you here?") in intent.plain_text()
    assert "/privacy" in intent.plain_text()
    menu = only(await chat.press(tr("ar", "I'm looking for welcome and support")))
    assert tr("ar", "What would you like to do?") in menu.plain_text()
    assert await bot.row("SELECT locale, intent FROM users WHERE id = 5001") == ("ar", "seeking")

    ask = only(await chat.press(tr("ar", "🔎 Find welcoming activities")))
    assert tr("ar", "Your location is only used for this search.") in ask.plain_text()
    results = only(await chat.share_location(*LEEDS))
    text = results.plain_text()
    assert "كم" in text  # kilometres in Arabic, not miles
    assert "نوفمبر" in text  # Babel's Arabic month name
    assert f"{FSI}" in results.text and f"{PDI}" in results.text  # inserted values isolated
    numbers = results.buttons()[0]
    assert [b[0] for b in numbers] == ["5", "4", "3", "2", "1"]  # right to left

    card = only(await chat.press("1"))
    assert "Conversation café" in card.plain_text()  # the organiser's own title
    assert tr("ar", "Free") in card.plain_text()
    assert "الثلاثاء" in card.plain_text()  # weekday in Arabic
    english = only(await chat.press(tr("ar", "🇬🇧 Show in English")))
    assert "Every Tuesday, 18:00–20:00" in english.plain_text()
    assert "Organised by" in english.plain_text()

    groups = only(await chat.send("/groups"))
    assert tr("ar", "Where should I look for City of Sanctuary groups?") in groups.plain_text()
    listed = only(await chat.send("ليدز"))
    assert "Leeds City of Sanctuary (test)" in listed.plain_text()
    assert tr("ar", "City of Sanctuary group") in listed.plain_text()

    await chat.send("/find")
    nothing = only(await chat.send("Aberystwyth"))
    assert tr("ar", "I found no welcoming activities within {distance}.").split("{")[0].strip() in (
        nothing.plain_text()
    )

    privacy = only(await chat.send("/privacy"))
    assert tr("ar", "<b>Your privacy</b>").replace("<b>", "").replace("</b>", "") in (
        privacy.plain_text()
    )
