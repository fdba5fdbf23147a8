"""What the desk's Activities page (bot/web/desk_activities.py) shows, in the current locale:
its words, the choices of its filters and forms, a table row, and an import's row errors.

Every word the bot already says (the parts of a card, the questions of /newactivity, the
status of an activity, pause, resume, cancel one date) is the bot's own msgid.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.importer import RowError
from bot.domain.posting import CATEGORIES, NEEDS, SECTIONS, SPOKEN
from bot.i18n import N_, gettext
from bot.views import formatting as fmt
from bot.views.labels import category_label, need_label
from bot.views.posting import (
    KIND_LABELS,
    NTH_LABELS,
    SECTION_LABELS,
    STATUS_LABELS,
    _day_names,
    status_key,
)
from storage.models import Activity, Group

_ = gettext

TEXTS = {
    # this page's own words
    "group": N_("Group"),
    "status": N_("Status"),
    "stale": N_("Not confirmed for 30 days"),
    "missing": N_("Title not translated into"),
    "any_language": N_("Any language"),
    "save": N_("Save"),
    "days": N_("Days"),
    "date": N_("First date"),
    "until": N_("Last date (if it stops)"),
    "skips": N_("Dates it does not take place"),
    "address": N_("Address with its postcode"),
    "venue": N_("Name of the place"),
    "import": N_("Import a CSV file"),
    "check": N_("Check the file"),
    "import_errors": N_("Nothing was saved. Please fix these rows and check the file again:"),
    "confirm": N_("Save them"),
    "export": N_("Export as CSV"),
    "poster": N_("Poster for a noticeboard"),
    "poster_languages": N_("Languages on the poster (up to three)"),
    "poster_button": N_("⬇️ Download the poster (PDF)"),
    # the bot's own words
    "activities": N_("Activities"),
    "everything": N_("Everything"),
    "every_group": N_("Every group"),
    "more": N_("Show more"),
    "nothing": N_("Nothing to show."),
    "cancel": N_("Cancel"),
    "edit": N_("✏️ Edit"),
    "pause": N_("⏸ Pause"),
    "resume": N_("▶️ Resume"),
    "cancel_date": N_("🗓 Cancel one date"),
    "which_date": N_("Which date does not take place? People who asked for reminders will be told."),
    "no_dates": N_("No upcoming dates."),
    "which_part": N_("What do you want to change?"),
    "repeat": N_("How often does it happen?"),
    "nth": N_("Which week of the month?"),
    "weekday": N_("On which day?"),
    "time": N_("What time does it start and end? Type it like 18:00-20:00."),
}  # fmt: skip


def texts() -> dict[str, str]:
    """The page's words in the current locale."""
    return {name: gettext(msgid) for name, msgid in TEXTS.items()}


def choices(languages: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The options of the filters and the edit form, each a value and its words; ``languages``
    are those a title can be missing in (the readers' languages)."""
    names = _day_names()
    return {
        "statuses": [{"value": k, "label": gettext(v)} for k, v in STATUS_LABELS.items()],
        "missing": [{"value": c, "label": fmt.language_name(c)} for c in languages],
        "sections": [{"value": s, "label": gettext(SECTION_LABELS[s])} for s in SECTIONS],
        "categories": [{"value": c, "label": category_label(c)} for c in CATEGORIES],
        "needs": [{"value": n, "label": need_label(n)} for n in NEEDS],
        "languages": [{"value": c, "label": fmt.language_name(c)} for c in SPOKEN],
        "kinds": [{"value": k, "label": gettext(v)} for k, v in KIND_LABELS.items()],
        "nths": [{"value": k, "label": gettext(v)} for k, v in NTH_LABELS.items()],
        "weekdays": [{"value": d, "label": names[d]} for d in range(7)],
    }


def table_row(activity: Activity, group: Group | None, missing: list[str]) -> dict[str, Any]:
    """One activity in the table: its title, group, status (key and words) and the readers'
    languages its title is not translated into."""
    return {
        "id": activity.id,
        "title": activity.title,
        "group": group.name if group else "",
        "status": status_key(activity),
        "status_label": gettext(STATUS_LABELS[status_key(activity)]),
        "missing": missing,
    }


def dates(starts: list[datetime], tz: str) -> list[dict[str, str]]:
    """The next dates, to cancel one (as the bot's date picker writes them)."""
    return [{"start": s.isoformat(), "label": fmt.when(s, tz)} for s in starts]


def row_errors(errors: Iterable[RowError]) -> list[dict[str, Any]]:
    """An import's problems, one line each with its row number, in the reader's language (the
    command line prints the importer's English); the values from the file isolated inside
    right-to-left text."""
    return [
        {
            "row": e.row,
            "column": e.column,
            "text": _("Row {row}, {column}: {message}").format(
                row=fmt.number(e.row),
                column=fmt.bidi(e.column),
                message=e.text(gettext, fmt.bidi),
            ),
        }
        for e in errors
    ]


# An import row for a group (or an activity) the admin does not run.
NOT_YOUR_GROUP = N_("not one of your groups' activities ({ref})")


def ready(count: int) -> str:
    """A checked file, before anything is saved."""
    return _("Ready to save: {count}. Nothing is saved yet.").format(count=fmt.number(count))


def imported(count: int) -> str:
    """A file saved."""
    return _("✅ Saved: {count}.").format(count=fmt.number(count))


def too_large() -> str:
    """A file over the web server's limit for one request (1 MB)."""
    return _("This file is too big (at most 1 MB). Please split it into smaller files.")


def poster_empty() -> str:
    """One activity's poster, when the bot does not show it or it has no date soon."""
    return _(
        "This activity is not shown in the bot now, or has no dates in the next four weeks: "
        "there is nothing to put on a poster."
    )
