"""The documents a newcomer reads first stay in step with the code: every journey module is in
the README's "How it is built", and every conversation state is in docs/conversations.md."""

from __future__ import annotations

import re
from pathlib import Path

from bot.domain.vocabulary import PlaceFor

ROOT = Path(__file__).resolve().parent.parent


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_how_it_is_built_names_every_handlers_module() -> None:
    built = _section((ROOT / "README.md").read_text(encoding="utf-8"), "How it is built")
    modules = sorted(p.stem for p in (ROOT / "handlers").glob("*.py") if p.stem != "__init__")
    assert len(modules) > 10
    missing = [m for m in modules if not re.search(rf"\b{m}\b", built)]
    assert not missing, f"README's How it is built does not name handlers: {missing}"


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
