"""Posting an activity, one question at a time: the order of the questions, reading and checking
each answer, and turning the answers into an activity. No Telegram here (see handlers.activities).

A draft's ``data`` holds the answers as JSON values; each typed answer is checked here and either
stored or refused with a ``Problem`` code the views turn into a translated message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain.recurrence import Repeat, Schedule, local_to_utc, zone
from bot.domain.vocabulary import TAGGABLE_NEEDS, Category
from bot.places.place import valid_uk_coordinates
from bot.places.postcodes import Outcodes
from bot.views.formatting import typed_length
from storage.models import Activity, ActivityData, Group

TITLE_LIMIT = 80
DESCRIPTION_LIMIT = 600
VENUE_LIMIT = 100
ADDRESS_LIMIT = 200
COST_LIMIT = 80
CONTACT_LIMIT = 120
SKIPS_LIMIT = 20
FIRST_POSTS_MODERATED = 3  # a volunteer's first activities in a group wait for an admin
CATEGORIES = tuple(c.value for c in Category)
NEEDS = tuple(n.value for n in TAGGABLE_NEEDS)
# Languages an activity can be run in (spoken, so not only the bot's own languages).
SPOKEN = (
    "en", "ar", "fa", "ps", "ur", "ku", "ckb", "ti", "am", "so", "sq", "vi", "bn", "tr",
    "uk", "ru", "fr", "es", "pt", "zh", "cy",
)  # fmt: skip
KINDS = ("once", "weekly", "fortnightly", "monthly")
# What "No description", "No end date", "None", "Free" and "Use the group's contact" answer.
NONE_ANSWERS: dict[str, dict[str, Any]] = {
    "description": {"description": ""}, "until": {"until": None}, "skips": {"skips": []},
    "cost": {"cost": None}, "contact": {"contact": ""},
}  # fmt: skip

# Every question, in the order a new post asks them, with the part of the card it belongs to.
STEPS: tuple[tuple[str, str], ...] = (
    ("title", "title"),
    ("category", "category"),
    ("description", "description"),
    ("repeat", "when"),
    ("days", "when"),
    ("nth", "when"),
    ("weekday", "when"),
    ("date", "when"),
    ("time", "when"),
    ("end", "when"),  # only after a start time typed alone ("10:00", "10am")
    ("until", "when"),
    ("skips", "when"),
    ("where", "where"),
    ("venue", "where"),
    ("languages", "languages"),
    ("cost", "cost"),
    ("needs", "needs"),
    ("contact", "contact"),
)
SECTIONS = ("title", "category", "description", "when", "where", "languages", "cost", "needs",
            "contact")  # fmt: skip
_SECTION = dict(STEPS)
_ORDER = [s for s, _section in STEPS]
TYPED = frozenset({"title", "description", "date", "time", "end", "until", "skips", "where",
                   "venue", "cost", "contact"})  # fmt: skip

_DATE_FORMS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$"), "dmy"),
    (re.compile(r"^(\d{1,2})[/.](\d{1,2})$"), "dm"),
)
# A time of day as people type it: 18:00, 18.00, 6pm, 6:30 p.m., 10am; a range joins two.
_CLOCK = r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:([ap])\.?\s*m?\.?)?"
_TIME = re.compile(rf"^{_CLOCK}$", re.IGNORECASE)
_TIMES = re.compile(rf"^{_CLOCK}\s*(?:-|–|—|to|until|till)\s*{_CLOCK}$", re.IGNORECASE)
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.IGNORECASE)
_SENTENCE = re.compile(r"[.!?؟。]+")
_WORD = re.compile(r"\w+")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class Problem(Exception):
    """A typed answer that cannot be taken; ``code`` names the message, ``args`` fill it."""

    def __init__(self, code: str, **args: Any) -> None:
        super().__init__(code)
        self.code = code
        self.args_ = args


def applies(step: str, data: dict[str, Any]) -> bool:
    """Whether the question is asked, given the answers so far (days only for weekly...)."""
    kind = str(data.get("repeat", "once"))
    if step == "days":
        return kind in ("weekly", "fortnightly")
    if step == "end":
        return bool(data.get("start")) and not data.get("end")
    if step in ("nth", "weekday"):
        return kind == "monthly"
    if step in ("until", "skips"):
        return kind != "once"
    return True


def first_step(section: str, data: dict[str, Any]) -> str:
    """The first question of a section (``all``: of a new post)."""
    for step in _ORDER:
        if (section == "all" or _SECTION[step] == section) and applies(step, data):
            return step
    raise ValueError(section)


def next_step(step: str, data: dict[str, Any], section: str) -> str:
    """The question after ``step``; ``done`` at the end of the section or the post."""
    for later in _ORDER[_ORDER.index(step) + 1 :]:
        if section != "all" and _SECTION[later] != section:
            return "done"
        if applies(later, data):
            return later
    return "done"


def section_of(step: str) -> str:
    """The part of the card a question fills."""
    return _SECTION[step]


def local_today(now: datetime, tz: str) -> date:
    """Today's date where the group is."""
    return now.astimezone(zone(tz)).date()


