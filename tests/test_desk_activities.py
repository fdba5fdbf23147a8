"""The desk's Activities page over HTTP, without a browser: every endpoint's 401 and 403
(audited), a never-granted person (and another group's admin) trying every endpoint with
every id, the table's filters, editing with the bot's own checks and messages, pause, cancel
one date, and CSV import (checked, nothing saved until confirmed) and export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot import callbacks as cb
from bot.domain.posting import Problem
from bot.i18n import use_locale
from bot.views import desk as dv
from bot.views import posting as pv
from storage.roles import ADMIN, COORDINATOR, NETWORK
from storage.translations import Translation
from tests.conftest import NOW, Harness
from tests.helpers import tr
from tests.test_desk import COORD_ID, SEEKER_ID, call, refusals
from tests.test_map import init_data
from tests.test_posting import ADMIN_ID

GETS = (
    "activities",
    "activity?id=1",
    "activities/export",
    "activity/poster?activity=1&languages=en",
)
POSTS = ("activity/edit", "activity/pause", "activity/cancel-date", "activities/import")
CAFE = "leeds-cafe"  # weekly on Tuesdays, 18:00-20:00


async def _id(harness: Harness, ref: str) -> int:
    found = await harness.row("SELECT id FROM activities WHERE ref = ?", ref)
    assert found is not None
    return int(str(found[0]))


async def _leeds_admin(harness: Harness) -> int:
    leeds = (await harness.services.groups.refs())["leeds"]
    await harness.services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    return leeds


def said(body: dict[str, Any]) -> str:
    """An answer's message without the Unicode isolates around inserted values."""
    return re.sub("[\u2066-\u2069]", "", str(body["message"]))


def _get(endpoint: str) -> tuple[str, str]:
    path, _sep, query = endpoint.partition("?")
    return path, f"?{query}" if query else ""


async def test_every_activities_endpoint_needs_a_sign_in_and_a_role(mapped: Harness) -> None:
    good = init_data(SEEKER_ID)
    forged = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
    for endpoint in GETS:
        path, query = _get(endpoint)
        for auth in (None, "", forged):
            assert (await call(mapped, path, auth, query=query))[0] == 401, endpoint
    for endpoint in POSTS:
        for auth in (None, "", forged):
            assert (await call(mapped, endpoint, auth, {"activity": 1}))[0] == 401, endpoint
    before = await refusals(mapped, "desk:desk")
    for endpoint in GETS:
        path, query = _get(endpoint)
        status, body = await call(mapped, path, good, query=query)
        assert status == 403 and body["error"] == "forbidden", endpoint
    for endpoint in POSTS:
        status, body = await call(mapped, endpoint, good, {"activity": 1, "csv": "ref\n"})
        assert status == 403 and body["error"] == "forbidden", endpoint
    assert await refusals(mapped, "desk:desk") == before + len(GETS) + len(POSTS)


