"""Deep links (``t.me/<bot>?start=<payload>``): the one place that makes and reads them.

``j-<code>`` an invite to a group's team, ``a-<id>`` an activity's card, ``g-<ref>`` a group's
activities. Telegram passes at most 64 characters of ``A-Z a-z 0-9 _ -``; anything else, or
an unknown kind, is no link at all (a plain /start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PAYLOAD = re.compile(r"[A-Za-z0-9_-]{3,64}")
# What an activity id or a group ref can look like (refs as the CSV import allows them).
SHAPES = {"a": re.compile(r"[0-9]{1,18}"), "g": re.compile(r"[a-z0-9][a-z0-9-]{0,39}")}
NOWHERE = {"a": "0", "g": "_"}  # stands for a value that cannot name anything
Kind = Literal["j", "a", "g"]
KINDS: tuple[Kind, ...] = ("j", "a", "g")


@dataclass(frozen=True, slots=True)
class StartLink:
    """What a deep link opens: its kind and the rest of the payload (not yet looked up)."""

    kind: Kind
    value: str

    @property
    def payload(self) -> str:
        """As it travels in the link (and, while a new person chooses a language, a button)."""
        return f"{self.kind}-{self.value}"

    @property
    def activity_id(self) -> int | None:
        """The activity's id of an ``a-`` link; None when it is not one (or not a number)."""
        if self.kind != "a" or not SHAPES["a"].fullmatch(self.value):
            return None
        return int(self.value) or None


def parse(payload: str | None) -> StartLink | None:
    """The link a /start payload names, or None."""
    if not payload or not PAYLOAD.fullmatch(payload):
        return None
    kind, _, value = payload.partition("-")
    for known in KINDS:
        if kind == known and value:
            # An impossible id or ref still leads to kind words (it may be a link cut short),
            # kept short enough to ride on a language button.
            shape = SHAPES.get(known)
            if shape is not None and not shape.fullmatch(value):
                value = NOWHERE[known]
            return StartLink(known, value)
    return None


def link(username: str | None, kind: Kind, value: object) -> str:
    """The https link that opens the bot on a payload."""
    return f"https://t.me/{username}?start={kind}-{value}"


def activity_link(username: str | None, activity_id: int) -> str:
    """The link that opens an activity's card, in the receiver's own language."""
    return link(username, "a", activity_id)


def group_link(username: str | None, ref: str) -> str:
    """The link that opens a group's activities and contacts."""
    return link(username, "g", ref)
