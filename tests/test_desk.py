"""The coordinators' desk over HTTP, without a browser: Telegram's sign-in (401 when missing,
forged or expired), the roles read on every call (403, audited), and the pages' data and
actions (the same figures as `sanctuary-bot stats`, the bot's moderation and concern reviews
with the bot's messages); and /desk with the chat's menu button."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot import callbacks as cb
from bot.cli import commands as cli
from bot.web.map import sign
from storage.roles import ADMIN, COORDINATOR, NETWORK
from storage.stats import StatsRepository
from tests.conftest import NOW, PUBLIC_URL, Harness
from tests.helpers import eventually, only, tr
from tests.test_map import TOKEN, init_data
from tests.test_posting import ADMIN_ID, VOL_ID, notices, quick_post, team

COORD_ID, SEEKER_ID = 8301, 8302
GET_ENDPOINTS = ("me", "overview", "review", "audit")
POST_ENDPOINTS = ("moderate", "concern")


async def call(
    harness: Harness,
    endpoint: str,
    auth: str | None,
    body: dict[str, object] | None = None,
    query: str = "",
) -> tuple[int, dict[str, Any]]:
    """One API call (POST with a body), with ``Authorization: tma <auth>`` when given."""
    headers = {"Authorization": f"tma {auth}"} if auth is not None else {}
    url = f"{harness.web_url}/desk/api/{endpoint}{query}"
    async with aiohttp.ClientSession() as session:
        method = (
            session.post(url, json=body, headers=headers)
            if body is not None
            else session.get(url, headers=headers)
        )
        async with method as response:
            return response.status, await response.json()


async def refusals(harness: Harness, detail: str) -> int:
    found = await harness.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND detail = ?", detail
    )
    assert found is not None
    return int(str(found[0]))


async def test_sign_in_is_telegrams_and_roles_are_read_every_time(mapped: Harness) -> None:
    services = mapped.services
    for endpoint in GET_ENDPOINTS:
        assert (await call(mapped, endpoint, None))[0] == 401
    for endpoint in POST_ENDPOINTS:
        assert (await call(mapped, endpoint, None, {"activity": 1, "outcome": "approve"}))[0] == 401
        assert (await call(mapped, endpoint, "", {"activity": 1, "outcome": "approve"}))[0] == 401
    status, body = await call(mapped, "me", None, query="?lang=ar")
    assert status == 401 and body["message"] == tr(
        "ar", "Please open the desk again from the chat: send /desk."
    )
    good = init_data(COORD_ID)
    forged = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
    assert (await call(mapped, "me", forged))[0] == 401
    assert (await call(mapped, "me", init_data(COORD_ID, token="654321:OTHER")))[0] == 401
    old = init_data(COORD_ID, age_s=int(timedelta(days=1, minutes=1).total_seconds()))
    assert (await call(mapped, "me", old))[0] == 401
    future = init_data(COORD_ID, age_s=-3600)
    assert (await call(mapped, "me", future))[0] == 401
    nobody = sign({"auth_date": str(int(NOW.timestamp())), "query_id": "AAH"}, TOKEN)
    assert (await call(mapped, "me", nobody))[0] == 401

    # Signed in, but no role: 403 on every page, each refusal audited.
    before = await refusals(mapped, "desk:desk")
    for endpoint in GET_ENDPOINTS:
        status, body = await call(mapped, endpoint, good)
        assert status == 403 and body["error"] == "forbidden"
    assert await refusals(mapped, "desk:desk") == before + len(GET_ENDPOINTS)

    # Granted now: the next call sees it (nothing cached); revoked: refused again.
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    status, me = await call(mapped, "me", good)
    assert status == 200
    assert me["user"] == COORD_ID and me["roles"] == [COORDINATOR] and me["coordinator"]
    assert {g["ref"] for g in me["groups"]} == set(await services.groups.refs())
    assert me["texts"]["review"] == "Review" and me["texts"]["dir"] == "ltr"
    await services.roles.revoke(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    assert (await call(mapped, "me", good))[0] == 403


async def test_the_overview_shows_the_figures_of_sanctuary_bot_stats(mapped: Harness) -> None:
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    await mapped.chat(SEEKER_ID).send("/start")
    status, data = await call(mapped, "overview", init_data(COORD_ID))
    assert status == 200 and data["network"] is True
    shown = [row["raw"] for section in data["sections"] for row in section["rows"]]
    expected = await StatsRepository(services.db).figures(NOW)
    assert shown == [
        {"figure": f.figure, "key": f.key, "month": f.month, "count": f.count} for f in expected
    ]
    # the command prints the same numbers (it counts what is still to come at the real time)
    printed = await cli._stats(services.config, as_csv=True)
    lines = printed.splitlines()[1:]
    assert len(lines) == len(shown)
    for line, raw in zip(lines, shown, strict=True):
        if raw["figure"] != "activities_active":
            assert line == f"{raw['figure']},{raw['key']},{raw['month']},{raw['count']}"
    # Counted at most every five minutes (a national count reads millions of rows).
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(SEEKER_ID, ADMIN, leeds, None, NOW)
    assert (await call(mapped, "overview", init_data(COORD_ID)))[1] == data
    services.clock = lambda: NOW + timedelta(minutes=5)
    later = (await call(mapped, "overview", init_data(COORD_ID)))[1]
    assert later["counted"] != data["counted"]
    roles = next(s for s in later["sections"] if s["figure"] == "people_with_role")
    assert {r["raw"]["key"]: r["raw"]["count"] for r in roles["rows"]} == {
        ADMIN: 1,
        COORDINATOR: 1,
    }
    titles = {s["figure"]: s["title"] for s in data["sections"]}
    assert titles["activities"] == "Activities"
    added = next(s for s in data["sections"] if s["figure"] == "activities_added")
    assert added["chart"].startswith("<svg") and "<script" not in added["chart"]


async def test_the_overview_shows_the_count_the_jobs_kept(mapped: Harness) -> None:
    # At national scale a count takes seconds: the jobs count and keep the figures, and the
    # coordinator's overview reads the count kept (milliseconds) while it is fresh.
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    counted, figures = await services.network_figures()  # the jobs' count
    assert counted == NOW
    await mapped.chat(SEEKER_ID).send("/start")  # someone new since
    services.clock = lambda: NOW + timedelta(minutes=4)
    status, data = await call(mapped, "overview", init_data(COORD_ID))
    shown = [row["raw"] for section in data["sections"] for row in section["rows"]]
    assert status == 200 and shown == [
        {"figure": f.figure, "key": f.key, "month": f.month, "count": f.count} for f in figures
    ]
    # the next day's count is kept beside it: one count a day, the days before its history
    services.clock = lambda: NOW + timedelta(days=1)
    await services.network_figures()
    await services.network_figures()
    days = await mapped.row("SELECT COUNT(DISTINCT counted_on) FROM stats_snapshots")
    first = await mapped.row(
        "SELECT COUNT(*), SUM(count) FROM stats_snapshots WHERE counted_on = ?",
        NOW.date().isoformat(),
    )
    assert days is not None and days[0] == 2
    assert first is not None and list(first) == [len(figures), sum(f.count for f in figures)]
    later = NOW + timedelta(days=1)
    assert await StatsRepository(services.db).kept() == (
        later,
        await StatsRepository(services.db).figures(later),
    )


async def test_the_overview_charts_the_days_kept(mapped: Harness) -> None:
    # The jobs' counts of the days before draw the network's totals over time.
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    for days in (3, 2):
        await services.users.ensure(SEEKER_ID + days)  # one more person each day
        services.clock = lambda days=days: NOW - timedelta(days=days)  # type: ignore[misc]
        await services.network_figures()
    await services.users.ensure(SEEKER_ID + 1)
    services.clock = lambda: NOW
    status, data = await call(mapped, "overview", init_data(COORD_ID))
    sections = {s["figure"]: s for s in data["sections"]}
    people = sections["users_by_purpose"]["history"]
    assert status == 200 and people.startswith("<svg") and "<script" not in people
    totals = [int(c) for c in re.findall(r"<title>[^<]*: (\d+)</title>", people)]
    assert totals == [1, 2, 3]  # three days kept, today's counted now
    assert "<title>20 Nov: 1</title>" in people and "<title>23 Nov: 3</title>" in people
    assert sections["activities"]["history"] == ""  # by status: not a total over time
    # a group admin's figures are counted now, without days kept
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(SEEKER_ID, ADMIN, leeds, None, NOW)
    status, data = await call(mapped, "overview", init_data(SEEKER_ID))
    assert status == 200 and all(s["history"] == "" for s in data["sections"])


@pytest.mark.sqlite_only  # SQLite's query planner
async def test_the_network_counts_read_indexes_not_rows(mapped: Harness) -> None:
    # People by purpose and by language, and messages sent by month, are counted from an
    # index each (a million people, millions of messages at national scale).
    db = mapped.services.db
    statements: list[str] = []
    await db.raw.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    await StatsRepository(db).figures(NOW)
    await db.raw.set_trace_callback(None)  # type: ignore[attr-defined]
    read = []
    for sql in statements:
        async with db.conn.execute(f"EXPLAIN QUERY PLAN {sql}") as cur:
            plan = [str(r[3]) for r in await cur.fetchall()]
        read += [step for step in plan if "users" in step or "outbox " in step]
    assert len(read) >= 4 and all("COVERING INDEX" in step for step in read), read


async def test_a_leeds_admin_sees_and_moderates_only_leeds(mapped: Harness) -> None:
    services = mapped.services
    leeds, volunteer = await team(mapped)
    preview = await quick_post(volunteer, "Park picnic")
    await volunteer.press("Publish", preview)
    picnic = (await mapped.row("SELECT id FROM activities WHERE title = 'Park picnic'"))[0]  # type: ignore[index]
    sheffield = (await services.groups.refs())["sheffield"]
    other = (await mapped.row("SELECT id FROM activities WHERE group_id = ?", sheffield))[0]  # type: ignore[index]
    auth = init_data(ADMIN_ID)

    status, me = await call(mapped, "me", auth)
    assert status == 200 and me["roles"] == [ADMIN] and not me["coordinator"]
    assert [g["id"] for g in me["groups"]] == [leeds]
    status, data = await call(mapped, "overview", auth)
    assert status == 200 and data["network"] is False
    statuses = {
        r["raw"]["key"]: r["raw"]["count"]
        for s in data["sections"]
        if s["figure"] == "activities"
        for r in s["rows"]
    }
    leeds_counts = await mapped.row(
        "SELECT COUNT(*) FROM activities WHERE group_id = ? AND status = 'pending'", leeds
    )
    assert statuses["pending"] == leeds_counts[0]  # type: ignore[index]
    assert "users_by_language" not in {s["figure"] for s in data["sections"]}
    assert (await call(mapped, "overview", auth, query=f"?group={leeds}"))[1] == data
    before = await refusals(mapped, "desk:overview")
    assert (await call(mapped, "overview", auth, query=f"?group={sheffield}"))[0] == 403
    assert (await call(mapped, "overview", auth, query="?group=x"))[0] == 400
    assert await refusals(mapped, "desk:overview") == before + 1

    status, queue = await call(mapped, "review", auth)
    assert status == 200 and [p["id"] for p in queue["posts"]] == [picnic]
    assert "Park picnic" in queue["posts"][0]["text"] and "<b>" not in queue["posts"][0]["text"]

    # Another group's activity: 403 and audited, nothing changed.
    await services.activities.set_status(other, "pending", NOW)
    before = await refusals(mapped, "desk:moderate")
    body = {"activity": other, "outcome": "approve"}
    assert (await call(mapped, "moderate", auth, body))[0] == 403
    assert await refusals(mapped, "desk:moderate") == before + 1
    assert await mapped.row("SELECT status FROM activities WHERE id = ?", other) == ("pending",)
    assert (await call(mapped, "audit", auth, query=f"?group={sheffield}"))[0] == 403

    # Ask for changes needs words; then the volunteer gets the bot's own message.
    bad = {"activity": picnic, "outcome": "changes", "note": "  "}
    assert (await call(mapped, "moderate", auth, bad))[0] == 400
    status, done = await call(
        mapped, "moderate", auth, {"activity": picnic, "outcome": "changes", "note": "Add a time"}
    )
    assert status == 200 and done["message"] == "✏️ Sent back with your words."
    told = await notices(mapped, VOL_ID, "Please change")
    assert "Add a time" in told[0]
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'moderation_changes' AND actor = ?",
        ADMIN_ID,
    ) == (1,)
    # Not waiting any more: a second answer is refused (409), as the bot's button would be.
    again = {"activity": picnic, "outcome": "approve"}
    assert (await call(mapped, "moderate", auth, again))[0] == 409

    status, log = await call(mapped, "audit", auth, query="?action=moderation")
    assert status == 200 and [e["action"] for e in log["entries"]] == ["moderation_changes"]
    assert log["entries"][0]["kind"] == "Posts checked"
    assert (await call(mapped, "audit", auth, query="?action=drop"))[0] == 400
    status, log = await call(mapped, "audit", auth)
    assert all(e["group"] == "Leeds City of Sanctuary (test)" for e in log["entries"])


async def test_approving_in_the_desk_publishes_and_tells_the_volunteer(mapped: Harness) -> None:
    await mapped.services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    _leeds, volunteer = await team(mapped)
    preview = await quick_post(volunteer, "Park picnic")
    await volunteer.press("Publish", preview)
    picnic = (await mapped.row("SELECT id FROM activities WHERE title = 'Park picnic'"))[0]  # type: ignore[index]
    status, done = await call(
        mapped, "moderate", init_data(COORD_ID), {"activity": picnic, "outcome": "approve"}
    )
    assert status == 200 and done["message"] == "✅ Approved and published."
    assert await mapped.row("SELECT status FROM activities WHERE id = ?", picnic) == ("published",)
    assert picnic in mapped.services.directory.activities
    told = await notices(mapped, VOL_ID, "was approved")
    assert "Park picnic" in told[0]


async def test_concerns_are_shown_again_or_removed_from_the_desk(mapped: Harness) -> None:
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    ids = [int(str(r)) for r in list(services.directory.activities)[:2]]
    for activity_id in ids:
        await services.concerns.report(activity_id, SEEKER_ID, "unsafe")
    auth = init_data(COORD_ID, "fr")
    status, data = await call(mapped, "review", auth)
    assert status == 200
    assert sorted(c["id"] for c in data["concerns"]) == sorted(ids)
    first = next(c for c in data["concerns"] if c["id"] == ids[0])
    assert first["reasons"] == [tr("fr", "It feels unsafe")]
    assert (await call(mapped, "concern", auth, {"activity": ids[0], "outcome": "gone"}))[0] == 400
    status, done = await call(mapped, "concern", auth, {"activity": ids[0], "outcome": "removed"})
    assert status == 200 and done["message"] == tr("fr", "🗑 The activity was removed.")
    assert await mapped.row("SELECT status FROM activities WHERE id = ?", ids[0]) == ("cancelled",)
    assert ids[0] not in services.directory.activities
    status, done = await call(mapped, "concern", auth, {"activity": ids[1], "outcome": "restored"})
    assert status == 200
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'report_%' AND actor = ?", COORD_ID
    ) == (2,)
    status, data = await call(mapped, "review", auth)
    assert data["concerns"] == []
    # Reviewed already (or never reported): nothing to decide, nothing changes.
    again = {"activity": ids[1], "outcome": "removed"}
    assert (await call(mapped, "concern", auth, again))[0] == 409
    assert ids[1] in services.directory.activities


@pytest.mark.parametrize("granted", [False, True])
async def test_every_endpoint_with_every_id_is_refused_to_the_wrong_person(
    mapped: Harness, granted: bool
) -> None:
    """As the explore test's forged buttons: someone never granted (or a Sheffield admin, for
    Leeds' activities) tries every action on every activity; nothing changes."""
    services = mapped.services
    sheffield = (await services.groups.refs())["sheffield"]
    if granted:
        await services.roles.grant(SEEKER_ID, ADMIN, sheffield, None, NOW)
    auth = init_data(SEEKER_ID)
    async with services.db.conn.execute("SELECT id, group_id, status FROM activities") as cur:
        rows = [tuple(r) for r in await cur.fetchall()]
    tried = 0
    for activity_id, group_id, _status in rows:
        if granted and group_id == sheffield:
            continue
        for endpoint, outcome in (
            ("moderate", "approve"),
            ("moderate", "reject"),
            ("concern", "removed"),
            ("concern", "restored"),
        ):
            body = {"activity": activity_id, "outcome": outcome, "note": "no"}
            status, _body = await call(mapped, endpoint, auth, body)
            assert status == 403, (endpoint, activity_id)
            tried += 1
    for forged in (
        {"activity": 10**9, "outcome": "approve"},
        {"activity": "1", "outcome": "x"},
        {"activity": True, "outcome": "approve"},
    ):
        assert (await call(mapped, "moderate", auth, forged))[0] == 403
    async with services.db.conn.execute("SELECT id, group_id, status FROM activities") as cur:
        assert [tuple(r) for r in await cur.fetchall()] == rows
    for group_id in (await services.groups.refs()).values():
        if not (granted and group_id == sheffield):
            assert (await call(mapped, "audit", auth, query=f"?group={group_id}"))[0] == 403
            tried += 1
    assert tried > 0
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND actor = ?", SEEKER_ID
    ) >= (tried,)  # type: ignore[operator]


