"""An activity's card: what it is, when, where and who organises it, with its buttons."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from babel.dates import get_day_names

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.domain.recurrence import Occurrence, Repeat
from bot.domain.translations import Note
from bot.i18n import N_, current_language, gettext
from bot.search.directory import activity_needs
from bot.views import formatting as fmt
from bot.views.common import View, button, row, title_note
from bot.views.keyboard import Key, Keyboard
from bot.views.labels import category_label, need_label
from storage.models import Activity, Group

_ = gettext

# A card leaves room for what is shown around it (a preview's or a moderator's lines).
CARD_LIMIT = 3500
# A card too long for CARD_LIMIT shows each field at most this long (a typed answer's limit).
CARD_CUTS = {"title": 80, "description": 600, "place": 300, "cost": 80, "contact": 120,
             "group": 100, "languages": 12}  # fmt: skip

ORDINALS = {
    1: N_("Every month on the first {weekday}"),
    2: N_("Every month on the second {weekday}"),
    3: N_("Every month on the third {weekday}"),
    4: N_("Every month on the fourth {weekday}"),
    -1: N_("Every month on the last {weekday}"),
}


def describe_repeat(activity: Activity, tz: str) -> str:
    """``Every Tuesday and Thursday, 18:00–20:00`` and similar."""
    repeat = Repeat.from_rrule(activity.rrule)
    names = get_day_names("wide", locale=current_language().locale)
    days = [names[d] for d in repeat.days]
    hours = _("{start}–{end}").format(
        start=fmt.clock(activity.starts_at, tz),
        end=fmt.clock(activity.starts_at + timedelta(minutes=activity.duration_min), tz),
    )
    if repeat.kind == "once":
        when = _("{day}, {time}").format(day=fmt.day(activity.starts_at, tz), time=hours)
        return _("Once: {when}").format(when=when)
    if repeat.kind == "monthly":
        text = gettext(ORDINALS[repeat.nth]).format(weekday=days[0])
    else:
        joined = fmt.join(days)
        if repeat.kind == "fortnightly":
            text = _("Every other {days}").format(days=joined)
        else:
            text = _("Every {days}").format(days=joined)
    text = _("{repeat}, {hours}").format(repeat=text, hours=hours)
    if activity.until:
        text += " " + _("(until {date})").format(
            date=fmt.day(datetime.combine(activity.until, time(12), tzinfo=UTC), tz)
        )
    return text


def card(
    activity: Activity,
    group: Group,
    occurrences: list[Occurrence],
    km: float | None,
    back: SearchState | None,
    reminded: bool = False,
    interested: bool = False,
    report_mark: str = "",
    note: Note = "",
) -> View:
    """Everything about one activity, with map, calendar, reminder and English buttons
    (``report_mark``: what makes "Report a concern" this reader's own, see Services;
    ``activity`` in the reader's language where translated, ``note`` saying when it is not).

    It leads with what is always in the reader's language (the kind, day and time, cost,
    needs, languages, distance), then what the organiser wrote.

    Within CARD_LIMIT as Telegram counts it, whatever was stored (an imported row may hold
    more than a typed answer may): a card too long shows each typed field at most as long as
    a typed answer may be (whole words, then "…"), a few languages and no needs line.
    """
    text = "\n".join(_card_lines(activity, group, occurrences, km, False, note))
    if fmt.parsed_length(text) > CARD_LIMIT:
        text = "\n".join(_card_lines(activity, group, occurrences, km, True, note))
    rows = [
        row(
            button(_("🗺 Map"), cb.CardMap(activity.id)),
            button(_("📅 Add to calendar"), cb.CardCalendar(activity.id)),
        ),
    ]
    rows.append([reminder_button(activity.id, reminded)])
    rows.append(
        row(
            interest_button(activity.id, interested),
            button(_("⚠️ Report a concern"), cb.ReportConcern(activity.id, report_mark)),
        )
    )
    last = [share_button(activity.id)]  # after the others: their places stay as they were
    if current_language().code != "en":
        last.append(button(_("🇬🇧 Show in English"), cb.CardInEnglish(activity.id)))
    rows.append(row(*last))
    if back is not None:
        rows.append([button(_("⬅️ Back to results"), cb.SearchPage(back))])
    return View(text, Keyboard(rows))


def _card_lines(
    activity: Activity,
    group: Group,
    occurrences: list[Occurrence],
    km: float | None,
    short: bool,
    note: Note = "",
) -> list[str]:
    """The card's lines; ``short``: every field cut to what a typed answer may hold."""

    def cut(text: str, limit: int) -> str:
        if not short or fmt.typed_length(text) <= limit:
            return text
        words = text[:limit].rsplit(None, 1)[0] if " " in text[:limit] else text[: limit - 1]
        return words + "…"

    tz = group.timezone
    kind = category_label(activity.category)
    if km is not None:
        kind += " · " + fmt.bidi(fmt.distance(km))
    lines = [f"<b>{kind}</b>"]
    lines.append(_("🗓 <b>When:</b> {schedule}").format(schedule=describe_repeat(activity, tz)))
    if occurrences:
        separator = "؛ " if current_language().rtl else "; "  # the Arabic-script semicolon
        dates = separator.join(fmt.bidi(fmt.when(o.start, tz)) for o in occurrences)
        lines.append(_("Next: {dates}").format(dates=dates))
    else:
        lines.append(_("No upcoming dates."))
    cost = fmt.escape(cut(activity.cost, CARD_CUTS["cost"])) if activity.cost else _("Free")
    lines.append(_("💷 <b>Cost:</b> {cost}").format(cost=cost))
    needs = [need_label(n) for n in sorted(activity_needs(activity)) if n != "free"]
    if needs and not short:
        lines.append("✅ " + " · ".join(needs))
    codes = activity.languages[: CARD_CUTS["languages"]] if short else activity.languages
    languages = fmt.join([fmt.language_name(code) for code in codes])
    lines.append(_("🗣 <b>Languages:</b> {languages}").format(languages=fmt.escape(languages)))
    lines.append("")
    lines.append(f"<b>{fmt.escape(cut(activity.title, CARD_CUTS['title']))}</b>" + title_note(note))
    if activity.description:
        lines.append(fmt.escape(cut(activity.description, CARD_CUTS["description"])))
    place = ", ".join(p for p in (activity.venue, activity.address, activity.postcode) if p)
    where = fmt.bidi(fmt.escape(cut(place, CARD_CUTS["place"]))) if place else ""
    lines.append(_("📍 <b>Where:</b> {place}").format(place=where))
    lines.append("")
    organiser = fmt.bidi(fmt.escape(cut(group.name, CARD_CUTS["group"])))
    if group.verified:
        lines.append(_("👥 <b>Organised by:</b> {group} ✔️ verified").format(group=organiser))
    else:
        lines.append(_("👥 <b>Organised by:</b> {group}").format(group=organiser))
    contact = activity.contact or group.email or group.phone or group.website or ""
    if contact:
        contact = fmt.bidi(fmt.escape(cut(contact, CARD_CUTS["contact"])))
        lines.append(_("✉️ <b>Contact:</b> {contact}").format(contact=contact))
    return lines


def reminder_button(activity_id: int, reminded: bool) -> Key:
    """ "Remind me" on a card, or "Stop reminders" once asked for."""
    if reminded:
        return button(_("🔕 Stop reminders"), cb.StopRemindingFromCard(activity_id))
    return button(_("⏰ Remind me"), cb.RemindMe(activity_id))


def share_button(activity_id: int) -> Key:
    """ "📤 Share" on a card: a forwardable message with the card's link."""
    return button(_("📤 Share"), cb.ShareActivity(activity_id))


def interest_button(activity_id: int, interested: bool) -> Key:
    """ "I'm interested" on a card, ticked once pressed (pressing again takes it back)."""
    label = _("✅ I'm interested") if interested else _("🙋 I'm interested")
    return button(label, cb.Interested(activity_id))
