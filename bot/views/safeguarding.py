"""What people see of safeguarding: reporting a concern, reviewing reports, the safeguarding
contact, and "I'm interested". Reporters are never named to anyone."""

from __future__ import annotations

from collections.abc import Sequence

from bot import callbacks as cb
from bot.i18n import N_, gettext, ngettext
from bot.views import formatting as fmt
from bot.views.common import TEXT_LIMIT, View, button, fit_blocks, more_not_shown, row
from bot.views.keyboard import Keyboard
from storage.safeguarding import Report

_ = gettext
REPORTS_SHOWN = 10  # activities in one /reports message (two buttons each)
REASON_LABELS = {
    "wrong": N_("Wrong information"),
    "unsafe": N_("It feels unsafe"),
    "money": N_("They ask for money or documents"),
    "other": N_("Something else"),
}


def reason_label(code: str) -> str:
    """A report reason in words."""
    label = REASON_LABELS.get(code)
    return gettext(label) if label else code


def report_reasons(activity_id: int, mark: str) -> View:
    """Why are you worried? Four reasons and a way out."""
    text = "\n\n".join(
        [
            _("⚠️ <b>Report a concern</b>"),
            _("What worries you about this activity?"),
            _("Your report is anonymous: the organisers never see who sent it."),
        ]
    )
    rows = [
        [button(reason_label(code), cb.FileReport(activity_id, code, mark))]
        for code in REASON_LABELS
    ]
    rows.append([button(_("Cancel"), cb.CancelReport())])
    return View(text, Keyboard(rows))


def report_filed(told: str | None) -> View:
    """Thanks, who was told (only what happened), and an optional few words."""
    if told == "contact":
        text = _(
            "✅ Thank you. The group's safeguarding contact has been told. If you want, type a few words about what happened, or tap Done."
        )
    elif told == "admins":
        text = _(
            "✅ Thank you. The group's admins have been told. If you want, type a few words about what happened, or tap Done."
        )
    elif told == "coordinators":
        text = _(
            "✅ Thank you. The City of Sanctuary network's coordinators have been told. If you want, type a few words about what happened, or tap Done."
        )
    else:
        text = _(
            "✅ Thank you. Your report is kept and will be reviewed. If you want, type a few words about what happened, or tap Done."
        )
    return View(text, Keyboard([[button(_("Done"), cb.ReportDone())]]))


def report_already() -> View:
    """A second report from the same person."""
    return View(_("You have already reported this activity. Thank you: it will be reviewed."))


def words_added() -> View:
    """The reporter's words were added."""
    return View(_("✅ Thank you, your words were added to the report."))


def report_closed() -> str:
    """Done, or cancelled."""
    return _("Thank you.")


def concern_notice(title: str, group: str, reason: str, hidden: bool) -> View:
    """To the safeguarding contact and admins: a new concern (never who reported it)."""
    lines = [
        _("⚠️ A concern was reported about “{title}” ({group}): {reason}.").format(
            title=fmt.bidi(fmt.escape(title)),
            group=fmt.bidi(fmt.escape(group)),
            reason=reason_label(reason),
        )
    ]
    if hidden:
        lines.append(_("🚫 After several reports it is hidden from search until it is reviewed."))
    lines.append(_("Please review it with /reports."))
    return View("\n".join(lines))


