"""What volunteers and admins see when posting and managing activities: the questions of
/newactivity, the preview, /myactivities, /moderate, "still running?" and feedback."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from babel.dates import get_day_names

from bot import callbacks as cb
from bot.domain.posting import CATEGORIES, NEEDS, SECTIONS, SPOKEN, Problem, upcoming
from bot.domain.recurrence import Occurrence
from bot.i18n import N_, current_language, gettext, ngettext
from bot.views import formatting as fmt
from bot.views.cards import card
from bot.views.common import View, button, row
from bot.views.keyboard import Key, Keyboard
from bot.views.labels import category_label, need_label
from bot.views.safeguarding import reason_label
from storage.feedback import Summary
from storage.models import Activity, Group

_ = gettext
NOON = time(12)

KIND_LABELS = {
    "once": N_("Once"),
    "weekly": N_("Every week"),
    "fortnightly": N_("Every two weeks"),
    "monthly": N_("Once a month"),
}
NTH_LABELS = {
    1: N_("First"),
    2: N_("Second"),
    3: N_("Third"),
    4: N_("Fourth"),
    -1: N_("Last"),
}
SECTION_LABELS = {
    "title": N_("Title"),
    "category": N_("Kind of activity"),
    "description": N_("Description"),
    "when": N_("When"),
    "where": N_("Where"),
    "languages": N_("Languages"),
    "cost": N_("Cost"),
    "needs": N_("Good to know"),
    "contact": N_("Contact"),
}
STATUS_LABELS = {
    "pending": N_("⏳ Waiting for a group admin's check"),
    "draft": N_("✏️ Changes asked"),
    "published": N_("✅ Published"),
    "hidden": N_("⚠️ Hidden after reported concerns"),
    "cancelled": N_("❌ Cancelled"),
    "paused": N_("⏸ Paused"),
    "stale": N_("💤 Hidden: is it still running?"),
}


def _day_names() -> list[str]:
    names = get_day_names("wide", locale=current_language().locale)
    return [names[d] for d in range(7)]


def _date(day: date, tz: str) -> str:
    return fmt.bidi(fmt.day(datetime.combine(day, NOON, tzinfo=UTC), tz))


def _grid(buttons: list[Key], width: int) -> list[list[Key]]:
    return [row(*buttons[i : i + width]) for i in range(0, len(buttons), width)]


def _keys() -> str:
    return _("/back changes the previous answer, /cancel stops (your answers are kept).")


def card_text(activity: Activity, group: Group, now: datetime) -> str:
    """The card's text exactly as people seeking sanctuary see it in /find."""
    tz = group.timezone
    occurrences = [
        Occurrence(start, start + timedelta(minutes=activity.duration_min))
        for start in upcoming(activity, tz, now, 3)
    ]
    return card(activity, group, occurrences, None, None).text


# --- the questions of /newactivity ---------------------------------------------------------


def choose_group(groups: list[tuple[int, str]]) -> View:
    """Which of your groups is it for?"""
    rows = [[button(fmt.clean(name, 60), cb.PostForGroup(gid))] for gid, name in groups]
    return View(_("Which group is this activity for?"), Keyboard(rows))


def not_a_volunteer() -> str:
    """/newactivity from someone with no group."""
    return _(
        "Only volunteers of a City of Sanctuary group can post activities. Ask your group admin for an invite."
    )


