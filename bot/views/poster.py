"""Posters for a noticeboard: a group's activities of the coming four weeks, or one activity,
on an A4 PDF in up to three languages side by side, with a QR code that opens the bot.

Every word the poster writes is the bot's own translated label (kind of activity, days and
times through Babel, "Free", needs); what organisers typed (titles, places) is printed once,
as typed, and a title an organiser translated heads its language's column (not one made before
the English changed). Text is set with fpdf2 and HarfBuzz (uharfbuzz), which joins Arabic-script letters,
shapes Ge'ez and Bengali clusters and lays right-to-left lines out right to left, in the Noto
fonts of the ``manimgx-fonts`` package (SIL Open Font License), so an installed wheel needs
nothing from the internet. Those come with the optional extra ``sanctuary-bot[poster]``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from importlib import resources
from importlib.util import find_spec
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain import deeplinks
from bot.domain.posting import schedule_of
from bot.domain.recurrence import Occurrence
from bot.i18n import BY_CODE, N_, gettext, load_catalogs, use_locale
from bot.search.directory import activity_needs
from bot.views import formatting as fmt
from bot.views.labels import CATEGORY_ICONS, CATEGORY_LABELS, need_label
from storage.models import Activity, Group

if TYPE_CHECKING:
    from fpdf import FPDF

    from bot.config import Config
    from storage.activities import ActivityRepository
    from storage.translations import TranslationRepository

WEEKS = 4
MAX_LANGUAGES = 3
HEADING = N_("Welcoming activities, {start} to {end}")
QR_CAPTION = N_("Scan this code with your phone to see these activities in Telegram.")
COST = N_("Cost: {cost}")

# The Noto fonts, by script; the Latin one also writes digits, punctuation and typed text.
FONT_FILES = {
    "latin": "NotoSans[wght].ttf",
    "arabic": "NotoSansArabic[wght].ttf",
    "ethiopic": "NotoSansEthiopic[wght].ttf",
    "bengali": "NotoSansBengali[wght].ttf",
    "icons": "NotoEmoji[wght].ttf",  # the monochrome outline emoji: the bot's category icons
}
SCRIPTS = {"ar": "arabic", "fa": "arabic", "fa_AF": "arabic", "ps": "arabic", "ur": "arabic",
           "ckb": "arabic", "ti": "ethiopic", "am": "ethiopic", "bn": "bengali"}  # fmt: skip

PAGE_W, MARGIN, QR_SIZE = 210.0, 12.0, 42.0
INK, SOFT, ACCENT = (20, 20, 20), (90, 90, 90), (0, 110, 100)


class PosterError(ValueError):
    """Nothing can be drawn: the message is one line for the command line."""


@dataclass(frozen=True, slots=True)
class Entry:
    """An activity with its dates in the poster's weeks (and its title in other languages,
    where an organiser translated it and the English has not changed since)."""

    activity: Activity
    dates: tuple[Occurrence, ...]
    titles: Mapping[str, str] = field(default_factory=dict)


def parse_languages(text: str) -> tuple[str, ...]:
    """``en,ar,ti`` as language codes of the bot: one to three, known, each once."""
    codes = tuple(code.strip() for code in text.split(",") if code.strip())
    by_lower = {code.lower().replace("-", "_"): code for code in BY_CODE}
    found = tuple(by_lower.get(code.lower().replace("-", "_"), "") for code in codes)
    unknown = [code for code, known in zip(codes, found, strict=True) if not known]
    if unknown:
        raise PosterError(f"unknown language {unknown[0]!r}: use codes among {', '.join(BY_CODE)}")
    if not 1 <= len(found) <= MAX_LANGUAGES or len(set(found)) != len(found):
        raise PosterError(f"--lang takes one to {MAX_LANGUAGES} different languages, e.g. en,ar,ti")
    return found


def _checked(username: str, kind: deeplinks.Kind, value: object) -> str:
    """The t.me link that opens the bot on ``kind-value`` (bot.domain.deeplinks makes it), refused
    when Telegram could not carry the payload."""
    payload = f"{kind}-{value}"
    if not deeplinks.PAYLOAD.fullmatch(payload):
        raise PosterError(f"{payload!r} cannot be a Telegram start link (A-Z, a-z, 0-9, _ and -)")
    return deeplinks.link(username, kind, value)


def group_link(username: str, group: Group) -> str:
    """The link that opens the group's activities in the bot (``?start=g-<ref>``)."""
    return _checked(username, "g", group.ref)