@pytest.mark.parametrize("granted", [False, True])
async def test_every_activities_endpoint_with_every_id_is_refused_to_the_wrong_person(
    mapped: Harness, granted: bool
) -> None:
    """Someone never granted (or a Sheffield admin, for every other group's activity) tries
    to read, edit, pause and cancel a date of every activity, and to import over them;
    nothing changes and every refusal is audited."""
    services = mapped.services
    refs = await services.groups.refs()
    sheffield = refs["sheffield"]
    if granted:
        await services.roles.grant(SEEKER_ID, ADMIN, sheffield, None, NOW)
    auth = init_data(SEEKER_ID)
    snapshot = "SELECT id, group_id, title, status, paused, rrule, starts_at FROM activities"
    async with services.db.conn.execute(snapshot) as cur:
        rows = [tuple(r) for r in await cur.fetchall()]
    skips = await mapped.row("SELECT COUNT(*) FROM activity_skips")
    tried = 0
    start = (NOW + timedelta(days=1)).isoformat()
    for activity_id, group_id, *_rest in rows:
        if granted and group_id == sheffield:
            continue
        status, _body = await call(mapped, "activity", auth, query=f"?id={activity_id}")
        assert status == 403, activity_id
        poster = f"?activity={activity_id}&languages=en"
        status, _body = await call(mapped, "activity/poster", auth, query=poster)
        assert status == 403, activity_id
        tried += 1
        for endpoint, body in (
            ("activity/edit", {"section": "title", "values": {"title": "Taken"}}),
            ("activity/pause", {"paused": True}),
            ("activity/pause", {"paused": False}),
            ("activity/cancel-date", {"start": start}),
        ):
            status, _body = await call(mapped, endpoint, auth, {"activity": activity_id, **body})
            assert status == 403, (endpoint, activity_id)
            tried += 1
        tried += 1
    for forged in (10**9, "1", True, None, -1):
        for endpoint in ("activity/edit", "activity/pause", "activity/cancel-date"):
            body = {"activity": forged, "paused": True, "start": start}
            assert (await call(mapped, endpoint, auth, body))[0] == 403
            tried += 1
    for query in ("?id=", "?id=abc", f"?id={10**9}"):
        assert (await call(mapped, "activity", auth, query=query))[0] == 403
    for group_id in refs.values():
        if not (granted and group_id == sheffield):
            status, _body = await call(mapped, "activities", auth, query=f"?group={group_id}")
            assert status == 403
            tried += 1
    # an import over every group's activities: refused outright, or (a Sheffield admin) every
    # other group's row listed and nothing saved
    exported = await _coordinator_export(mapped)
    status, answer = await call(
        mapped, "activities/import", auth, {"csv": exported, "confirm": True}
    )
    if granted:
        assert status == 200 and answer["ok"] is False
        listed = {e["row"] for e in answer["errors"]}
        others = [i + 2 for i, r in enumerate(_rows(exported)) if r["group_ref"] != "sheffield"]
        assert listed == set(others)
    else:
        assert status == 403
    async with services.db.conn.execute(snapshot) as cur:
        assert [tuple(r) for r in await cur.fetchall()] == rows
    assert await mapped.row("SELECT COUNT(*) FROM activity_skips") == skips
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND actor = ?", SEEKER_ID
    ) >= (tried,)  # type: ignore[operator]
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action != 'refused'", SEEKER_ID
    ) == (0,)  # nothing but refusals


async def _coordinator_export(harness: Harness) -> str:
    await harness.services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    status, data = await call(harness, "activities/export", init_data(COORD_ID))
    assert status == 200
    return str(data["csv"])


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def test_the_table_shows_a_group_admin_their_groups_with_filters(mapped: Harness) -> None:
    services = mapped.services
    leeds = await _leeds_admin(mapped)
    reader = mapped.chat(SEEKER_ID, "ar")
    await reader.send("/start")
    await reader.press_data(cb.ChooseLanguage("ar", "s"))
    auth = init_data(ADMIN_ID)
    status, data = await call(mapped, "activities", auth)
    assert status == 200
    ids = {r["id"] for r in data["rows"]}
    async with services.db.conn.execute(
        "SELECT id FROM activities WHERE group_id = ?", (leeds,)
    ) as cur:
        assert ids == {r[0] for r in await cur.fetchall()}
    assert data["count"] == len(ids) and data["next"] is None
    assert all(r["group"] == "Leeds City of Sanctuary (test)" for r in data["rows"])
    assert data["choices"]["missing"] == [{"value": "ar", "label": "Arabic"}]
    assert data["texts"]["edit"] == "✏️ Edit"

    cafe = await _id(mapped, CAFE)
    await services.translations.save(
        [Translation(cafe, "ar", "title", "مقهى المحادثة", "Conversation café", "published")], NOW
    )
    status, data = await call(mapped, "activities", auth, query="?missing=ar")
    assert status == 200 and cafe not in {r["id"] for r in data["rows"]}
    assert len(data["rows"]) == len(ids) - 1 and all(r["missing"] == ["ar"] for r in data["rows"])
    assert (await call(mapped, "activities", auth, query="?missing=xx"))[0] == 400

    await services.activities.mark_stale([cafe], NOW)
    status, data = await call(mapped, "activities", auth, query="?stale=1")
    assert [r["id"] for r in data["rows"]] == [cafe]
    status, data = await call(mapped, "activities", auth, query="?status=stale")
    assert [(r["id"], r["status_label"]) for r in data["rows"]] == [
        (cafe, "💤 Hidden: is it still running?")
    ]
    status, data = await call(mapped, "activities", auth, query=f"?group={leeds}&status=paused")
    assert status == 200 and data["rows"] == []
    assert (await call(mapped, "activities", auth, query="?status=nonsense"))[0] == 400


