"""An activity's text in the reader's language: its translations, or the original with a note.

The bot's words are translated by the catalogs; what an organiser typed (title, description,
cost note, place notes) is translated by organisers (storage/translations.py). A reader whose
language has a translation sees it (with a note when the original changed since); anyone else
sees the original with a small "(in English)" in their own language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.i18n import BY_CODE, DEFAULT_LOCALE, _
from storage.models import Activity
from storage.translations import FIELDS, Translation, TranslationRepository

# The languages an organiser may translate into: every language of the bot but English.
TARGETS: tuple[str, ...] = tuple(code for code in BY_CODE if code != DEFAULT_LOCALE)

Note = Literal["", "english", "stale"]


@dataclass(frozen=True, slots=True)
class Localised:
    """An activity whose texts are in the reader's language where a translation exists."""

    activity: Activity
    note: Note  # "": nothing to say; "english": shown in English; "stale": out of date


def original_of(activity: Activity, field: str) -> str:
    """The original text of a translated field ("" when the activity has none)."""
    return getattr(activity, FIELDS[field]) or ""


def is_stale(activity: Activity, translation: Translation) -> bool:
    """Whether the original changed since the translation was made or confirmed."""
    return translation.original != original_of(activity, translation.field)


def localise(activity: Activity, translations: Iterable[Translation], lang: str) -> Localised:
    """The activity as a reader of ``lang`` sees it."""
    if lang == DEFAULT_LOCALE:
        return Localised(activity, "")
    changes: dict[str, Any] = {}
    stale = False
    for t in translations:
        if t.lang != lang or t.status != "published" or not original_of(activity, t.field):
            continue
        changes[FIELDS[t.field]] = t.text
        stale = stale or is_stale(activity, t)
    if "title" not in changes:
        return Localised(dataclasses.replace(activity, **changes), "english")
    return Localised(dataclasses.replace(activity, **changes), "stale" if stale else "")


def note_text(note: Note) -> str:
    """The small note after a title, in the reader's language ("" for none)."""
    if note == "english":
        return _("(in English)")
    if note == "stale":
        return _("(translation may be out of date)")
    return ""


async def in_language(
    repository: TranslationRepository | None, activities: list[Activity], lang: str
) -> dict[int, Localised]:
    """Activities as a reader of ``lang`` sees them (one query for a page's worth)."""
    found = await repository.shown([a.id for a in activities], lang) if repository else {}
    return {a.id: localise(a, found.get(a.id, []), lang) for a in activities}


class Titled(Protocol):
    """What a list line needs: an activity's id and English title (an Activity or the
    directory's Listing)."""

    @property
    def id(self) -> int: ...

    @property
    def title(self) -> str: ...


def title_in(original: str, translations: Iterable[Translation], lang: str) -> tuple[str, Note]:
    """A title as a reader of ``lang`` sees it in a list, and the note it needs."""
    if lang == DEFAULT_LOCALE:
        return original, ""
    for t in translations:
        if t.lang == lang and t.field == "title" and t.status == "published":
            return t.text, "stale" if t.original != original else ""
    return original, "english"


async def titles_in(
    repository: TranslationRepository | None, items: Sequence[Titled], lang: str
) -> dict[int, tuple[str, Note]]:
    """Titles for a list (results, digest) in the reader's language (one query)."""
    found = await repository.shown([i.id for i in items], lang) if repository else {}
    return {i.id: title_in(i.title, found.get(i.id, []), lang) for i in items}