def activity_link(username: str, activity: Activity) -> str:
    """The link that opens one activity's card in the bot (``?start=a-<id>``)."""
    return _checked(username, "a", activity.id)


def coming(
    activities: Sequence[Activity], group: Group, now: datetime, weeks: int = WEEKS
) -> list[Entry]:
    """The activities that take place from ``now`` for ``weeks`` weeks, in the group's time
    zone, each with those dates; soonest first."""
    end = now + timedelta(weeks=weeks)
    entries = []
    for activity in activities:
        schedule = schedule_of(activity, group.timezone)
        dates = [o for o in schedule.occurrences(now, 7 * weeks + 1) if o.start < end]
        if dates:
            entries.append(Entry(activity, tuple(dates)))
    entries.sort(key=lambda e: (e.dates[0].start, e.activity.id))
    return entries


def available() -> bool:
    """Whether the optional extra ``sanctuary-bot[poster]`` is installed, so posters can be drawn."""
    return all(
        find_spec(name) is not None for name in ("fpdf", "uharfbuzz", "segno", "manimgx_fonts")
    )


def font_dir() -> Path:
    """Where the Noto fonts are: the ``manimgx-fonts`` package, installed with the extra."""
    try:
        folder = Path(str(resources.files("manimgx_fonts")))
    except ModuleNotFoundError:
        raise PosterError(
            "posters need the fonts and PDF libraries: pip install 'sanctuary-bot[poster]'"
        ) from None
    missing = [name for name in FONT_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise PosterError(f"the manimgx-fonts package lacks {missing[0]}: reinstall it")
    return folder


@dataclass(frozen=True, slots=True)
class _Column:
    """One language's column: its code, font and direction."""

    code: str
    font: str
    rtl: bool


class _Poster:
    """The drawing: fpdf2 with text shaping, one font per script and the others as fallback."""

    def __init__(self, languages: Sequence[str]) -> None:
        logging.getLogger("fontTools").setLevel(logging.WARNING)  # it logs each subset
        try:
            from fpdf import FPDF
        except ModuleNotFoundError:
            raise PosterError(
                "posters need the fonts and PDF libraries: pip install 'sanctuary-bot[poster]'"
            ) from None
        folder = font_dir()
        pdf: FPDF = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(False)
        for family, name in FONT_FILES.items():
            # The variable fonts' default instance (regular): making a bold instance costs
            # seconds per font, so headings stand out by size and colour instead.
            pdf.add_font(family, "", folder / name)
        try:
            pdf.set_text_shaping(True)
        except ImportError:  # fpdf2 shapes with uharfbuzz, which the extra brings
            raise PosterError(
                "posters need uharfbuzz for text shaping: pip install 'sanctuary-bot[poster]'"
            ) from None
        self.pdf = pdf
        self.columns = [
            _Column(code, SCRIPTS.get(code, "latin"), BY_CODE[code].rtl) for code in languages
        ]
        self.width = PAGE_W - 2 * MARGIN

    def font(self, family: str, size: float, strong: bool = False, rtl: bool = False) -> None:
        """Set a font (``strong``: a little larger, as there is no bold), the others as
        fallback for letters it lacks (typed text, digits)."""
        others = [f for f in FONT_FILES if f != family]
        self.pdf.set_fallback_fonts(others, exact_match=False)
        self.pdf.set_font(family, "", size * 1.08 if strong else size)
        self.pdf.set_text_shaping(True, direction="rtl" if rtl else "ltr")

    def text(
        self,
        x: float,
        width: float,
        text: str,
        size: float,
        family: str = "latin",
        strong: bool = False,
        rtl: bool = False,
        color: tuple[int, int, int] = INK,
        dry_run: bool = False,
    ) -> float:
        """Write ``text`` wrapped in ``width`` from ``x`` at the current height; returns the
        height it takes (and, unless ``dry_run``, moves below it)."""
        self.font(family, size, strong, rtl)
        self.pdf.set_text_color(*color)
        line = size * 0.45
        if dry_run:
            lines = self.pdf.multi_cell(
                width, line, text, align="R" if rtl else "L", dry_run=True, output="LINES"
            )
            assert isinstance(lines, list)
            return line * len(lines)
        y = self.pdf.get_y()
        self.pdf.set_xy(x, y)
        self.pdf.multi_cell(width, line, text, align="R" if rtl else "L")
        return self.pdf.get_y() - y

    def icon(self, x: float, y: float, category: str) -> None:
        """The kind's icon, the bot's own emoji as an outline glyph in a tinted disc."""
        pdf = self.pdf
        pdf.set_fill_color(224, 242, 240)
        pdf.circle(x=x + 5.5, y=y + 5.5, radius=5.5, style="F")
        glyph = CATEGORY_ICONS.get(category, "•").replace("\ufe0f", "")
        self.font("icons", 15)
        pdf.set_text_color(*ACCENT)
        pdf.set_xy(x, y + 0.5)
        pdf.cell(11, 10, glyph, align="C")

    def qr(self, x: float, y: float, link: str, size: float) -> None:
        """A QR code of ``link`` drawn as squares (vector: sharp at any print size)."""
        import segno

        code = segno.make(link, error="m", micro=False)
        matrix = [list(row) for row in code.matrix]
        quiet = 2
        module = size / (len(matrix) + 2 * quiet)
        self.pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    self.pdf.rect(
                        x + (c + quiet) * module, y + (r + quiet) * module, module, module, "F"
                    )


def heading(now: datetime, tz: str) -> str:
    """The poster's heading in the current language: its four weeks, from today."""
    last = now + timedelta(weeks=WEEKS, days=-1)
    return gettext(HEADING).format(start=fmt.day(now, tz), end=fmt.day(last, tz))


def _column_lines(entry: Entry, tz: str, code: str) -> list[tuple[str, bool]]:
    """What a column says about an activity in ``code``: (text, strong) lines."""
    from bot.views.cards import describe_repeat

    activity = entry.activity
    with use_locale(code):
        lines = (
            [(gettext(CATEGORY_LABELS[activity.category]), True)]
            if (activity.category in CATEGORY_LABELS)
            else []
        )
        if entry.titles.get(code):
            lines.append((entry.titles[code], True))
        lines.append((describe_repeat(activity, tz), False))
        lines.append((" · ".join(fmt.day(o.start, tz) for o in entry.dates), False))
        cost = gettext(COST).format(cost=activity.cost) if activity.cost else need_label("free")
        lines.append((cost, False))
        needs = [need_label(n) for n in sorted(activity_needs(activity)) if n != "free"]
        if needs:
            lines.append((" · ".join(needs), False))
    return lines


def render(
    group: Group,
    entries: Sequence[Entry],
    languages: Sequence[str],
    link: str,
    now: datetime,
    single: bool = False,
) -> bytes:
    """The poster as PDF bytes (catalogs must be loaded)."""
    if not entries:
        raise PosterError(f"{group.name}: no activities in the next {WEEKS} weeks")
    poster = _Poster(languages)
    pdf = poster.pdf
    tz = group.timezone
    caption_code = next((c for c in languages if c != "en"), languages[0])
    gap = 4.0
    col_w = (poster.width - gap * (len(languages) - 1)) / len(languages)
    head_w = poster.width - QR_SIZE - 6

    def header() -> None:
        pdf.add_page()
        pdf.set_y(MARGIN)
        poster.text(MARGIN, head_w, group.name, 20, strong=True, color=ACCENT)
        pdf.set_y(pdf.get_y() + 1)
        for column in poster.columns:
            with use_locale(column.code):
                said = heading(now, tz)
            poster.text(MARGIN, head_w, said, 13, column.font, True, column.rtl)
            pdf.set_y(pdf.get_y() + 1)

    header()
    below_header, top = pdf.get_y(), MARGIN
    qr_x = PAGE_W - MARGIN - QR_SIZE
    poster.qr(qr_x, top, link, QR_SIZE)
    pdf.set_y(top + QR_SIZE)
    caption = _Column(caption_code, SCRIPTS.get(caption_code, "latin"), BY_CODE[caption_code].rtl)
    with use_locale(caption_code):
        said = gettext(QR_CAPTION)
    poster.text(qr_x, QR_SIZE, said, 8, caption.font, False, caption.rtl)
    poster.text(qr_x, QR_SIZE, link, 6.5, color=SOFT)
    pdf.set_y(max(below_header, pdf.get_y()) + 4)

    bottom = 297 - MARGIN
    for entry in entries:
        activity = entry.activity
        place = ", ".join(p for p in (activity.venue, activity.address, activity.postcode) if p)
        columns = [_column_lines(entry, tz, c.code) for c in poster.columns]
        title_w = poster.width - 14
        need = poster.text(0, title_w, activity.title, 13, strong=True, dry_run=True)
        need += poster.text(0, title_w, place, 10, dry_run=True) + 2
        if single and activity.description:
            need += poster.text(0, poster.width, activity.description, 11, dry_run=True) + 2
        need += max(
            sum(poster.text(0, col_w, t, 9.5, c.font, b, c.rtl, dry_run=True) + 0.8
                for t, b in lines)
            for c, lines in zip(poster.columns, columns, strict=True)
        )  # fmt: skip
        if pdf.get_y() + need + 4 > bottom:
            header()
            pdf.set_y(pdf.get_y() + 3)
        y = pdf.get_y()
        pdf.set_draw_color(200, 200, 200)
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
        y += 2.5
        poster.icon(MARGIN, y, activity.category)
        pdf.set_y(y)
        poster.text(MARGIN + 14, title_w, activity.title, 13, strong=True)
        poster.text(MARGIN + 14, title_w, place, 10, color=SOFT)
        pdf.set_y(max(pdf.get_y(), y + 12) + 1)
        if single and activity.description:
            poster.text(MARGIN, poster.width, activity.description, 11)
            pdf.set_y(pdf.get_y() + 2)
        y = pdf.get_y()
        lowest = y
        for index, (column, lines) in enumerate(zip(poster.columns, columns, strict=True)):
            x = MARGIN + index * (col_w + gap)
            pdf.set_y(y)
            for text, strong in lines:
                poster.text(x, col_w, text, 9.5, column.font, strong, column.rtl)
                pdf.set_y(pdf.get_y() + 0.8)
            lowest = max(lowest, pdf.get_y())
        pdf.set_y(lowest + 3)
    return bytes(pdf.output())


_drawing: ProcessPoolExecutor | None = None


async def render_apart(
    group: Group,
    entries: Sequence[Entry],
    languages: Sequence[str],
    link: str,
    now: datetime,
    single: bool = False,
) -> bytes:
    """``render`` in a process of its own (one, started on first use, its catalogs loaded), for
    a server: HarfBuzz and fontTools hold Python's lock for over 100 ms at a time, so a thread
    would still stop the event loop."""
    global _drawing
    if _drawing is None:
        _drawing = ProcessPoolExecutor(1, get_context("spawn"), initializer=load_catalogs)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _drawing, render, group, list(entries), tuple(languages), link, now, single
    )


