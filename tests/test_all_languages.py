"""Every language through the main journeys: translated, filled in, within Telegram's limits."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.domain.vocabulary import Intent, Need
from bot.i18n import LANGUAGES, LOCALES_DIR, use_locale
from tests.conftest import Harness
from tests.data import LEEDS
from tests.fakeapi import SentMessage
from tests.helpers import tr

LEEDS_SEARCH = SearchState(5380, -155)  # rounded as buttons carry it

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def english_sentences() -> list[str]:
    """English texts long enough that finding one in a reply means it was not translated."""
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    found = []
    for message in template:
        text = message.id if isinstance(message.id, str) else message.id[0]
        for part in PLACEHOLDER.split(re.sub(r"</?[a-z]+>", "", text)):
            if len(part.strip()) >= 18:
                found.append(part.strip())
    return found


ENGLISH = english_sentences()


async def _journey(bot: Harness, code: str) -> list[SentMessage]:
    chat = bot.chat(8000 + LANGUAGES.index(next(x for x in LANGUAGES if x.code == code)), code)
    replies: list[SentMessage] = []
    replies += await chat.send("/start")
    replies += await chat.press_data(cb.ChooseLanguage(code, "s"))
    replies += await chat.press_data(cb.ChooseIntent(Intent.SEEKING))
    replies += await chat.press_data(cb.MenuFind())
    replies += await chat.share_location(*LEEDS)
    replies += await chat.press_data(cb.SearchPage(LEEDS_SEARCH.at_page(1)))  # page 2
    replies += await chat.press_data(cb.SearchCategories(LEEDS_SEARCH))
    replies += await chat.press_data(cb.SearchNeeds(LEEDS_SEARCH))
    replies += await chat.press_data(
        cb.SearchPage(LEEDS_SEARCH.toggle(Need.WOMEN_ONLY))
    )  # women only: nothing, nearest groups
    replies += await chat.press_data(cb.SearchPage(LEEDS_SEARCH.with_category("sport")))
    card_id = next(
        d
        for m in replies[-1:]
        for row in m.buttons()
        for _t, d, _u in row
        if d and d.startswith("A:")
    )
    replies += await chat.press_data(card_id)
    activity = cb.OpenCard.decode(card_id).activity
    replies += await chat.press_data(cb.RemindMe(activity))
    replies += await chat.send("/reminders")
    replies += await chat.send("/settings")
    replies += await chat.press_data(cb.ToggleHourBefore())
    replies += await chat.send("/groups")
    replies += await chat.send("Bangor")
    replies += await chat.send("Xyzzyville")
    replies += await chat.send("/privacy")
    replies += await chat.send("/help")
    replies += await chat.send("/mydata")
    replies += await chat.press_data(cb.Moved())
    replies += await chat.send("Cardiff")  # far from the Leeds reminder; the nearest group
    replies += await chat.send("/language")
    replies += await chat.send("/forget")
    replies += await chat.press_data(cb.ForgetConfirmed())
    replies += await chat.press_data("zzz")  # expired
    return replies


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES if lang.code != "en"])
async def test_language_renders_completely(bot: Harness, code: str) -> None:
    replies = await _journey(bot, code)
    assert len(replies) >= 15
    errors = [call for call in bot.server.calls if call.status >= 400]
    assert errors == [], [(c.method, c.result) for c in errors]  # no text too long, no bad data
    sorry = tr(code, "Sorry, something went wrong on our side. Please try again in a moment.")
    rtl = next(lang for lang in LANGUAGES if lang.code == code).rtl
    for message in replies:
        text = message.plain_text()
        assert sorry not in text
        assert not PLACEHOLDER.search(text), text
        leaked = [s for s in ENGLISH if s in text and s not in _activity_texts()]
        if message.kind == "text" and "Choose your language" not in text:
            assert leaked == [], (code, leaked)
        for row in message.buttons():
            for label, data, _url in row:
                assert data is None or len(data.encode()) <= 64
                assert not PLACEHOLDER.search(label)
    if rtl:  # inserted distances, dates and names are isolated in right-to-left text
        results = [
            m
            for m in replies
            if any(d and d.startswith("A:") for r in m.buttons() for _t, d, _u in r)
        ]
        assert results and all("\u2068" in m.text for m in results), [
            m.text[:300] for m in results if "\u2068" not in m.text
        ]
    answers = bot.server.calls_to("answerCallbackQuery")
    assert answers[-1].params.get("text") == tr(
        code, "This menu has expired. Please start again with /start."
    )


def _activity_texts() -> str:
    from tests.data import ACTIVITIES_CSV, GROUPS_CSV

    return ACTIVITIES_CSV + GROUPS_CSV


def test_every_language_has_its_commands_translated() -> None:
    from bot.views import menus as mv

    with use_locale("en"):
        english = dict(mv.commands())
    for lang in LANGUAGES[1:]:
        with use_locale(lang.code):
            assert dict(mv.commands()) != english, lang.code


async def test_outbox_messages_render_in_every_language(bot: Harness) -> None:
    """Reminders, cancellations, digests and settings: translated and filled in, every language."""
    from bot.views import admin as av
    from bot.views import common
    from bot.views import privacy as prv
    from bot.views import reminders as rv
    from bot.views.common import which_group
    from tests.conftest import NOW

    directory = bot.services.directory
    found = directory.search(*LEEDS, 40.0, NOW)
    listed = [(hit, directory.next_occurrence(hit.activity.id, NOW)) for hit in found.hits]
    hit = found.hits[0]
    # reminders and the weekly post read the whole activity from the database, as they are sent
    whole = {h.activity.id: await directory.activity(h.activity.id) for h in found.hits}
    activity = whole[hit.activity.id]
    assert activity is not None
    for lang in LANGUAGES[1:]:
        with use_locale(lang.code):
            rendered = [
                rv.reminder_message(activity, hit.group, NOW, cancelled=False),
                rv.reminder_message(activity, hit.group, NOW, cancelled=True),
                rv.digest_message("Leeds", [(h, o) for h, o in listed if o is not None]),
                rv.reminders_list([(hit.activity, hit.group, listed[0][1])]),
                rv.reminders_list([]),
                rv.reminder_settings(True, False, True),
                prv.stay_question(),
                av.weekly_post(
                    hit.group, [(o, a) for h, o in listed if o and (a := whole[h.activity.id])][:5]
                ),
                av.invite_link(hit.group.name, "https://t.me/bot?start=j-x"),
                av.joined(hit.group.name),
                av.invite_invalid(),
                av.invite_own(hit.group.name),
                prv.forget_confirm(
                    [("coordinator", None), ("admin", "Leeds"), ("contact", "Leeds")], ["Leeds"]
                ),
                av.team(hit.group.name, 1, [(5, "admin", "Ann"), (6, "volunteer", "")]),
                av.team(hit.group.name, 1, []),
                common.View(which_group(["leeds"]) + av.removed_from_team()),
            ]
        for view in rendered:
            assert not PLACEHOLDER.search(view.text), (lang.code, view.text)
            leaked = [s for s in ENGLISH if s in view.text and s not in _activity_texts()]
            assert leaked == [], (lang.code, leaked)
            assert len(view.text) <= 4096


def test_campaign_and_safeguarding_views_render_in_every_language() -> None:
    """Alerts, calls, the coordinators' desk and safeguarding: translated and filled in."""
    from bot.views import campaigns as cv
    from bot.views import safeguarding as sv
    from bot.views.common import View
    from storage.campaigns import Campaign, Figures
    from storage.safeguarding import Report
    from tests.conftest import NOW

    call = Campaign(
        id=3, title="Lift the ban", body="Ask your MP.", action_url="https://example.org/a",
        topics=5, area="near", area_lat=53.8, area_lon=-1.55, area_label="Leeds", radius_km=40,
        send_at=NOW, state="scheduled", created_by=1, created_at=NOW, updated_at=NOW,
        launched_at=None, figures=Figures(10, 8, 1, 1, 0, 3, 1), translations={"ar": ("أ", "ب")},
    )  # fmt: skip
    report = Report(1, 7, "money", "words", NOW)
    for lang in LANGUAGES[1:]:
        with use_locale(lang.code):
            rendered = [
                cv.alerts_explained(),
                cv.alerts_settings(5, 3, "wales", "Cardiff", True),
                cv.alerts_settings(63, 7, None, None, False),
                View(cv.alerts_subscribed_note()),
                View(cv.topic_needed()),
                View(cv.list_unchanged()),
                cv.alerts_stopped(),
                cv.alerts_declined(),
                cv.stop_usage(),
                cv.call_message(call, lang.code, 3),
                cv.compose_summary(call, cv.incomplete(["x"])),
                cv.ask_field("when", NOW),
                cv.too_long(120, 130),
                cv.bad_url(),
                cv.bad_when(NOW),
                cv.place_unknown(),
                cv.topics_picker(call),
                cv.area_picker(call),
                cv.when_picker(call, NOW),
                cv.translation_languages(call),
                cv.ask_translation("Arabic", "body"),
                cv.confirm_question(call, 21),
                cv.campaign_list([(call, call.figures)]),
                cv.cancel_confirm(call),
                cv.compose_cancelled(),
                sv.report_reasons(7, "mark"),
                *(sv.report_filed(told) for told in ("contact", "admins", "coordinators", None)),
                sv.remove_confirm(7, "Café"),
                sv.report_already(),
                sv.words_added(),
                sv.concern_notice("Café", "Leeds", "unsafe", hidden=True),
                sv.reports_list([(7, "Café", "Leeds", True, [report])]),
                sv.reports_list([]),
                sv.contact_picker("Leeds", 1, [(5, "Ann")], "Ann"),
                sv.contact_set("Ann", "Leeds"),
                View("\n".join(sv.interest_lines([("Café", 1), ("Tea", 5)]))),
                View(sv.contact_line(None) + sv.contact_line("Ann")),
            ]
        for view in rendered:
            assert not PLACEHOLDER.search(view.text), (lang.code, view.text)
            leaked = [s for s in ENGLISH if s in view.text and s not in _activity_texts()]
            assert leaked == [], (lang.code, leaked)
            assert len(view.text) <= 4096
