"""What the coordinators' desk (a Mini App, bot/web/desk.py) shows, in the current locale: the
page's own words, the figures' names, and charts drawn as SVG by the server.

The page sets every text here as text (never as HTML): only ``chart`` returns markup, built
here from numbers and escaped labels. Words the bot already says (its moderation buttons and
answers, the reasons of a concern) are the bot's own msgids, so a translation is made once.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import date, datetime

from babel.dates import format_skeleton
from telegram import MenuButton, MenuButtonWebApp, WebAppInfo

from bot.i18n import N_, current_language, gettext
from bot.views import formatting as fmt
from bot.views.common import View
from bot.views.keyboard import Key, Keyboard
from bot.views.safeguarding import reason_label
from storage.roles import ADMIN, COORDINATOR
from storage.stats import Figure

_ = gettext

# The page's words, sent as JSON with /desk/api/me (the page has no catalog of its own).
TEXTS = {
    "title": N_("Desk"),
    "overview": N_("Overview"),
    "review": N_("Review"),
    "activities": N_("Activities"),
    "audit": N_("Audit log"),
    "loading": N_("Loading…"),
    "failed": N_("Sorry, something went wrong on our side. Please try again in a moment."),
    "total": N_("Total"),
    "moderation": N_("Check volunteers' posts"),
    "concerns": N_("Concerns to look at"),
    "nothing_waiting": N_("✅ Nothing is waiting for a check."),
    "no_concerns": N_("No open reports. Thank you for keeping people safe."),
    "approve": N_("✅ Approve"),
    "changes": N_("✏️ Ask for changes"),
    "reject": N_("⛔ Reject"),
    "ask_changes": N_("What should be changed? Type it: the volunteer will see your words."),
    "ask_reject": N_("Why is it rejected? Type a short reason: the volunteer will see it."),
    "send": N_("Send"),
    "cancel": N_("Cancel"),
    "hidden": N_("hidden from search"),
    "shown": N_("still shown"),
    "remove_yes": N_("🗑 Yes, remove it"),
    "everything": N_("Everything"),
    "every_group": N_("Every group"),
    "more": N_("Show more"),
    "nothing": N_("Nothing to show."),
    "groups": N_("Groups and people"),
    "campaigns": N_("Campaign calls"),
}

FIGURES = {
    "users_by_purpose": N_("People by what brings them"),
    "users_by_language": N_("People by language"),
    "people_with_role": N_("People with a role"),
    "alert_subscribers": N_("Subscribed to campaign calls"),
    "groups": N_("Groups"),
    "activities": N_("Activities"),
    "activities_active": N_("Activities still to come"),
    "activities_stale": N_("Hidden: nobody said they are still running"),
    "untranslated_for_readers": N_("Published activities without a title in each language"),
    "activities_added": N_("Activities added, by month"),
    "reminders_sent": N_("Reminders sent, by month"),
    "digests_sent": N_("Weekly digests sent, by month"),
    "calls_launched": N_("Campaign calls, by month"),
    "call_messages_sent": N_("Campaign messages sent, by month"),
    "calls_i_did_it": N_("“I did it”, by month"),
    "concerns": N_("Concerns"),
}

KEYS = {
    "seeking": N_("I'm looking for welcome and support"),
    "volunteer": N_("volunteer"),
    "supporter": N_("I want to support campaigns"),
    "not said": N_("not said"),
    "not chosen": N_("not said"),
    "coordinator": N_("network coordinator"),
    "admin": N_("group admin"),
    "group": N_("City of Sanctuary group"),
    "stream": N_("Stream of Sanctuary"),
    "published": N_("published"),
    "pending": N_("waiting for a check"),
    "hidden": N_("hidden from search"),
    "cancelled": N_("cancelled"),
    "draft": N_("draft"),
    "open": N_("open"),
    "reviewed": N_("reviewed"),
}
# The audit log's kinds of line (an action, or every action named ``<kind>_...``).
AUDIT_KINDS = {
    "grant": N_("Roles given"),
    "revoke": N_("Roles taken away"),
    "refused": N_("Refused"),
    "invite": N_("Invites made"),
    "moderation": N_("Posts checked"),
    "report": N_("Concerns reviewed"),
    "activity": N_("Activities changed"),
    "campaign": N_("Campaign calls"),
    "group": N_("Group contacts changed"),
    "safeguarding": N_("Safeguarding contacts chosen"),
}
# The totals of now whose days kept make a chart over time (people, alert subscribers,
# people with a role, activities still to come, hidden for want of an answer).
HISTORY = frozenset(
    {"users_by_purpose", "alert_subscribers", "people_with_role", "activities_active",
     "activities_stale"}
)  # fmt: skip
_LANGUAGE_KEYED = ("users_by_language", "untranslated_for_readers")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def texts() -> dict[str, str]:
    """The page's words in the current locale, and its direction and language."""
    language = current_language()
    words = {name: gettext(msgid) for name, msgid in TEXTS.items()}
    return {**words, "lang": language.code.replace("_", "-"), "dir": _direction()}


