"""Button codes: every inline button's callback data is declared here once.

Each code is a small frozen dataclass registered under a unique prefix (``X:map``): its fields
and their types say what the button carries, ``encode`` writes it (checked against Telegram's
64 bytes) and ``decode`` reads it back strictly, and the declaration names the handler that
takes it. Views build buttons from the codes, handlers are registered from them (one
``CallbackQueryHandler`` per code whose pattern is the code itself, so the order of
registration no longer matters) and tests press buttons through them. docs/buttons.md lists
every code (``make buttons-doc`` writes it; a test checks it is up to date).

Callback data is never trusted: a value that does not decode is treated as an expired menu
(forged, or from an older version of the bot), and permissions are checked again by handlers.
The wire format is the one the bot has always written, so buttons already in people's chats
keep working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import typing
from collections.abc import Callable, Collection, Coroutine, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self, TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.domain import deeplinks
from bot.domain.vocabulary import AlertArea, Category, Intent, Need, PlaceFor, Topic

NEED_ORDER: tuple[Need, ...] = tuple(Need)
_CATEGORIES = {c.value for c in Category}
MAX_PAGE = 500


class Expired(ValueError):
    """Callback data that is stale, forged or from an older version of the bot."""


def _int(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise Expired(text) from None
    if not low <= value <= high:
        raise Expired(text)
    return value


@dataclass(frozen=True, slots=True)
class SearchState:
    """A search: a point rounded to 0.01° (about 1 km), filters and the page shown."""

    lat: int  # hundredths of a degree
    lon: int
    category: str | None = None
    needs: int = 0  # bit mask over NEED_ORDER
    page: int = 0

    @classmethod
    def at(cls, lat: float, lon: float) -> SearchState:
        """A new search around a point (rounded here: nothing finer travels in buttons)."""
        return cls(round(lat * 100), round(lon * 100))

    @property
    def point(self) -> tuple[float, float]:
        """The search point in degrees."""
        return self.lat / 100, self.lon / 100

    @property
    def need_set(self) -> frozenset[str]:
        """The needs filters as codes."""
        return frozenset(n.value for i, n in enumerate(NEED_ORDER) if self.needs & (1 << i))

    def toggle(self, need: Need) -> SearchState:
        """The same search with one needs filter switched, back on the first page."""
        return replace(self, needs=self.needs ^ (1 << NEED_ORDER.index(need)), page=0)

    def with_category(self, category: str | None) -> SearchState:
        """The same search for another category, back on the first page."""
        return replace(self, category=category, page=0)

    def at_page(self, page: int) -> SearchState:
        """The same search on another page."""
        return replace(self, page=max(0, min(page, MAX_PAGE)))

    def encode(self) -> str:
        """As text for callback data."""
        return f"{self.lat}:{self.lon}:{self.category or '-'}:{self.needs}:{self.page}"

    @classmethod
    def decode(cls, parts: list[str]) -> SearchState:
        """From the five fields written by ``encode``."""
        if len(parts) != 5:
            raise Expired(":".join(parts))
        category = None if parts[2] == "-" else parts[2]
        if category is not None and category not in _CATEGORIES:
            raise Expired(parts[2])
        return cls(
            lat=_int(parts[0], 4900, 6100),
            lon=_int(parts[1], -900, 200),
            category=category,
            needs=_int(parts[3], 0, (1 << len(NEED_ORDER)) - 1),
            page=_int(parts[4], 0, MAX_PAGE),
        )


def signature(key: bytes, *parts: object) -> str:
    """A short signature of ``parts`` (8 bytes of HMAC-SHA256, 11 URL-safe characters): a
    button that carries it was made by the bot for exactly these parts (say, this person
    and this activity)."""
    mac = hmac.new(key, ":".join(map(str, parts)).encode(), hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def check_signature(key: bytes, signed: str, *parts: object) -> None:
    """Raise Expired unless ``signed`` is the signature of ``parts``."""
    if not hmac.compare_digest(signed.encode(), signature(key, *parts).encode()):
        raise Expired(signed)


# --- field types ---------------------------------------------------------------------------
# A field's type is ``Annotated[<python type>, <codec>]``: the codec writes the value as one or
# more ``:``-separated parts and reads it back, raising Expired for anything else.


class Codec:
    """How one field travels: ``width`` parts, written by ``dump`` and read by ``load``."""

    width = 1
    doc = ""

    def dump(self, value: Any) -> list[str]:
        """The value as parts."""
        return [str(value)]

    def load(self, parts: Sequence[str]) -> Any:
        """The value from parts (raises Expired)."""
        raise NotImplementedError

    def widest(self) -> Any:
        """The value with the longest encoding (to check the 64 bytes)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Ints(Codec):
    """A whole number between ``low`` and ``high``."""

    low: int
    high: int
    what: str = ""

    @property
    def doc(self) -> str:  # type: ignore[override]
        return self.what or f"whole number {self.low}…{self.high}"

    def load(self, parts: Sequence[str]) -> int:
        return _int(parts[0], self.low, self.high)

    def widest(self) -> int:
        return max(self.low, self.high, key=lambda n: len(str(n)))