async def test_the_desk_command_and_the_menu_button(mapped: Harness) -> None:
    services = mapped.services
    seeker = mapped.chat(SEEKER_ID)
    await seeker.send("/start")
    refused = only(await seeker.send("/desk"))
    assert "Only an admin" in refused.plain_text()
    assert await refusals(mapped, "desk") == 1

    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    coordinator = mapped.chat(COORD_ID, "ar")
    await coordinator.send("/start")
    await coordinator.press("العربية")
    opened = only(await coordinator.send("/desk"))
    rows = (opened.reply_markup or {}).get("inline_keyboard") or []
    assert [b["web_app"]["url"] for row in rows for b in row] == [PUBLIC_URL + "/desk/"]
    assert tr("ar", "🗂 Open the desk") in json.dumps(rows, ensure_ascii=False)

    def buttons(chat_id: int) -> list[dict[str, Any]]:
        return [
            c.params["menu_button"]
            for c in mapped.server.calls_to("setChatMenuButton")
            if c.params.get("chat_id") == chat_id
        ]

    await eventually(lambda: bool(buttons(COORD_ID)), 5.0)
    desk = buttons(COORD_ID)[-1]
    assert desk["type"] == "web_app" and desk["web_app"]["url"] == PUBLIC_URL + "/desk/"
    assert desk["text"] == tr("ar", "Desk")
    assert buttons(SEEKER_ID) == []  # nobody else's menu button is touched

    # Revoked (from the command line without a token): the next menu puts Telegram's back.
    await services.roles.revoke(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    await coordinator.send("/menu")
    assert buttons(COORD_ID)[-1] == {"type": "default"}
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    await coordinator.send("/menu")
    assert buttons(COORD_ID)[-1]["type"] == "web_app"
    # /forget: the menu button goes with the roles.
    await coordinator.send("/forget")
    await coordinator.press_data(cb.ForgetConfirmed())
    await eventually(lambda: buttons(COORD_ID)[-1]["type"] == "default", 5.0)


async def test_without_a_public_address_the_desk_is_not_set_up(bot: Harness) -> None:
    await bot.services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    chat = bot.chat(COORD_ID)
    await chat.send("/start")
    answer = only(await chat.send("/desk"))
    assert "not set up" in answer.plain_text() and not answer.has_inline_keyboard()
    assert bot.server.calls_to("setChatMenuButton") == []


async def test_grant_and_revoke_from_the_command_line_set_and_reset_the_menu_button(
    mapped: Harness,
) -> None:
    """`sanctuary-bot grant` / `revoke` (with the token) put the desk in the chat's menu button
    and take it out again, in the person's language."""
    services = mapped.services
    chat = mapped.chat(COORD_ID, "fr")
    await chat.send("/start")
    await chat.press("Français")
    leeds = (await services.groups.refs())["leeds"]

    def last_button() -> dict[str, Any]:
        calls = [c for c in mapped.server.calls_to("setChatMenuButton") if c.chat_id == COORD_ID]
        assert calls, "no menu button was set"
        return dict(calls[-1].params["menu_button"])

    assert mapped.server.calls_to("setChatMenuButton") == []  # nobody has a desk role yet
    await services.roles.grant(COORD_ID, ADMIN, leeds, None, NOW)
    said = await cli._chat_commands(services.config, services.db, COORD_ID)
    assert "the desk" in said
    assert last_button() == {
        "type": "web_app",
        "text": tr("fr", "Desk"),
        "web_app": {"url": PUBLIC_URL + "/desk/"},
    }
    await services.roles.revoke(COORD_ID, ADMIN, leeds, None, NOW)
    said = await cli._chat_commands(services.config, services.db, COORD_ID)
    assert "the desk" not in said
    assert last_button() == {"type": "default"}
