"""Security and safeguarding end to end (issue 22, items 1-7 and 11): invites that stay used,
an admin's own invite, saying only who was told, reports only from a card one was shown,
coordinators who post and manage, removing after one confirmation, /forget naming the roles
that go, and "Post an activity" answered once."""

from __future__ import annotations

import logging
import re

import pytest

from bot import callbacks as cb
from bot.domain.vocabulary import Intent
from storage.roles import ADMIN, COORDINATOR, NETWORK, VOLUNTEER
from tests.conftest import NOW, Harness
from tests.fakeapi import Conversation
from tests.helpers import button_texts, last_callback_answer, only, sent
from tests.test_posting import last, quick_post
from tests.test_safeguarding import _card

ADMIN_ID, JOINER, COORD = 9001, 9002, 9003
LEEDS_NAME = "Leeds City of Sanctuary (test)"


async def _leeds(bot: Harness) -> int:
    return (await bot.services.groups.refs())["leeds"]


async def _person(bot: Harness, user_id: int, intent: str = "seeking") -> Conversation:
    chat = bot.chat(user_id)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("en", "s"))
    await chat.press_data(cb.ChooseIntent(Intent(intent)))
    return chat


async def _admin_with_invite(bot: Harness) -> tuple[Conversation, str]:
    """A Leeds admin who sent /invite; their chat and the invite's code."""
    await bot.services.roles.grant(ADMIN_ID, ADMIN, await _leeds(bot), None, NOW)
    admin = await _person(bot, ADMIN_ID, "volunteer")
    link = only(await admin.send("/invite")).plain_text()
    found = re.search(r"start=j-(\S+)", link)
    assert found, link
    return admin, found.group(1)


# -- 1 and 2: invites ---------------------------------------------------------------------------


async def test_a_used_invite_stays_used_after_the_person_who_used_it_is_forgotten(
    bot: Harness,
) -> None:
    _admin, code = await _admin_with_invite(bot)
    joiner = await _person(bot, JOINER)
    assert "You are now a volunteer" in only(await joiner.send(f"/start j-{code}")).plain_text()
    await joiner.send("/forget")
    await joiner.press("Yes, delete everything")
    again = only(await joiner.send(f"/start j-{code}")).plain_text()
    assert "This invite has expired or was already used" in again
    assert await bot.row("SELECT COUNT(*) FROM roles WHERE user_id = ?", JOINER) == (0,)
    # The fact stays, the id goes.
    assert await bot.row("SELECT used_by, used_at IS NOT NULL FROM invites") == (None, 1)


async def test_an_admin_opening_their_own_invite_is_kindly_refused(bot: Harness) -> None:
    admin, code = await _admin_with_invite(bot)
    own = only(await admin.send(f"/start j-{code}")).plain_text()
    assert f"You are already in the team of {LEEDS_NAME}" in own
    assert "still works for them" in own
    assert await bot.row("SELECT COUNT(*) FROM roles WHERE user_id = ?", ADMIN_ID) == (1,)
    team = only(await admin.send("/team")).plain_text()
    assert team.count("⭐") == 1 and "•" not in team
    picker = only(await admin.send("/safeguarding"))
    assert len(button_texts(picker)) == 1  # the admin, once
    # The invite still works once for the person it was meant for.
    joiner = await _person(bot, JOINER)
    assert "You are now a volunteer" in only(await joiner.send(f"/start j-{code}")).plain_text()
    assert await bot.row("SELECT used_by FROM invites") == (JOINER,)
    # An admin made a volunteer of their own group before this was refused is shown once.
    await bot.services.roles.grant(ADMIN_ID, VOLUNTEER, await _leeds(bot), None, NOW)
    team = only(await admin.send("/team")).plain_text()
    assert team.count("⭐") == 1 and team.count("•") == 1  # the admin, and the joiner
    assert len(button_texts(only(await admin.send("/safeguarding")))) == 2


# -- 3: only say who was told -------------------------------------------------------------------