@dataclass(frozen=True, slots=True)
class Choice(Codec):
    """One of a fixed set of words (given lazily, so the set may live in another module)."""

    values: Callable[[], Collection[str]]
    what: str

    @property
    def doc(self) -> str:  # type: ignore[override]
        return self.what

    def load(self, parts: Sequence[str]) -> str:
        if parts[0] not in self.values():
            raise Expired(parts[0])
        return parts[0]

    def widest(self) -> str:
        return max(self.values(), key=len)


@dataclass(frozen=True, slots=True)
class EnumOf(Codec):
    """A member of a string enum, by its value."""

    enum: type[StrEnum]

    @property
    def doc(self) -> str:  # type: ignore[override]
        return f"{self.enum.__name__} ({', '.join(m.value for m in self.enum)})"

    def load(self, parts: Sequence[str]) -> StrEnum:
        try:
            return self.enum(parts[0])
        except ValueError:
            raise Expired(parts[0]) from None

    def widest(self) -> StrEnum:
        return max(self.enum, key=lambda m: len(m.value))


@dataclass(frozen=True, slots=True)
class Token(Codec):
    """A short word of letters, digits and ``-_.`` (no ``:``)."""

    longest: int
    doc = "word"

    def load(self, parts: Sequence[str]) -> str:
        text = parts[0]
        if not text or len(text) > self.longest or not all(c.isalnum() or c in "-_." for c in text):
            raise Expired(text)
        return text

    def widest(self) -> str:
        return "w" * self.longest


class Day(Codec):
    """A calendar date, ``YYYY-MM-DD``."""

    doc = "date YYYY-MM-DD"

    def dump(self, value: Any) -> list[str]:
        return [value.isoformat()]

    def load(self, parts: Sequence[str]) -> date:
        try:
            return date.fromisoformat(parts[0])
        except ValueError:
            raise Expired(parts[0]) from None

    def widest(self) -> date:
        return date(2026, 12, 31)


class StartFlow(Codec):
    """What follows a language choice: ``s`` the start, ``c`` a change, or the payload of the
    shared activity or group a deep link named (bot.domain.deeplinks; never an invite)."""

    doc = "s at the start, c a change, or a shared link's payload (a-<id>, g-<ref>)"

    def load(self, parts: Sequence[str]) -> str:
        text = parts[0]
        if text in ("s", "c"):
            return text
        link = deeplinks.parse(text)
        if link is None or link.kind == "j":
            raise Expired(text)
        return text

    def widest(self) -> str:
        return "g-" + "w" * 40  # the longest group ref a link may carry


class Minute(Codec):
    """A moment in UTC to the minute, ``YYYYMMDDHHMM``."""

    doc = "UTC time YYYYMMDDHHMM"

    def dump(self, value: Any) -> list[str]:
        return [f"{value.astimezone(UTC):%Y%m%d%H%M}"]

    def load(self, parts: Sequence[str]) -> datetime:
        try:
            return datetime.strptime(parts[0], "%Y%m%d%H%M").replace(tzinfo=UTC)
        except ValueError:
            raise Expired(parts[0]) from None

    def widest(self) -> datetime:
        return datetime(2026, 12, 31, 23, 59, tzinfo=UTC)


class Search(Codec):
    """A SearchState, five parts."""

    width = 5
    doc = "search (lat:lon:category:needs:page)"

    def dump(self, value: Any) -> list[str]:
        return value.encode().split(":")  # type: ignore[no-any-return]

    def load(self, parts: Sequence[str]) -> SearchState:
        return SearchState.decode(list(parts))

    def widest(self) -> SearchState:
        longest = max((c.value for c in Category), key=len)
        return SearchState(4900, -900, longest, (1 << len(NEED_ORDER)) - 1, MAX_PAGE)


@dataclass(frozen=True, slots=True)
class OrNone(Codec):
    """The last field only: absent when None."""

    inner: Codec

    @property
    def doc(self) -> str:  # type: ignore[override]
        return f"{self.inner.doc}, or absent"

    def dump(self, value: Any) -> list[str]:
        return [] if value is None else self.inner.dump(value)

    def load(self, parts: Sequence[str]) -> Any:
        return None if not parts else self.inner.load(parts)

    def widest(self) -> Any:
        return self.inner.widest()


