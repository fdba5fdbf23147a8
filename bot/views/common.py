"""What people see: message texts (Telegram HTML) and keyboards, rendered in the current locale.

Views take plain values and return ``View``; handlers send them. User and data text is
escaped here, inserted values are isolated for right-to-left languages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from babel.dates import get_day_names
from telegram import (
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot import callbacks as cb
from bot.callbacks import NEED_ORDER, SearchState
from bot.domain.recurrence import Occurrence, Repeat
from bot.domain.translations import Note, Titled, note_text
from bot.domain.vocabulary import Category, Intent, PlaceFor
from bot.i18n import LANGUAGES, N_, current_language, gettext, ngettext, use_locale
from bot.places.geo import AREA_KM
from bot.search.directory import GroupHit, Hit, Listing, Page, activity_needs
from bot.views import formatting as fmt
from bot.views.keyboard import Key, Keyboard
from bot.views.labels import INTENT_LABELS, category_label, need_label, stream_label
from storage.models import Activity, Group
from storage.roles import ADMIN, COORDINATOR, VOLUNTEER

_ = gettext
PAGE_SIZE = 5
TEXT_LIMIT = 4096
MAX_BUTTONS = 100  # in one inline keyboard
# A card leaves room for what is shown around it (a preview's or a moderator's lines).
CARD_LIMIT = 3500
# A card too long for CARD_LIMIT shows each field at most this long (a typed answer's limit).
CARD_CUTS = {"title": 80, "description": 600, "place": 300, "cost": 80, "contact": 120,
             "group": 100, "languages": 12}  # fmt: skip
Markup = Keyboard | ReplyKeyboardMarkup | ReplyKeyboardRemove

REGION_LABELS = {
    "ENG": N_("England"),
    "SCT": N_("Scotland"),
    "WLS": N_("Wales"),
    "NIR": N_("Northern Ireland"),
}
ORDINALS = {
    1: N_("Every month on the first {weekday}"),
    2: N_("Every month on the second {weekday}"),
    3: N_("Every month on the third {weekday}"),
    4: N_("Every month on the fourth {weekday}"),
    -1: N_("Every month on the last {weekday}"),
}


@dataclass(frozen=True, slots=True)
class View:
    """A message to send: HTML text and an optional keyboard."""

    text: str
    markup: Markup | None = None

    def __post_init__(self) -> None:
        # A UTF-16 code unit per character at most twice: only longer texts are measured.
        if len(self.text) > TEXT_LIMIT // 2 and fmt.parsed_length(self.text) > TEXT_LIMIT:
            raise ValueError("view text longer than Telegram allows")


def fit_blocks(
    head: list[str], blocks: list[list[str]], tail: list[str] | None = None, most: int = 100
) -> tuple[str, int]:
    """The head lines, as many whole blocks of lines as fit in one message (as Telegram counts
    it, with room for the tail; ``most`` at most), then the tail: lines joined by line breaks.
    When blocks are left out, a line says how many. Returns the text and how many it shows."""
    tail = tail or []
    left = TEXT_LIMIT - _lines_length(head) - _lines_length(tail) - 2
    left -= fmt.parsed_length(more_not_shown(len(blocks))) + 1  # room to say what is left out
    lines = list(head)
    shown = 0
    for block in blocks:
        size = _lines_length(block) + 1
        if size > left or shown == most:
            break
        lines += block
        left -= size
        shown += 1
    if shown < len(blocks):
        lines.append(more_not_shown(len(blocks) - shown))
    return "\n".join(lines + tail), shown


def _lines_length(lines: list[str]) -> int:
    return sum(fmt.parsed_length(line) for line in lines) + max(0, len(lines) - 1)


def more_not_shown(count: int) -> str:
    """The last line of a list too long for one message."""
    return ngettext("…and {count} more, not shown here.", "…and {count} more, not shown here.",
                    count).format(count=fmt.number(count))  # fmt: skip


def button(text: str, pressed: cb.Button) -> Key:
    """An inline button carrying a button code of bot/callbacks.py (its data is checked
    against Telegram's 64-byte limit when encoded)."""
    return Key(text, pressed.encode())


def row(*buttons: Key) -> list[Key]:
    """A keyboard row in reading order (reversed for right-to-left languages)."""
    items = list(buttons)
    return items[::-1] if current_language().rtl else items


# --- start, language, menu -------------------------------------------------------------


def language_picker(suggested: str | None, flow: str) -> View:
    """Every language in its own name; the person's Telegram language first and marked."""
    ordered = sorted(LANGUAGES, key=lambda lang: lang.code != suggested)
    buttons = [
        button(
            ("✓ " if lang.code == suggested else "") + lang.native_name,
            cb.ChooseLanguage(lang.code, flow),
        )
        for lang in ordered
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    # The prompt is shown in English and the suggested language, as the choice is not made yet.
    text = "🌍 Choose your language"
    if suggested and suggested != "en":
        with use_locale(suggested):
            translated = _("Choose your language")
        text = f"🌍 {translated}\n{text}"
    return View(text, Keyboard(rows))


def intent_question() -> View:
    """What brings you here? Three buttons, nothing personal."""
    text = "\n\n".join(
        [
            _(
                "<b>Welcome!</b> City of Sanctuary groups across the UK offer welcome, friendship and support to people seeking sanctuary."
            ),
            _("What brings you here?"),
            privacy_note(),
        ]
    )
    rows = [
        [button(gettext(label), cb.ChooseIntent(Intent(code)))]
        for code, label in INTENT_LABELS.items()
    ]
    return View(text, Keyboard(rows))


def privacy_note() -> str:
    """The two-line privacy note shown at the start."""
    return _("🔒 I never ask your name, your papers or where you live.\nMore in /privacy.")


def main_menu(
    intent: str | None,
    area_label: str | None,
    has_area: bool,
    roles: frozenset[str] = frozenset(),
) -> View:
    """The main menu: find, groups, language, help, privacy; posting for anyone who holds a
    role (volunteer, group admin, coordinator), whatever they said at /start."""
    lines = [_("What would you like to do?")]
    if intent == Intent.VOLUNTEER and not roles:
        lines.append(
            _("Volunteers post their group's activities here (your group admin sends an invite).")
        )
    rows = [[button(_("🔎 Find welcoming activities"), cb.MenuFind())]]
    if intent == Intent.VOLUNTEER or roles:
        rows.append(
            row(
                button(_("📝 Post an activity"), cb.PostNew()),
                button(_("📋 My activities"), cb.MyActivities()),
            )
        )
    if has_area:
        label = area_label or _("my area")
        rows.append(
            [button(_("📍 Activities near {place}").format(place=fmt.bidi(label)), cb.MenuNear())]
        )
    rows += [
        [button(_("🏠 Groups near me"), cb.MenuGroups())],
    ]
    if intent in (Intent.SUPPORTER, Intent.VOLUNTEER) or roles:  # never unasked to seekers
        rows.append([button(_("📣 Campaign alerts"), cb.MenuAlerts())])
    rows += [
        row(button(_("🌐 Language"), cb.MenuLanguage()), button(_("ℹ️ Help"), cb.MenuHelp())),
        row(button(_("🔒 Privacy"), cb.MenuPrivacy()), button(_("🚚 I've moved"), cb.Moved())),
    ]
    return View("\n".join(lines), Keyboard(rows))


def _share_location_keyboard() -> ReplyKeyboardMarkup:
    """One button that shares the person's location (hidden once used)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def ask_location(mode: PlaceFor) -> View:
    """Ask for a location: a button that shares it, or typing a place."""
    if mode is PlaceFor.GROUPS:
        first = _("Where should I look for City of Sanctuary groups?")
    else:
        first = _("Where should I look for welcoming activities?")
    text = "\n".join(
        [
            first,
            _("Tap the button below to share your location, or type a town, city or postcode."),
            _("Your location is only used for this search."),
        ]
    )
    return View(text, _share_location_keyboard())


# The commands of each role, for /help and the chat's command menu: (role, command, text).
ROLE_COMMANDS = (
    (VOLUNTEER, "newactivity", N_("Post an activity")),
    (VOLUNTEER, "myactivities", N_("The activities you look after")),
    (ADMIN, "moderate", N_("Check volunteers' posts")),
    (ADMIN, "invite", N_("A link to invite a volunteer")),
    (ADMIN, "team", N_("Your group's team")),
    (ADMIN, "safeguarding", N_("Choose the safeguarding contact")),
    (ADMIN, "reports", N_("Concerns to look at")),
    (ADMIN, "desk", N_("The desk: figures, checks and the audit log")),
    (COORDINATOR, "campaign", N_("Write a campaign call")),
    (COORDINATOR, "campaigns", N_("Campaign calls and how they went")),
)
ROLE_HEADINGS = (
    (VOLUNTEER, N_("<b>For volunteers</b>")),
    (ADMIN, N_("<b>For group admins</b>")),
    (COORDINATOR, N_("<b>For coordinators</b>")),
)


def _role_levels(roles: frozenset[str]) -> set[str]:
    """Which roles' commands a person has: an admin posts too, a coordinator does it all."""
    levels = set()
    if roles:
        levels.add(VOLUNTEER)
    if ADMIN in roles or COORDINATOR in roles:
        levels.add(ADMIN)
    if COORDINATOR in roles:
        levels.add(COORDINATOR)
    return levels


def _role_help(roles: frozenset[str]) -> list[str]:
    """/help's lines for the person's roles, a heading for each."""
    levels = _role_levels(roles)
    lines: list[str] = []
    for level, heading in ROLE_HEADINGS:
        if level not in levels:
            continue
        lines += ["", gettext(heading)]
        for role, name, description in ROLE_COMMANDS:
            if role == level:
                lines.append(fmt.bidi(f"/{name}") + " – " + fmt.escape(gettext(description)))
    return lines


def help_text(roles: frozenset[str] = frozenset()) -> View:
    """What the bot does and its commands (with those of the person's roles)."""
    text = "\n".join(
        [
            _("<b>How this bot helps</b>"),
            _(
                "It finds welcoming activities and City of Sanctuary groups near you: conversation cafés, English classes, sport, advice and more."
            ),
            "",
            _("/find – welcoming activities near you"),
            _("/groups – City of Sanctuary groups near you"),
            _("/language – change the language"),
            _("/reminders – your reminders"),
            _("/alerts – campaign calls, if you want them"),
            _("/privacy – what I keep and how to delete it"),
            _("/mydata – a copy of everything I keep about you"),
            _("/forget – delete everything I keep about you"),
            _("/start – start again"),
            *_role_help(roles),
            "",
            _("You can type a town, city or postcode at any time."),
        ]
    )
    return View(text, Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]))


