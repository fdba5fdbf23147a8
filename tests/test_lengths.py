"""Lengths as Telegram counts them (UTF-16 code units of the text after HTML parsing), never
of the escaped HTML: texts full of & and < fit, emoji count two, long lists stop at whole
items."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot import callbacks as cb
from bot.domain.importer import parse_activities
from bot.domain.recurrence import Occurrence
from bot.i18n import use_locale
from bot.search.directory import Hit
from bot.views.admin import team, weekly_post
from bot.views.formatting import parsed_length
from bot.views.reminders import digest_message, reminders_list
from storage.activities import ActivityRepository
from storage.roles import ADMIN, COORDINATOR, NETWORK
from tests.conftest import NOW, Harness
from tests.data import LEEDS
from tests.fakeapi import MAX_TEXT, html_to_plain
from tests.helpers import button_texts, only, sent
from tests.test_campaigns import COORD, URL, _start
from tests.test_posting import last
from tests.test_posting import team as posting_team

HEADER = (
    "ref,group_ref,title,category,description,venue,address,postcode,latitude,longitude,"
    "start_date,start_time,end_time,repeat,until,languages,cost,needs,contact"
)


async def _ampersand_activity(bot: Harness) -> int:
    """An imported activity with every text field as long as the importer allows, all '&'
    (five characters each in HTML): its card is far longer in HTML than Telegram's limit."""
    fields = {"title": 80, "description": 500, "venue": 100, "address": 200, "cost": 80,
              "contact": 120}  # fmt: skip
    amp = {name: "&" * size for name, size in fields.items()}
    row = (
        f"leeds-amp,leeds,{amp['title']},conversation,{amp['description']},{amp['venue']},"
        f"{amp['address']},LS1 1AA,{LEEDS[0]},{LEEDS[1]},2026-01-06,18:00,20:00,weekly:TU,,"
        f"en,{amp['cost']},,{amp['contact']}"
    )
    groups = {"leeds": "Europe/London"}
    refs = await bot.services.groups.refs()
    async with bot.services.db.transaction() as conn:
        await ActivityRepository.upsert_many(
            conn, parse_activities(HEADER + "\n" + row + "\n", groups), refs
        )
    await bot.services.directory.refresh(force=True)
    found = await bot.row("SELECT id FROM activities WHERE title = ?", amp["title"])
    assert found is not None
    return int(str(found[0]))


async def test_a_card_full_of_ampersands_is_shown_and_moderation_goes_on(bot: Harness) -> None:
    activity_id = await _ampersand_activity(bot)
    chat = bot.chat(8801)
    results = only(await chat.share_location(*LEEDS))
    search = cb.OpenCard.decode(results.button_data("1")).search  # back to these results
    card = only(await chat.press_data(cb.OpenCard(activity_id, search)))
    text = card.plain_text()
    assert "&" * 500 in text  # the whole description: Telegram counts one character each
    assert "🗓 When:" in text and "Cost:" in text and "Contact:" in text
    assert results.has_inline_keyboard()
    # Waiting for a check, it is the oldest post: /moderate shows it, and can go on.
    leeds = (await bot.services.groups.refs())["leeds"]
    await bot.services.roles.grant(8802, ADMIN, leeds, None, NOW)
    await bot.services.activities.set_status(activity_id, "pending", NOW)
    item = only(await bot.chat(8802).send("/moderate"))
    assert "&" * 500 in item.plain_text()
    assert "Approve" in " ".join(button_texts(item))


async def test_reports_past_the_limit_list_whole_activities(bot: Harness) -> None:
    await bot.services.roles.grant(8901, COORDINATOR, NETWORK, None, NOW)
    activities = sorted(bot.services.directory.activities)
    assert len(activities) >= 6
    words = "<b>&amp;</b> " * 38  # 494 characters typed: almost 900 in HTML
    for number, activity_id in enumerate(activities):
        for reporter in range(3):
            filed = await bot.services.safeguarding.file(
                activity_id, 9000 + number * 10 + reporter, "other", NOW, NOW
            )
            assert filed.report_id is not None
            await bot.services.safeguarding.add_words(
                filed.report_id, 9000 + number * 10 + reporter, words
            )
    listed = only(await bot.chat(8901).send("/reports"))
    plain = listed.plain_text()
    assert len(plain.encode("utf-16-le")) // 2 <= MAX_TEXT
    assert "Open reports" in plain and "more, not shown here." in plain
    shown = [line for line in plain.splitlines() if line.endswith(("still shown", "hidden"))]
    assert shown, plain
    assert len(button_texts(listed)) == 2 * len(shown)  # Show / Remove for each listed one
    assert len(shown) >= 3 and words.strip() in plain  # what they typed, as they typed it


