"""City of Sanctuary groups and Streams of Sanctuary near a place, with their contacts."""

from __future__ import annotations

import math

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.i18n import gettext
from bot.search.directory import GroupHit
from bot.views import formatting as fmt
from bot.views.common import PAGE_SIZE, View, button, row
from bot.views.keyboard import Keyboard
from bot.views.labels import stream_label

_ = gettext


def group_lines(number: int, hit: GroupHit) -> str:
    """A group in a list (also in "nothing found" and "I've moved"): its number, name and
    distance, its kind and town, its contacts."""
    group = hit.group
    head = (
        f"{fmt.number(number)}. <b>{fmt.escape(group.name)}</b> — {fmt.bidi(fmt.distance(hit.km))}"
    )
    kind = f"    {stream_label(group.stream)} · {fmt.escape(group.town)}"
    contacts = [
        fmt.bidi(fmt.escape(value))
        for value in (group.email, group.phone, group.website, group.telegram)
        if value
    ]
    lines = [head, kind]
    if contacts:
        lines.append("    " + " · ".join(contacts))
    return "\n".join(lines)


def group_list(hits: list[GroupHit], lat: int, lon: int, page: int, total: int) -> View:
    """Nearest groups and streams with their contacts."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    lines = ["<b>" + _("City of Sanctuary groups and Streams of Sanctuary near you") + "</b>", ""]
    for i, hit in enumerate(hits, start=1 + page * PAGE_SIZE):
        lines.append(group_lines(i, hit))
        lines.append("")
    if not hits:
        lines.append(_("No groups found."))
    paging = []
    if page > 0:
        paging.append(button(_("◀️ Previous"), cb.GroupsPage(lat, lon, page - 1)))
    if page < pages - 1:
        paging.append(button(_("Next ▶️"), cb.GroupsPage(lat, lon, page + 1)))
    rows = [row(*paging)] if paging else []
    rows.append([button(_("🔎 Activities here"), cb.SearchPage(SearchState(lat, lon)))])
    return View("\n".join(lines).rstrip(), Keyboard(rows))