Id = Annotated[int, Ints(1, 2**62, "database id")]


# --- the registry --------------------------------------------------------------------------

MAX_BYTES = 64  # Telegram's limit for callback data
REGISTRY: dict[str, type[Button]] = {}


class Button:
    """A button code. Subclasses are frozen dataclasses registered with ``@code``."""

    __slots__ = ()
    prefix: ClassVar[str]
    handler: ClassVar[str]  # the dotted name of the function that takes it

    def encode(self) -> str:
        """The callback data (raises ValueError past Telegram's 64 bytes)."""
        parts = [self.prefix]
        for name, codec in _codecs(type(self)):
            parts += codec.dump(getattr(self, name))
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long: {data}")
        return data

    @classmethod
    def decode(cls, data: object) -> Self:
        """The button from callback data; Expired if it is not this code or does not parse."""
        button = parse(data)
        if not isinstance(button, cls):
            raise Expired(str(data))
        return button

    @classmethod
    def matches(cls, data: object) -> bool:
        """Whether ``data`` is a well-formed button of this code (a handler's pattern)."""
        if not isinstance(data, str) or not data.startswith(cls.prefix):
            return False  # the common case, as every code's handler is asked in turn
        try:
            return type(parse(data)) is cls
        except Expired:
            return False

    @classmethod
    def widest(cls) -> Self:
        """The button with the longest encoding its fields allow (for the 64-byte check)."""
        return cls(**{name: codec.widest() for name, codec in _codecs(cls)})


B = TypeVar("B", bound=Button)


def code(prefix: str, handler: str) -> Callable[[type[B]], type[B]]:
    """Register a button code under ``prefix`` (unique), taken by ``handler``."""

    def register(cls: type[B]) -> type[B]:
        if prefix in REGISTRY:
            raise ValueError(f"button prefix {prefix!r} is declared twice")
        cls.prefix = prefix
        cls.handler = handler
        REGISTRY[prefix] = cls
        return cls

    return register


_CODECS: dict[type[Button], tuple[tuple[str, Codec], ...]] = {}


def _codecs(cls: type[Button]) -> tuple[tuple[str, Codec], ...]:
    known = _CODECS.get(cls)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls, include_extras=True)
    result = []
    for f in fields(cls):  # type: ignore[arg-type]
        codec = next(m for m in hints[f.name].__metadata__ if isinstance(m, Codec))
        result.append((f.name, codec))
    _CODECS[cls] = tuple(result)
    return _CODECS[cls]


def parse(data: object) -> Button:
    """Any button from callback data (the longest declared prefix wins); Expired otherwise."""
    if not isinstance(data, str) or not data or len(data.encode()) > MAX_BYTES:
        raise Expired(str(data))
    tokens = data.split(":")
    for size in (2, 1):
        cls = REGISTRY.get(":".join(tokens[:size]))
        if cls is not None and len(tokens) >= size:
            return _load(cls, tokens[size:])
    raise Expired(data)


def _load(cls: type[B], parts: list[str]) -> B:
    values: dict[str, Any] = {}
    at = 0
    for name, codec in _codecs(cls):
        if isinstance(codec, OrNone) and at == len(parts):
            values[name] = None
            continue
        chunk = parts[at : at + codec.width]
        if len(chunk) != codec.width:
            raise Expired(":".join(parts))
        values[name] = codec.load(chunk)
        at += codec.width
    if at != len(parts):
        raise Expired(":".join(parts))
    return cls(**values)


Callback = Callable[[Update, Any], Coroutine[Any, Any, None]]


def handlers(callback: Callback, *codes: type[Button]) -> list[CallbackQueryHandler[Any, None]]:
    """One handler per code, each matching only its own well-formed data (so the order they
    are added in does not matter); checks the declaration names ``callback``."""
    name = f"{callback.__module__}.{callback.__qualname__}"
    result: list[CallbackQueryHandler[Any, None]] = []
    for cls in codes:
        if cls.handler != name:
            raise ValueError(f"{cls.__name__} is declared for {cls.handler}, not {name}")
        result.append(CallbackQueryHandler(callback, pattern=cls.matches))
    return result


def family(prefix: str) -> tuple[type[Button], ...]:
    """Every code under ``prefix`` ("W" gives W:new, W:grp…): a journey's own buttons."""
    return tuple(cls for p, cls in REGISTRY.items() if p == prefix or p.startswith(prefix + ":"))


def declared() -> Iterator[type[Button]]:
    """Every code, by prefix."""
    yield from (REGISTRY[p] for p in sorted(REGISTRY))


