"""Posters: `sanctuary-bot poster` writes an A4 PDF of a group's (or one activity's) coming
four weeks in up to three languages, with a QR code that opens the bot on them.

The PDF's text is read back with pdftotext and its first page rendered with pdftoppm (Debian's
poppler-utils, which .ci/run installs); the QR code is read from that picture with zxing-cpp.
Each test leaves the rendered page in its tmp folder for a person to look at.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import date, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from babel.dates import get_day_names
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader

from bot.cli import commands as cli
from bot.i18n import current_language, gettext, use_locale
from bot.views import poster
from bot.views.labels import CATEGORY_LABELS, need_label
from storage.activities import ActivityRepository
from storage.db import Database
from storage.groups import GroupRepository
from tests.conftest import NOW, seed_test_data
from tests.fakeapi import FakeBotAPI

USERNAME = "sanctuary_test_bot"
GROUP_LINK = f"https://t.me/{USERNAME}?start=g-leeds"
TZ = "Europe/London"


def _tool(name: str) -> str:
    """A poppler-utils program, or a clear failure in CI (a skip elsewhere)."""
    found = shutil.which(name)
    if found is None:
        missing = f"{name} not found: install Debian's poppler-utils (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    return found


def _plain(text: str) -> str:
    """Text without spaces and invisible marks: a PDF reader puts spaces between shaped
    glyphs and marks around right-to-left runs, which say nothing about the words."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