def reports_list(items: Sequence[tuple[int, str, str, bool, list[Report]]]) -> View:
    """Open reports by activity, with restore / remove buttons."""
    if not items:
        return View(_("No open reports. Thank you for keeping people safe."))
    blocks = []
    rows = []
    for activity_id, title, group, hidden, reports in items:
        state = _("hidden from search") if hidden else _("still shown")
        block = [
            f"<b>{fmt.escape(fmt.clean(title, 80))}</b> ({fmt.escape(fmt.clean(group, 60))}) · "
            + state
        ]
        size = 0  # whole reports, as many as a third of a message holds: others show too
        for report in reports:
            words = f": {fmt.escape(report.words)}" if report.words else ""
            line = f"• {reason_label(report.reason)}{words}"
            size += fmt.parsed_length(line) + 1
            if size > TEXT_LIMIT // 3:
                block.append(more_not_shown(len(reports) - (len(block) - 1)))
                break
            block.append(line)
        block.append("")
        blocks.append(block)
        show, remove = review_buttons(title)
        rows.append(
            row(
                button(show, cb.ReviewShowAgain(activity_id)),
                button(remove, cb.ReviewRemoveAsk(activity_id)),
            )
        )
    text, shown = fit_blocks([_("⚠️ <b>Open reports</b>"), ""], blocks, most=REPORTS_SHOWN)
    return View(text.rstrip(), Keyboard(rows[:shown]))


def review_buttons(title: str) -> tuple[str, str]:
    """The words of a concern's two buttons: show the activity again, remove it."""
    short = fmt.bidi(fmt.clean(title, 20))
    return (
        _("✅ Show “{title}”").format(title=short),
        _("🗑 Remove “{title}”").format(title=short),
    )


def remove_confirm(activity_id: int, title: str) -> View:
    """/reports "Remove": asked once before the activity goes for good."""
    text = _(
        "🗑 Remove “{title}”? People will no longer find it. The group's admins will still see it in /myactivities, as removed, with the reasons."
    ).format(title=fmt.bidi(fmt.escape(fmt.clean(title, 80))))
    rows = [
        [button(_("🗑 Yes, remove it"), cb.ReviewRemove(activity_id))],
        [button(_("⬅️ Back"), cb.ReviewList())],
    ]
    return View(text, Keyboard(rows))


def reviewed(outcome: str) -> str:
    """After a review."""
    if outcome == "restored":
        return _("✅ The activity is shown again.")
    return _("🗑 The activity was removed.")


def contact_picker(
    group: str, group_id: int, members: list[tuple[int, str]], current: str | None
) -> View:
    """/safeguarding: choose the contact among the team."""
    lines = [
        _(
            "🛡 Who is the safeguarding contact of {group}? They are told at once when someone reports a concern about one of its activities."
        ).format(group=fmt.bidi(fmt.escape(group)))
    ]
    if current:
        lines.append(_("Now: {name}").format(name=fmt.bidi(fmt.escape(current))))
    if not members:
        lines.append(_("No volunteers yet. Send /invite to invite one."))
        return View("\n\n".join(lines))
    rows = [
        [button(label[:30] or f"#{uid}", cb.SetSafeguardingContact(group_id, uid))]
        for uid, label in members
    ]
    return View("\n\n".join(lines), Keyboard(rows))


def contact_set(name: str, group: str) -> View:
    """The contact was set."""
    return View(
        _("🛡 {name} is now the safeguarding contact of {group}.").format(
            name=fmt.bidi(fmt.escape(name)), group=fmt.bidi(fmt.escape(group))
        )
    )


def contact_line(name: str | None) -> str:
    """In the team list: who the safeguarding contact is, or how to choose one."""
    if name is None:
        return _("🛡 No safeguarding contact yet: choose one with /safeguarding.")
    return _("🛡 Safeguarding contact: {name}").format(name=fmt.bidi(fmt.escape(name)))


def interest_marked(marked: bool) -> str:
    """Pop-up after "I'm interested"."""
    if marked:
        return _("🙋 Thank you! The organisers see only how many people are interested.")
    return _("Your interest was removed.")


def interest_lines(counts: list[tuple[str, int]]) -> list[str]:
    """For the team list: how many people are interested in each activity."""
    return [
        ngettext(
            "🙋 {count} person interested: {title}",
            "🙋 {count} people interested: {title}",
            count,
        ).format(count=fmt.number(count), title=fmt.bidi(fmt.escape(title)))
        for title, count in counts
    ]