def document() -> str:
    """docs/buttons.md: every code, its fields and its handler."""
    lines = [
        "# Buttons",
        "",
        "Every inline button's callback data, generated from `bot/callbacks.py` by",
        "`make buttons-doc` (a test checks this file is up to date). Data is",
        "`<prefix>:<field>:<field>…`, at most 64 bytes; the longest declared prefix wins.",
        "The wire format is the one the bot has always written, so buttons already in",
        "people's chats keep working; data that does not decode (forged, or from an older",
        'version) gets the kind answer "this menu has expired"; handlers check rights again.',
        "",
        "| Data | Code | Fields | Taken by |",
        "|---|---|---|---|",
    ]
    for cls in declared():
        specs = _codecs(cls)
        shape = ":".join([cls.prefix, *(f"<{name}>" for name, _c in specs)])
        described = "; ".join(f"{name}: {c.doc}" for name, c in specs) or "—"
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        lines.append(f"| `{shape}` | {cls.__name__}: {summary} | {described} | `{cls.handler}` |")
    return "\n".join(lines) + "\n"


# --- the codes, journey by journey ----------------------------------------------------------


def _languages() -> Collection[str]:
    from bot.i18n import BY_CODE

    return BY_CODE


# start: language, what brings you, the menu


@code("L", "handlers.start.chose_language")
@dataclass(frozen=True, slots=True)
class ChooseLanguage(Button):
    """Speak this language (at the start, or changed later)."""

    language: Annotated[str, Choice(_languages, "language code")]
    flow: Annotated[str, StartFlow()]

    @property
    def link(self) -> deeplinks.StartLink | None:
        """The shared activity or group to open once the language is chosen, if any."""
        return None if self.flow in ("s", "c") else deeplinks.parse(self.flow)


@code("I", "handlers.start.chose_intent")
@dataclass(frozen=True, slots=True)
class ChooseIntent(Button):
    """What brought the person (asked once at the start)."""

    intent: Annotated[Intent, EnumOf(Intent)]


@code("M:lang", "handlers.start.menu_button")
@dataclass(frozen=True, slots=True)
class MenuLanguage(Button):
    """Menu: change the language."""


@code("M:help", "handlers.start.menu_button")
@dataclass(frozen=True, slots=True)
class MenuHelp(Button):
    """Menu: help."""


@code("M:menu", "handlers.start.menu_button")
@dataclass(frozen=True, slots=True)
class MenuShow(Button):
    """Back to the main menu."""


# find: where, results, filters, cards


@code("M:find", "handlers.find.menu_find")
@dataclass(frozen=True, slots=True)
class MenuFind(Button):
    """Menu: find welcoming activities (asks where)."""


@code("M:near", "handlers.find.menu_find")
@dataclass(frozen=True, slots=True)
class MenuNear(Button):
    """Menu: activities near the saved area."""


@code("P", "handlers.find.chose_place")
@dataclass(frozen=True, slots=True)
class ChoosePlace(Button):
    """This place, of several with the same name or a suggestion (with the kind asked for)."""

    place: Annotated[str, Token(12)]  # a town's geonameid, or a postcode district ("LS6")
    mode: Annotated[PlaceFor, EnumOf(PlaceFor)]  # what the place is for
    category: Annotated[Category | None, OrNone(EnumOf(Category))] = None


@code("S", "handlers.find.search_button")
@dataclass(frozen=True, slots=True)
class SearchPage(Button):
    """A page of search results."""

    search: Annotated[SearchState, Search()]


@code("C", "handlers.find.search_button")
@dataclass(frozen=True, slots=True)
class SearchCategories(Button):
    """The type-of-activity picker of a search."""

    search: Annotated[SearchState, Search()]


@code("N", "handlers.find.search_button")
@dataclass(frozen=True, slots=True)
class SearchNeeds(Button):
    """The needs picker of a search."""

    search: Annotated[SearchState, Search()]


@code("A", "handlers.find.open_card")
@dataclass(frozen=True, slots=True)
class OpenCard(Button):
    """An activity's card, with the way back to the results page."""

    activity: Id
    search: Annotated[SearchState, Search()]


@code("X:map", "handlers.find.card_action")
@dataclass(frozen=True, slots=True)
class CardMap(Button):
    """A pin for the activity's place."""

    activity: Id


@code("X:ics", "handlers.find.card_action")
@dataclass(frozen=True, slots=True)
class CardCalendar(Button):
    """A calendar file for the activity."""

    activity: Id


@code("X:en", "handlers.find.card_action")
@dataclass(frozen=True, slots=True)
class CardInEnglish(Button):
    """The activity's card in English."""

    activity: Id