async def _username(config: Config) -> str:
    """The bot's username: SANCTUARY_BOT_USERNAME, or getMe with the token."""
    if config.bot_username:
        return config.bot_username
    if not config.token:
        raise PosterError("the poster's link needs SANCTUARY_BOT_USERNAME (or TELEGRAM_BOT_TOKEN)")
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(config.token, base_url=config.api_url) as bot:
            username = (await bot.get_me()).username
    except TelegramError as exc:
        raise PosterError(f"could not ask Telegram for the bot's username: {exc.message}") from None
    if not username:
        raise PosterError("Telegram gave no username for this bot: set SANCTUARY_BOT_USERNAME")
    return username


async def group_entries(
    activities: ActivityRepository,
    translations: TranslationRepository,
    group: Group,
    languages: Sequence[str],
    now: datetime,
) -> list[Entry]:
    """The group's published activities of the poster's weeks, with their translated titles."""
    shown = await activities.published_of_group(group.id)
    return await entries_of(translations, shown, group, languages, now)


async def entries_of(
    translations: TranslationRepository,
    shown: Sequence[Activity],
    group: Group,
    languages: Sequence[str],
    now: datetime,
) -> list[Entry]:
    """These activities (of ``group``) in the poster's weeks, with their translated titles."""
    titles = await _titles(translations, shown, languages)
    return [replace(e, titles=titles.get(e.activity.id, {})) for e in coming(shown, group, now)]


