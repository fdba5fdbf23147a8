"""The button registry: every code declared once, fits Telegram's 64 bytes, reads back what it
wrote, is taken by the handler its declaration names, and is listed in docs/buttons.md."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler

from bot import callbacks as cb
from bot.app import build_app
from bot.config import Config
from bot.context import Action, KeepOpen
from bot.domain import deeplinks
from bot.domain.vocabulary import AlertArea, Category, Intent, PlaceFor, Topic

DOC = Path(__file__).resolve().parents[1] / "docs" / "buttons.md"


@pytest.mark.parametrize("code", list(cb.declared()), ids=lambda c: c.prefix)
def test_widest_button_fits_and_reads_back(code: type[cb.Button]) -> None:
    button = code.widest()
    data = button.encode()
    assert len(data.encode()) <= 64, data
    assert cb.parse(data) == button
    assert code.matches(data)
    assert not any(other.matches(data) for other in cb.declared() if other is not code)


def test_prefixes_are_unambiguous() -> None:
    """A one-word prefix (``Q``) beside longer ones (``Q:ok``): its first field never reads
    as their second word, so the longest prefix always names the right code."""
    for short in cb.declared():
        if ":" in short.prefix:
            continue
        first = cb._codecs(short)[0][1] if cb._codecs(short) else None
        for long in cb.declared():
            head, _, verb = long.prefix.partition(":")
            if head == short.prefix and verb:
                assert first is not None, (short, long)
                with pytest.raises(cb.Expired):
                    first.load([verb])


def test_a_second_declaration_of_a_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        cb.code("M:menu", "handlers.start.menu_button")(cb.MenuShow)


@pytest.mark.parametrize(
    "data",
    ["", "M:", "M", "L:xx:s", "L:en:s:1", "I:admin", "ZZ:1", "M:menu:1", "L:en:" + "x" * 64,
     "L:en:j-abcdef", "L:en:x-17", "L:en:a-", "X:share:0"],
)  # fmt: skip
def test_data_that_does_not_decode_is_expired(data: str) -> None:
    with pytest.raises(cb.Expired):
        cb.parse(data)
    assert not any(code.matches(data) for code in cb.declared())


def test_every_code_is_taken_by_its_declared_handler(tmp_path: Path) -> None:
    config = Config(
        token="123456:TEST-token",
        api_url="http://127.0.0.1:9/bot",
        db_path=tmp_path / "bot.db",
        cache_dir=tmp_path / "cache",
        outcodes_path=None,
    )
    app = build_app(config)
    taken: dict[type[cb.Button], list[str]] = {}
    for group in app.handlers.values():
        for handler in group:
            if isinstance(handler, CallbackQueryHandler) and hasattr(handler.pattern, "__self__"):
                code = handler.pattern.__self__
                name = f"{handler.callback.__module__}.{handler.callback.__qualname__}"
                taken.setdefault(code, []).append(name)
    assert taken == {code: [code.handler] for code in cb.declared()}


def test_the_buttons_doc_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == cb.document(), "run make buttons-doc"


LEEDS = cb.SearchState(5380, -155)
# Data as the bot wrote it before the registry: buttons already in people's chats still work.
OLD_DATA: dict[str, cb.Button] = {
    "L:ar:s": cb.ChooseLanguage("ar", "s"),
    "L:fa:a-17": cb.ChooseLanguage("fa", "a-17"),
    "L:ti:g-leeds-cos": cb.ChooseLanguage("ti", "g-leeds-cos"),
    "X:share:17": cb.ShareActivity(17),
    "I:supporter": cb.ChooseIntent(Intent.SUPPORTER),
    "M:menu": cb.MenuShow(),
    "M:near": cb.MenuNear(),
    "P:2644688:f:english": cb.ChoosePlace("2644688", PlaceFor.ACTIVITIES, Category.ENGLISH),
    "P:LS6:g": cb.ChoosePlace("LS6", PlaceFor.GROUPS),
    "S:5380:-155:sport:4:1": cb.SearchPage(cb.SearchState(5380, -155, "sport", 4, 1)),
    "C:5380:-155:-:0:0": cb.SearchCategories(LEEDS),
    "N:5380:-155:-:0:0": cb.SearchNeeds(LEEDS),
    "A:17:5380:-155:-:0:2": cb.OpenCard(17, LEEDS.at_page(2)),
    "X:ics:17": cb.CardCalendar(17),
    "G:5380:-155:1": cb.GroupsPage(5380, -155, 1),
    "V:5380:-155": cb.SaveArea(5380, -155),
    "D:erase": cb.ForgetConfirmed(),
    "D:drop:17": cb.DropFarReminder(17),
    "D:dropfar": cb.DropAllFarReminders(),
    "X:rem:17": cb.RemindMe(17),
    "X:unrem:17": cb.StopRemindingFromCard(17),
    "R:17": cb.StopReminder(17),
    "RS:digest": cb.ToggleDigest(),
    "Q:17:AbC-_12xyz0": cb.ReportConcern(17, "AbC-_12xyz0"),
    "Q:r:17:unsafe:AbC-_12xyz0": cb.FileReport(17, "unsafe", "AbC-_12xyz0"),
    "Q:x": cb.CancelReport(),
    "Q:rmy:17": cb.ReviewRemove(17),
    "Q:sg:3:8401": cb.SetSafeguardingContact(3, 8401),
    "X:int:17": cb.Interested(17),
    "M:alerts": cb.MenuAlerts(),
    "AL:on": cb.AlertsOn(),
    "AL:t:asylum": cb.AlertsTopic(Topic.ASYLUM),
    "AL:a:near": cb.AlertsArea(AlertArea.NEAR),
    "CA:not:4": cb.CallNotForMe(4),
    "T:rm:3:8401": cb.RemoveVolunteer(3, 8401),
    "FB:17:5": cb.FeedbackScore(17, 5),
    "FB:done": cb.FeedbackDone(),
    "W:new": cb.PostNew(),
    "W:grp:3": cb.PostForGroup(3),
    "W:cat:conversation": cb.PostCategory("conversation"),
    "W:day:6": cb.PostToggleDay(6),
    "W:lang:ckb": cb.PostToggleLanguage("ckb"),
    "W:nth:-1": cb.PostNth("-1"),
    "W:date:2026-11-26": cb.PostDate(date(2026, 11, 26)),
    "W:sec:contact": cb.PostSection("contact"),
    "Y:l": cb.MyActivities(),
    "Y:s:17:title": cb.ManageEditSection(17, "title"),
    "Y:d:17:202612051000": cb.ManageCancelDate(17, datetime(2026, 12, 5, 10, 0, tzinfo=UTC)),
    "Y:xx:17": cb.ManageCancel(17),
    "F:end:17": cb.FreshEnded(17),
    "Z:r:17": cb.ModerateReject(17),
    "K:list": cb.CampaignList(),
    "K:f:4:url": cb.CampaignField(4, "url"),
    "K:tl:4:fa_AF": cb.CampaignTranslate(4, "fa_AF"),
    "K:t:4:work": cb.CampaignTopic(4, Topic.WORK),
    "K:a:4:northern-ireland": cb.CampaignArea(4, "northern-ireland"),
    "K:tm:4:18": cb.CampaignTomorrow(4, "18"),
    "K:go:4": cb.CampaignSend(4),
    "K:sum:4": cb.CampaignSummary(4),
}


@pytest.mark.parametrize("data", list(OLD_DATA))
def test_buttons_already_in_chats_keep_working(data: str) -> None:
    assert cb.parse(data) == OLD_DATA[data]
    assert OLD_DATA[data].encode() == data


def test_a_language_button_carries_the_shared_link_it_opens() -> None:
    assert cb.ChooseLanguage("fa", "a-17").link == deeplinks.StartLink("a", "17")
    assert cb.ChooseLanguage("fa", "g-leeds").link == deeplinks.StartLink("g", "leeds")
    assert cb.ChooseLanguage("fa", "s").link is None


def test_a_question_stays_open_only_for_its_own_well_formed_buttons() -> None:
    posting = KeepOpen(buttons=cb.family("W"), commands=("cancel",))
    assert Action("button", cb.PostNew().encode()) in posting
    assert Action("button", cb.PostToggleDay(3).encode()) in posting
    assert Action("button", "W:day:9") not in posting  # does not decode: expired, not posting
    assert Action("button", cb.CampaignList().encode()) not in posting
    assert Action("command", "cancel") in posting
    moved = KeepOpen(buttons=(cb.Moved, cb.ChoosePlace), locations=True)
    assert Action("button", cb.ChoosePlace("LS6", PlaceFor.NEW_AREA).encode()) in moved
    assert Action("button", cb.MyData().encode()) not in moved
    assert Action("location") in moved