def _area_rounding() -> str:
    """How finely a saved area is kept, as a distance in the reader's unit and digits."""
    return fmt.bidi(fmt.distance(AREA_KM))


def privacy(has_area: bool, attributions: list[str]) -> View:
    """What the bot keeps, who sees it, how long, and how to get it or delete it."""
    lines = [
        _("<b>Your privacy</b>"),
        _(
            "I keep only: your Telegram account ID (not your phone number) to answer you, your language, what brought you here, your settings, the day you last wrote, and your area if you choose to save it (rounded to about {distance})."
        ).format(distance=_area_rounding()),
        _("If you ask for reminders, I keep which activities they are for, until you stop them."),
        _("I never ask your name, nationality, immigration status or address."),
        _("When you share your location, I use it for that search only and do not store it."),
        _("Groups see no names: only how many people are interested."),
        _("If you join a group's team as a volunteer, its admins see your Telegram first name."),
        _("Only the people who run this bot can see what I keep. We do not share it."),
        _(
            "If you do not write for 12 months, I ask if you want to keep using this bot. With no answer in 30 days, I delete everything."
        ),
        _("/mydata sends you a copy of it all. /forget deletes it all."),
    ]
    if has_area:
        lines.append(_("You have saved an area. You can forget it with the button below."))
    lines.append("")
    lines.append("<i>" + fmt.escape(" · ".join(attributions)) + "</i>")
    rows = []
    if has_area:
        rows.append([button(_("🗑 Forget my area"), cb.ForgetArea())])
    rows.append(
        row(button(_("📦 My data"), cb.MyData()), button(_("🗑 Delete everything"), cb.ForgetAsk()))
    )
    rows.append([button(_("⬅️ Menu"), cb.MenuShow())])
    return View("\n".join(lines), Keyboard(rows))