def _direction() -> str:
    return "rtl" if current_language().rtl else "ltr"


def audit_kind(action: str) -> str:
    """An audit line's kind in words (the action's own code for a kind not listed)."""
    for kind, label in AUDIT_KINDS.items():
        if action == kind or action.startswith(kind + "_"):
            return gettext(label)
    return action


def audit_kinds() -> list[dict[str, str]]:
    """The audit log's filter: each kind's code and its words."""
    return [{"value": kind, "label": gettext(label)} for kind, label in AUDIT_KINDS.items()]


def key_label(figure: str, key: str) -> str:
    """A figure's key in words: a language's own name, a purpose, a status..."""
    if figure in _LANGUAGE_KEYED:
        from bot.i18n import BY_CODE

        language = BY_CODE.get(key)
        if language is not None:
            return language.native_name
    msgid = KEYS.get(key)
    return gettext(msgid) if msgid else key


def counted_at(moment: datetime, tz: str) -> str:
    """When the figures shown were counted, in the locale's words and the network's time."""
    return _("Counted on {when}.").format(when=fmt.when(moment, tz))


def day_label(day: str) -> str:
    """``2026-11-24`` as the locale writes a day and month (``24 Nov``)."""
    language = current_language()
    text = format_skeleton("MMMd", date.fromisoformat(day), locale=language.locale)
    return fmt.native_digits(text, language.babel)


def month_label(month: str) -> str:
    """``2026-11`` as the locale writes a month and year (``Nov 2026``)."""
    found = _MONTH.match(month)
    if found is None:
        return month
    language = current_language()
    text = format_skeleton("yMMM", date(int(found[1]), int(found[2]), 1), locale=language.locale)
    return fmt.native_digits(text, language.babel)


def overview(
    figures: Iterable[Figure], history: Iterable[tuple[str, str, str, int]] = ()
) -> list[dict[str, object]]:
    """The figures in sections, in the order counted: each with its title, its rows (label,
    the count as the locale writes it, and the raw figure, key, month and count, so a check
    can read them), a chart of the months for a figure over time, and for the network's
    totals of now (people, activities still to come...) a chart of their days kept
    (``history``: day, figure, key, count)."""
    sections: dict[str, dict[str, object]] = {}
    for f in figures:
        section = sections.setdefault(
            f.figure,
            {
                "figure": f.figure,
                "title": gettext(FIGURES.get(f.figure, f.figure)),
                "rows": [],
                "chart": "",
            },
        )
        label = month_label(f.month) if f.month else key_label(f.figure, f.key) if f.key else ""
        rows = section["rows"]
        assert isinstance(rows, list)
        rows.append(
            {
                "label": label or gettext(TEXTS["total"]),
                "count": fmt.number(f.count),
                "raw": {"figure": f.figure, "key": f.key, "month": f.month, "count": f.count},
            }
        )
    days: dict[str, dict[str, int]] = {}  # figure -> day -> total
    for day, figure, _key, count in history:
        totals = days.setdefault(figure, {})
        totals[day] = totals.get(day, 0) + count
    for section in sections.values():
        kept = days.get(str(section["figure"]), {})
        section["history"] = (
            chart(
                str(section["title"]),
                [(day_label(d), count) for d, count in kept.items()],
                over_time=True,
            )
            if section["figure"] in HISTORY and len(kept) > 1
            else ""
        )
        rows = section["rows"]
        assert isinstance(rows, list)
        raws = [r["raw"] for r in rows]
        over_time = any(raw["month"] for raw in raws)
        if over_time or len(rows) > 1:
            section["chart"] = chart(
                str(section["title"]),
                [(str(r["label"]), int(raw["count"])) for r, raw in zip(rows, raws, strict=True)],
                over_time=over_time,
            )
    return list(sections.values())


