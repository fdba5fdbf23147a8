"""CSV import: every row validated, errors with row numbers, nothing imported on error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.importer import (
    ImportFailed,
    RowError,
    export_activities,
    export_groups,
    import_activities,
    import_groups,
    parse_activities,
    parse_groups,
)
from storage.db import Database
from tests.data import ACTIVITIES_CSV, GROUPS_CSV
from tests.helpers import tr

ROOT = Path(__file__).resolve().parents[1]
HEADER = GROUPS_CSV.splitlines()[0]
A_HEADER = ACTIVITIES_CSV.splitlines()[0]
ZONES = {"leeds": "Europe/London"}


def test_valid_files_parse() -> None:
    groups = parse_groups(GROUPS_CSV)
    assert [g.ref for g in groups][:2] == ["leeds", "leeds-uni"]
    items = parse_activities(ACTIVITIES_CSV, {g.ref: g.timezone for g in groups})
    assert len(items) == 11
    cafe = items[0]
    assert cafe.rrule == "FREQ=WEEKLY;BYDAY=TU" and cafe.duration_min == 120
    assert cafe.starts_at.isoformat() == "2026-01-06T18:00:00+00:00"
    assert cafe.needs == {"no_id", "step_free"} and cafe.cost is None


def test_group_errors_have_row_numbers() -> None:
    text = "\n".join(
        [
            HEADER,
            "ok,Fine,group,,Leeds,england,53.8,-1.5,a@example.org,,,,",
            "Bad Ref,X,group,,Leeds,england,53.8,-1.5,a@example.org,,,,",
            "two,Y,stream,,Leeds,england,53.8,-1.5,,,,,",
            "three,Z,group,,Paris,france,48.8,2.3,nope,http://x,,,",
            "ok,Dup,group,,Leeds,england,53.8,-1.5,a@example.org,,,,",
        ]
    )
    with pytest.raises(ImportFailed) as caught:
        parse_groups(text)
    found = {(e.row, e.column) for e in caught.value.errors}
    assert (3, "ref") in found
    assert (4, "stream") in found and (4, "email") in found  # stream needs its kind; no contact
    assert {(5, "nation"), (5, "latitude"), (5, "email"), (5, "website")} <= found
    assert (6, "ref") in found  # duplicate
    assert not any(e.row == 2 for e in caught.value.errors)
    _translated(caught.value.errors)


def _translated(errors: list[RowError]) -> None:
    """Every message is a msgid the desk shows in the reader's language (the command line
    prints it in English, its values put in)."""
    for error in errors:
        assert tr("ar", error.message) and tr("fr", error.message)
        assert "{" not in str(error)


def test_activity_errors() -> None:
    rows = [
        "a1,leeds,T,nosuch,,,,,53.8,-1.5,2026-01-06,18:00,20:00,weekly:TU,,en,,,",
        "a2,leeds,T,sport,,,,,53.8,-1.5,2026-01-06,18:00,17:00,weekly:TU,,en,,,",
        "a3,ghost,T,sport,,,,,53.8,-1.5,2026-01-06,18:00,20:00,weekly:TU,,en,,,",
        "a4,leeds,T,sport,,,,,53.8,-1.5,2026-01-07,18:00,20:00,weekly:TU,,en,,,",
        "a5,leeds,T,sport,,,,NOTAPOSTCODE,53.8,-1.5,2026-13-01,25:00,20:00,yearly,,e1,,wings,",
        "a6,leeds,T,sport,,,,,53.8,-1.5,,18:00,20:00,once,,en,,,",
        "a7,leeds,T,sport,,,,,53.8,-1.5,2026-01-06,18:00,20:00,once,2026-02-01,en,,,",
    ]
    with pytest.raises(ImportFailed) as caught:
        parse_activities("\n".join([A_HEADER, *rows]), ZONES)
    found = {(e.row, e.column) for e in caught.value.errors}
    assert (2, "category") in found
    assert (3, "end_time") in found
    assert (4, "group_ref") in found
    assert (5, "start_date") in found  # a Wednesday is not a Tuesday
    assert {(6, "postcode"), (6, "start_date"), (6, "start_time"), (6, "repeat")} <= found
    assert {(6, "languages"), (6, "needs")} <= found
    assert (7, "start_date") in found  # required
    assert (8, "until") in found


def test_wrong_header_and_ragged_rows() -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_groups("ref,name\nx,y\n")
    assert caught.value.errors[0].row == 1
    with pytest.raises(ImportFailed):
        parse_groups(HEADER + "\nok,Fine,group,,Leeds,england,53.8,-1.5,a@example.org,,,,,EXTRA\n")


async def test_a_file_with_an_error_imports_nothing_and_round_trips(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "i.db")
    try:
        assert await import_groups(db, GROUPS_CSV) == 5
        broken = (
            ACTIVITIES_CSV
            + "bad,leeds,T,nosuch,,,,,53.8,-1.5,2026-01-06,18:00,20:00,weekly:TU,,en,,,\n"
        )
        with pytest.raises(ImportFailed):
            await import_activities(db, broken)
        async with db.conn.execute("SELECT COUNT(*) FROM activities") as cur:
            assert (await cur.fetchone())[0] == 0  # nothing from the broken file
        assert await import_activities(db, ACTIVITIES_CSV) == 11
        assert await import_activities(db, ACTIVITIES_CSV) == 11  # again: updates, no duplicates
        async with db.conn.execute("SELECT COUNT(*) FROM activities") as cur:
            assert (await cur.fetchone())[0] == 11
        zones = {g.ref: g.timezone for g in parse_groups(GROUPS_CSV)}
        exported = parse_activities(await export_activities(db), zones)
        original = parse_activities(ACTIVITIES_CSV, zones)
        assert sorted(exported, key=lambda a: str(a.ref)) == sorted(
            original, key=lambda a: str(a.ref)
        )
        groups = parse_groups(await export_groups(db))
        assert sorted(groups, key=lambda g: g.ref) == sorted(
            parse_groups(GROUPS_CSV), key=lambda g: g.ref
        )
    finally:
        await db.close()


def test_bundled_sample_and_example_files_are_valid() -> None:
    groups = parse_groups((ROOT / "bot/sample/groups.csv").read_text("utf-8"))
    items = parse_activities(
        (ROOT / "bot/sample/activities.csv").read_text("utf-8"), {g.ref: g.timezone for g in groups}
    )
    assert len(groups) >= 40 and len(items) >= 150
    assert {g.nation for g in groups} == {"england", "scotland", "wales", "northern-ireland"}
    assert all(g.name.endswith("(sample)") for g in groups)
    assert all(
        (g.email or "").endswith("example.org")
        and (g.website or "https://example.org").startswith("https://example.org")
        for g in groups
    )
    examples = parse_groups((ROOT / "docs/examples/groups.csv").read_text("utf-8"))
    parse_activities(
        (ROOT / "docs/examples/activities.csv").read_text("utf-8"),
        {g.ref: g.timezone for g in examples},
    )
    with pytest.raises(ImportFailed) as caught:
        parse_activities(
            (ROOT / "docs/examples/activities-with-errors.csv").read_text("utf-8"),
            {g.ref: g.timezone for g in examples},
        )
    assert len({e.row for e in caught.value.errors}) == 3
    _translated(caught.value.errors)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.commands", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_import_export_seed_and_bad_config(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "SANCTUARY_DB": str(tmp_path / "cli.db")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    bad = _cli("run", env={**env, "SANCTUARY_RADIUS_MILES": "lots"})
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "sanctuary-bot: error: SANCTUARY_RADIUS_MILES must be a number of miles from 1 to 200, got 'lots'"
    ]
    errors = _cli("import", "activities", "docs/examples/activities-with-errors.csv", env=env)
    assert errors.returncode == 1
    assert "row " in errors.stderr and "nothing imported" in errors.stderr
    assert "Traceback" not in errors.stderr
    assert _cli("import", "groups", "docs/examples/groups.csv", env=env).returncode == 0
    done = _cli("import", "activities", "docs/examples/activities.csv", env=env)
    assert done.returncode == 0, done.stderr
    assert "imported 5 activities" in done.stdout
    out = _cli("export", "activities", "-", env=env)
    assert out.stdout.splitlines()[0].startswith("ref,group_ref,title")
    assert len(out.stdout.splitlines()) == 6
    seeded = _cli("seed-demo", env=env)
    assert seeded.returncode == 0 and "seeded" in seeded.stdout
    for sub in ("run", "console", "seed-demo", "import", "export", "grant", "revoke", "audit"):
        helped = _cli(sub, "--help", env=env)
        assert helped.returncode == 0 and "usage: sanctuary-bot" in helped.stdout
    missing = _cli("import", "groups", str(tmp_path / "nope.csv"), env=env)
    assert missing.returncode == 2 and "no such file" in missing.stderr


async def test_a_checked_file_is_saved_in_short_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving never holds the database for a whole big file: IMPORT_BATCH rows a transaction,
    each with its rows' translations; importing it again changes nothing (matched by ref)."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from bot.domain import importer
    from storage.db import Connection

    monkeypatch.setattr(importer, "IMPORT_BATCH", 4)
    db = await Database.open(tmp_path / "b.db")
    try:
        await import_groups(db, GROUPS_CSV)
        header, *rows = ACTIVITIES_CSV.splitlines()
        last_ref = rows[-1].split(",")[0]
        text = "\n".join([header + ",title_ar", *[r + "," for r in rows[:-1]], rows[-1] + ",عنوان"])
        opened = 0
        transaction = db.transaction

        @asynccontextmanager
        async def counted() -> AsyncIterator[Connection]:
            nonlocal opened
            opened += 1
            async with transaction() as conn:
                yield conn

        monkeypatch.setattr(db, "transaction", counted)
        assert await import_activities(db, text) == len(rows) == 11
        assert opened == 3  # 4 + 4 + 3 rows
        async with db.conn.execute(
            "SELECT a.ref, t.text FROM activity_translations t JOIN activities a "
            "ON a.id = t.activity_id"
        ) as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(last_ref, "عنوان")]
        assert await import_activities(db, text) == 11
        async with db.conn.execute("SELECT COUNT(*) FROM activities") as cur:
            assert (await cur.fetchone())[0] == 11
    finally:
        await db.close()