def expired() -> str:
    """Answer to stale or forged buttons."""
    return _("This menu has expired. Please start again with /start.")


def something_went_wrong() -> str:
    """Shown instead of a traceback."""
    return _("Sorry, something went wrong on our side. Please try again in a moment.")


# --- places ------------------------------------------------------------------------------


def place_label(name: str, region: str) -> str:
    """A place with its nation, e.g. ``Bangor, Wales``."""
    label = REGION_LABELS.get(region)
    return _("{place}, {region}").format(place=name, region=gettext(label)) if label else name


@dataclass(frozen=True, slots=True)
class PlaceChoice:
    """A place offered on a button: its name in the reader's language, its nation, and for
    one of several same-named places in one nation, a better-known place near it (in the
    reader's language) and how far that is."""

    key: str
    name: str
    region: str
    landmark: str | None = None
    km: float = 0.0


def _place_buttons(places: list[PlaceChoice], data: Callable[[str], cb.Button]) -> list[list[Key]]:
    """One button a place: its name and nation, or, for one of several same-named places in
    one nation (those given a landmark), what tells it apart ("Newport, 6.9 mi from Telford")."""
    rows = []
    for place in places:
        if place.landmark:
            label = _("{place}, {distance} from {town}").format(
                place=fmt.bidi(place.name),
                distance=fmt.bidi(fmt.distance(place.km)),
                town=fmt.bidi(place.landmark),
            )
        else:
            label = place_label(place.name, place.region)
        rows.append([button(label, data(place.key))])
    return rows


