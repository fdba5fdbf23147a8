"""CSV import and export of groups and activities (formats: docs/import-formats.md).

Every row is validated; errors carry row numbers; a file with any error imports nothing.
An error's words are an English msgid (marked with ``N_``) and the values to put in it: the
command line prints them in English, the desk in the reader's language.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar

from bot.domain.recurrence import Repeat, RepeatError, local_to_utc, zone
from bot.domain.vocabulary import TAGGABLE_NEEDS, Category, GroupKind, Nation, Stream
from bot.i18n import BY_CODE, DEFAULT_LOCALE, N_
from bot.places.place import valid_uk_coordinates
from bot.places.postcodes import looks_like_postcode
from storage.activities import ActivityRepository
from storage.db import Database, utcnow
from storage.groups import GroupRepository
from storage.models import Activity, ActivityData, Group, GroupData
from storage.translations import FIELDS, TranslationRepository

GROUP_COLUMNS = [
    "ref",
    "name",
    "kind",
    "stream",
    "town",
    "nation",
    "latitude",
    "longitude",
    "email",
    "website",
    "phone",
    "telegram",
    "description",
]
ACTIVITY_COLUMNS = [
    "ref",
    "group_ref",
    "title",
    "category",
    "description",
    "venue",
    "address",
    "postcode",
    "latitude",
    "longitude",
    "start_date",
    "start_time",
    "end_time",
    "repeat",
    "until",
    "languages",
    "cost",
    "needs",
    "contact",
]

# Translation columns: <prefix>_<language code>, after the columns above, in any order.
TRANSLATED_COLUMNS = {"title": "title", "description": "description", "cost": "cost",
                      "place_notes": "place"}  # fmt: skip
_TRANSLATED_LIMITS = {"title": 80, "description": 500, "cost": 80, "place": 100}
TRANSLATION_LANGUAGES = tuple(code for code in BY_CODE if code != DEFAULT_LOCALE)

_REF = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EXPORTED = re.compile(r"^activity-(\d+)$")
_TELEGRAM = re.compile(r"^@[A-Za-z0-9_]{5,32}$")
MAX_ROWS = 20_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one row (row 1 is the header, so data starts at row 2): ``message``
    is a msgid whose ``{placeholders}`` the ``values`` fill."""

    row: int
    column: str
    message: str
    values: tuple[tuple[str, str], ...] = ()

    def text(
        self,
        translate: Callable[[str], str] = str,
        value: Callable[[str], str] = str,
    ) -> str:
        """The message, translated by ``translate`` (English without), each value passed
        through ``value`` (to isolate it inside right-to-left text)."""
        return translate(self.message).format(**{k: value(v) for k, v in self.values})

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.text()}"


def row_error(row: int, column: str, message: str, **values: object) -> RowError:
    """A row's error: a msgid and the values for its placeholders."""
    return RowError(row, column, message, tuple((k, str(v)) for k, v in values.items()))