def parse_date(text: str, today: date) -> date | None:
    """25/12/2026, 25.12.2026, 2026-12-25 or 25/12 (the next such day); None if unreadable."""
    text = text.strip().translate(_DIGITS)
    for pattern, form in _DATE_FORMS:
        match = pattern.match(text)
        if match is None:
            continue
        numbers = [int(g) for g in match.groups()]
        if form == "ymd":
            year, month, day = numbers
        elif form == "dmy":
            day, month, year = numbers
        else:
            day, month = numbers
            year = today.year
        try:
            found = date(year, month, day)
            if form == "dm" and found < today:
                found = found.replace(year=year + 1)
        except ValueError:
            return None
        return found
    return None


def repeat_of(data: dict[str, Any]) -> Repeat:
    """The repeat the answers describe."""
    kind = data.get("repeat", "once")
    if kind == "monthly":
        return Repeat("monthly", (int(data.get("weekday", 0)),), int(data.get("nth", 1)))
    if kind in ("weekly", "fortnightly"):
        return Repeat(kind, tuple(sorted(int(d) for d in data.get("days", []))))
    return Repeat("once")


def next_dates(data: dict[str, Any], today: date, count: int = 4) -> list[date]:
    """The next few days the series may start on (offered as buttons)."""
    repeat = repeat_of(data)
    found: list[date] = []
    day = today
    while len(found) < count and day < today + timedelta(days=120):
        if repeat.matches(day):
            found.append(day)
        day += timedelta(days=1)
    return found


def take_text(
    step: str,
    text: str,
    data: dict[str, Any],
    now: datetime,
    tz: str,
    outcodes: Outcodes | None,
    group: Group,
) -> dict[str, Any]:
    """Check a typed answer; the answers to store, or Problem."""
    value = " ".join(text.split()) if step != "description" else text.strip()
    today = local_today(now, tz)
    if not value:
        raise Problem("empty")
    limits = {
        "title": TITLE_LIMIT,
        "description": DESCRIPTION_LIMIT,
        "venue": VENUE_LIMIT,
        "cost": COST_LIMIT,
        "contact": CONTACT_LIMIT,
    }
    if step in limits:  # as Telegram counts the card's characters (an emoji counts two)
        if typed_length(value) > limits[step]:
            raise Problem("too_long", limit=limits[step], length=typed_length(value))
        return {step: value}
    if step in ("date", "until"):
        day = parse_date(value, today)
        if day is None:
            raise Problem("bad_date")
        if day < today:
            raise Problem("past_date")
        if step == "until":
            first = date.fromisoformat(data["date"]) if data.get("date") else today
            if day < first:
                raise Problem("until_before")
            return {"until": day.isoformat()}
        return check_date(day, data, today)
    if step == "time":
        start, end = parse_times(value)
        if end is not None and end <= start:
            raise Problem("end_before_start")
        day = date.fromisoformat(data["date"]) if data.get("date") else today
        if local_to_utc(day, start, tz) <= now:
            raise Problem("past_date")
        return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M") if end else ""}
    if step == "end":
        start = time.fromisoformat(data["start"])
        end = _clock(_TIME.match(value.translate(_DIGITS)), 0, start)
        if end <= start:
            raise Problem("end_before_start")
        return {"end": end.strftime("%H:%M")}
    if step == "skips":
        return {"skips": _skips(value, data, today)}
    if step == "where":
        return _address(value, outcodes, group)
    raise Problem("use_buttons")


