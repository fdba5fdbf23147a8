"""The documents a newcomer reads first stay in step with the code: every conversation state is
in docs/conversations.md."""

from __future__ import annotations

import re
from pathlib import Path

from bot.domain import PlaceFor

ROOT = Path(__file__).resolve().parent.parent


def test_every_typed_question_and_place_purpose_is_documented() -> None:
    doc = (ROOT / "docs" / "conversations.md").read_text(encoding="utf-8")
    keys = set()
    for path in (ROOT / "handlers").glob("*.py"):
        keys |= set(re.findall(r'TypedQuestion\(\s*app,\s*"([a-z_]+)"', path.read_text("utf-8")))
    assert {"posting", "compose", "report", "feedback", "moderating"} <= keys
    for key in keys:
        assert f"(`{key}`," in doc, key
    for purpose in PlaceFor:
        assert f"`PlaceFor.{purpose.name}`, `{purpose.value}`" in doc, purpose


def test_place_purposes_keep_the_codes_already_in_peoples_chats() -> None:
    """Place buttons sent before an upgrade (P:<key>:f|g|m) must still be understood."""
    assert {p.name: p.value for p in PlaceFor} == {
        "ACTIVITIES": "f",
        "GROUPS": "g",
        "NEW_AREA": "m",
    }