def choose_place(
    query: str, places: list[PlaceChoice], mode: PlaceFor, category: str | None = None
) -> View:
    """Which one do you mean? (the kind of activity asked for comes along on the buttons)"""
    text = _("Which “{place}” do you mean?").format(
        place=fmt.bidi(fmt.escape(fmt.clean(query, 60)))
    )
    kind = Category(category) if category else None
    return View(text, Keyboard(_place_buttons(places, lambda key: cb.ChoosePlace(key, mode, kind))))


def place_not_found(query: str, suggestions: list[PlaceChoice], mode: PlaceFor) -> View:
    """I couldn't find it; maybe one of these."""
    shown = fmt.escape(fmt.clean(query, 60))
    if shown:
        lines = [_("I couldn't find “{place}”.").format(place=fmt.bidi(shown))]
    else:
        lines = [_("I didn't understand that.")]
    rows = []
    if suggestions:
        lines.append(_("Did you mean one of these?"))
        rows = _place_buttons(suggestions[:3], lambda key: cb.ChoosePlace(key, mode))
    lines.append(_("Type a town, city or postcode, or share your location."))
    rows.append([button(_("⬅️ Menu"), cb.MenuShow())])
    return View("\n".join(lines), Keyboard(rows))


def postcodes_unavailable() -> View:
    """A postcode was typed but no postcode data is loaded."""
    return View(
        _(
            "I can't look up postcodes at the moment. Please type a town or city, or share your location."
        )
    )


def outside_uk() -> View:
    """A location outside the UK."""
    return View(
        _(
            "That location is outside the UK. This bot knows City of Sanctuary groups in the UK only."
        )
    )


# --- activities ------------------------------------------------------------------------


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
        lines += [_group_lines(i, hit) for i, hit in enumerate(groups, start=1)]
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
    lines.append(f"<b>{fmt.escape(cut(activity.title, CARD_CUTS['title']))}</b>" + _note(note))
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


def _note(note: Note) -> str:
    """ " <i>(in English)</i>" after a title, or nothing."""
    text = note_text(note)
    return f" <i>{text}</i>" if text else ""


def shown_title(activity: Titled, titles: Mapping[int, tuple[str, Note]] | None) -> tuple[str, str]:
    """A list line's title in the reader's language (if given) and the note to put after it."""
    found = titles.get(activity.id) if titles is not None else None
    if found is None:
        return activity.title, ""
    return found[0], _note(found[1])


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


# --- groups ------------------------------------------------------------------------------


def _group_lines(number: int, hit: GroupHit) -> str:
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
        lines.append(_group_lines(i, hit))
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


def area_saved(label: str | None) -> View:
    """Confirmation that the area is saved, and how to forget it."""
    place = fmt.bidi(fmt.escape(label)) if label else _("this area")
    text = "\n".join(
        [
            _("💾 Saved: {place}. I keep it rounded to about {distance}.").format(
                place=place, distance=_area_rounding()
            ),
            _("You can forget it at any time in /privacy."),
        ]
    )
    return View(text, Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]))


def area_forgotten() -> View:
    """Confirmation that the saved area is gone."""
    return View(
        _("🗑 Your saved area is forgotten."),
        Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]),
    )


