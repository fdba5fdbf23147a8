"""What sharing shows: an activity's forwardable short form, a group's page opened from its
link, the kind words for a link that leads nowhere, and inline-mode hints.

Nothing here names or places the person who shares: no distance from them, no name.
"""

from __future__ import annotations

import html

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
)

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.delivery.transport import DEFAULTS
from bot.domain.recurrence import Occurrence
from bot.i18n import gettext
from bot.views import formatting as fmt
from bot.views.cards import describe_repeat
from bot.views.common import PAGE_SIZE, View, button, fit_blocks, row
from bot.views.keyboard import Key, Keyboard
from bot.views.labels import category_label, stream_label
from storage.models import Activity, Group

_ = gettext
SHORT_CUTS = {"title": 80, "place": 120, "cost": 80, "group": 100}  # typed answers' limits
GROUP_LISTED = 10  # activities on a group's page (two rows of number buttons)
INLINE_START = "find"  # the /start payload of inline mode's "type a town" button


def _cut(text: str, limit: int) -> str:
    if fmt.typed_length(text) <= limit:
        return text
    head = text[:limit]
    return (head.rsplit(None, 1)[0] if " " in head else head[: limit - 1]) + "…"


def share_hint() -> str:
    """The pop-up when "Share" is pressed (the message itself stays free of it)."""
    return _("Forward the message below to a friend.")


def _link(url: str) -> str:
    """A link written out (to copy as well as to tap), marked as a link rather than left for
    Telegram to guess where it ends next to the isolates around it."""
    return fmt.bidi(f'<a href="{html.escape(url)}">{fmt.escape(url)}</a>')


def open_button(link: str) -> Keyboard:
    """The one button of a shared message: open it in the bot."""
    return Keyboard([[Key(_("📲 Open in the bot"), url=link)]])


def activity_short(activity: Activity, group: Group, nxt: Occurrence | None, link: str) -> str:
    """An activity's short form with its link, to forward or to send from inline mode."""
    tz = group.timezone
    lines = [
        f"<b>{fmt.escape(_cut(activity.title, SHORT_CUTS['title']))}</b>",
        category_label(activity.category),
        _("🗓 <b>When:</b> {schedule}").format(schedule=describe_repeat(activity, tz)),
    ]
    if nxt is not None:
        lines.append(_("Next: {dates}").format(dates=fmt.bidi(fmt.when(nxt.start, tz))))
    place = ", ".join(p for p in (activity.venue, activity.postcode or group.town) if p)
    place = fmt.bidi(fmt.escape(_cut(place, SHORT_CUTS["place"])))
    lines.append(_("📍 <b>Where:</b> {place}").format(place=place))
    cost = fmt.escape(_cut(activity.cost, SHORT_CUTS["cost"])) if activity.cost else _("Free")
    lines.append(_("💷 <b>Cost:</b> {cost}").format(cost=cost))
    organiser = fmt.bidi(fmt.escape(_cut(group.name, SHORT_CUTS["group"])))
    lines.append(_("👥 <b>Organised by:</b> {group}").format(group=organiser))
    lines += ["", _("Open it in your own language: {link}").format(link=_link(link))]
    return "\n".join(lines)


def shared_activity(activity: Activity, group: Group, nxt: Occurrence | None, link: str) -> View:
    """The forwardable message "Share" sends."""
    return View(activity_short(activity, group, nxt, link), open_button(link))


def link_not_found(menu: View) -> View:
    """A link to an activity or group that is not shown (gone, hidden, never there)."""
    text = _("Sorry, what this link shows is not available any more. Here is the menu:")
    return View(text + "\n\n" + menu.text, menu.markup)


def group_link_line(link: str) -> str:
    """A group's link, on its page and in its team's list (for a noticeboard or a chat)."""
    return _("Share this group: {link}").format(link=_link(link))


def group_page(group: Group, listed: list[tuple[Activity, Occurrence]], link: str) -> View:
    """A group opened from its link: who they are, how to reach them, what they offer."""
    head = [f"<b>{fmt.bidi(fmt.escape(group.name))}</b>",
            f"{stream_label(group.stream)} · {fmt.bidi(fmt.escape(group.town))}"]  # fmt: skip
    contacts = [
        fmt.bidi(fmt.escape(value))
        for value in (group.email, group.phone, group.website, group.telegram)
        if value
    ]
    if contacts:
        head.append(_("✉️ <b>Contact:</b> {contact}").format(contact=" · ".join(contacts)))
    head += ["", "<b>" + _("Welcoming activities") + "</b>"]
    if not listed:
        head.append(_("No activities are listed yet. Contact the group to ask what is on."))
    tail = ["", group_link_line(link)]
    blocks = []
    for i, (activity, nxt) in enumerate(listed[:GROUP_LISTED], start=1):
        when = fmt.when(nxt.start, group.timezone)
        icon = category_label(activity.category).split(" ", 1)[0]
        blocks.append([f"{fmt.number(i)}. {icon} <b>{fmt.escape(activity.title)}</b>",
                       f"    {fmt.bidi(when)}"])  # fmt: skip
    text, shown = fit_blocks(head, blocks, tail)
    here = SearchState.at(group.lat, group.lon)  # a card's way back: results there
    numbers = [
        button(fmt.number(i), cb.OpenCard(activity.id, here))
        for i, (activity, _nxt) in enumerate(listed[:shown], start=1)
    ]
    rows = [row(*numbers[i : i + PAGE_SIZE]) for i in range(0, len(numbers), PAGE_SIZE)]
    return View(text, Keyboard(rows))


# --- inline mode -------------------------------------------------------------------------


def inline_hint_button() -> InlineQueryResultsButton:
    """Above inline results: opens the bot (a plain /start)."""
    return InlineQueryResultsButton(_("🔎 Type a town or postcode"), start_parameter=INLINE_START)


def nothing_near(radius_miles: float, place: str) -> str:
    """The title of inline mode's hint when a place has nothing near it (as /find says it)."""
    return _("I found no welcoming activities within {distance} of {place}.").format(
        distance=fmt.bidi(fmt.radius(radius_miles)), place=fmt.bidi(place)
    )


def inline_invitation(bot_link: str, title: str | None = None) -> InlineQueryResultArticle:
    """The helpful result for an empty or unknown query: tapped, it shares the bot itself."""
    text = _("Find welcoming activities near you, in your own language: {link}").format(
        link=_link(bot_link)
    )
    return InlineQueryResultArticle(
        id="hint",
        title=title or _("🔎 Type a town or postcode"),
        description=_("Or tap here to share this bot."),
        input_message_content=InputTextMessageContent(
            text,
            parse_mode=DEFAULTS.parse_mode,
            link_preview_options=DEFAULTS.link_preview_options,
        ),
    )


def inline_activity(
    activity: Activity, group: Group, nxt: Occurrence | None, km: float, link: str
) -> InlineQueryResultArticle:
    """One nearby activity as an inline result: its short form and its link button."""
    when = fmt.when(nxt.start, group.timezone) if nxt else _("no date yet")
    icon = category_label(activity.category).split(" ", 1)[0]
    return InlineQueryResultArticle(
        id=f"a{activity.id}",
        title=f"{icon} {_cut(activity.title, SHORT_CUTS['title'])}",
        description=f"{fmt.bidi(when)} · {fmt.bidi(fmt.distance(km))} · {fmt.bidi(group.name)}",
        input_message_content=InputTextMessageContent(
            activity_short(activity, group, nxt, link),
            parse_mode=DEFAULTS.parse_mode,
            link_preview_options=DEFAULTS.link_preview_options,
        ),
        reply_markup=open_button(link).markup(),
    )
