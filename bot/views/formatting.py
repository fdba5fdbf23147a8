"""Formatting for people: escaped text, distances, dates and times, language names.

Everything here reads the current locale from the i18n ContextVar.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

from bot.domain.recurrence import zone
from bot.i18n import current_language, gettext

KM_PER_MILE = 1.609344
FSI, PDI = "\u2068", "\u2069"
# Bidi embeddings/overrides/isolates and other invisible format characters from user text.
_CONTROLS = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff\u0000-\u0008]")


def escape(text: str) -> str:
    """Escape user or data text for Telegram HTML."""
    return html.escape(text, quote=False)


_TAG = re.compile(r"<[^>]*>")


def parsed_length(text: str) -> int:
    """The length Telegram holds against its limits for HTML ``text``: UTF-16 code units of
    the text after parsing (tags gone, entities such as ``&amp;`` read as one character)."""
    if "<" in text:
        text = _TAG.sub("", text)
    if "&#" in text:  # numeric entities: rare, read the slow way
        text = html.unescape(text)
    elif "&" in text:  # the only named entities Telegram reads; &amp; last, as escape wrote it
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        text = text.replace("&amp;", "&")
    return typed_length(text)


def typed_length(text: str) -> int:
    """The length Telegram counts for plain text: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def clean(text: str, limit: int = 200) -> str:
    """User text made safe to echo: controls stripped, whitespace folded, length capped."""
    text = _CONTROLS.sub("", unicodedata.normalize("NFC", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Full stops of the scripts people type in: Latin, Arabic-script (Urdu), Ethiopic, Bengali, CJK.
_FULL_STOPS = ".\u06d4\u1362\u0964\u3002…"


def inside_sentence(text: str) -> str:
    """Typed words put before a message's own full stop, without a second one of theirs."""
    return text.rstrip().rstrip(_FULL_STOPS).rstrip()


def bidi(text: str) -> str:
    """Isolate an inserted value (a name, a time, a postcode) inside right-to-left text."""
    return f"{FSI}{text}{PDI}" if current_language().rtl else text


# Babel localises separators but always writes Latin digits: these locales' own digits are put
# back for numbers, distances, dates and times (never for postcodes or what people typed).
_DIGITS = {
    "arab": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
    "arabext": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"),
    "beng": str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"),
}


@lru_cache(maxsize=64)
def _digits_for(babel_locale: str) -> dict[int, int] | None:
    return _DIGITS.get(Locale.parse(babel_locale).default_numbering_system)


def native_digits(text: str, babel_locale: str) -> str:
    """``text`` with Latin digits written in the locale's own digits, where it has its own."""
    table = _digits_for(babel_locale)
    return text.translate(table) if table else text


# Babel formatting is exact but slow (tens of microseconds a call) and a results page makes
# dozens of calls with values that repeat across people: each is cached per locale.


def distance(km: float) -> str:
    """A distance in miles (English) or kilometres, to a sensible precision."""
    lang = current_language()
    value = km / KM_PER_MILE if lang.miles else km
    value = max(round(value, 1), 0.1) if value < 10 else float(round(value))
    return _unit(value, "length-mile" if lang.miles else "length-kilometer", lang.babel)


@lru_cache(maxsize=4096)
def _unit(value: float, unit: str, babel_locale: str) -> str:
    text = format_unit(value, unit, length="short", locale=babel_locale, numbering_system="default")
    return native_digits(text, babel_locale)


def radius(miles: float) -> str:
    """A search radius given in miles, shown in the locale's unit."""
    return distance(miles * KM_PER_MILE)


def number(value: int) -> str:
    """A whole number in the locale's digits and grouping."""
    return _number(value, current_language().babel)


@lru_cache(maxsize=4096)
def _number(value: int, babel_locale: str) -> str:
    text = format_decimal(value, locale=babel_locale, numbering_system="default")
    return native_digits(text, babel_locale)


def day(moment: datetime, tz: str) -> str:
    """Weekday, day and month, e.g. ``Tue 25 Nov``, in ``tz``."""
    return _day(moment, tz, current_language().babel)


@lru_cache(maxsize=8192)
def _day(moment: datetime, tz: str, babel_locale: str) -> str:
    text = format_skeleton("MMMEd", moment.astimezone(zone(tz)), locale=babel_locale)
    return native_digits(text, babel_locale)


def full_date(moment: datetime, tz: str) -> str:
    """Day, month and year, e.g. ``25 Nov 2026``, in ``tz``."""
    text = format_skeleton("yMMMd", moment.astimezone(zone(tz)), locale=current_language().babel)
    return native_digits(text, current_language().babel)


def clock(moment: datetime, tz: str) -> str:
    """The local time of day, e.g. ``18:00``."""
    return _clock(moment, tz, current_language().babel)


@lru_cache(maxsize=8192)
def _clock(moment: datetime, tz: str, babel_locale: str) -> str:
    text = format_time(moment.astimezone(zone(tz)), "short", locale=babel_locale)
    return native_digits(text, babel_locale)


def when(moment: datetime, tz: str) -> str:
    """Day and time together."""
    return gettext("{day}, {time}").format(day=day(moment, tz), time=clock(moment, tz))


def join(items: list[str]) -> str:
    """``a, b and c`` in the locale's words and punctuation."""
    return format_list(items, locale=current_language().locale) if items else ""


def language_name(code: str) -> str:
    """A language's name in the current locale (falls back to the code)."""
    try:
        name = Locale.parse(code).get_display_name(current_language().locale)
    except (UnknownLocaleError, ValueError):
        return code
    return name or code