def question(step: str, data: dict[str, Any], today: date, tz: str, dates: list[date]) -> View:
    """The question for ``step``, with buttons wherever an answer can be tapped."""
    rows: list[list[Key]] = []
    if step == "title":
        text = _("✏️ What is the activity called? Keep it short (at most 80 characters).")
    elif step == "category":
        text = _("What kind of activity is it?")
        rows = _grid([button(category_label(c), cb.PostCategory(c)) for c in CATEGORIES], 2)
    elif step == "description":
        text = _(
            "Describe it in two or three short sentences: what happens, and who is welcome. Plain words help people reading in a second language."
        )
        rows = [[button(_("No description"), cb.PostNone())]]
    elif step == "repeat":
        text = _("How often does it happen?")
        rows = _grid(
            [button(gettext(label), cb.PostRepeat(k)) for k, label in KIND_LABELS.items()], 2
        )
    elif step == "days":
        text = _("On which days? Tap each day, then “Done”.")
        days = {int(d) for d in data.get("days", [])}
        names = _day_names()
        rows = _grid(
            [
                button(("✅ " if d in days else "") + names[d], cb.PostToggleDay(d))
                for d in range(7)
            ],
            3,
        )
        rows.append([button(_("Done"), cb.PostDone())])
    elif step == "nth":
        text = _("Which week of the month?")
        rows = _grid([button(gettext(v), cb.PostNth(str(k))) for k, v in NTH_LABELS.items()], 3)
    elif step == "weekday":
        text = _("On which day?")
        names = _day_names()
        rows = _grid([button(names[d], cb.PostWeekday(d)) for d in range(7)], 3)
    elif step == "date":
        if data.get("repeat", "once") == "once":
            text = _("On which date? Tap it, or type it like {example}.")
        else:
            text = _("When is the first date? Tap it, or type it like {example}.")
        text = text.format(example=fmt.bidi(today.strftime("%d/%m/%Y")))
        rows = _grid([button(_date(d, tz), cb.PostDate(d)) for d in dates], 2)
    elif step == "time":
        text = _("What time does it start and end? Type it like 18:00-20:00.")
    elif step == "end":
        start = time.fromisoformat(data["start"])
        example = (datetime.combine(today, start) + timedelta(hours=2)).strftime("%H:%M")
        text = _("It starts at {start}. What time does it end? Type it like {example}.").format(
            start=fmt.bidi(data["start"]), example=fmt.bidi(example)
        )
    elif step == "until":
        text = _("Does it stop on a date? Type the last date, or tap “No end date”.")
        rows = [[button(_("No end date"), cb.PostNone())]]
    elif step == "skips":
        text = _(
            "Are there dates when it does not take place (holidays)? Type them like 24/12, 31/12, or tap “None”."
        )
        rows = [[button(_("None"), cb.PostNone())]]
    elif step == "where":
        text = _(
            "📍 Where is it? Type the address with its postcode, or send the place's location (📎 → Location)."
        )
    elif step == "venue":
        text = _("What is the place called? For example: St Mary's Church Hall.")
    elif step == "languages":
        text = _("Which languages are spoken there? Tap each, then “Done”.")
        chosen = set(data.get("languages") or ["en"])
        rows = _grid(
            [
                button(("✅ " if c in chosen else "") + fmt.clean(fmt.language_name(c), 24),
                       cb.PostToggleLanguage(c))
                for c in SPOKEN
            ],
            3,
        )  # fmt: skip
        rows.append([button(_("Done"), cb.PostDone())])
    elif step == "cost":
        text = _(
            "Is it free? Tap “Free”, or type what it costs (for example: £2, or pay what you can)."
        )
        rows = [[button(_("Free"), cb.PostNone())]]
    elif step == "needs":
        text = _("Tap everything that is true, then “Done”.")
        chosen = set(data.get("needs", []))
        rows = [
            [button(("✅ " if n in chosen else "") + need_label(n), cb.PostToggleNeed(n))]
            for n in NEEDS
        ]
        rows.append([button(_("Done"), cb.PostDone())])
    elif step == "contact":
        text = _(
            "How can people contact the organisers? Type an email, a phone number or a @username, or tap “Use the group's contact”."
        )
        rows = [[button(_("Use the group's contact"), cb.PostNone())]]
    else:
        raise ValueError(step)
    return View(text + "\n\n<i>" + _keys() + "</i>", Keyboard(rows) if rows else None)


