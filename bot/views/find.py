"""/find's results: a page of nearby activities, its map, its filters, and nothing found."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from bot import callbacks as cb
from bot.callbacks import NEED_ORDER, SearchState
from bot.domain.recurrence import Occurrence
from bot.domain.translations import Note, note_text
from bot.domain.vocabulary import Category
from bot.i18n import current_language, gettext, ngettext
from bot.search.directory import GroupHit, Hit, Page
from bot.views import formatting as fmt
from bot.views.common import (
    PAGE_SIZE,
    View,
    button,
    expired,
    row,
    shown_title,
    something_went_wrong,
)
from bot.views.groups import group_lines
from bot.views.keyboard import Key, Keyboard
from bot.views.labels import category_label, need_label

_ = gettext


def _filters_line(state: SearchState, radius_miles: float) -> str:
    parts = [_("Within {distance}").format(distance=fmt.radius(radius_miles))]
    if state.category:
        parts.append(category_label(state.category))
    parts += [need_label(n) for n in sorted(state.need_set)]
    return " · ".join(parts)


def results(
    found: Page,
    state: SearchState,
    radius_miles: float,
    next_of: dict[int, Occurrence | None],
    near: str | None = None,
    map_url: str | None = None,
    titles: Mapping[int, tuple[str, Note]] | None = None,
) -> View:
    """One page of nearby activities, nearest first, with paging and filter buttons.

    ``near`` is the place understood ("near Sheffield"); None for a shared location.
    ``map_url``: the page's map (a Mini App), when the bot has a public address.
    ``titles``: the titles in the reader's language (bot/domain/translations.py)."""
    count = found.total
    pages = max(1, math.ceil(count / PAGE_SIZE))
    page = found.number
    if near:
        heading = ngettext(
            "{count} welcoming activity near {place}",
            "{count} welcoming activities near {place}",
            count,
        ).format(count=fmt.number(count), place=fmt.bidi(fmt.escape(near)))
    else:
        heading = ngettext(
            "{count} welcoming activity near you", "{count} welcoming activities near you", count
        ).format(count=fmt.number(count))
    lines = [
        "<b>" + heading + "</b>",
        "<i>" + _filters_line(state, radius_miles) + "</i>",
        "",
    ]
    numbers = []
    here = state.at_page(page)  # a card's way back to this page
    for i, hit, when in _numbered(found, next_of):
        activity = hit.activity
        title, note = shown_title(activity, titles)
        lines.append(
            f"{fmt.number(i)}. {category_label(activity.category).split(' ', 1)[0]} "
            f"<b>{fmt.escape(title)}</b>{note} — {fmt.bidi(fmt.distance(hit.km))}"
        )
        lines.append(f"    {fmt.bidi(when)} · {fmt.bidi(fmt.escape(hit.group.name))}")
        numbers.append(button(fmt.number(i), cb.OpenCard(activity.id, here)))
    if pages > 1:
        lines.append("")
        lines.append(
            _("Page {page} of {pages}").format(page=fmt.number(page + 1), pages=fmt.number(pages))
        )
    rows = [row(*numbers)]
    paging = []
    if page > 0:
        paging.append(button(_("◀️ Previous"), cb.SearchPage(state.at_page(page - 1))))
    if page < pages - 1:
        paging.append(button(_("Next ▶️"), cb.SearchPage(state.at_page(page + 1))))
    if paging:
        rows.append(row(*paging))
    if map_url is not None:
        rows.append([Key(_("🗺 Map"), web_app=map_url)])
    rows += _search_tools(state)
    return View("\n".join(lines), Keyboard(rows))


def _numbered(found: Page, next_of: dict[int, Occurrence | None]) -> Iterator[tuple[int, Hit, str]]:
    """A page's hits with their numbers in the whole list and their next date."""
    for i, hit in enumerate(found.hits, start=1 + found.number * PAGE_SIZE):
        nxt = next_of.get(hit.activity.id)
        yield i, hit, fmt.when(nxt.start, hit.group.timezone) if nxt else _("no date yet")