@code("X:share", "handlers.share.share")
@dataclass(frozen=True, slots=True)
class ShareActivity(Button):
    """A forwardable message with the activity's short form and its link (a-<id>)."""

    activity: Id


# groups near a place

Lat = Annotated[int, Ints(4900, 6100)]  # hundredths of a degree, around the UK
Lon = Annotated[int, Ints(-900, 200)]


@code("M:groups", "handlers.groups.groups_button")
@dataclass(frozen=True, slots=True)
class MenuGroups(Button):
    """Menu: City of Sanctuary groups near me (asks where)."""


@code("G", "handlers.groups.groups_page")
@dataclass(frozen=True, slots=True)
class GroupsPage(Button):
    """A page of the groups nearest a point."""

    lat: Lat
    lon: Lon
    page: Annotated[int, Ints(0, 99)]


# privacy: the note, my data, forget, the saved area, I've moved


@code("M:privacy", "handlers.privacy.privacy_button")
@dataclass(frozen=True, slots=True)
class MenuPrivacy(Button):
    """Menu: the privacy note."""


@code("M:forgetarea", "handlers.privacy.privacy_button")
@dataclass(frozen=True, slots=True)
class ForgetArea(Button):
    """Forget my saved area."""


@code("V", "handlers.privacy.save_area")
@dataclass(frozen=True, slots=True)
class SaveArea(Button):
    """Save the searched area (rounded to about 1 km)."""

    lat: Lat
    lon: Lon


@code("D:data", "handlers.privacy.my_data")
@dataclass(frozen=True, slots=True)
class MyData(Button):
    """Show what the bot keeps about me."""


@code("D:forget", "handlers.privacy.forget_ask")
@dataclass(frozen=True, slots=True)
class ForgetAsk(Button):
    """Delete everything? (asks first)"""


@code("D:erase", "handlers.privacy.forget_confirmed")
@dataclass(frozen=True, slots=True)
class ForgetConfirmed(Button):
    """Yes, delete everything about me."""


@code("D:keep", "handlers.privacy.keep")
@dataclass(frozen=True, slots=True)
class KeepSettings(Button):
    """Keep my settings (the answer to the question after deleting)."""


@code("D:moved", "handlers.privacy.moved_ask")
@dataclass(frozen=True, slots=True)
class Moved(Button):
    """I've moved: asks where I am now."""


@code("D:drop", "handlers.privacy.drop_far")
@dataclass(frozen=True, slots=True)
class DropFarReminder(Button):
    """Stop one reminder now far from the new area."""

    activity: Id


@code("D:dropfar", "handlers.privacy.drop_far")
@dataclass(frozen=True, slots=True)
class DropAllFarReminders(Button):
    """Stop every reminder now far from the new area."""


# reminders


@code("X:rem", "handlers.reminders.toggle_from_card")
@dataclass(frozen=True, slots=True)
class RemindMe(Button):
    """Remind me of this activity (on its card)."""

    activity: Id


@code("X:unrem", "handlers.reminders.toggle_from_card")
@dataclass(frozen=True, slots=True)
class StopRemindingFromCard(Button):
    """Stop reminders of this activity (on its card)."""

    activity: Id


@code("R", "handlers.reminders.stop_from_list")
@dataclass(frozen=True, slots=True)
class StopReminder(Button):
    """Stop one reminder from the /reminders list."""

    activity: Id


@code("RS:show", "handlers.reminders.settings")
@dataclass(frozen=True, slots=True)
class ReminderSettings(Button):
    """The reminder settings."""


@code("RS:day", "handlers.reminders.settings")
@dataclass(frozen=True, slots=True)
class ToggleDayBefore(Button):
    """Switch the reminder 24 hours before."""


@code("RS:hour", "handlers.reminders.settings")
@dataclass(frozen=True, slots=True)
class ToggleHourBefore(Button):
    """Switch the reminder 1 hour before."""


@code("RS:digest", "handlers.reminders.settings")
@dataclass(frozen=True, slots=True)
class ToggleDigest(Button):
    """Switch the weekly digest."""


# safeguarding: reporting a concern, reviewing reports, the contact, "I'm interested"

Mark = Annotated[str, Token(11)]  # a signature() made for this person and activity


def _reasons() -> Collection[str]:
    from storage.safeguarding import REASONS

    return REASONS


@code("Q", "handlers.safeguarding.Safeguarding.report_button")
@dataclass(frozen=True, slots=True)
class ReportConcern(Button):
    """Report a concern about an activity: the reasons (for the person the card was made for)."""

    activity: Id
    mark: Mark