async def _titles(
    repository: TranslationRepository, shown: Sequence[Activity], languages: Sequence[str]
) -> dict[int, dict[str, str]]:
    """Each activity's translated titles in the poster's languages (up to date ones only)."""
    from bot.domain.translations import is_stale

    titles: dict[int, dict[str, str]] = {}
    by_id = {a.id: a for a in shown}
    for code in languages:
        if code == "en":
            continue
        for activity_id, found in (await repository.shown(by_id, code)).items():
            for t in found:
                if t.field == "title" and not is_stale(by_id[activity_id], t):
                    titles.setdefault(activity_id, {})[code] = t.text
    return titles


async def make(
    config: Config,
    group_ref: str | None,
    activity_id: int | None,
    languages: Sequence[str],
    now: datetime,
) -> bytes:
    """The poster of a group (by its reference) or of one activity, as PDF bytes."""
    from storage.activities import ActivityRepository
    from storage.db import Database
    from storage.groups import GroupRepository
    from storage.translations import TranslationRepository as Translations

    db = await Database.open(config.database)
    try:
        groups, activities = GroupRepository(db), ActivityRepository(db)
        if activity_id is not None:
            activity = await activities.get(activity_id)
            if activity is None or not activity.visible:
                raise PosterError(f"no activity {activity_id} is shown in the bot")
            group = await groups.get(activity.group_id)
            assert group is not None  # a foreign key
            if group_ref is not None and group_ref != group.ref:
                raise PosterError(f"activity {activity_id} is not one of {group_ref!r}'s")
            shown = [activity]
        else:
            assert group_ref is not None
            group_id = (await groups.refs()).get(group_ref)
            found = await groups.get(group_id) if group_id is not None else None
            if found is None:
                raise PosterError(f"no group with reference {group_ref!r}")
            group, shown = found, await activities.published_of_group(found.id)
        entries = await entries_of(Translations(db), shown, group, languages, now)
    finally:
        await db.close()
    if not group.verified:
        raise PosterError(f"{group.ref} is not verified: the bot does not show its activities")
    username = await _username(config)
    if activity_id is not None:
        link = activity_link(username, shown[0])
    else:
        link = group_link(username, group)
    return render(group, entries, languages, link, now, single=activity_id is not None)