async def test_a_leeds_admin_edits_with_the_bots_checks_and_messages(mapped: Harness) -> None:
    services = mapped.services
    await _leeds_admin(mapped)
    cafe = await _id(mapped, CAFE)
    auth = init_data(ADMIN_ID)
    status, item = await call(mapped, "activity", auth, query=f"?id={cafe}")
    assert status == 200 and item["title"] == "Conversation café" and item["live"]
    assert "Conversation café" in item["card"] and "<b>" not in item["card"]
    assert item["form"]["time"] == "18:00-20:00" and item["form"]["days"] == [1]
    assert item["form"]["date"] == "24/11/2026"  # the next date, not the first one in January
    assert item["pause"] and not item["resume"] and item["repeats"]

    async def edit(
        section: str, values: dict[str, Any], locale_auth: str = auth
    ) -> tuple[int, dict[str, Any]]:
        body = {"activity": cafe, "section": section, "values": values}
        return await call(mapped, "activity/edit", locale_auth, body)

    # the bot's own refusals, word for word, and nothing saved
    status, body = await edit("title", {"title": "x" * 81})
    assert status == 400
    assert said(body) == (
        "❗ That is too long for the card: 81 characters, at most 80. Please shorten it."
    )
    status, body = await edit("title", {"title": "   "})
    assert status == 400 and said(body) == "❗ Please type an answer."
    status, body = await edit("where", {"address": "1 Nowhere Road, ZZ9 9ZZ", "venue": "Hall"})
    assert status == 400 and said(body) == "❗ I don't know the postcode ZZ9 9ZZ. Please check it."
    when = {"repeat": "weekly", "days": [], "date": "01/12/2026", "time": "18:00-20:30"}
    status, body = await edit("when", when)
    assert status == 400 and said(body) == "❗ Please tap at least one day first."
    status, body = await edit("when", {**when, "days": [1], "date": "02/12/2026"})
    assert said(body) == (
        "❗ That date is not one of the days you chose. Please tap or type another."
    )
    status, body = await edit("category", {"category": "nonsense"})
    assert status == 400 and said(body) == "❗ Please tap one of the buttons."
    assert (await edit("nothing", {}))[0] == 400
    assert await mapped.row("SELECT title FROM activities WHERE id = ?", cafe) == (
        "Conversation café",
    )
    # in the person's language
    ar = init_data(ADMIN_ID, "ar")
    status, body = await edit("title", {"title": "x" * 81}, ar)
    with use_locale("ar"):
        expected = dv.plain(pv.problem(Problem("too_long", limit=80, length=81)).text)
    assert status == 400 and body["message"] == expected and "طويل" in expected

    status, body = await edit("title", {"title": "Tea and talk"})
    assert status == 200
    assert (
        body["message"] == "✅ “Tea and talk” is updated. People who asked for reminders are told."
    )
    assert await mapped.row("SELECT title FROM activities WHERE id = ?", cafe) == ("Tea and talk",)
    assert services.directory.activities[cafe].title == "Tea and talk"
    status, body = await edit("when", {**when, "days": [1], "until": "", "skips": "22/12/2026"})
    assert status == 200
    changed = await services.activities.get(cafe)
    assert changed is not None and changed.duration_min == 150
    assert changed.skips == frozenset({date(2026, 12, 22)})
    status, body = await edit("languages", {"languages": ["ar", "en", "xx"]})
    assert status == 200
    assert await mapped.row("SELECT languages FROM activities WHERE id = ?", cafe) == ("en ar",)
    status, body = await edit("cost", {"cost": ""})  # as "Free"
    assert status == 200
    assert await mapped.row("SELECT cost FROM activities WHERE id = ?", cafe) == (None,)
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'activity_edited' AND actor = ? "
        "AND detail LIKE ?",
        ADMIN_ID,
        f"{cafe}:%",
    ) == (4,)