class ImportFailed(Exception):
    """The file had errors; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class _Row:
    """One CSV row with helpers that record errors instead of raising."""

    def __init__(self, line: int, values: Mapping[str, str | None], errors: list[RowError]):
        self.line = line
        self.values = values
        self.errors = errors

    def error(self, column: str, message: str, **values: object) -> None:
        self.errors.append(row_error(self.line, column, message, **values))

    def text(self, column: str, limit: int, required: bool = False) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            self.error(column, N_("is required"))
        if len(value) > limit:
            self.error(
                column,
                N_("is {length} characters long, at most {limit} allowed"),
                length=len(value),
                limit=limit,
            )
        return value

    def ref(self, limit: int, seen: set[str]) -> str:
        """The row's ``ref``: required, slug-shaped, unique within the file."""
        ref = self.text("ref", limit, required=True)
        if ref and not _REF.match(ref):
            self.error("ref", N_("use lowercase letters, digits and hyphens"))
        if ref in seen:
            self.error("ref", N_("“{value}” appears twice in this file"), value=ref)
        seen.add(ref)
        return ref

    def optional(self, column: str, limit: int) -> str | None:
        return self.text(column, limit) or None

    def choice(self, column: str, allowed: Iterable[str], required: bool = True) -> str:
        value = self.text(column, 40, required)
        options = sorted(allowed)
        if value and value not in options:
            self.error(
                column,
                N_("“{value}” is not one of: {options}"),
                value=value,
                options=", ".join(options),
            )
        return value

    def number(self, column: str) -> float:
        raw = self.text(column, 20, required=True)
        try:
            return float(raw) if raw else 0.0
        except ValueError:
            self.error(column, N_("“{value}” is not a number"), value=raw)
            return 0.0

    def parsed(
        self, column: str, parse: Callable[[str], T], problem: str, required: bool = False
    ) -> T | None:
        """The column's value parsed; ``problem`` (a msgid with ``{value}``) when it is not."""
        raw = self.text(column, 40, required)
        if not raw:
            return None
        try:
            return parse(raw)
        except ValueError:
            self.error(column, problem, value=raw)
            return None


def translation_column(name: str) -> tuple[str, str] | None:
    """``title_ar`` → ("title", "ar"); None when the name is not a translation column."""
    for prefix, field in TRANSLATED_COLUMNS.items():
        if name.startswith(prefix + "_") and name[len(prefix) + 1 :] in TRANSLATION_LANGUAGES:
            return field, name[len(prefix) + 1 :]
    return None