PROBLEMS = {
    "empty": N_("Please type an answer."),
    "too_long": N_(
        "That is too long for the card: {length} characters, at most {limit}. Please shorten it."
    ),
    "bad_date": N_("I couldn't read that date. Please type it like 25/12/2026."),
    "past_date": N_("That date and time have already passed. Please choose a later one."),
    "not_a_day": N_("That date is not one of the days you chose. Please tap or type another."),
    "until_before": N_("The last date is before the first date. Please type a later one."),
    "bad_time": N_("I couldn't read that time. Please type the start and end like 18:00-20:00."),
    "end_before_start": N_("The end is not after the start. Please type it like 18:00-20:00."),
    "bad_skip": N_("I couldn't read the date {date}. Please type dates like 24/12, 31/12."),
    "skip_not_in_series": N_("{date} is not a date of this activity. Please check it."),
    "too_many_skips": N_("At most {limit} dates, please."),
    "no_postcode": N_("Please include the postcode, for example: 12 High Street, LS6 1AA."),
    "unknown_postcode": N_("I don't know the postcode {postcode}. Please check it."),
    "outside_uk": N_("That place is not in the UK. Please send the place's location again."),
    "use_buttons": N_("Please tap one of the buttons."),
    "no_days": N_("Please tap at least one day first."),
}


def problem(error: Problem) -> View:
    """A typed answer that cannot be taken: what is wrong (the question stands)."""
    args = {k: fmt.bidi(fmt.escape(str(v))) for k, v in error.args_.items()}
    return View("❗ " + gettext(PROBLEMS[error.code]).format(**args))


def hard_to_read_hint() -> str:
    """A gentle suggestion, never a block."""
    return _(
        "💡 Tip: many people will read this in a second language. Short sentences and everyday words help. You can keep it, or type /back to change it."
    )


def preview(card_text: str, pending: bool, missing: list[str]) -> View:
    """The card exactly as people will see it, then Publish / Change / Discard."""
    lines = [_("👀 <b>Preview</b>: this is how people will see it."), "", card_text, ""]
    if missing:
        names = fmt.join([gettext(SECTION_LABELS[s]) for s in missing])
        lines.append(_("Still missing: {parts}.").format(parts=names))
    elif pending:
        lines.append(
            _("Your first activities are checked by a group admin before people can see them.")
        )
    rows = []
    if not missing:
        rows.append([button(_("✅ Publish"), cb.PostPublish())])
    rows.append(
        row(button(_("✏️ Change something"), cb.PostFix()), button(_("🗑 Discard"), cb.PostDiscard()))
    )
    return View("\n".join(lines), Keyboard(rows))


def fix_picker() -> View:
    """Which part to change before publishing."""
    rows = _grid([button(gettext(SECTION_LABELS[s]), cb.PostSection(s)) for s in SECTIONS], 2)
    rows.append([button(_("⬅️ Back to the preview"), cb.PostPreview())])
    return View(_("What do you want to change?"), Keyboard(rows))


def _nobody_told() -> str:
    return _(
        "Your group has no admin here yet, so nobody could be told: ask your City of Sanctuary group to name one."
    )


def published(title: str, pending: bool, told: str | None = "admins") -> View:
    """The post went out, or waits for moderation (saying who was asked to check it)."""
    name = fmt.bidi(fmt.escape(title))
    if pending and told == "admins":
        return View(
            _(
                "📨 Thank you! “{title}” was sent to your group admin. You will hear from me when it is published."
            ).format(title=name)
        )
    if pending and told == "coordinators":
        return View(
            _(
                "📨 Thank you! “{title}” was sent to the City of Sanctuary network's coordinators, as your group has no admin here yet. You will hear from me when it is published."
            ).format(title=name)
        )
    if pending:
        text = _("📨 Thank you! “{title}” is saved and waits for a check.").format(title=name)
        return View(text + " " + _nobody_told())
    return View(
        _("🎉 “{title}” is published: people can find it now. See /myactivities.").format(
            title=name
        )
    )


def stopped(has_draft: bool) -> View:
    """/cancel: the question stops; the draft is kept."""
    if not has_draft:
        return View(_("Stopped."))
    return View(
        _("Stopped. Your answers are kept: /newactivity carries on where you were."),
        Keyboard([[button(_("🗑 Discard"), cb.PostDiscard())]]),
    )


def discarded() -> View:
    """The draft is gone."""
    return View(_("🗑 Discarded."))