def _clock(match: re.Match[str] | None, at: int, after: time | None = None) -> time:
    """The time in groups ``at``.. of a match (hour, minutes, a/p); a bare hour that cannot be
    before ``after`` is read as the afternoon ("10am-2": 14:00)."""
    if match is None:
        raise Problem("bad_time")
    hour_text, minute_text, half = match.groups()[at : at + 3]
    hour, minute = int(hour_text), int(minute_text or 0)
    if half:
        if not 1 <= hour <= 12:
            raise Problem("bad_time")
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    elif after is not None and minute_text is None and hour < 12 and time(hour) <= after:
        hour += 12
    if hour > 23 or minute > 59:
        raise Problem("bad_time")
    return time(hour, minute)


def parse_times(text: str) -> tuple[time, time | None]:
    """A start and end ("18:00-20:00", "10am-12pm", "6-8pm"), or a start alone ("10:00")."""
    text = text.translate(_DIGITS).strip()
    match = _TIMES.match(text)
    if match is None:
        return _clock(_TIME.match(text), 0), None
    start_half, end_half = match.group(3), match.group(6)
    if start_half is None and end_half is not None and end_half.lower() == "p":
        # "6-8pm": the start shares the end's afternoon, unless that puts it after the end
        end = _clock(match, 3)
        start = _clock(match, 0)
        if start.hour < 12 and time(start.hour + 12, start.minute) < end:
            start = time(start.hour + 12, start.minute)
        return start, end
    start = _clock(match, 0)
    return start, _clock(match, 3, start)


def check_date(day: date, data: dict[str, Any], today: date) -> dict[str, Any]:
    """A first date (typed or pressed): not past, and one of the series' days."""
    if day < today:
        raise Problem("past_date")
    if not repeat_of(data).matches(day):
        raise Problem("not_a_day")
    return {"date": day.isoformat()}


def _skips(value: str, data: dict[str, Any], today: date) -> list[str]:
    days: list[str] = []
    repeat = repeat_of(data)
    first = date.fromisoformat(data["date"]) if data.get("date") else today
    until = date.fromisoformat(data["until"]) if data.get("until") else None
    for part in re.split(r"[,;\s،]+", value):
        if not part:
            continue
        day = parse_date(part, today)
        if day is None:
            raise Problem("bad_skip", date=part[:20])
        if day < first or (until and day > until) or not repeat.matches(day):
            raise Problem("skip_not_in_series", date=part[:20])
        days.append(day.isoformat())
    if len(days) > SKIPS_LIMIT:
        raise Problem("too_many_skips", limit=SKIPS_LIMIT)
    return sorted(set(days))


def _address(value: str, outcodes: Outcodes | None, group: Group) -> dict[str, Any]:
    match = _POSTCODE.search(value)
    if match is None:
        raise Problem("no_postcode")
    outward, inward = match.group(1).upper(), match.group(2).upper()
    lat, lon = group.lat, group.lon  # without postcode data: the group's own town
    if outcodes is not None:
        place = outcodes.get(outward)
        if place is None:
            raise Problem("unknown_postcode", postcode=f"{outward} {inward}")
        lat, lon = place.lat, place.lon
    address = (value[: match.start()] + value[match.end() :]).strip(" ,")
    if typed_length(address) > ADDRESS_LIMIT:
        raise Problem("too_long", limit=ADDRESS_LIMIT, length=typed_length(address))
    return {"address": address, "postcode": f"{outward} {inward}", "lat": lat, "lon": lon}


def take_location(lat: float, lon: float) -> dict[str, Any]:
    """A pin sent for the venue (a public place: kept as sent)."""
    if not valid_uk_coordinates(lat, lon):
        raise Problem("outside_uk")
    return {"lat": round(lat, 5), "lon": round(lon, 5), "address": "", "postcode": ""}


def hard_to_read(text: str) -> bool:
    """Long or dense text for someone reading in a second language (a hint, not a block)."""
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    words = _WORD.findall(text)
    longest = max((len(_WORD.findall(s)) for s in sentences), default=0)
    return len(sentences) > 4 or longest > 20 or any(len(w) > 14 and w.isalpha() for w in words)