def map_page(
    found: Page | None,
    state: SearchState | None,
    next_of: dict[int, Occurrence | None],
    titles: Mapping[int, tuple[str, Note]] | None = None,
) -> dict[str, object]:
    """What the map Mini App shows for a results page, as plain text (the page sets it as
    text, never as HTML): each result numbered as in the list, with the card's first lines,
    and the page's own words, in the current language. A pin's ``card`` is its number's button
    in the list (``OpenCard``), sent back by "Open in the chat". ``found`` None: the link
    expired."""
    back = (state or SearchState(0, 0)).at_page(found.number if found else 0)
    pins = [
        {
            "number": fmt.number(i),
            "card": cb.OpenCard(hit.activity.id, back).encode(),
            "lat": hit.activity.lat,
            "lon": hit.activity.lon,
            "title": " ".join(
                [titles[hit.activity.id][0], note_text(titles[hit.activity.id][1])]
            ).strip()
            if titles and hit.activity.id in titles
            else hit.activity.title,
            "lines": [
                category_label(hit.activity.category),
                when,
                f"📍 {fmt.bidi(fmt.distance(hit.km))} · {fmt.bidi(hit.group.name)}",
            ],
        }
        for i, hit, when in (_numbered(found, next_of) if found else ())
    ]
    language = current_language()
    return {
        "lang": language.code.replace("_", "-"),
        "dir": "rtl" if language.rtl else "ltr",
        "pins": pins,
        "texts": {
            "title": _("Map of activities"),
            "open": _("💬 Open in the chat"),
            "none": _("There is nothing on this page of results to show on the map.")
            if found is not None
            else expired(),
            "failed": something_went_wrong(),
        },
    }


def _search_tools(state: SearchState) -> list[list[Key]]:
    lat, lon = state.lat, state.lon
    return [
        row(
            button(_("🗂 Type of activity"), cb.SearchCategories(state)),
            button(_("✅ My needs"), cb.SearchNeeds(state)),
        ),
        row(
            button(_("🏠 Groups here"), cb.GroupsPage(lat, lon, 0)),
            button(_("💾 Save this area"), cb.SaveArea(lat, lon)),
        ),
    ]


def no_results(
    state: SearchState, radius_miles: float, groups: list[GroupHit], near: str | None = None
) -> View:
    """Nothing within the radius: say so (of which place), and offer the nearest groups."""
    filtered = state.category is not None or state.needs != 0
    if filtered and near:
        first = _("I found no activities with these filters within {distance} of {place}.")
    elif filtered:
        first = _("I found no activities with these filters within {distance}.")
    elif near:
        first = _("I found no welcoming activities within {distance} of {place}.")
    else:
        first = _("I found no welcoming activities within {distance}.")
    place = fmt.bidi(fmt.escape(near)) if near else ""
    lines = [first.format(distance=fmt.bidi(fmt.radius(radius_miles)), place=place)]
    if groups:
        lines += [
            "",
            _("These City of Sanctuary groups are the nearest. Contact them to ask what is on:"),
            "",
        ]
        lines += [group_lines(i, hit) for i, hit in enumerate(groups, start=1)]
    rows = []
    if filtered:
        rows.append(
            [button(_("❌ Clear filters"), cb.SearchPage(SearchState(state.lat, state.lon)))]
        )
    rows += _search_tools(state)
    return View("\n".join(lines), Keyboard(rows))


def category_picker(state: SearchState) -> View:
    """Choose a type of activity (or all)."""
    buttons = [
        button(category_label(c.value), cb.SearchPage(state.with_category(c.value)))
        for c in Category
    ]
    rows = [row(*buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append([button(_("All activities"), cb.SearchPage(state.with_category(None)))])
    return View(_("What kind of activity?"), Keyboard(rows))


def needs_picker(state: SearchState) -> View:
    """Switch needs filters on and off, then show the results."""
    chosen = state.need_set
    buttons = [
        button(
            ("✅ " if n.value in chosen else "▫️ ") + need_label(n.value),
            cb.SearchNeeds(state.toggle(n)),
        )
        for n in NEED_ORDER
    ]
    rows = [row(*buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append([button(_("🔎 Show results"), cb.SearchPage(state.at_page(0)))])
    return View(_("Tap what you need, then “Show results”."), Keyboard(rows))