def nothing_to_go_back_to() -> str:
    """/back at the first question."""
    return _("This is the first question.")


def not_allowed() -> str:
    """A role that is no longer there (removed volunteer, another group's activity)."""
    return _("Sorry, you can't change this activity. Ask your group admin.")


# --- /myactivities -------------------------------------------------------------------------


def status_key(activity: Activity) -> str:
    """The one status people see."""
    if activity.status == "published" and activity.paused:
        return "paused"
    if activity.status == "published" and activity.stale_since is not None:
        return "stale"
    return activity.status


def status_label(activity: Activity) -> str:
    """The status in words."""
    return gettext(STATUS_LABELS[status_key(activity)])


LISTED = 40  # activities listed by /myactivities


def _mark(activity: Activity, removed: bool) -> str:
    return "🗑" if removed else status_label(activity).split(" ")[0]


def my_list(items: list[Activity], removed: Collection[int] = (), missing: str = "") -> View:
    """The activities someone may manage, each a button (``removed``: after concerns;
    ``missing``: how many miss each language the readers use)."""
    if not items:
        return View(_("You have no activities yet. Send /newactivity to post one."))
    rows = [
        [button(f"{_mark(a, a.id in removed)} {fmt.clean(a.title, 50)}", cb.ManageOpen(a.id))]
        for a in items[:LISTED]
    ]
    text = _("📋 <b>Your activities</b>: tap one to manage it.")
    return View(text + ("\n" + missing if missing else ""), Keyboard(rows))


def removed(activity: Activity, card_text: str, reasons: list[str]) -> View:
    """An activity a reviewer removed after reported concerns, as its organisers see it."""
    text = _("🗑 Removed after reported concerns: {reasons}.").format(
        reasons=fmt.join([reason_label(r) for r in reasons])
    )
    lines = [text, _("Ask your City of Sanctuary coordinator if you think this is wrong."), ""]
    rows = [[button(_("⬅️ My activities"), cb.MyActivities())]]
    return View("\n".join([*lines, card_text]), Keyboard(rows))


def manage(
    activity: Activity, card_text: str, interested: int, note: str | None, series: bool
) -> View:
    """One activity with what can be done to it."""
    lines = [status_label(activity)]
    if note:
        lines.append(_("Your group admin wrote: {note}").format(note=fmt.bidi(fmt.escape(note))))
    lines.append(
        ngettext(
            "🙋 {count} person is interested.", "🙋 {count} people are interested.", interested
        ).format(count=fmt.number(interested))
    )
    lines += ["", card_text]
    aid = activity.id
    rows = [
        row(
            button(_("✏️ Edit"), cb.ManageEdit(aid)),
            button(_("✅ Still running"), cb.ManageStillRunning(aid)),
        )
    ]
    if activity.status == "published":
        pause = (
            button(_("▶️ Resume"), cb.ManageResume(aid))
            if activity.paused
            else button(_("⏸ Pause"), cb.ManagePause(aid))
        )
        if series:
            rows.append(row(button(_("🗓 Cancel one date"), cb.ManagePickDate(aid)), pause))
        else:
            rows.append([pause])
    if activity.status == "draft":
        rows.append([button(_("📨 Send for checking again"), cb.ManageResubmit(aid))])
    rows.append(
        row(
            button(_("💬 Feedback"), cb.ManageFeedback(aid)),
            button(_("❌ Cancel it"), cb.ManageCancelAsk(aid)),
        )
    )
    rows.append([button(_("🌐 Translations"), cb.TranslationLanguages(aid))])
    rows.append([button(_("⬅️ My activities"), cb.MyActivities())])
    return View("\n".join(lines), Keyboard(rows))


def edit_picker(activity_id: int) -> View:
    """Which part to edit."""
    rows = _grid(
        [
            button(gettext(SECTION_LABELS[s]), cb.ManageEditSection(activity_id, s))
            for s in SECTIONS
        ],
        2,
    )
    rows.append([button(_("⬅️ Back"), cb.ManageOpen(activity_id))])
    return View(_("What do you want to change?"), Keyboard(rows))