async def test_a_concern_says_only_who_was_told_and_waits_when_nobody_can_be(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # Leeds has no safeguarding contact, no admin, and the network no coordinator.
    chat, card = await _card(bot, 9101)
    await chat.press("Report a concern", card)
    with caplog.at_level(logging.WARNING):
        filed = only(await chat.press("It feels unsafe")).plain_text()
    assert "has been told" not in filed and "have been told" not in filed
    assert "Your report is kept and will be reviewed" in filed
    assert await bot.row("SELECT COUNT(*) FROM outbox WHERE kind = 'concern'") == (0,)
    warned = [r for r in caplog.records if "nobody could be told" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert "9101" not in warned[0].getMessage()  # no personal data
    audit = await bot.services.roles.audit()
    untold = [e for e in audit if e.action == "nobody_told"]
    assert len(untold) == 1 and untold[0].group_id == await _leeds(bot)
    assert untold[0].actor is None and untold[0].target is None

    # With a coordinator in the network: they are told, and the reporter hears so.
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    coordinator = await _person(bot, COORD)
    chat, card = await _card(bot, 9102)
    await chat.press("Report a concern", card)
    filed = only(await chat.press("Wrong information")).plain_text()
    assert "The City of Sanctuary network's coordinators have been told" in filed
    await sent(bot.server, COORD, "A concern was reported")
    listed = only(await coordinator.send("/reports")).plain_text()
    assert "It feels unsafe" in listed and "Wrong information" in listed  # the first waited

    # With an admin but no safeguarding contact: the admins.
    await bot.services.roles.grant(ADMIN_ID, ADMIN, await _leeds(bot), None, NOW)
    chat, card = await _card(bot, 9103)
    await chat.press("Report a concern", card)
    filed = only(await chat.press("Something else")).plain_text()
    assert "The group's admins have been told" in filed
    await sent(bot.server, ADMIN_ID, "A concern was reported")


async def test_a_volunteers_post_says_only_who_was_asked_to_check_it(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    leeds = await _leeds(bot)
    code = await bot.services.roles.create_invite(leeds, 9999, NOW)  # its admin has left
    volunteer = await _person(bot, 9201, "volunteer")
    await volunteer.send(f"/start j-{code}")
    await quick_post(volunteer, "Knitting circle")
    with caplog.at_level(logging.WARNING):
        said = last(await volunteer.press("Publish")).plain_text()
    assert "sent to your group admin" not in said
    assert "waits for a check" in said and "nobody could be told" in said
    assert await bot.row("SELECT status FROM activities WHERE title = 'Knitting circle'") == (
        "pending",
    )
    assert any("nobody could be told about post:" in r.getMessage() for r in caplog.records)
    assert [e.detail for e in await bot.services.roles.audit() if e.action == "nobody_told"] == [
        f"post:{(await bot.row('SELECT id FROM activities WHERE title = ?', 'Knitting circle') or (0,))[0]}"
    ]

    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    await quick_post(volunteer, "Board games")
    said = last(await volunteer.press("Publish")).plain_text()
    assert "sent to the City of Sanctuary network's coordinators" in said
    await sent(bot.server, COORD, "Board games")


# -- 4: reports only from one's own card; new accounts do not hide -----------------------------


async def _cafe_id(bot: Harness) -> int:
    found = await bot.row("SELECT id FROM activities WHERE ref = 'leeds-cafe'")
    assert found is not None
    return int(str(found[0]))


async def test_a_report_is_taken_only_from_the_card_that_person_was_shown(bot: Harness) -> None:
    cafe = await _cafe_id(bot)
    for person in (9301, 9302, 9303):  # never shown the card: forged button data
        chat = await _person(bot, person)
        await chat.press_data(f"Q:r:{cafe}:unsafe")
        assert "expired" in (last_callback_answer(bot.server) or "").lower()
    assert await bot.row("SELECT COUNT(*) FROM reports") == (0,)
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("published",)

    owner, card = await _card(bot, 9304)
    mine = card.button_data("Report")
    assert mine.startswith(f"Q:{cafe}:")
    borrower = await _person(bot, 9305)  # another person's button (forwarded, copied...)
    await borrower.press_data(mine)
    assert "expired" in (last_callback_answer(bot.server) or "").lower()
    reasons = only(await owner.press("Report a concern", card))
    reason = reasons.button_data("It feels unsafe")
    await borrower.press_data(reason)
    assert "expired" in (last_callback_answer(bot.server) or "").lower()
    await borrower.press_data(reason.replace(f":{cafe}:", f":{cafe + 1}:"))  # another activity
    assert "expired" in (last_callback_answer(bot.server) or "").lower()
    assert await bot.row("SELECT COUNT(*) FROM reports") == (0,)
    await owner.press_data(reason, reasons.message_id)
    assert await bot.row("SELECT reporter FROM reports") == (9304,)


async def test_new_accounts_and_repeated_reports_do_not_hide_but_are_all_reviewed(
    bot: Harness,
) -> None:
    cafe = await _cafe_id(bot)
    for person in (9311, 9312, 9313):  # accounts made minutes ago
        chat, card = await _card(bot, person, settled=False)
        await chat.press("Report a concern", card)
        await chat.press("It feels unsafe")
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("published",)

    # One settled person reports, is forgotten, comes back and reports again: one person.
    chat, card = await _card(bot, 9321)
    await chat.press("Report a concern", card)
    await chat.press("Wrong information")
    await chat.send("/forget")
    await chat.press("Yes, delete everything")
    chat, card = await _card(bot, 9321)
    await chat.press("Report a concern", card)
    await chat.press("Wrong information")
    chat, card = await _card(bot, 9322)
    await chat.press("Report a concern", card)
    await chat.press("They ask for money")
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("published",)
    chat, card = await _card(bot, 9323)  # a third settled person: hidden until reviewed
    await chat.press("Report a concern", card)
    await chat.press("Something else")
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("hidden",)

    await bot.services.roles.grant(ADMIN_ID, ADMIN, await _leeds(bot), None, NOW)
    listed = only(await (await _person(bot, ADMIN_ID)).send("/reports")).plain_text()
    assert listed.count("• ") == 7  # every report, new accounts' and the forgotten one's too


# -- 5: coordinators post and manage -------------------------------------------------------------


async def test_a_coordinator_posts_for_any_group_and_manages_its_activities(
    bot: Harness,
) -> None:
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    coordinator = await _person(bot, COORD)
    nothing_yet = only(await coordinator.send("/myactivities")).plain_text()
    assert "Which group?" in nothing_yet and "leeds" in nothing_yet
    which = only(await coordinator.send("/newactivity"))
    assert "Which group is this activity for?" in which.plain_text()
    assert LEEDS_NAME in button_texts(which) and len(button_texts(which)) == 5
    asked = only(await coordinator.press("Sheffield", which))
    assert "What is the activity called?" in asked.plain_text()
    await coordinator.send("/cancel")
    await coordinator.press_data(cb.PostDiscard())  # not this one after all
    first = only(await coordinator.send("/newactivity leeds"))
    assert "What is the activity called?" in first.plain_text()
    await quick_post(coordinator, "Coordinators' welcome tea")  # (/newactivity carries on)
    published = last(await coordinator.press("Publish")).plain_text()
    assert "is published" in published
    assert await bot.row(
        "SELECT g.ref, a.status, a.created_by FROM activities a JOIN groups g "
        "ON g.id = a.group_id WHERE a.title = ?",
        "Coordinators' welcome tea",
    ) == ("leeds", "published", COORD)
    mine = only(await coordinator.send("/myactivities"))
    assert any("Coordinators' welcome tea" in t for t in button_texts(mine))
    leeds = only(await coordinator.send("/myactivities leeds"))
    labels = button_texts(leeds)
    assert any("Conversation café" in t for t in labels)
    assert not any("Sheffield welcome café" in t for t in labels)
    opened = only(await coordinator.press("Conversation café", leeds))
    assert "Pause" in " ".join(button_texts(opened))


# -- 6: removing asks once; the admins still see it ---------------------------------------------


async def test_removing_after_a_concern_asks_once_and_the_admins_still_see_why(
    bot: Harness,
) -> None:
    cafe = await _cafe_id(bot)
    await bot.services.roles.grant(ADMIN_ID, ADMIN, await _leeds(bot), None, NOW)
    admin = await _person(bot, ADMIN_ID)
    chat, card = await _card(bot, 9401)
    await chat.press("Report a concern", card)
    await chat.press("They ask for money")
    listed = only(await admin.send("/reports"))
    confirm = only(await admin.press("Remove", listed))
    assert "Remove “Conversation café”?" in confirm.plain_text()
    assert "as removed, with the reasons" in confirm.plain_text()
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("published",)
    back = only(await admin.press("Back", confirm))
    assert "Open reports" in back.plain_text()
    confirm = only(await admin.press("Remove", back))
    await admin.press("Yes, remove it", confirm)
    assert last_callback_answer(bot.server) == "🗑 The activity was removed."
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("cancelled",)
    assert cafe not in bot.services.directory.activities
    mine = only(await admin.send("/myactivities"))
    assert "🗑 Conversation café" in button_texts(mine)
    opened = only(await admin.press("Conversation café", mine)).plain_text()
    assert "Removed after reported concerns: They ask for money or documents." in opened


# -- 7: /forget names the roles that go ---------------------------------------------------------


async def test_forget_says_which_roles_go_and_which_groups_lose_their_contact(
    bot: Harness,
) -> None:
    leeds = await _leeds(bot)
    await bot.services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    admin = await _person(bot, ADMIN_ID)
    await bot.services.roles.grant(JOINER, VOLUNTEER, leeds, None, NOW)
    await bot.services.safeguarding.set_contact(leeds, JOINER, "Sam", ADMIN_ID, NOW)
    volunteer = await _person(bot, JOINER)
    asked = only(await volunteer.send("/forget")).plain_text()
    assert (
        f"You will also lose your roles: volunteer of {LEEDS_NAME} and safeguarding contact "
        f"of {LEEDS_NAME}."
    ) in asked
    assert f"{LEEDS_NAME} will have no safeguarding contact until an admin chooses one" in asked
    asked = only(await admin.send("/forget")).plain_text()
    assert f"You will also lose your roles: admin of {LEEDS_NAME}." in asked
    assert "safeguarding contact" not in asked
    seeker = await _person(bot, 9501)
    asked = only(await seeker.send("/forget")).plain_text()
    assert "roles" not in asked and "safeguarding" not in asked


# -- 11: "Post an activity" without a role ------------------------------------------------------


async def test_post_an_activity_without_a_role_is_answered_once_with_the_refusal(
    bot: Harness,
) -> None:
    chat = await _person(bot, 9601, "volunteer")  # said "I volunteer", has no group yet
    menu = chat.last_with_buttons()
    assert menu is not None
    await chat.press("Post an activity", menu)
    answers = [a for a in bot.server.callback_answers.values() if a.get("text")]
    assert last_callback_answer(bot.server) == (
        "Only volunteers of a City of Sanctuary group can post activities. "
        "Ask your group admin for an invite."
    )
    assert len(answers) == 1
