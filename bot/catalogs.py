"""The catalog check run by ``make test``: every catalog complete and consistent.

Fails on an untranslated or fuzzy entry, a placeholder that differs from the msgid, a wrong
number of plural forms, a catalog missing for a language the bot offers, a message the
template lacks, a right-to-left line that begins with a Latin command (Telegram would lay it out
left to right: it must start with a word or U+200F RIGHT-TO-LEFT MARK), and (when GNU gettext
is installed) any ``msgfmt -c`` error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import DEFAULT_LOCALE, LANGUAGES

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_TAG = re.compile(r"</?([a-z-]+)[^>]*>")
# A line that begins with a /command: Telegram takes a paragraph's direction from its first
# strong letter, so in right-to-left text it must come after a word or a RIGHT-TO-LEFT MARK.
_LATIN_COMMAND_FIRST = re.compile(r"^[ \t]*/[A-Za-z]", re.MULTILINE)


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def _tags(text: str) -> list[str]:
    return sorted(_TAG.findall(text))


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, abort_invalid=True)


def check_message(message: Message, plurals: int, rtl: bool = False) -> list[str]:
    """Problems with one entry of a catalog (``rtl``: of a right-to-left language)."""
    ids = [str(i) for i in (message.id if isinstance(message.id, (tuple, list)) else (message.id,))]
    raw = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    strings = [str(s) if s else "" for s in raw]
    name = ids[0][:60]
    problems: list[str] = []
    if message.fuzzy:
        problems.append(f"fuzzy: {name!r}")
    if not all(strings):
        problems.append(f"untranslated: {name!r}")
        return problems
    if isinstance(message.id, tuple) and len(strings) != plurals:
        problems.append(f"{len(strings)} plural forms instead of {plurals}: {name!r}")
    expected = set().union(*(_placeholders(i) for i in ids))
    tags = _tags(ids[0])
    for text in strings:
        found = _placeholders(text)
        # A plural form may leave out {count} (e.g. Arabic "one"), but never invent one.
        if found - expected or (not isinstance(message.id, tuple) and found != expected):
            problems.append(f"placeholders {sorted(found)} != {sorted(expected)}: {name!r}")
        if _tags(text) != tags:
            problems.append(f"HTML tags {_tags(text)} != {tags}: {name!r}")
        if rtl and _LATIN_COMMAND_FIRST.search(text):
            problems.append(f"a line begins with a Latin /command (add U+200F first): {name!r}")
    return problems


def check(locales_dir: Path) -> list[str]:
    """Every problem found in the catalogs of ``locales_dir``."""
    problems: list[str] = []
    template = _read(locales_dir / "messages.pot")
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    msgfmt = shutil.which("msgfmt")
    for lang in LANGUAGES:
        if lang.code == DEFAULT_LOCALE:
            continue
        po = locales_dir / lang.code / "LC_MESSAGES" / "messages.po"
        if not po.is_file():
            problems.append(f"{lang.code}: missing {po}")
            continue
        catalog = _read(po)
        have = set()
        for message in catalog:
            if not message.id:
                continue
            have.add(message.id if isinstance(message.id, str) else message.id[0])
            problems += [
                f"{lang.code}: {p}" for p in check_message(message, catalog.num_plurals, lang.rtl)
            ]
        problems += [
            f"{lang.code}: missing from catalog: {m[:60]!r}" for m in sorted(wanted - have)
        ]
        if msgfmt:
            done = subprocess.run(
                [msgfmt, "-c", "-o", "/dev/null", str(po)], capture_output=True, text=True
            )
            if done.returncode != 0:
                problems.append(f"{lang.code}: msgfmt -c: {done.stderr.strip()}")
    return problems


def main(argv: list[str]) -> int:
    """``python -m bot.catalogs check LOCALES_DIR``."""
    if len(argv) != 2 or argv[0] != "check":
        print("usage: python -m bot.catalogs check LOCALES_DIR", file=sys.stderr)
        return 2
    problems = check(Path(argv[1]))
    for problem in problems:
        print(problem, file=sys.stderr)
    langs = len(LANGUAGES) - 1
    if problems:
        print(f"catalog check: {len(problems)} problem(s) in {langs} catalogs", file=sys.stderr)
        return 1
    note = "" if shutil.which("msgfmt") else " (msgfmt not installed: Babel checks only)"
    print(f"catalog check: {langs} catalogs complete{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