def chart(title: str, points: list[tuple[str, int]], *, over_time: bool) -> str:
    """A bar chart as SVG: columns left to right for months (time runs so in every script),
    else one bar a row with its label. Labels are escaped; nothing else is text."""
    esc = html.escape
    top = max((count for _label, count in points), default=0) or 1
    if over_time:
        width, height, base = 320, 150, 120
        step = width / max(len(points), 1)
        bar = min(max(step * 0.7, 2.0), 40.0)
        parts = []
        for i, (label, count) in enumerate(points):
            h = round(count / top * (base - 20), 1)
            x = round(i * step + (step - bar) / 2, 1)
            parts.append(
                f'<rect x="{x}" y="{base - h}" width="{round(bar, 1)}" height="{h}">'
                f"<title>{esc(label)}: {esc(fmt.number(count))}</title></rect>"
            )
        first, last = points[0][0], points[-1][0]
        parts.append(f'<text x="0" y="{base + 18}" text-anchor="start">{esc(first)}</text>')
        if len(points) > 1:
            parts.append(f'<text x="{width}" y="{base + 18}" text-anchor="end">{esc(last)}</text>')
        parts.append(f'<text x="0" y="12">{esc(fmt.number(top))}</text>')
        body = "".join(parts)
    else:
        width, row_h = 320, 22
        height = row_h * len(points)
        start = 0 if _direction() == "ltr" else None
        parts = []
        for i, (label, count) in enumerate(points):
            w = round(count / top * width, 1)
            x = start if start is not None else round(width - w, 1)
            parts.append(
                f'<rect x="{x}" y="{i * row_h + 4}" width="{w}" height="{row_h - 8}">'
                f"<title>{esc(label)}: {esc(fmt.number(count))}</title></rect>"
            )
        body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(title)}" class="chart">{body}</svg>'
    )


def concern_lines(reasons: Iterable[tuple[str, str | None]]) -> list[str]:
    """A concern's reasons in words, each with the reporter's words if any (as text)."""
    return [f"{reason_label(code)}{': ' + words if words else ''}" for code, words in reasons]


def plain(telegram_html: str) -> str:
    """A card's Telegram HTML as plain text for the page (tags dropped, entities read)."""
    return html.unescape(re.sub(r"<[^>]+>", "", telegram_html))


# -- in the chat: /desk and the menu button ---------------------------------------------------


def menu_button_text() -> str:
    """The chat's menu button that opens the desk (short: Telegram shows a few words)."""
    return gettext(TEXTS["title"])


def menu_button(public_url: str | None, roles: frozenset[str]) -> MenuButton | None:
    """The chat's menu button for someone with these roles, in the current language: the
    desk for coordinators and group admins (when the bot has a public address); None for
    Telegram's default (the command menu)."""
    if public_url is None or not roles & {ADMIN, COORDINATOR}:
        return None
    return MenuButtonWebApp(menu_button_text(), WebAppInfo(desk_url(public_url)))


def desk_url(public_url: str) -> str:
    """The desk's page at the bot's public address."""
    return public_url.rstrip("/") + "/desk/"


def open_desk(public_url: str) -> View:
    """/desk: what the desk is, and the button that opens it."""
    text = _(
        "🗂 The desk: the network's figures, posts waiting for a check, concerns and the audit log."
    )
    return View(text, Keyboard([[Key(_("🗂 Open the desk"), web_app=desk_url(public_url))]]))


def sign_in_again() -> str:
    """The desk's sign-in is missing, forged or more than a day old."""
    return _("Please open the desk again from the chat: send /desk.")


def not_set_up() -> View:
    """/desk on a bot without a public web address (SANCTUARY_PUBLIC_URL)."""
    return View(_("The desk is not set up on this bot yet. Ask the person who runs the bot."))