async def test_an_edit_from_the_desk_keeps_the_post_being_written_in_the_chat(
    mapped: Harness,
) -> None:
    await _leeds_admin(mapped)
    chat = mapped.chat(ADMIN_ID)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("en", "s"))
    await chat.send("/newactivity")
    await chat.send("Board games")
    cafe = await _id(mapped, CAFE)
    body = {"activity": cafe, "section": "title", "values": {"title": "Tea and talk"}}
    assert (await call(mapped, "activity/edit", init_data(ADMIN_ID), body))[0] == 200
    draft = await mapped.services.drafts.get(ADMIN_ID)
    assert draft is not None and draft.data.get("title") == "Board games"


async def test_pause_and_cancel_one_date_as_in_the_bot(mapped: Harness) -> None:
    await _leeds_admin(mapped)
    cafe = await _id(mapped, CAFE)
    auth = init_data(ADMIN_ID)
    status, body = await call(mapped, "activity/pause", auth, {"activity": cafe, "paused": True})
    assert status == 200 and body["message"] == "✅ Done."
    assert await mapped.row("SELECT paused FROM activities WHERE id = ?", cafe) == (1,)
    assert cafe not in mapped.services.directory.activities
    assert (await call(mapped, "activity/pause", auth, {"activity": cafe, "paused": "yes"}))[
        0
    ] == 400
    status, item = await call(mapped, "activity", auth, query=f"?id={cafe}")
    assert item["resume"] and not item["pause"]
    status, body = await call(mapped, "activity/pause", auth, {"activity": cafe, "paused": False})
    assert status == 200
    assert await mapped.row("SELECT paused FROM activities WHERE id = ?", cafe) == (0,)

    status, item = await call(mapped, "activity", auth, query=f"?id={cafe}")
    first = item["dates"][0]
    assert datetime.fromisoformat(first["start"]) == datetime(2026, 11, 24, 18, tzinfo=NOW.tzinfo)
    wrong = {"activity": cafe, "start": "2026-11-25T18:00:00+00:00"}  # a Wednesday
    assert (await call(mapped, "activity/cancel-date", auth, wrong))[0] == 409
    bad = {"activity": cafe, "start": "tomorrow"}
    assert (await call(mapped, "activity/cancel-date", auth, bad))[0] == 400
    status, body = await call(
        mapped, "activity/cancel-date", auth, {"activity": cafe, "start": first["start"]}
    )
    assert status == 200 and body["message"] == "✅ Done."
    assert await mapped.row(
        "SELECT COUNT(*) FROM activity_skips WHERE activity_id = ? AND local_date = '2026-11-24'",
        cafe,
    ) == (1,)
    actions = [
        r[0]
        for r in await (
            await mapped.services.db.conn.execute(
                "SELECT action FROM audit_log WHERE actor = ? AND group_id IS NOT NULL "
                "AND action != 'grant' ORDER BY id",
                (ADMIN_ID,),
            )
        ).fetchall()
    ]
    assert actions == ["activity_paused", "activity_resumed", "date_cancelled"]