@code("Q:r", "handlers.safeguarding.Safeguarding.report_button")
@dataclass(frozen=True, slots=True)
class FileReport(Button):
    """File a report for this reason."""

    activity: Id
    reason: Annotated[str, Choice(_reasons, "reason (wrong, unsafe, money, other)")]
    mark: Mark


@code("Q:x", "handlers.safeguarding.Safeguarding.report_button")
@dataclass(frozen=True, slots=True)
class CancelReport(Button):
    """Cancel the report."""


@code("Q:done", "handlers.safeguarding.Safeguarding.report_button")
@dataclass(frozen=True, slots=True)
class ReportDone(Button):
    """Done: no words to add to the report."""


@code("Q:ok", "handlers.safeguarding.Safeguarding.review_button")
@dataclass(frozen=True, slots=True)
class ReviewShowAgain(Button):
    """A reviewer shows a reported activity again."""

    activity: Id


@code("Q:rm", "handlers.safeguarding.Safeguarding.review_button")
@dataclass(frozen=True, slots=True)
class ReviewRemoveAsk(Button):
    """A reviewer asks to remove a reported activity (asked once more)."""

    activity: Id


@code("Q:rmy", "handlers.safeguarding.Safeguarding.review_button")
@dataclass(frozen=True, slots=True)
class ReviewRemove(Button):
    """A reviewer removes a reported activity."""

    activity: Id


@code("Q:ls", "handlers.safeguarding.Safeguarding.review_button")
@dataclass(frozen=True, slots=True)
class ReviewList(Button):
    """The open reports again."""


@code("Q:sg", "handlers.safeguarding.Safeguarding.contact_button")
@dataclass(frozen=True, slots=True)
class SetSafeguardingContact(Button):
    """Make this team member the group's safeguarding contact."""

    group: Id
    user: Id


@code("X:int", "handlers.safeguarding.Safeguarding.interest_button")
@dataclass(frozen=True, slots=True)
class Interested(Button):
    """Mark or unmark "I'm interested" on a card (anonymous: counts only)."""

    activity: Id


# campaign alerts (supporters) and answers to a call


@code("M:alerts", "handlers.alerts.alerts_button")
@dataclass(frozen=True, slots=True)
class MenuAlerts(Button):
    """Menu: campaign alerts (the settings, or the offer)."""


@code("AL:on", "handlers.alerts.alerts_button")
@dataclass(frozen=True, slots=True)
class AlertsOn(Button):
    """Yes, send me campaign calls."""


@code("AL:no", "handlers.alerts.alerts_button")
@dataclass(frozen=True, slots=True)
class AlertsDeclined(Button):
    """No, thank you (to the offer of campaign calls)."""


@code("AL:off", "handlers.alerts.alerts_button")
@dataclass(frozen=True, slots=True)
class AlertsOff(Button):
    """Stop all campaign calls."""


@code("AL:t", "handlers.alerts.alerts_button")
@dataclass(frozen=True, slots=True)
class AlertsTopic(Button):
    """Switch calls about one topic."""

    topic: Annotated[Topic, EnumOf(Topic)]


@code("AL:a", "handlers.alerts.alerts_button")
@dataclass(frozen=True, slots=True)
class AlertsArea(Button):
    """Switch calls for one kind of area."""

    area: Annotated[AlertArea, EnumOf(AlertArea)]


@code("CA:did", "handlers.alerts.call_answer")
@dataclass(frozen=True, slots=True)
class CallDid(Button):
    """I did what the campaign call asked (counted once, never shown as who)."""

    campaign: Id


@code("CA:not", "handlers.alerts.call_answer")
@dataclass(frozen=True, slots=True)
class CallNotForMe(Button):
    """The campaign call is not for me."""

    campaign: Id


# admin: the team


@code("T:rm", "handlers.admin.remove_volunteer")
@dataclass(frozen=True, slots=True)
class RemoveVolunteer(Button):
    """Remove a volunteer from the group's team."""

    group: Id
    user: Id


# feedback after an occurrence


@code("FB", "handlers.feedback.Feedback.button")
@dataclass(frozen=True, slots=True)
class FeedbackScore(Button):
    """How welcome did you feel, 1 to 5."""

    activity: Id
    score: Annotated[int, Ints(1, 5)]


@code("FB:done", "handlers.feedback.Feedback.button")
@dataclass(frozen=True, slots=True)
class FeedbackDone(Button):
    """Done: no words to add to the feedback."""


# posting an activity (a volunteer's draft): each button answers the question being asked


def _posting(name: str) -> Callable[[], Collection[str]]:
    def values() -> Collection[str]:
        from bot.domain import posting

        return getattr(posting, name)  # type: ignore[no-any-return]

    return values