def language_saved() -> str:
    """Confirmation in the new language."""
    return _("✅ I will speak English with you.")


COMMANDS = (
    ("find", N_("Welcoming activities near you")),
    ("groups", N_("City of Sanctuary groups near you")),
    ("reminders", N_("Your reminders")),
    ("alerts", N_("Campaign calls, if you want them")),
    ("language", N_("Change the language")),
    ("privacy", N_("What I keep and how to delete it")),
    ("help", N_("How this bot helps")),
    ("start", N_("Start again")),
)


def commands(roles: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The command menu in the current locale (with the commands of the person's roles)."""
    levels = _role_levels(roles)
    mine = [(n, gettext(d)) for role, n, d in ROLE_COMMANDS if role in levels]
    return [(name, gettext(description)) for name, description in COMMANDS] + mine


def not_understood() -> str:
    """Anything the bot cannot read."""
    return _("I can read text, locations and buttons. Type /help to see what I can do.")


# --- reminders ---------------------------------------------------------------------------


def reminder_message(
    activity: Activity, group: Group, start: datetime, cancelled: bool, note: Note = ""
) -> View:
    """A reminder of one occurrence (or the news that it is cancelled); ``activity`` in the
    reader's language where translated, ``note`` saying when it is not."""
    title = fmt.bidi(fmt.escape(activity.title)) + _note(note)
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


def reminders_list(items: list[tuple[Listing, Group, Occurrence | None]]) -> View:
    """The person's reminders, each with a button to stop it."""
    lines = ["<b>" + _("Your reminders") + "</b>", ""]
    rows = []
    if not items:
        lines.append(_("You have no reminders yet. Open an activity and tap “⏰ Remind me”."))
    blocks = []
    for number, (activity, group, nxt) in enumerate(items, start=1):
        when = fmt.bidi(fmt.when(nxt.start, group.timezone)) if nxt else _("No upcoming dates.")
        blocks.append([f"{fmt.number(number)}. <b>{fmt.escape(activity.title)}</b> · {when}"])
        label = f"🔕 {fmt.number(number)}. {activity.title[:40]}"
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


# --- data rights and moving --------------------------------------------------------------


def my_data(
    language: str,
    intent: str | None,
    area_label: str | None,
    has_area: bool,
    reminders: int,
    since: datetime | None,
) -> View:
    """A short readable summary of what is kept (the JSON file follows)."""
    lines = ["<b>" + _("📦 What I keep about you") + "</b>", ""]
    lines.append(_("Language: {language}").format(language=fmt.bidi(language)))
    if intent in INTENT_LABELS:
        answer = gettext(INTENT_LABELS[intent])
        lines.append(_("What brought you here: {answer}").format(answer=answer))
    if has_area:
        place = fmt.bidi(fmt.escape(area_label)) if area_label else _("my area")
        lines.append(_("Saved area: {place}").format(place=place))
    else:
        lines.append(_("No saved area."))
    lines.append(
        ngettext(
            "Reminders for {count} activity.", "Reminders for {count} activities.", reminders
        ).format(count=fmt.number(reminders))
    )
    if since is not None:
        lines.append(
            _("You first wrote on {date}.").format(
                date=fmt.bidi(fmt.full_date(since, "Europe/London"))
            )
        )
    lines += ["", _("The file below has all of it. To delete everything: /forget")]
    return View("\n".join(lines))


def nothing_kept() -> View:
    """/mydata for someone the bot keeps nothing about."""
    return View(_("I keep nothing about you."), Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]))


def my_data_caption() -> str:
    """The caption of the JSON file."""
    return _("Everything I keep about you (JSON).")


def role_name(role: str, group: str | None) -> str:
    """A role in words: network coordinator, admin of a group, volunteer of a group..."""
    if role == "coordinator" or group is None:
        return _("network coordinator")
    name = fmt.bidi(fmt.escape(group))
    if role == "admin":
        return _("admin of {group}").format(group=name)
    if role == "contact":
        return _("safeguarding contact of {group}").format(group=name)
    return _("volunteer of {group}").format(group=name)