async def test_a_csv_import_is_checked_first_and_saved_only_when_confirmed(
    mapped: Harness,
) -> None:
    services = mapped.services
    exported = await _coordinator_export(mapped)
    rows = _rows(exported)
    assert {r["ref"] for r in rows} >= {CAFE}
    auth = init_data(COORD_ID)
    changed = [dict(r) for r in rows]
    changed[0]["title"] = "Renamed by import"
    changed[2]["start_time"] = "25:00"
    changed[4]["group_ref"] = "atlantis"
    bad = _csv(changed)
    for confirm in (False, True):
        status, answer = await call(
            mapped, "activities/import", auth, {"csv": bad, "confirm": confirm}
        )
        assert status == 200 and answer["ok"] is False
        assert [(e["row"], e["column"]) for e in answer["errors"]] == [
            (4, "start_time"),
            (6, "group_ref"),
        ]
        assert (
            answer["errors"][0]["text"]
            == "Row 4, start_time: “25:00” is not a time (HH:MM, 24-hour)"
        )
    assert await mapped.row(
        "SELECT COUNT(*) FROM activities WHERE title = ?", "Renamed by import"
    ) == (0,)

    changed[2]["start_time"] = rows[2]["start_time"]
    changed[4]["group_ref"] = rows[4]["group_ref"]
    good = _csv(changed)
    status, answer = await call(mapped, "activities/import", auth, {"csv": good})
    assert status == 200 and answer == {
        "ok": True, "saved": False, "count": len(rows),
        "message": f"Ready to save: {len(rows)}. Nothing is saved yet.",
    }  # fmt: skip
    assert await mapped.row(
        "SELECT COUNT(*) FROM activities WHERE title = ?", "Renamed by import"
    ) == (0,)
    status, answer = await call(mapped, "activities/import", auth, {"csv": good, "confirm": True})
    assert status == 200 and answer["saved"] and answer["message"] == f"✅ Saved: {len(rows)}."
    assert await mapped.row(
        "SELECT COUNT(*) FROM activities WHERE title = ?", "Renamed by import"
    ) == (1,)
    renamed = await _id(mapped, rows[0]["ref"])
    assert services.directory.activities[renamed].title == "Renamed by import"
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'activity_imported' AND actor = ?",
        COORD_ID,
    ) == (len({r["group_ref"] for r in rows}),)
    status, log = await call(mapped, "audit", auth, query="?action=activity")
    assert status == 200 and "activity_imported" in {e["action"] for e in log["entries"]}
    assert (await call(mapped, "activities/import", auth, {"csv": 12}))[0] == 400
    status, answer = await call(mapped, "activities/import", auth, {"csv": good * 600})
    assert len(good * 600) > 1024 * 1024
    assert status == 413 and answer["message"] == (
        "This file is too big (at most 1 MB). Please split it into smaller files."
    )


async def test_a_group_admin_exports_and_imports_only_their_groups(mapped: Harness) -> None:
    # activities posted in the bot have no ref: the export names them activity-<id>
    for ref in ("leeds-cafe", "sheffield-cafe"):
        await mapped.services.db.conn.execute(
            "UPDATE activities SET ref = NULL WHERE ref = ?", (ref,)
        )
    exported = await _coordinator_export(mapped)
    await _leeds_admin(mapped)
    auth = init_data(ADMIN_ID)
    status, data = await call(mapped, "activities/export", auth)
    assert status == 200 and data["filename"] == "activities-2026-11-23.csv"
    mine = _rows(data["csv"])
    assert mine and {r["group_ref"] for r in mine} == {"leeds"}
    # their own file goes back in; one row moved to Sheffield, or a Sheffield ref, does not
    status, answer = await call(mapped, "activities/import", auth, {"csv": data["csv"]})
    assert status == 200 and answer["ok"] is True
    other = next(
        r
        for r in _rows(exported)
        if r["group_ref"] != "leeds" and not r["ref"].startswith("activity-")
    )
    moved = [dict(mine[0], group_ref="sheffield"), dict(mine[1], ref=other["ref"])]
    status, answer = await call(
        mapped, "activities/import", auth, {"csv": _csv(moved), "confirm": True}
    )
    assert status == 200 and answer["ok"] is False
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [(2, "group_ref"), (3, "ref")]
    assert await mapped.row("SELECT group_id FROM activities WHERE ref = ?", other["ref"]) == (
        (await mapped.services.groups.refs())[other["group_ref"]],
    )
    posted = next(
        r
        for r in _rows(exported)
        if r["group_ref"] == "sheffield" and r["ref"].startswith("activity-")
    )
    status, answer = await call(
        mapped, "activities/import", auth, {"csv": _csv([dict(mine[0], ref=posted["ref"])])}
    )
    assert status == 200 and [(e["row"], e["column"]) for e in answer["errors"]] == [(2, "ref")]

    # their export, changed and imported again, updates the same activities (none added)
    count = await mapped.row("SELECT COUNT(*) FROM activities")
    cafe = next(r for r in mine if r["title"] == "Conversation café")
    assert cafe["ref"].startswith("activity-")
    changed = [dict(r, title="Tea and talk") if r is cafe else r for r in mine]
    status, answer = await call(
        mapped, "activities/import", auth, {"csv": _csv(changed), "confirm": True}
    )
    assert status == 200 and answer["saved"] is True
    assert await mapped.row("SELECT COUNT(*) FROM activities") == count
    assert await mapped.row("SELECT title, ref FROM activities WHERE id = ?", int(cafe["ref"][9:])) == (
        "Tea and talk", cafe["ref"],
    )  # fmt: skip
    status, again = await call(mapped, "activities/export", auth)
    assert len(_rows(again["csv"])) == len(mine)