def missing(data: dict[str, Any]) -> list[str]:
    """Sections with a required answer not given yet."""
    needed = {
        "title": "title",
        "category": "category",
        "date": "when",
        "start": "when",
        "end": "when",
        "lat": "where",
        "venue": "where",
    }
    gaps = [section for key, section in needed.items() if not data.get(key)]
    if data.get("repeat") in ("weekly", "fortnightly") and not data.get("days"):
        gaps.append("when")
    return sorted(set(gaps), key=SECTIONS.index)


def to_activity(data: dict[str, Any], group: Group) -> ActivityData:
    """The activity the answers describe (call only when ``missing`` is empty)."""
    day = date.fromisoformat(data["date"])
    start, end = time.fromisoformat(data["start"]), time.fromisoformat(data["end"])
    duration = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    until = data.get("until")
    return ActivityData(
        ref=None,
        group_ref=group.ref,
        title=data["title"],
        category=data["category"],
        description=data.get("description", ""),
        venue=data.get("venue", ""),
        address=data.get("address", ""),
        postcode=data.get("postcode", ""),
        lat=float(data["lat"]),
        lon=float(data["lon"]),
        starts_at=local_to_utc(day, start, group.timezone),
        duration_min=max(duration, 1),
        rrule=repeat_of(data).to_rrule(),
        until=date.fromisoformat(until) if until else None,
        languages=tuple(data.get("languages") or ["en"]),
        cost=data.get("cost") or None,
        needs=frozenset(data.get("needs", [])),
        contact=data.get("contact", ""),
    )


def preview_activity(data: dict[str, Any], group: Group, status: str = "published") -> Activity:
    """The answers as an activity, for the card the preview shows (id 0: nothing stored)."""
    item = to_activity(data, group)
    return Activity(
        id=0,
        ref=None,
        group_id=group.id,
        title=item.title,
        category=item.category,
        description=item.description,
        venue=item.venue,
        address=item.address,
        postcode=item.postcode,
        lat=item.lat,
        lon=item.lon,
        starts_at=item.starts_at,
        duration_min=item.duration_min,
        rrule=item.rrule,
        until=item.until,
        languages=item.languages,
        cost=item.cost,
        needs=item.needs,
        contact=item.contact,
        status=status,
        created_by=None,
        updated_at=item.starts_at,
        skips=frozenset(date.fromisoformat(d) for d in data.get("skips", [])),
    )


def answers_of(activity: Activity, tz: str) -> dict[str, Any]:
    """An activity back as answers, for editing one part of it."""
    repeat = Repeat.from_rrule(activity.rrule)
    local = activity.starts_at.astimezone(zone(tz))
    end = local + timedelta(minutes=activity.duration_min)
    data: dict[str, Any] = {
        "title": activity.title,
        "category": activity.category,
        "description": activity.description,
        "repeat": repeat.kind,
        "date": local.date().isoformat(),
        "start": local.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "until": activity.until.isoformat() if activity.until else None,
        "skips": sorted(d.isoformat() for d in activity.skips),
        "lat": activity.lat,
        "lon": activity.lon,
        "address": activity.address,
        "postcode": activity.postcode,
        "venue": activity.venue,
        "languages": list(activity.languages),
        "cost": activity.cost,
        "needs": sorted(activity.needs),
        "contact": activity.contact,
    }
    if repeat.kind == "monthly":
        data["nth"], data["weekday"] = repeat.nth, repeat.days[0]
    elif repeat.kind != "once":
        data["days"] = list(repeat.days)
    return data


def schedule_of(activity: Activity, tz: str) -> Schedule:
    """An activity's dates, in its group's time zone ``tz``."""
    return Schedule(
        activity.starts_at, activity.duration_min, activity.rrule, activity.until, tz,
        activity.skips,
    )  # fmt: skip


def upcoming(activity: Activity, tz: str, now: datetime, count: int = 6) -> list[datetime]:
    """The next occurrences' starts (for "cancel one date")."""
    return [o.start for o in schedule_of(activity, tz).occurrences(now, count)]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What publishing did: the activity, and whether it waits for moderation."""

    activity_id: int
    pending: bool