async def test_a_campaign_text_counts_what_telegram_counts(bot: Harness) -> None:
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    await _start(bot, 7301, "supporter")
    chat = bot.chat(COORD)
    only(await chat.send("/campaign"))
    only(await chat.send("Q&A <3"))
    body = ("Q&A <3 " * 400)[:2500]  # 2,500 characters typed, 5,000 in HTML
    assert "action link" in only(await chat.send(body)).plain_text()
    await chat.send(URL)
    await chat.press("Asylum system")
    summary = only(await chat.press("Done"))
    preview = await chat.press("Preview")
    assert body.strip() in html_to_plain(preview[1].text)
    # 1,300 hearts are 2,600 characters as Telegram counts them: too long, the question stands.
    await chat.press("✏️ Text", summary)
    refused = only(await chat.send("💚" * 1300))
    assert "That is 2,600 characters; the limit is 2,500." in refused.plain_text()
    only(await chat.send(body))
    confirm = only(await chat.press("Confirm", summary))
    only(await chat.press("Yes, send", confirm))
    (call,) = await sent(bot.server, 7301, "Q&amp;A")
    assert body.strip() in call.plain_text()


async def test_lists_stop_at_whole_items_within_the_limit(bot: Harness) -> None:
    """/team, the weekly post, the digest and /reminders: however many and long the items."""
    directory = bot.services.directory
    whole = await directory.activity(next(iter(directory.activities)))
    assert whole is not None
    activity = replace(whole, title="&" * 80, venue="<" * 100)
    group = directory.groups[activity.group_id]
    when = Occurrence(NOW, NOW)
    names = [(10_000 + i, "volunteer", "&" * 64) for i in range(150)]
    with use_locale("en"):
        views = [
            team("Leeds", group.id, names, ("🛡 No safeguarding contact yet.",)),
            weekly_post(group, [(when, activity)] * 60),
            digest_message("Leeds", [(Hit(1.0, activity, group), when)] * 60),
            reminders_list([(activity, group, when)] * 150),
        ]
    for view in views:
        plain = html_to_plain(view.text)
        assert len(plain.encode("utf-16-le")) // 2 <= MAX_TEXT
        assert "more, not shown here." in plain
        assert "&" * 64 in plain  # items are whole
    team_view = views[0]
    assert team_view.markup is not None
    shown = team_view.text.count("• ")
    assert len(team_view.markup.inline_keyboard) == shown <= 100
    assert "No safeguarding contact yet." in team_view.text
    reminders = views[3]
    assert reminders.markup is not None and len(reminders.markup.inline_keyboard) <= 100


async def test_a_volunteers_typed_answers_count_as_telegram_counts(bot: Harness) -> None:
    _leeds, chat = await posting_team(bot)
    await chat.send("/newactivity")
    refused = last(await chat.send("🎉" * 41))  # 41 emoji: 82 characters as Telegram counts
    assert "82 characters, at most 80" in refused.plain_text()
    await chat.send("&" * 80)  # the question stood: this is the title
    await chat.press("Conversation café")
    await chat.send("&" * 600)  # the description, five times longer in HTML
    await chat.press("Once")
    await chat.press_data(cb.PostDate(date(2026, 11, 26)))
    await chat.send("14:00-16:00")
    await chat.send("Hyde Park, LS6 1AA")
    await chat.send("&" * 100)
    await chat.press("Done")
    await chat.send("&" * 80)  # the cost
    await chat.press("Done")  # nothing to tag
    preview = last(await chat.send("&" * 120))  # the contact; then the preview
    text = preview.plain_text()
    assert "Preview" in text and "&" * 600 in text and "&" * 120 in text
    assert "Publish" in " ".join(button_texts(preview))


def test_parsed_length_is_what_telegram_counts() -> None:
    assert parsed_length("<b>Q&amp;A &lt;3</b>") == 6
    assert parsed_length("&amp;lt; 💚") == 7  # "&lt;" as text, a space, an emoji (two)
    assert parsed_length("&#128154; &quot;") == 4
    assert parsed_length('<a href="https://example.org/?a=1&amp;b=2">x</a>') == 1