async def test_lists_are_read_in_batches_and_miss_nothing(
    mapped: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table and the export read a few rows a query (here 3): every activity once, the
    export in the same order as one read gives."""
    services = mapped.services
    whole = await services.activities.with_group_refs()
    monkeypatch.setattr("storage.activities.LIST_BATCH", 3)
    listed = await services.activities.of_groups(None)
    async with services.db.conn.execute("SELECT id FROM activities ORDER BY id") as cur:
        assert [a.id for a in listed] == [r[0] for r in await cur.fetchall()]
    assert len(listed) > 3
    assert await services.activities.with_group_refs() == whole
    await services.db.conn.execute("UPDATE activities SET ref = NULL WHERE ref = 'leeds-cafe'")
    async with services.db.conn.execute(  # no ref first, as SQLite puts NULL (not PostgreSQL)
        "SELECT id FROM activities ORDER BY ref IS NOT NULL, ref, id"
    ) as cur:
        by_ref = [r[0] for r in await cur.fetchall()]
    assert [a.id for a, _g in await services.activities.with_group_refs()] == by_ref
    leeds = (await services.groups.refs())["leeds"]
    assert {a.group_id for a in await services.activities.of_groups([leeds])} == {leeds}


async def test_an_arabic_speaking_admin_reads_an_imports_errors_in_arabic(
    mapped: Harness,
) -> None:
    # The importer's own words, not only the "Row N, column" frame, in the admin's language,
    # the values from the file isolated inside the right-to-left line.
    await _leeds_admin(mapped)
    auth = init_data(ADMIN_ID, "ar")
    status, data = await call(mapped, "activities/export", auth)
    mine = _rows(data["csv"])
    bad = [
        dict(mine[0], start_time="25:00"),
        dict(mine[1], postcode="NOWHERE", languages="english"),
    ]
    status, answer = await call(mapped, "activities/import", auth, {"csv": _csv(bad)})
    assert status == 200 and answer["ok"] is False
    expected = [
        (2, "start_time", "“{value}” is not a time (HH:MM, 24-hour)", "25:00"),
        (3, "postcode", "“{value}” is not a UK postcode", "NOWHERE"),
        (3, "languages", "not language codes: {codes}", "english"),
    ]
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [x[:2] for x in expected]
    frame = tr("ar", "Row {row}, {column}: {message}").split("{")[0]
    for error, (_row, column, msgid, value) in zip(answer["errors"], expected, strict=True):
        isolated = f"\u2068{value}\u2069"
        message = tr("ar", msgid).format(value=isolated, codes=isolated)
        assert error["text"].startswith(frame) and error["text"].endswith(message), error
        assert f"\u2068{column}\u2069" in error["text"]
        assert re.sub("“?{\\w+}”?", "", msgid).strip() not in error["text"]  # no English left
    # a row of another group's: the same frame, in Arabic too
    other = dict(mine[0], ref="elsewhere", group_ref="sheffield")
    status, answer = await call(mapped, "activities/import", auth, {"csv": _csv([other])})
    (error,) = answer["errors"]
    assert error["text"].endswith(
        tr("ar", "not one of your groups' activities ({ref})").format(ref="\u2068sheffield\u2069")
    )
    assert await mapped.row("SELECT COUNT(*) FROM activities WHERE ref = 'elsewhere'") == (0,)