def forget_confirm(
    roles: Sequence[tuple[str, str | None]] = (), uncovered: Sequence[str] = ()
) -> View:
    """The one confirmation before deleting everything: with the roles that go too, and the
    groups that will be left without a safeguarding contact."""
    lines = [
        "<b>" + _("🗑 Delete everything?") + "</b>",
        _(
            "I will delete your language, settings, saved area and reminders. This cannot be undone."
        ),
    ]
    if roles:
        names = fmt.join([role_name(role, group) for role, group in roles])
        lines.append(_("👥 You will also lose your roles: {roles}.").format(roles=names))
    if uncovered:
        groups = fmt.join([fmt.bidi(fmt.escape(g)) for g in uncovered])
        lines.append(
            _("🛡 {groups} will have no safeguarding contact until an admin chooses one.").format(
                groups=groups
            )
        )
    text = "\n".join(lines)
    rows = [
        [button(_("🗑 Yes, delete everything"), cb.ForgetConfirmed())],
        [button(_("✖️ No, keep it"), cb.MenuShow())],
    ]
    return View(text, Keyboard(rows))


def forgotten() -> View:
    """Everything is deleted."""
    return View(
        _(
            "✅ Done. I have deleted everything I kept about you. If you write again, we start fresh."
        )
    )


def stay_question() -> View:
    """After 12 months of silence: keep or delete?"""
    text = "\n".join(
        [
            _("👋 You have not used this bot for a year. Shall I keep your settings?"),
            _("If you do not answer within 30 days, I will delete everything I keep about you."),
        ]
    )
    rows = [
        [button(_("✅ Keep my settings"), cb.KeepSettings())],
        [button(_("🗑 Delete everything"), cb.ForgetAsk())],
    ]
    return View(text, Keyboard(rows))


def stay_kept() -> View:
    """The person wants to stay."""
    return View(
        _("✅ Thank you. I will keep your settings."),
        Keyboard([[button(_("⬅️ Menu"), cb.MenuShow())]]),
    )


def ask_new_area() -> View:
    """I've moved: where are you now?"""
    text = "\n".join(
        [
            "<b>" + _("🚚 Where are you now?") + "</b>",
            _("Tap the button below to share your location, or type a town, city or postcode."),
            _("I save only the area, rounded to about {distance}.").format(
                distance=_area_rounding()
            ),
        ]
    )
    return View(text, _share_location_keyboard())


def moved(
    label: str | None,
    digest: bool,
    group: GroupHit | None,
    far: list[Listing],
    radius_miles: float,
    here: SearchState,
) -> View:
    """The new area is saved: the nearest group, and reminders now far away to drop."""
    place = fmt.bidi(fmt.escape(label)) if label else _("this area")
    lines = [_("✅ Your area is now {place}.").format(place=place)]
    if digest:
        lines.append(_("Your weekly digest will show activities near it."))
    if group is not None:
        lines += ["", _("🏠 The nearest City of Sanctuary group:"), _group_lines(1, group)]
    rows = []
    if far:
        lines += [
            "",
            ngettext(
                "This reminder is for an activity more than {distance} away:",
                "These reminders are for activities more than {distance} away:",
                len(far),
            ).format(distance=fmt.bidi(fmt.radius(radius_miles))),
        ]
        for activity in far:
            lines.append(f"• {fmt.escape(activity.title)}")
            rows.append([button(f"🔕 {activity.title[:40]}", cb.DropFarReminder(activity.id))])
        if len(far) > 1:
            rows.append([button(_("🔕 Stop all of these"), cb.DropAllFarReminders())])
    rows.append([button(_("🔎 Activities here"), cb.SearchPage(here))])
    rows.append([button(_("⬅️ Menu"), cb.MenuShow())])
    return View("\n".join(lines), Keyboard(rows))


# --- group chats -------------------------------------------------------------------------


def weekly_post(group: Group, listed: list[tuple[Occurrence, Activity]]) -> View:
    """A group chat's weekly post: the group's activities of the coming week, by date."""
    lines = [
        _("📅 <b>This week at {group}</b>").format(group=fmt.bidi(fmt.escape(group.name))),
        "",
    ]
    blocks = []
    for occurrence, activity in listed:
        when = fmt.bidi(fmt.when(occurrence.start, group.timezone))
        icon = category_label(activity.category).split(" ", 1)[0]
        block = [f"{icon} {when} · <b>{fmt.escape(activity.title)}</b>"]
        if activity.venue:
            block.append(f"    📍 {fmt.escape(activity.venue)}")
        blocks.append(block)
    tail = ["", _("Reminders and more: write to me privately and send /find.")]
    text, _shown = fit_blocks(lines, blocks, tail)
    return View(text)