def _read(
    text: str, expected: list[str], translations: bool = False
) -> Iterator[tuple[int, Mapping[str, str | None]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if translations and header[: len(expected)] == expected and len(header) > len(expected):
        extra = header[len(expected) :]
        bad = [name for name in extra if translation_column(name) is None]
        if bad or len(set(extra)) < len(extra):
            problem = N_(
                "not translation columns: {columns} (use title_, description_, cost_ or "
                "place_notes_ and one of: {languages})"
            )
            columns, languages = ",".join(bad or extra), " ".join(TRANSLATION_LANGUAGES)
            raise ImportFailed(
                [row_error(1, "header", problem, columns=columns, languages=languages)]
            )
        expected = header
    if header != expected:
        problem = N_("expected {expected}; got {got}")
        raise ImportFailed(
            [row_error(1, "header", problem, expected=",".join(expected), got=",".join(header))]
        )
    for offset, values in enumerate(reader):
        if offset >= MAX_ROWS:
            raise ImportFailed(
                [row_error(offset + 2, "file", N_("more than {count} rows"), count=MAX_ROWS)]
            )
        if None in values:
            raise ImportFailed(
                [RowError(reader.line_num, "row", N_("has more columns than the header"))]
            )
        yield reader.line_num, values


def decode(data: bytes) -> str:
    """File contents as text: UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = N_("is not UTF-8 text ({reason})")
        raise ImportFailed([row_error(0, "file", problem, reason=exc.reason)]) from None


def parse_groups(text: str) -> list[GroupData]:
    """Validate a groups CSV; raise ImportFailed listing every error."""
    errors: list[RowError] = []
    groups: list[GroupData] = []
    seen: set[str] = set()
    for number, values in _read(text, GROUP_COLUMNS):
        row = _Row(number, values, errors)
        ref = row.ref(40, seen)
        kind = row.choice("kind", [k.value for k in GroupKind])
        stream = row.choice("stream", [s.value for s in Stream], required=kind == "stream")
        if kind == "group" and stream:
            row.error("stream", N_("must be empty for kind=group"))
        lat, lon = row.number("latitude"), row.number("longitude")
        if not valid_uk_coordinates(lat, lon):
            row.error("latitude", N_("{place} is not in the UK"), place=f"{lat},{lon}")
        email = row.optional("email", 120)
        if email and not _EMAIL.match(email):
            row.error("email", N_("“{value}” is not an email address"), value=email)
        website = row.optional("website", 200)
        if website and not website.startswith("https://"):
            row.error("website", N_("must start with https://"))
        phone = row.optional("phone", 30)
        if phone and not re.fullmatch(r"[0-9 +()-]{6,30}", phone):
            row.error("phone", N_("“{value}” is not a phone number"), value=phone)
        telegram = row.optional("telegram", 33)
        if telegram and not _TELEGRAM.match(telegram):
            row.error("telegram", N_("must be a @username"))
        if not (email or website or phone or telegram):
            row.error("email", N_("give at least one contact: email, website, phone or telegram"))
        groups.append(
            GroupData(
                ref=ref,
                name=row.text("name", 120, required=True),
                kind=kind,
                stream=stream or None,
                town=row.text("town", 80, required=True),
                nation=row.choice("nation", [n.value for n in Nation]),
                lat=lat,
                lon=lon,
                email=email,
                website=website,
                phone=phone,
                telegram=telegram,
                description=row.text("description", 300),
            )
        )
    if errors:
        raise ImportFailed(errors)
    return groups


def parse_activities(
    text: str, group_refs: Mapping[str, str], default_tz: str = "Europe/London"
) -> list[ActivityData]:
    """Validate an activities CSV against known group refs (ref → time zone)."""
    return parse_activity_file(text, group_refs, default_tz)[0]


# per activity ref: (field, language) → the translated text
Translated = dict[str, dict[tuple[str, str], str]]


def parse_activity_file(
    text: str, group_refs: Mapping[str, str], default_tz: str = "Europe/London"
) -> tuple[list[ActivityData], Translated]:
    """Validate an activities CSV with its translation columns (``title_ar``…)."""
    errors: list[RowError] = []
    items: list[ActivityData] = []
    translated: Translated = {}
    seen: set[str] = set()
    for number, values in _read(text, ACTIVITY_COLUMNS, translations=True):
        row = _Row(number, values, errors)
        ref = row.ref(60, seen)
        group_ref = row.text("group_ref", 40, required=True)
        if group_ref and group_ref not in group_refs:
            problem = N_("no group with ref “{value}” (import groups first)")
            row.error("group_ref", problem, value=group_ref)
        tz = group_refs.get(group_ref, default_tz)
        lat, lon = row.number("latitude"), row.number("longitude")
        if not valid_uk_coordinates(lat, lon):
            row.error("latitude", N_("{place} is not in the UK"), place=f"{lat},{lon}")
        postcode = row.text("postcode", 10).upper()
        if postcode and not looks_like_postcode(postcode):
            row.error("postcode", N_("“{value}” is not a UK postcode"), value=postcode)
        not_a_date = N_("“{value}” is not a date (YYYY-MM-DD)")
        start_day = row.parsed("start_date", date.fromisoformat, not_a_date, True)
        until = row.parsed("until", date.fromisoformat, not_a_date)
        start_raw, end_raw = row.text("start_time", 5, True), row.text("end_time", 5, True)
        for column, raw in (("start_time", start_raw), ("end_time", end_raw)):
            if raw and not _TIME.match(raw):
                row.error(column, N_("“{value}” is not a time (HH:MM, 24-hour)"), value=raw)
        duration = 0
        if _TIME.match(start_raw) and _TIME.match(end_raw):
            start_t, end_t = time.fromisoformat(start_raw), time.fromisoformat(end_raw)
            duration = (end_t.hour * 60 + end_t.minute) - (start_t.hour * 60 + start_t.minute)
            if duration <= 0:
                problem = N_("{end} is not after the start time {start}")
                row.error("end_time", problem, end=end_raw, start=start_raw)
        repeat_raw = row.text("repeat", 40, required=True)
        repeat = Repeat("once")
        try:
            repeat = Repeat.parse(repeat_raw) if repeat_raw else repeat
        except RepeatError:
            problem = N_("“{value}”: use once, weekly:MO,TH, fortnightly:WE or monthly:1SA")
            row.error("repeat", problem, value=repeat_raw)
        if start_day and repeat_raw and not repeat.matches(start_day):
            problem = N_("{day} is not a day of {repeat}")
            row.error("start_date", problem, day=start_day, repeat=repeat.to_text())
        if until and start_day and until < start_day:
            row.error("until", N_("is before start_date"))
        if until and repeat.kind == "once":
            row.error("until", N_("only a repeating activity has an until date"))
        languages = tuple(row.text("languages", 100).lower().split()) or ("en",)
        bad = [code for code in languages if not _LANG.match(code)]
        if bad:
            row.error("languages", N_("not language codes: {codes}"), codes=" ".join(bad))
        needs = frozenset(row.text("needs", 100).split())
        unknown = sorted(needs - {n.value for n in TAGGABLE_NEEDS})
        if unknown:
            row.error("needs", N_("unknown: {needs}"), needs=" ".join(unknown))
        starts_at = (
            local_to_utc(start_day, time.fromisoformat(start_raw), tz)
            if start_day and _TIME.match(start_raw)
            else datetime(2000, 1, 1, tzinfo=zone("UTC"))
        )
        items.append(
            ActivityData(
                ref=ref,
                group_ref=group_ref,
                title=row.text("title", 80, required=True),
                category=row.choice("category", [c.value for c in Category]),
                description=row.text("description", 500),
                venue=row.text("venue", 100),
                address=row.text("address", 200),
                postcode=postcode,
                lat=lat,
                lon=lon,
                starts_at=starts_at,
                duration_min=max(duration, 1),
                rrule=repeat.to_rrule(),
                until=until,
                languages=languages,
                cost=row.optional("cost", 80),
                needs=needs,
                contact=row.text("contact", 120),
            )
        )
        texts = _row_translations(row, values, items[-1])
        if texts:
            translated[ref] = texts
    if errors:
        raise ImportFailed(errors)
    return items, translated


def _row_translations(
    row: _Row, values: Mapping[str, str | None], item: ActivityData
) -> dict[tuple[str, str], str]:
    """One row's translation cells: each needs an original to translate."""
    texts: dict[tuple[str, str], str] = {}
    for column in values:
        found = translation_column(column or "")
        if found is None:
            continue
        field, lang = found
        value = row.text(column, _TRANSLATED_LIMITS[field])
        if not value:
            continue
        if not getattr(item, FIELDS[field]):
            row.error(column, N_("there is no {field} to translate"), field=FIELDS[field])
        texts[(field, lang)] = value
    return texts


async def import_groups(db: Database, text: str) -> int:
    """Validate and import a groups file in one transaction."""
    groups = parse_groups(text)
    async with db.transaction() as conn:
        return await GroupRepository.upsert_many(conn, groups)


async def import_activities(db: Database, text: str) -> int:
    """Validate a whole activities file, then import it in batches (``save_activities``)."""
    items, translated = await read_activities(db, text)
    return await save_activities(db, items, translated)


async def read_activities(db: Database, text: str) -> tuple[list[ActivityData], Translated]:
    """Validate an activities file against the groups there are (ImportFailed: nothing is
    saved); what ``save_activities`` then saves."""
    zones = {g.ref: g.timezone for g in await GroupRepository(db).all()}
    # thousands of rows take a while to check: in a thread, so the bot keeps answering
    return await asyncio.to_thread(parse_activity_file, text, zones)


def export_ref(activity: Activity) -> str:
    """An activity's ref in an export: its own, or ``activity-<id>`` for one posted in the bot
    (which has none); importing that row again updates the same activity."""
    return activity.ref or f"activity-{activity.id}"


def exported_id(ref: str) -> int | None:
    """The activity an ``activity-<id>`` ref of an export names; None for any other ref."""
    found = _EXPORTED.match(ref)
    return int(found[1]) if found else None


# Rows saved a transaction: 500 hold the database about 30-45 ms at national scale.
IMPORT_BATCH = 500


async def save_activities(db: Database, items: list[ActivityData], translated: Translated) -> int:
    """Save validated activities and their translations, ``IMPORT_BATCH`` rows a transaction,
    so a big file never holds the database while people are answered (a row of an export with
    ``activity-<id>`` updates that activity, posted in the bot without a ref). The whole file
    was checked before (nothing is saved when a row is wrong); should the database fail half
    way, importing the same file again finishes it: rows are matched by their ref."""
    refs = await GroupRepository(db).refs()
    count = 0
    for start in range(0, len(items), IMPORT_BATCH):
        chunk = items[start : start + IMPORT_BATCH]
        claimed = [(item.ref, found) for item in chunk if (found := exported_id(item.ref or ""))]
        texts = {item.ref: translated[item.ref] for item in chunk if item.ref in translated}
        async with db.transaction() as conn:
            await ActivityRepository.claim_refs(conn, claimed)
            count += await ActivityRepository.upsert_many(conn, chunk, refs)
            await TranslationRepository.import_in(conn, texts, utcnow())
    return count


def _write(rows: Iterable[list[str]], header: list[str]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def group_row(g: Group) -> list[str]:
    """A group as a row of a groups file (GROUP_COLUMNS)."""
    return [
        g.ref, g.name, g.kind, g.stream or "", g.town, g.nation, f"{g.lat:.5f}",
        f"{g.lon:.5f}", g.email or "", g.website or "", g.phone or "", g.telegram or "",
        g.description,
    ]  # fmt: skip


async def export_groups(db: Database) -> str:
    """All groups as CSV in the import format."""
    return _write([group_row(g) for g in await GroupRepository(db).all()], GROUP_COLUMNS)


def _activity_row(a: Activity, group_ref: str, tz: str) -> list[str]:
    start = a.starts_at.astimezone(zone(tz))
    end_minutes = start.hour * 60 + start.minute + a.duration_min
    return [
        export_ref(a), group_ref, a.title, a.category, a.description, a.venue,
        a.address, a.postcode, f"{a.lat:.5f}", f"{a.lon:.5f}", start.date().isoformat(),
        start.strftime("%H:%M"), f"{min(end_minutes // 60, 23):02d}:{end_minutes % 60:02d}",
        Repeat.from_rrule(a.rrule).to_text(), a.until.isoformat() if a.until else "",
        " ".join(a.languages), a.cost or "", " ".join(sorted(a.needs)), a.contact,
    ]  # fmt: skip


async def export_activities(db: Database, groups: Collection[int] | None = None) -> str:
    """All activities (of ``groups`` when given) as CSV in the import format, with a
    translation column (``title_ar``…) for each field and language that has a published
    translation, so a round trip keeps them. Translations waiting for an admin are not
    exported."""
    zones = {g.ref: g.timezone for g in await GroupRepository(db).all()}
    listed = [
        (a, ref)
        for a, ref in await ActivityRepository(db).with_group_refs()
        if groups is None or a.group_id in groups
    ]
    ids = {a.id for a, _ref in listed}
    translated = {
        k: v for k, v in (await TranslationRepository(db).published()).items() if k in ids
    }
    prefixes = {field: prefix for prefix, field in TRANSLATED_COLUMNS.items()}
    used = {key for texts in translated.values() for key in texts}
    extra = [
        (field, lang)
        for lang in TRANSLATION_LANGUAGES
        for field in prefixes
        if (field, lang) in used
    ]
    rows = [
        [
            *_activity_row(a, ref, zones.get(ref, "Europe/London")),
            *(translated.get(a.id, {}).get(key, "") for key in extra),
        ]
        for a, ref in listed
    ]
    return _write(rows, [*ACTIVITY_COLUMNS, *(f"{prefixes[f]}_{lang}" for f, lang in extra)])
