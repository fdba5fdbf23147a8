"""Reminders, their list and settings, and the weekly digest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot import callbacks as cb
from bot.domain.recurrence import Occurrence
from bot.domain.translations import Note
from bot.i18n import gettext
from bot.search.directory import Hit, Listing
from bot.views import formatting as fmt
from bot.views.common import MAX_BUTTONS, View, button, fit_blocks, shown_title, title_note
from bot.views.keyboard import Keyboard
from bot.views.labels import category_label
from storage.models import Activity, Group

_ = gettext


def reminder_message(
    activity: Activity, group: Group, start: datetime, cancelled: bool, note: Note = ""
) -> View:
    """A reminder of one occurrence (or the news that it is cancelled); ``activity`` in the
    reader's language where translated, ``note`` saying when it is not."""
    title = fmt.bidi(fmt.escape(activity.title)) + title_note(note)
    when = fmt.bidi(fmt.when(start, group.timezone))
    if cancelled:
        head = _("❌ Cancelled: {title}").format(title=f"<b>{title}</b>")
        return View(f"{head}\n🗓 {when}")
    head = _("⏰ Reminder: {title}").format(title=f"<b>{title}</b>")
    place = ", ".join(p for p in (activity.venue, activity.address, activity.postcode) if p)
    lines = [head, f"🗓 {when}"]
    if place:
        lines.append(f"📍 {fmt.bidi(fmt.escape(place))}")
    return View("\n".join(lines))


def reminders_list(
    items: list[tuple[Listing, Group, Occurrence | None]],
    titles: Mapping[int, tuple[str, Note]] | None = None,
) -> View:
    """The person's reminders, each with a button to stop it (``titles``: in the reader's
    language)."""
    lines = ["<b>" + _("Your reminders") + "</b>", ""]
    rows = []
    if not items:
        lines.append(_("You have no reminders yet. Open an activity and tap “⏰ Remind me”."))
    blocks = []
    for number, (activity, group, nxt) in enumerate(items, start=1):
        when = fmt.bidi(fmt.when(nxt.start, group.timezone)) if nxt else _("No upcoming dates.")
        title, note = shown_title(activity, titles)
        blocks.append([f"{fmt.number(number)}. <b>{fmt.escape(title)}</b>{note} · {when}"])
        label = f"🔕 {fmt.number(number)}. {title[:40]}"
        rows.append([button(label, cb.StopReminder(activity.id))])
    text, shown = fit_blocks(lines, blocks, most=MAX_BUTTONS - 1)  # and the settings button
    keys = [*rows[:shown], [button(_("⚙️ Reminder settings"), cb.ReminderSettings())]]
    return View(text, Keyboard(keys))


def reminder_settings(day_before: bool, hour_before: bool, digest: bool = False) -> View:
    """Switch the day-before and hour-before reminders and the weekly digest on and off."""
    text = "\n".join(
        [
            "<b>" + _("Reminder settings") + "</b>",
            _("When should I remind you?"),
            _("I send reminders between 08:00 and 21:00, except the one an hour before."),
            _("Weekly digest: every Monday morning, the week's activities near your saved area."),
        ]
    )
    rows = [
        [button(("✅ " if day_before else "▫️ ") + _("24 hours before"), cb.ToggleDayBefore())],
        [button(("✅ " if hour_before else "▫️ ") + _("1 hour before"), cb.ToggleHourBefore())],
        [button(("✅ " if digest else "▫️ ") + _("📰 Weekly digest"), cb.ToggleDigest())],
        [button(_("🚚 I've moved"), cb.Moved())],
        [button(_("⬅️ Menu"), cb.MenuShow())],
    ]
    return View(text, Keyboard(rows))


def digest_message(
    area: str | None,
    listed: list[tuple[Hit, Occurrence]],
    titles: Mapping[int, tuple[str, Note]] | None = None,
) -> View:
    """The weekly digest: this week's activities near the saved area, nearest first
    (``titles``: in the reader's language)."""
    place = fmt.bidi(fmt.escape(area)) if area else _("my area")
    lines = [_("📰 <b>This week near {place}</b>").format(place=place), ""]
    blocks = []
    for number, (hit, nxt) in enumerate(listed, start=1):
        icon = category_label(hit.activity.category).split(" ", 1)[0]
        title, note = shown_title(hit.activity, titles)
        blocks.append(
            [
                f"{fmt.number(number)}. {icon} <b>{fmt.escape(title)}</b>{note} — "
                f"{fmt.bidi(fmt.distance(hit.km))}",
                f"    {fmt.bidi(fmt.when(nxt.start, hit.group.timezone))}",
            ]
        )
    text, _shown = fit_blocks(lines, blocks, ["", _("You can stop this in /settings.")])
    return View(text)