def dates_picker(activity_id: int, starts: list[datetime], tz: str) -> View:
    """The next dates, to cancel one."""
    if not starts:
        return View(_("No upcoming dates."))
    rows = [
        [button(fmt.bidi(fmt.when(s, tz)), cb.ManageCancelDate(activity_id, s))] for s in starts
    ]
    rows.append([button(_("⬅️ Back"), cb.ManageOpen(activity_id))])
    return View(
        _("Which date does not take place? People who asked for reminders will be told."),
        Keyboard(rows),
    )


def cancel_confirm(activity_id: int, title: str) -> View:
    """Cancel the whole activity? Once more."""
    return View(
        _(
            "Cancel “{title}” for good? It disappears from /find and people who asked for reminders are told."
        ).format(title=fmt.bidi(fmt.escape(title))),
        Keyboard(
            [
                row(
                    button(_("Yes, cancel it"), cb.ManageCancel(activity_id)),
                    button(_("No"), cb.ManageOpen(activity_id)),
                )
            ]
        ),
    )


def done() -> str:
    """A change was made (button answer)."""
    return _("✅ Done.")


def edit_saved(title: str, checked: bool = False, told: str | None = "admins") -> View:
    """An edit was applied (and, from a volunteer not yet trusted, waits for a check: saying
    who was asked to check it)."""
    name = fmt.bidi(fmt.escape(title))
    if checked and told == "admins":
        return View(
            _(
                "📨 “{title}” is updated and goes to your group admin for a check. It is hidden from /find until then."
            ).format(title=name)
        )
    if checked and told == "coordinators":
        return View(
            _(
                "📨 “{title}” is updated and goes to the City of Sanctuary network's coordinators for a check, as your group has no admin here yet. It is hidden from /find until then."
            ).format(title=name)
        )
    if checked:
        text = _(
            "📨 “{title}” is updated and waits for a check. It is hidden from /find until then."
        ).format(title=name)
        return View(text + " " + _nobody_told())
    return View(
        _("✅ “{title}” is updated. People who asked for reminders are told.").format(title=name)
    )


def feedback_summary(title: str, summary: Summary) -> View:
    """What people said, as aggregates (never who)."""
    name = fmt.bidi(fmt.escape(title))
    if not summary.answers:
        return View(_("💬 No feedback about “{title}” yet.").format(title=name))
    lines = [
        _("💬 <b>Feedback about “{title}”</b>").format(title=name),
        ngettext(
            "{count} person answered. How welcome they felt: {average} out of 5.",
            "{count} people answered. How welcome they felt: {average} out of 5.",
            summary.answers,
        ).format(count=fmt.number(summary.answers), average=fmt.bidi(str(summary.average))),
        " · ".join(f"{score}★ {count}" for score, count in enumerate(summary.scores, start=1)),
    ]
    if summary.words:
        lines.append("")
        room = 3500 - sum(len(line) + 1 for line in lines)
        for words in summary.words:  # whole entries only: a cut entity would break the HTML
            line = f"• {fmt.escape(words)}"
            room -= len(line) + 1
            if room < 0:
                lines.append("…")
                break
            lines.append(line)
    else:
        lines.append(_("Words people add are shown once at least 3 people have answered."))
    return View("\n".join(lines))


# --- /moderate -----------------------------------------------------------------------------


def moderation_item(activity: Activity, card_text: str, group: str, waiting: int) -> View:
    """One post waiting for a check, with approve / ask for changes / reject."""
    lines = [
        _("🛡 <b>Waiting for your check</b> ({group})").format(group=fmt.bidi(fmt.escape(group))),
        ngettext("{count} post waiting.", "{count} posts waiting.", waiting).format(
            count=fmt.number(waiting)
        ),
        "",
        card_text,
    ]
    aid = activity.id
    rows = [
        [button(_("✅ Approve"), cb.ModerateApprove(aid))],
        row(
            button(_("✏️ Ask for changes"), cb.ModerateChanges(aid)),
            button(_("⛔ Reject"), cb.ModerateReject(aid)),
        ),
    ]
    return View("\n".join(lines), Keyboard(rows))