_RTL_LETTERS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_PIECES = re.compile("[\\s\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def _pdftotext(pdf: Path, *options: str) -> str:
    done = subprocess.run(
        [_tool("pdftotext"), *options, "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _text(pdf: Path) -> str:
    """The PDF's text in reading order, as pdftotext finds it in two ways, for ``in``.

    By the glyphs' places (pdftotext's default), left-to-right scripts come back whole, also
    Bengali and Ge'ez clusters. A right-to-left line is written as it is seen, right to left,
    in shaped pieces that each keep their letters in reading order: in content order (-raw)
    such a line reads back by reversing the order of its pieces (a joined group of glyphs,
    or a number)."""
    lines = []
    for line in _pdftotext(pdf, "-raw").splitlines():
        if _RTL_LETTERS.search(line):
            line = " ".join(reversed([p for p in _PIECES.split(line) if p]))
        lines.append(line)
    return _plain(_pdftotext(pdf)) + "\n" + _plain("\n".join(lines))


def _glyphs(pdf: Path) -> dict[str, list[str]]:
    """The glyphs of each font the PDF embeds (by family): shaped text uses glyphs for the
    letters' joined forms and for Bengali conjuncts, not only those of the letters."""
    found: dict[str, list[str]] = {}
    for page in PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            data = descriptor["/FontFile2"].get_object().get_data()
            family = str(descriptor["/FontName"]).split("+")[-1]
            found.setdefault(family, []).extend(TTFont(io.BytesIO(data)).getGlyphOrder())
    return found


def _joining_forms(glyphs: list[str]) -> list[str]:
    """The glyphs of letters' initial and medial forms (named by their presentation-form
    code points): an Arabic-script font that was not shaped sets only isolated letters."""
    forms = []
    for glyph in glyphs:
        if re.fullmatch("uniF[BE][0-9A-F]{2}", glyph):
            name = unicodedata.name(chr(int(glyph[3:], 16)), "")
            if "INITIAL FORM" in name or "MEDIAL FORM" in name:
                forms.append(glyph)
    return forms


def _first_page(pdf: Path) -> Path:
    """Page 1 as a PNG beside the PDF, for the QR reader and for a person to look at."""
    stem = pdf.with_suffix("")
    subprocess.run(
        [_tool("pdftoppm"), "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf),
         str(stem)],
        check=True,
    )  # fmt: skip
    return stem.with_suffix(".png")


def _qr_texts(png: Path) -> list[str]:
    with Image.open(png) as image:
        return [found.text for found in zxingcpp.read_barcodes(image.convert("L"))]


def _labels(code: str, categories: list[str], needs: list[str], weekday: int) -> list[str]:
    """The bot's own words a column in ``code`` must show."""
    with use_locale(code):
        days = get_day_names("wide", locale=current_language().locale)
        return [
            poster.heading(NOW, TZ),
            *(gettext(CATEGORY_LABELS[c]) for c in categories),
            *(need_label(n) for n in needs),
            days[weekday],
        ]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test data in a database the command line uses, on the tests' Monday."""
    path = tmp_path / "poster.db"

    async def seed() -> None:
        db = await Database.open(path)
        await seed_test_data(db)
        await db.close()

    asyncio.run(seed())
    monkeypatch.setenv("SANCTUARY_DB", str(path))
    monkeypatch.setenv("SANCTUARY_BOT_USERNAME", USERNAME)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setattr("storage.db.utcnow", lambda: NOW)
    return path


def _sql(path: Path, sql: str) -> object:
    """Run one statement on the test database; its first value, if any."""

    async def run() -> object:
        db = await Database.open(path)
        try:
            async with db.transaction() as conn, conn.execute(sql) as cur:
                row = await cur.fetchone()
            return row[0] if row else None
        finally:
            await db.close()

    return asyncio.run(run())


def test_group_poster_in_english_arabic_and_tigrinya(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "leeds.pdf"
    assert cli.main(["poster", "leeds", "--lang", "en,ar,ti", "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    text = _text(out)
    # The Leeds group's activities of the coming four weeks, as typed, and only those.
    for title in ("Conversation café", "English for beginners", "Friday football",
                  "Sewing circle", "Community lunch", "Advice drop-in", "St Mary's Hall, 1 Church Lane, LS1 1AA"):  # fmt: skip
        assert _plain(title) in text, title
    for elsewhere in ("Summer picnic", "Student welcome tea", "Sheffield welcome café"):
        assert _plain(elsewhere) not in text, elsewhere
    # The bot's own words in each language: heading, kinds, free and needs, day names.
    for code in ("en", "ar", "ti"):
        for label in _labels(code, ["conversation", "english", "sport", "food"],
                             ["free", "no_id", "step_free", "children"], 1):  # fmt: skip
            assert _plain(label) in text, f"{code}: {label!r} is not in the poster's text"
    with use_locale("ar"):  # the QR caption is in the first language that is not English
        assert _plain(gettext(poster.QR_CAPTION)) in text
    with use_locale("ti"):
        assert _plain(gettext(poster.QR_CAPTION)) not in text
    assert GROUP_LINK in text
    arabic = _glyphs(out)["NotoSansArabic"]
    assert len(_joining_forms(arabic)) >= 5, arabic  # Arabic letters joined
    png = _first_page(out)
    assert _qr_texts(png) == [GROUP_LINK]
    print(f"rendered page 1: {png}")


def test_one_activity_poster_in_bengali_persian_and_english(database: Path, tmp_path: Path) -> None:
    activity_id = _sql(database, "SELECT id FROM activities WHERE ref = 'leeds-english'")
    out = tmp_path / "english-class.pdf"
    argv = ["poster", "--activity", str(activity_id), "--lang", "bn,fa,en", "-o", str(out)]
    assert cli.main(argv) == 0
    text = _text(out)
    assert _plain("Learn English together.") in text  # a one-activity poster says what it is
    assert _plain("Conversation café") not in text
    for code in ("bn", "fa", "en"):
        for label in _labels(code, ["english"], ["free", "no_id", "children"], 2):
            assert _plain(label) in text, f"{code}: {label!r} is not in the poster's text"
    with use_locale("bn"):
        assert _plain(gettext(poster.QR_CAPTION)) in text
    # Bengali shaped: conjuncts and reordered vowel signs are glyphs no letter maps to.
    bengali = _glyphs(out)["NotoSansBengali"]
    assert [g for g in bengali if g.startswith("glyph")][1:], bengali
    persian = _glyphs(out)["NotoSansArabic"]
    assert len(_joining_forms(persian)) >= 5, persian  # Persian letters joined
    link = f"https://t.me/{USERNAME}?start=a-{activity_id}"
    assert link in text
    png = _first_page(out)
    assert _qr_texts(png) == [link]
    print(f"rendered page 1: {png}")


async def test_the_link_names_the_bot_from_get_me_when_a_token_is_set(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeBotAPI(username="welcome_leeds_bot") as server:
        monkeypatch.delenv("SANCTUARY_BOT_USERNAME")
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-token")
        monkeypatch.setenv("TELEGRAM_API_URL", server.base_url)
        out = tmp_path / "leeds.pdf"
        argv = ["poster", "leeds", "--lang", "ar,en", "-o", str(out)]
        assert await asyncio.to_thread(cli.main, argv) == 0
    assert "https://t.me/welcome_leeds_bot?start=g-leeds" in _text(out)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["atlantis", "--lang", "en,ar"], "no group with reference 'atlantis'"),
        (["leeds", "--lang", "en,xx"], "unknown language 'xx'"),
        (["leeds", "--lang", "en,ar,ti,bn"], "one to 3 different languages"),
        (["leeds", "--lang", "en,en"], "one to 3 different languages"),
        (["belfast", "--lang", "en,ti"], "no activities in the next 4 weeks"),
        (["--activity", "999", "--lang", "en"], "no activity 999 is shown in the bot"),
        (["--lang", "en"], "name a GROUP or an --activity ID"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    database: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    _sql(database, "UPDATE activities SET paused = 1 WHERE ref = 'belfast-english'")
    out = tmp_path / "poster.pdf"
    assert cli.main(["poster", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err, err
    assert not out.exists()


def test_without_a_username_or_token_the_link_cannot_be_made(
    database: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SANCTUARY_BOT_USERNAME")
    assert cli.main(["poster", "leeds", "--lang", "en,ar", "-o", str(tmp_path / "p.pdf")]) == 2
    assert "SANCTUARY_BOT_USERNAME" in capsys.readouterr().err


async def test_the_weeks_come_from_the_recurrence_in_the_group_time_zone(database: Path) -> None:
    """A fortnightly Saturday shows twice in four weeks, a monthly first Monday once, a
    skipped date not at all, a past one-off never; each at its local time."""
    db = await Database.open(database)
    try:
        group = await GroupRepository(db).get((await GroupRepository(db).refs())["leeds"])
        assert group is not None
        repo = ActivityRepository(db)
        cafe = next(a for a in await repo.published_of_group(group.id) if a.ref == "leeds-cafe")
        await repo.add_skip(cafe.id, date(2026, 12, 1), NOW)
        shown = await repo.published_of_group(group.id)
    finally:
        await db.close()
    entries = {e.activity.ref: e for e in poster.coming(shown, group, NOW)}
    assert "leeds-past" not in entries
    assert len(entries["leeds-sewing"].dates) == 2
    assert len(entries["leeds-advice"].dates) == 1
    cafe_days = [d.start.astimezone(ZoneInfo(TZ)) for d in entries["leeds-cafe"].dates]
    assert [(d.date(), d.hour) for d in cafe_days] == [
        (date(2026, 11, 24), 18),
        (date(2026, 12, 8), 18),
        (date(2026, 12, 15), 18),
    ]
    assert all(d.start < NOW + timedelta(weeks=4) for e in entries.values() for d in e.dates)
    firsts = [e.dates[0].start for e in entries.values()]  # soonest first
    assert firsts == sorted(firsts) and next(iter(entries)) == "leeds-cafe"


def test_without_the_poster_extra_the_error_says_what_to_install(
    database: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = resources.files

    def no_fonts(package: str) -> Traversable:
        if package == "manimgx_fonts":
            raise ModuleNotFoundError(package)
        return files(package)

    monkeypatch.setattr(resources, "files", no_fonts)
    assert cli.main(["poster", "leeds", "--lang", "en,ar", "-o", str(tmp_path / "p.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'sanctuary-bot[poster]'" in err, err


def test_translated_titles_stand_in_their_language_column(database: Path, tmp_path: Path) -> None:
    """An organiser's Arabic title heads the café in the Arabic column; one made before the
    English changed is left out (the poster has no room for "out of date")."""
    arabic, stale = "مقهى الشاي والحديث", "دروس الإنجليزية القديمة"
    _sql(
        database,
        "INSERT INTO activity_translations (activity_id, lang, field, text, original, status, "
        f"updated_at) SELECT id, 'ar', 'title', '{arabic}', title, 'published', '2026-11-23' "
        "FROM activities WHERE ref = 'leeds-cafe'",
    )
    _sql(
        database,
        "INSERT INTO activity_translations (activity_id, lang, field, text, original, status, "
        f"updated_at) SELECT id, 'ar', 'title', '{stale}', 'Old English title', 'published', "
        "'2026-11-23' FROM activities WHERE ref = 'leeds-english'",
    )
    out = tmp_path / "leeds.pdf"
    assert cli.main(["poster", "leeds", "--lang", "en,ar", "-o", str(out)]) == 0
    text = _text(out)
    assert _plain(arabic) in text and _plain("Conversation café") in text
    assert _plain(stale) not in text