@code("W:new", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostNew(Button):
    """Menu: post an activity."""


@code("W:grp", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostForGroup(Button):
    """Post for this group (of several the person may post for)."""

    group: Id


@code("W:del", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostDiscard(Button):
    """Discard the draft."""


@code("W:cat", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostCategory(Button):
    """The draft's type of activity."""

    category: Annotated[str, Choice(_posting("CATEGORIES"), "category")]


@code("W:none", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostNone(Button):
    """No answer to this question (no description, no end date, free, the group's contact…)."""


@code("W:rep", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostRepeat(Button):
    """How often the activity happens."""

    kind: Annotated[str, Choice(_posting("KINDS"), "once, weekly, fortnightly, monthly")]


@code("W:day", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostToggleDay(Button):
    """Switch one weekday of a weekly activity (0 is Monday)."""

    day: Annotated[int, Ints(0, 6)]


@code("W:lang", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostToggleLanguage(Button):
    """Switch one language the activity is run in."""

    language: Annotated[str, Choice(_posting("SPOKEN"), "spoken language code")]


@code("W:need", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostToggleNeed(Button):
    """Switch one need the activity meets."""

    need: Annotated[str, Choice(_posting("NEEDS"), "need")]


@code("W:ok", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostDone(Button):
    """Done choosing (days, languages, needs)."""


@code("W:nth", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostNth(Button):
    """Which week of the month (-1 the last)."""

    nth: Annotated[str, Choice(lambda: ("1", "2", "3", "4", "-1"), "1, 2, 3, 4 or -1")]


@code("W:wd", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostWeekday(Button):
    """The weekday of a monthly activity (0 is Monday)."""

    weekday: Annotated[int, Ints(0, 6)]


@code("W:date", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostDate(Button):
    """The date of the activity."""

    day: Annotated[date, Day()]


@code("W:pub", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostPublish(Button):
    """Publish the draft."""


@code("W:fix", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostFix(Button):
    """Change something: which part of the draft."""


@code("W:pv", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostPreview(Button):
    """Back to the draft's preview."""


@code("W:sec", "handlers.activities.Posting.button")
@dataclass(frozen=True, slots=True)
class PostSection(Button):
    """Change this part of the draft."""

    section: Annotated[str, Choice(_posting("SECTIONS"), "part of the card")]


# managing my activities, "still running?", moderating


@code("Y:l", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class MyActivities(Button):
    """The list of my activities."""


@code("Y:o", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageOpen(Button):
    """An activity of mine: its card and what I can do with it."""

    activity: Id


@code("Y:e", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageEdit(Button):
    """Edit: which part of the activity."""

    activity: Id


@code("Y:s", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageEditSection(Button):
    """Edit this part of the activity."""

    activity: Id
    section: Annotated[str, Choice(_posting("SECTIONS"), "part of the card")]


@code("Y:c", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManagePickDate(Button):
    """Cancel one date: which one."""

    activity: Id


@code("Y:d", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageCancelDate(Button):
    """Cancel the activity on this date only."""

    activity: Id
    start: Annotated[datetime, Minute()]


@code("Y:pa", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManagePause(Button):
    """Pause the activity."""

    activity: Id


@code("Y:re", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageResume(Button):
    """Resume the paused activity."""

    activity: Id


@code("Y:ok", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageStillRunning(Button):
    """Yes, it is still running."""

    activity: Id


@code("Y:x", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageCancelAsk(Button):
    """Cancel the activity? (asks first)"""

    activity: Id


@code("Y:xx", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageCancel(Button):
    """Yes, cancel the activity."""

    activity: Id


@code("Y:rs", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageResubmit(Button):
    """Send the activity for checking again."""

    activity: Id


@code("Y:fb", "handlers.manage.Manage.button")
@dataclass(frozen=True, slots=True)
class ManageFeedback(Button):
    """The activity's anonymous feedback."""

    activity: Id


@code("F:yes", "handlers.manage.Manage.fresh_button")
@dataclass(frozen=True, slots=True)
class FreshYes(Button):
    """Yes, it is still running (asked after a while)."""

    activity: Id


@code("F:end", "handlers.manage.Manage.fresh_button")
@dataclass(frozen=True, slots=True)
class FreshEnded(Button):
    """No, it has ended (asked after a while)."""

    activity: Id


@code("Z:a", "handlers.manage.Manage.moderate_button")
@dataclass(frozen=True, slots=True)
class ModerateApprove(Button):
    """A moderator approves a post."""

    activity: Id


@code("Z:c", "handlers.manage.Manage.moderate_button")
@dataclass(frozen=True, slots=True)
class ModerateChanges(Button):
    """A moderator asks for changes (the reason is typed next)."""

    activity: Id


@code("Z:r", "handlers.manage.Manage.moderate_button")
@dataclass(frozen=True, slots=True)
class ModerateReject(Button):
    """A moderator rejects a post (the reason is typed next)."""

    activity: Id


# campaign calls (coordinators): every step re-checks the role and the call's state


def _translation_languages() -> Collection[str]:
    return [code for code in _languages() if code != "en"]


def _campaign_areas() -> Collection[str]:
    from bot.domain.vocabulary import Nation

    return ("uk", "near", *(n.value for n in Nation))


@code("K:list", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignList(Button):
    """Every campaign call (refresh)."""


@code("K:f", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignField(Button):
    """Type the call's title, text or action link."""

    campaign: Id
    field: Annotated[str, Choice(lambda: ("title", "body", "url"), "title, body or url")]


@code("K:tl", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignTranslate(Button):
    """Type the call in this language."""

    campaign: Id
    language: Annotated[str, Choice(_translation_languages, "language code (not en)")]


@code("K:t", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignTopic(Button):
    """Switch one topic of the call."""

    campaign: Id
    topic: Annotated[Topic, EnumOf(Topic)]


@code("K:a", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignArea(Button):
    """The call is for the whole UK, one nation, or near a place (typed next)."""

    campaign: Id
    area: Annotated[str, Choice(_campaign_areas, "uk, near or a nation")]


@code("K:tm", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignTomorrow(Button):
    """Send tomorrow at this hour (UK time)."""

    campaign: Id
    hour: Annotated[str, Choice(lambda: ("9", "18"), "9 or 18")]


@code("K:tr", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignTranslations(Button):
    """Which language to add a translation in."""

    campaign: Id


@code("K:tp", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignTopics(Button):
    """The call's topics."""

    campaign: Id


@code("K:ar", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignAreas(Button):
    """Who the call is for: the area picker."""

    campaign: Id


@code("K:wh", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignWhen(Button):
    """When to send the call."""

    campaign: Id


@code("K:now", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignSendNow(Button):
    """Send as soon as it is confirmed."""

    campaign: Id


@code("K:pv", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignPreview(Button):
    """Preview the call as supporters will see it."""

    campaign: Id


@code("K:ok", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignConfirmAsk(Button):
    """Confirm the draft: asks once more, with the audience."""

    campaign: Id


@code("K:go", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignSend(Button):
    """Yes, send the call."""

    campaign: Id


@code("K:ca", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignCancelAsk(Button):
    """Discard a draft, or ask before cancelling a call."""

    campaign: Id


@code("K:cx", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignCancel(Button):
    """Yes, cancel the call."""

    campaign: Id


@code("K:sum", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignSummary(Button):
    """The call's summary, to edit it."""

    campaign: Id


@code("K:pa", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignPause(Button):
    """Pause the call's sending."""

    campaign: Id


@code("K:re", "handlers.campaigns.Desk.button")
@dataclass(frozen=True, slots=True)
class CampaignResume(Button):
    """Resume the call's sending."""

    campaign: Id


# translating: an activity's texts in other languages (handlers/translating.py)


def _translated_fields() -> Collection[str]:
    from storage.translations import FIELDS

    return FIELDS


@code("TR:l", "handlers.translating.Translating.button")
@dataclass(frozen=True, slots=True)
class TranslationLanguages(Button):
    """An activity's translations: the languages it has, and a button for each language."""

    activity: Id


@code("TR:g", "handlers.translating.Translating.button")
@dataclass(frozen=True, slots=True)
class TranslateInto(Button):
    """Translate the activity's texts into this language (each field typed next)."""

    activity: Id
    language: Annotated[str, Choice(_translation_languages, "language code (not en)")]


@code("TR:s", "handlers.translating.Translating.button")
@dataclass(frozen=True, slots=True)
class TranslationSkip(Button):
    """Skip this field of the translation (what it has stays)."""

    activity: Id
    language: Annotated[str, Choice(_translation_languages, "language code (not en)")]
    field: Annotated[str, Choice(_translated_fields, "title, description, cost or place")]


@code("TR:ok", "handlers.translating.Translating.button")
@dataclass(frozen=True, slots=True)
class TranslationStillRight(Button):
    """The translation still says what the changed English says (no longer out of date)."""

    activity: Id
    language: Annotated[str, Choice(_translation_languages, "language code (not en)")]