def weekly_on(group_name: str) -> str:
    """The weekly post is switched on in this chat."""
    return _("✅ Every Monday morning I will post the week's activities of {group} here.").format(
        group=fmt.bidi(fmt.escape(group_name))
    )


def weekly_off() -> str:
    """The weekly post is switched off."""
    return _("🔕 I will no longer post the week's activities here.")


def weekly_nothing_linked() -> str:
    """/weekly off in a chat where it was never switched on."""
    return _("There is no weekly post in this chat, so there is nothing to switch off.")


def weekly_anonymous() -> str:
    """/weekly sent as the group or as a channel: whose role to check is not known."""
    return _(
        "I can't tell who sent this, so I can't check that you are a group admin. Please send /weekly from your own account, not as the group or a channel."
    )


def weekly_usage() -> str:
    """How /weekly is used."""
    return _("Send /weekly on or /weekly off in your group's Telegram chat.")


def which_group(refs: list[str]) -> str:
    """The admin of several groups (or a coordinator) must say which one."""
    return _("Which group? Add one of these after the command: {refs}").format(
        refs=fmt.bidi(fmt.escape(", ".join(refs)))
    )


def admins_only() -> str:
    """A refusal: the caller lacks the role (checked on the server, every time)."""
    return _(
        "Only an admin of a City of Sanctuary group can do this. Ask your group's coordinator."
    )


def hello_group() -> str:
    """The bot was added to a group chat."""
    return _(
        "👋 Hello! An admin of your City of Sanctuary group can send /weekly on here: every Monday I will post the group's activities for the week."
    )


# --- the team: invites and volunteers ----------------------------------------------------


def invite_link(group_name: str, link: str) -> View:
    """A one-time invite link for a new volunteer."""
    text = "\n".join(
        [
            _(
                "🔗 An invite to {group}. Send it to one new volunteer: it works once, within 7 days."
            ).format(group=fmt.bidi(fmt.escape(group_name))),
            fmt.escape(link),
        ]
    )
    return View(text)


def joined(group_name: str) -> View:
    """The invite worked."""
    welcome = _("✅ Welcome to the team of {group}! You are now a volunteer.").format(
        group=fmt.bidi(fmt.escape(group_name))
    )
    how = _("Post an activity with /newactivity, and look after yours with /myactivities.")
    return View(welcome + "\n" + how)


def invite_own(group_name: str) -> View:
    """Someone already in the team (often the admin who made it) opened an invite."""
    return View(
        _(
            "🙂 You are already in the team of {group}. Send this link to the new volunteer: it still works for them."
        ).format(group=fmt.bidi(fmt.escape(group_name)))
    )


def invite_invalid() -> View:
    """An expired, used or unknown invite."""
    return View(
        _("This invite has expired or was already used. Ask your group admin for a new one.")
    )


def team(
    group_name: str, group_id: int, members: list[tuple[int, str, str]], extra: tuple[str, ...] = ()
) -> View:
    """The admins and volunteers of a group, each volunteer with a button to remove them,
    then ``extra`` lines; as many members as one message (and its buttons) holds."""
    lines = [
        _("👥 <b>Team of {group}</b>").format(group=fmt.bidi(fmt.escape(group_name))),
        "",
    ]
    blocks = []
    volunteers = [(uid, label) for uid, role, label in members if role == "volunteer"]
    for uid, role, label in members[:MAX_BUTTONS]:
        shown = fmt.bidi(fmt.escape(label) if label else f"#{uid}")  # an id is not a number
        blocks.append([f"{'⭐' if role == 'admin' else '•'} {shown}"])
    tail = [] if volunteers else [_("No volunteers yet. Send /invite to invite one.")]
    text, shown_count = fit_blocks(lines, blocks, [*tail, "", *extra] if extra else tail)
    listed = {uid for uid, _role, _label in members[:shown_count]}
    rows = []
    for uid, label in volunteers:
        if uid in listed:
            name = label[:30] if label else f"#{uid}"
            rows.append([button(f"❌ {name}", cb.RemoveVolunteer(group_id, uid))])
    return View(text, Keyboard(rows) if rows else None)


def removed_from_team() -> str:
    """Answer to the admin who removed a volunteer."""
    return _("Removed from the team.")
