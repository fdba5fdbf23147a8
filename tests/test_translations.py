"""Activity texts in the reader's language (issue 27 item 1), end to end: a volunteer adds an
Arabic title and description in the bot; Arabic readers see them on the card, in results, in a
reminder and in the digest; a Tigrinya reader sees the English with "(in English)"; an edit of
the English marks the Arabic out of date until confirmed; CSV import of translation columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.importer import ImportFailed, import_activities, parse_activity_file
from storage.stats import StatsRepository
from tests.conftest import NOW, Harness
from tests.data import ACTIVITIES_CSV, LEEDS
from tests.helpers import button_texts, last_callback_answer, only, sent, tr
from tests.test_posting import ADMIN_ID, VOL_ID, last, queue, team, texts

TITLE_AR = "مقهى الشاي والحديث"
DESCRIPTION_AR = "شاي وحديث بالإنجليزية السهلة."
AR_READER, TI_READER, EN_READER = 9301, 9302, 9303


async def _cafe(bot: Harness) -> int:
    row = await bot.row("SELECT id FROM activities WHERE ref = 'leeds-cafe'")
    assert row is not None
    return int(str(row[0]))


async def _translate_cafe(bot: Harness, trusted: bool) -> int:
    """The volunteer (author of the café) types an Arabic title and description."""
    leeds, volunteer = await team(bot)
    cafe = await _cafe(bot)
    await bot.services.db.conn.execute(
        "UPDATE activities SET created_by = ? WHERE id = ?", (VOL_ID, cafe)
    )
    if trusted:  # three approved posts: their changes no longer wait for an admin
        await bot.services.db.conn.execute(
            "UPDATE activities SET created_by = ?, moderated = 1 WHERE group_id = ? "
            "AND ref IN ('leeds-cafe', 'leeds-english', 'leeds-football')",
            (VOL_ID, leeds),
        )
    listing = only(await volunteer.send("/myactivities"))
    manage = last(await volunteer.press("Conversation café", listing))
    screen = last(await volunteer.press("🌐 Translations", manage))
    assert "No translations yet." in screen.plain_text()
    assert "العربية" in button_texts(screen) and "ትግርኛ" in button_texts(screen)
    title_q = last(await volunteer.press("العربية", screen))
    assert "Type the title in العربية." in title_q.plain_text()
    assert "In English: Conversation café" in title_q.plain_text()
    description_q = last(await volunteer.send(TITLE_AR))
    assert "Type the description in العربية." in description_q.plain_text()
    # /back asks the title again; the answer typed is kept
    again = last(await volunteer.send("/back"))
    assert "Type the title in" in again.plain_text() and TITLE_AR in again.plain_text()
    await volunteer.send(TITLE_AR)
    place_q = last(await volunteer.send(DESCRIPTION_AR))  # no cost: the place notes are next
    assert "Type the place notes in العربية." in place_q.plain_text()
    done = await volunteer.press("Skip", place_q)
    assert ("✅ Saved: العربية." if trusted else "A group admin checks it") in texts(done)
    assert ("It has: ✅ العربية" if trusted else "It has: ⏳ العربية") in texts(done)
    return cafe


async def _reader(bot: Harness, user_id: int, locale: str) -> None:
    chat = bot.chat(user_id, locale)
    await chat.send("/start")
    await chat.press_data(f"L:{locale}:s")


async def test_arabic_reader_sees_the_translation_everywhere(bot: Harness) -> None:
    cafe = await _translate_cafe(bot, trusted=True)
    assert await bot.row(
        "SELECT text, status FROM activity_translations WHERE activity_id = ? AND lang = 'ar' "
        "AND field = 'title'",
        cafe,
    ) == (TITLE_AR, "published")
    await _reader(bot, AR_READER, "ar")
    await _reader(bot, TI_READER, "ti")
    arabic = bot.chat(AR_READER)
    results = last(await arabic.share_location(*LEEDS))
    assert TITLE_AR in results.plain_text()
    assert tr("ar", "(in English)") in results.plain_text()  # the other activities
    card = only(await arabic.press_data(results.button_data("1")))
    text = card.plain_text()
    assert TITLE_AR in text and DESCRIPTION_AR in text and "Conversation café\n" not in text
    assert tr("ar", "(in English)") not in text
    # it leads with what is always in the reader's language
    assert text.index(tr("ar", "Free")) < text.index(TITLE_AR)
    tigrinya = bot.chat(TI_READER)
    results = last(await tigrinya.share_location(*LEEDS))
    assert "Conversation café " + tr("ti", "(in English)") in results.plain_text()
    ti_card = only(await tigrinya.press_data(results.button_data("1")))
    assert "Conversation café " + tr("ti", "(in English)") in ti_card.plain_text()
    assert TITLE_AR not in ti_card.plain_text()

    # a reminder in Arabic
    activity_id = int(card.button_data("⏰").split(":")[2])
    assert activity_id == cafe
    await arabic.press_data(f"X:rem:{cafe}", card.message_id)
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert await services.plan_reminders() == 1
    reminder = await _message(bot, AR_READER, "⏰")
    assert TITLE_AR in reminder
    listed = last(await arabic.send("/reminders"))  # the list of reminders too, and its button
    assert TITLE_AR in listed.plain_text()
    assert any(TITLE_AR in label for label in button_texts(listed))

    # the weekly digest in Arabic
    await arabic.send("Leeds")
    await arabic.press(tr("ar", "💾 Save this area"))
    await services.db.conn.execute("UPDATE users SET weekly_digest = 1 WHERE id = ?", (AR_READER,))
    services.clock = lambda: datetime(2026, 11, 30, 9, 5, tzinfo=UTC)  # Monday 09:05 London
    assert await services.plan_reminders() >= 1
    digest = await _message(bot, AR_READER, "📰")
    assert TITLE_AR in digest
    assert tr("ar", "(in English)") in digest  # the activities nobody translated


async def _message(bot: Harness, chat_id: int, contains: str) -> str:
    """The newest message the outbox sent to a chat containing a text (waiting for it)."""
    return (await sent(bot.server, chat_id, contains))[-1].plain_text()


async def test_edited_english_marks_the_arabic_out_of_date_until_confirmed(bot: Harness) -> None:
    cafe = await _translate_cafe(bot, trusted=True)
    volunteer = bot.chat(VOL_ID)
    listing = only(await volunteer.send("/myactivities"))
    manage = last(await volunteer.press("Conversation café", listing))
    picker = last(await volunteer.press("Edit", manage))
    await volunteer.press("Title", picker)
    await volunteer.send("Conversation café and games")
    await _reader(bot, AR_READER, "ar")
    arabic = bot.chat(AR_READER)
    results = last(await arabic.share_location(*LEEDS))
    stale = tr("ar", "(translation may be out of date)")
    assert TITLE_AR + " " + stale in results.plain_text()
    card = only(await arabic.press_data(results.button_data("1")))
    assert stale in card.plain_text()
    # the organiser sees it and confirms the Arabic still says it
    manage = last(
        await volunteer.press("Conversation café", only(await volunteer.send("/myactivities")))
    )
    screen = last(await volunteer.press("🌐 Translations", manage))
    assert "It has: ⚠️ العربية" in screen.plain_text()
    question = last(await volunteer.press("العربية", screen))
    confirmed = await volunteer.press("Still right", question)
    assert "It has: ✅ العربية" in texts(confirmed)
    results = last(await arabic.share_location(*LEEDS))
    assert TITLE_AR in results.plain_text() and stale not in results.plain_text()
    assert await bot.row(
        "SELECT original FROM activity_translations WHERE activity_id = ? AND field = 'title'",
        cafe,
    ) == ("Conversation café and games",)


async def test_a_new_volunteers_translation_waits_for_the_admin(bot: Harness) -> None:
    cafe = await _translate_cafe(bot, trusted=False)
    assert await bot.row(
        "SELECT status FROM activity_translations WHERE activity_id = ? AND field = 'title'", cafe
    ) == ("pending",)
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("pending",)
    admin = bot.chat(ADMIN_ID)
    item = await queue(admin)
    # the admin reads what the volunteer typed before approving it
    assert f"Translations waiting for your check:\n• العربية: {TITLE_AR}" in item.plain_text()
    replies = await admin.press("Approve", item)
    assert "Approved and published" in texts(replies)
    assert await bot.row(
        "SELECT status FROM activity_translations WHERE activity_id = ? AND field = 'title'", cafe
    ) == ("published",)
    await _reader(bot, AR_READER, "ar")
    results = last(await bot.chat(AR_READER).share_location(*LEEDS))
    assert TITLE_AR in results.plain_text()


async def test_myactivities_counts_missing_languages_of_readers(bot: Harness) -> None:
    await _reader(bot, AR_READER, "ar")
    await _reader(bot, TI_READER, "ti")
    await _reader(bot, EN_READER, "en")
    await _translate_cafe(bot, trusted=True)
    listing = only(await bot.chat(VOL_ID).send("/myactivities"))
    # three published activities of theirs: the café has Arabic, none has Tigrinya
    assert "Not yet translated, for your readers: العربية 2 · ትግርኛ 3" in listing.plain_text()
    # and `sanctuary-bot stats`, over the whole network
    published = await bot.row("SELECT COUNT(*) FROM activities WHERE status = 'published'")
    assert published is not None
    total = int(str(published[0]))
    figures = await StatsRepository(bot.services.db).figures(NOW)
    untranslated = {f.key: f.count for f in figures if f.figure == "untranslated_for_readers"}
    assert untranslated == {"ar": total - 1, "ti": total}


# --- CSV import -------------------------------------------------------------------------------

HEADER, *ROWS = ACTIVITIES_CSV.splitlines()
ZONES = {r: "Europe/London" for r in ("leeds", "leeds-uni", "sheffield", "cardiff", "belfast")}


def test_import_reads_translation_columns() -> None:
    text = "\n".join(
        [HEADER + ",title_ar,description_ar,place_notes_fa_AF",
         ROWS[0] + f",{TITLE_AR},{DESCRIPTION_AR},سالن",
         *[r + ",,," for r in ROWS[1:]]]
    )  # fmt: skip
    items, translated = parse_activity_file(text, ZONES)
    assert len(items) == len(ROWS)
    assert translated == {
        "leeds-cafe": {
            ("title", "ar"): TITLE_AR,
            ("description", "ar"): DESCRIPTION_AR,
            ("place", "fa_AF"): "سالن",
        }
    }


def test_a_wrong_language_code_or_column_imports_nothing() -> None:
    with pytest.raises(ImportFailed) as failed:
        parse_activity_file(HEADER + ",title_xx\n" + ROWS[0] + ",x\n", ZONES)
    assert str(failed.value.errors[0]).startswith(
        "row 1, header: not translation columns: title_xx"
    )
    with pytest.raises(ImportFailed) as failed:
        parse_activity_file(HEADER + ",title_en\n" + ROWS[0] + ",x\n", ZONES)
    assert "title_en" in str(failed.value.errors[0])
    # a translation of a cost the activity does not have: that row's number
    text = HEADER + ",cost_ar\n" + ROWS[0] + ",مجاني\n" + ROWS[1] + ",\n"
    with pytest.raises(ImportFailed) as failed:
        parse_activity_file(text, ZONES)
    assert [str(e) for e in failed.value.errors] == [
        "row 2, cost_ar: there is no cost to translate"
    ]


async def test_imported_arabic_title_is_shown_to_arabic_readers(bot: Harness) -> None:
    text = "\n".join([HEADER + ",title_ar", ROWS[0] + f",{TITLE_AR}", *[r + "," for r in ROWS[1:]]])
    assert await import_activities(bot.services.db, text) == len(ROWS)
    await bot.services.directory.refresh(force=True)
    await _reader(bot, AR_READER, "ar")
    results = last(await bot.chat(AR_READER).share_location(*LEEDS))
    assert TITLE_AR in results.plain_text()
    # a broken file changes nothing
    broken = HEADER + ",title_zz\n" + ROWS[0] + ",x\n"
    with pytest.raises(ImportFailed):
        await import_activities(bot.services.db, broken)
    assert await bot.row("SELECT COUNT(*) FROM activity_translations") == (1,)


def test_the_documented_example_imports() -> None:
    from pathlib import Path

    from bot.domain.importer import parse_groups

    root = Path(__file__).resolve().parent.parent
    groups = parse_groups((root / "docs/examples/groups.csv").read_text("utf-8"))
    items, translated = parse_activity_file(
        (root / "docs/examples/activities-translated.csv").read_text("utf-8"),
        {g.ref: g.timezone for g in groups},
    )
    assert len(items) == 1
    assert set(translated["huddersfield-conversation-cafe"]) == {
        ("title", "ar"), ("description", "ar"), ("cost", "ar"), ("place", "ar"), ("title", "ti")
    }  # fmt: skip


async def test_someone_who_may_not_edit_it_cannot_translate(bot: Harness) -> None:
    cafe = await _cafe(bot)
    stranger = bot.chat(9399)
    await stranger.send("/start")
    await stranger.press_data(f"TR:g:{cafe}:ar")
    assert "you can't change this activity" in (last_callback_answer(bot.server) or "")
    assert await bot.row("SELECT COUNT(*) FROM activity_translations") == (0,)
    assert await bot.row(
        "SELECT COUNT(*) FROM audit_log WHERE actor = 9399 AND action = 'refused' "
        "AND detail = 'translate'"
    ) == (1,)


async def test_shared_and_inline_cards_carry_the_translation(bot: Harness) -> None:
    """The forwardable message, inline mode's articles and a group's page, in Arabic."""
    await _translate_cafe(bot, trusted=True)
    await _reader(bot, AR_READER, "ar")
    arabic = bot.chat(AR_READER)
    results = last(await arabic.share_location(*LEEDS))
    card = only(await arabic.press_data(results.button_data("1")))
    shared = only(await arabic.press(tr("ar", "📤 Share"), card))
    assert TITLE_AR in shared.plain_text()
    update_id = bot.server.user(9304, language_code="ar").inline_query("Leeds", "group")
    await bot.processor.wait_processed(update_id)
    articles = list(bot.server.inline_answers.values())[-1]["results"]
    assert any(TITLE_AR in article["title"] for article in articles)
    page = last(await arabic.send("/start g-leeds"))
    assert TITLE_AR in page.plain_text()


async def test_export_writes_the_translation_columns_and_a_round_trip_keeps_them(
    bot: Harness,
) -> None:
    from bot.domain.importer import export_activities

    text = "\n".join(
        [HEADER + ",description_ar,title_ar,title_ti", ROWS[0] + f",{DESCRIPTION_AR},{TITLE_AR},ሻሂ"]
        + [r + ",,," for r in ROWS[1:]]
    )
    assert await import_activities(bot.services.db, text) == len(ROWS)
    exported = await export_activities(bot.services.db)
    header = exported.splitlines()[0]
    # the columns in use, languages in the bot's order, fields in the import's order
    assert header == HEADER + ",title_ar,description_ar,title_ti"
    _, translated = parse_activity_file(exported, ZONES)
    assert translated == {
        "leeds-cafe": {("title", "ar"): TITLE_AR, ("description", "ar"): DESCRIPTION_AR,
                       ("title", "ti"): "ሻሂ"}
    }  # fmt: skip
    # an English-only network exports the old columns only
    async with bot.services.db.transaction() as conn:
        await conn.execute("DELETE FROM activity_translations")
    assert (await export_activities(bot.services.db)).splitlines()[0] == HEADER