def nothing_to_moderate() -> View:
    """An empty queue."""
    return View(_("✅ Nothing is waiting for a check."))


def ask_reason(outcome: str) -> View:
    """Why? (typed; shown to the volunteer)"""
    if outcome == "changes":
        return View(_("What should be changed? Type it: the volunteer will see your words."))
    return View(_("Why is it rejected? Type a short reason: the volunteer will see it."))


def moderated(outcome: str) -> str:
    """Answer to the moderator."""
    return {
        "approve": _("✅ Approved and published."),
        "changes": _("✏️ Sent back with your words."),
        "reject": _("⛔ Rejected."),
    }[outcome]


# Notices sent through the outbox (rendered in each reader's language when sent).
NOTICE_PENDING = N_("🛡 A new activity waits for your check: “{title}” ({group}). Open /moderate.")
NOTICE_APPROVED = N_("🎉 “{title}” was approved and is published. Thank you!")
NOTICE_CHANGES = N_("✏️ Please change “{title}”: {note}. Open /myactivities, then send it again.")
NOTICE_REJECTED = N_("“{title}” was not published: {note}.")
NOTICE_STALE = N_(
    "💤 “{title}” is hidden from /find because nobody said it is still running. Open /myactivities and tap “Still running” to show it again."
)


# --- rendered through the outbox -----------------------------------------------------------


def change_message(title: str, what: str, start: datetime | None, tz: str) -> View:
    """To people who asked for reminders: the activity changed, a date is off, or it stopped."""
    name = fmt.bidi(fmt.escape(title))
    if what == "date" and start is not None:
        text = _("🗓 “{title}” does not take place on {date}.").format(
            title=name, date=fmt.bidi(fmt.when(start, tz))
        )
    elif what == "cancelled":
        text = _("❌ “{title}” has been cancelled. I will not send reminders for it.").format(
            title=name
        )
    elif what == "paused":
        text = _("⏸ “{title}” is paused for now. I will tell you when it starts again.").format(
            title=name
        )
    elif what == "resumed":
        text = _("▶️ “{title}” is on again. See /reminders.").format(title=name)
    else:
        text = _("✏️ “{title}” has changed. See /reminders for the new details.").format(title=name)
    return View(text)


def still_running(activity_id: int, title: str) -> View:
    """To the organiser after 30 days: is it still running? One tap."""
    return View(
        _(
            "🗓 Is “{title}” still running? Please tell me, so people seeking sanctuary don't go to an empty room."
        ).format(title=fmt.bidi(fmt.escape(title))),
        Keyboard(
            [
                row(
                    button(_("✅ Yes, still running"), cb.FreshYes(activity_id)),
                    button(_("❌ No, it has ended"), cb.FreshEnded(activity_id)),
                )
            ]
        ),
    )


def fresh_answered(running: bool) -> View:
    """After the organiser answered."""
    if running:
        return View(_("✅ Thank you! It stays on /find."))
    return View(_("Thank you. It is cancelled and gone from /find."))


def feedback_question(activity_id: int, title: str) -> View:
    """After an occurrence, to people who said they were interested: how welcome did you feel?"""
    return View(
        _(
            "How welcome did you feel at “{title}”? Tap a number: 1 not at all, 5 very welcome. Your answer is anonymous."
        ).format(title=fmt.bidi(fmt.escape(title))),
        Keyboard([row(*[button(str(n), cb.FeedbackScore(activity_id, n)) for n in range(1, 6)])]),
    )


def feedback_thanks() -> View:
    """Thanks; words are optional."""
    return View(
        _(
            "Thank you! If you want, type a few words for the organisers (they never see who wrote them), or tap “Done”."
        ),
        Keyboard([[button(_("Done"), cb.FeedbackDone())]]),
    )


def feedback_words_added() -> View:
    """Words stored."""
    return View(_("✅ Thank you, your words were added."))


def feedback_closed() -> str:
    """Done."""
    return _("Thank you.")
