"""Editing one part of an activity from a form (the desk's Activities page) with the bot's own
rules: every field goes through the same checks as a typed or tapped answer of /newactivity
(``bot.domain.posting``), and the same ``Problem`` codes come back for the same mistakes.

A form gives a whole part at once (``when``: how often, the days, the first date, the time,
the last date and the dates it does not take place), where the chat asks one question after
another; the answers are applied in the chat's order, so each check sees what it would there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from bot.domain.posting import (
    CATEGORIES,
    KINDS,
    NEEDS,
    NONE_ANSWERS,
    SECTIONS,
    SPOKEN,
    Problem,
    answers_of,
    missing,
    take_text,
    upcoming,
)
from bot.domain.recurrence import zone
from bot.places.postcodes import Outcodes
from storage.models import Activity, Group

_WHEN_KEYS = ("repeat", "days", "nth", "weekday", "date", "start", "end", "until", "skips")
NTHS = (1, 2, 3, 4, -1)


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _chosen(form: dict[str, Any], key: str, allowed: tuple[Any, ...]) -> list[Any]:
    """A multiple choice: only known items, each once, in the offered order."""
    value = form.get(key)
    picked = set(value) if isinstance(value, list) else set()
    return [item for item in allowed if item in picked]


def _number(form: dict[str, Any], key: str, allowed: tuple[int, ...]) -> int:
    value = form.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise Problem("use_buttons")
    return value


def form_of(activity: Activity, group: Group, now: datetime) -> dict[str, Any]:
    """An activity's parts as the form shows them, ready to be sent back unchanged: dates as
    people type them, the first date moved to the next one still to come."""
    data = answers_of(activity, group.timezone)
    first = date.fromisoformat(data["date"])
    coming = upcoming(activity, group.timezone, now, 1)
    if coming:
        first = max(first, coming[0].astimezone(zone(group.timezone)).date())
    skips = [d for d in data["skips"] if date.fromisoformat(d) >= first]
    place = ", ".join(p for p in (data["address"], data["postcode"]) if p)
    return {
        "title": data["title"],
        "category": data["category"],
        "description": data["description"],
        "repeat": data["repeat"],
        "days": data.get("days", []),
        "nth": data.get("nth", 1),
        "weekday": data.get("weekday", 0),
        "date": _typed(first.isoformat()),
        "time": f"{data['start']}-{data['end']}",
        "until": _typed(data["until"]) if data["until"] else "",
        "skips": ", ".join(_typed(d) for d in skips),
        "address": place,
        "venue": data["venue"],
        "languages": data["languages"],
        "cost": data["cost"] or "",
        "needs": data["needs"],
        "contact": data["contact"],
    }


def _typed(iso: str) -> str:
    """2026-12-25 as people type it (25/12/2026, as the bot's questions show)."""
    day = date.fromisoformat(iso)
    return day.strftime("%d/%m/%Y")


def apply_section(
    section: str,
    form: dict[str, Any],
    activity: Activity,
    group: Group,
    now: datetime,
    outcodes: Outcodes | None,
) -> dict[str, Any]:
    """The activity's answers with one part replaced by the form's; Problem when the chat
    would have refused an answer."""
    if section not in SECTIONS:
        raise Problem("use_buttons")
    data = answers_of(activity, group.timezone)
    tz = group.timezone

    def typed(step: str, text: str) -> None:
        data.update(take_text(step, text, data, now, tz, outcodes, group))

    if section in ("title", "description", "cost", "contact"):
        text = _text(form, section)
        if not text.strip() and section in NONE_ANSWERS:
            data.update(NONE_ANSWERS[section])
        else:
            typed(section, text)
    elif section == "category":
        if form.get("category") not in CATEGORIES:
            raise Problem("use_buttons")
        data["category"] = form["category"]
    elif section == "languages":
        data["languages"] = _chosen(form, "languages", SPOKEN) or ["en"]
    elif section == "needs":
        data["needs"] = _chosen(form, "needs", NEEDS)
    elif section == "where":
        address = _text(form, "address")
        if address.strip() or not data.get("lat"):  # empty: the place stays (a sent pin)
            typed("where", address)
        typed("venue", _text(form, "venue"))
    else:
        _when(form, data, typed)
    if missing(data):
        raise Problem("empty")
    return data


def _when(form: dict[str, Any], data: dict[str, Any], typed: Callable[[str, str], None]) -> None:
    """How often, then the days, the first date, the time, the last date and the dates it
    does not take place: the chat's questions in the chat's order."""
    for key in _WHEN_KEYS:
        data.pop(key, None)
    kind = form.get("repeat")
    if kind not in KINDS:
        raise Problem("use_buttons")
    data["repeat"] = kind
    if kind in ("weekly", "fortnightly"):
        data["days"] = _chosen(form, "days", tuple(range(7)))
        if not data["days"]:
            raise Problem("no_days")
    elif kind == "monthly":
        data["nth"] = _number(form, "nth", NTHS)
        data["weekday"] = _number(form, "weekday", tuple(range(7)))
    typed("date", _text(form, "date"))
    typed("time", _text(form, "time"))
    if not data.get("end"):
        raise Problem("bad_time")  # the chat asks for the end; the form has it in one field
    if kind != "once":
        for step in ("until", "skips"):
            text = _text(form, step)
            if text.strip():
                typed(step, text)
            else:
                data.update(NONE_ANSWERS[step])
