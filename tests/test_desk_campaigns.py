"""The desk's Campaigns page over HTTP, without a browser: coordinators only (401, 403 audited),
a call composed with the English and a translation, checked by the bot's own rules, previewed
in each language with the bot's own message, sent, paused, resumed and cancelled with the bot's
audit lines; someone never granted (or a group admin) trying every endpoint with every id."""

from __future__ import annotations

from typing import Any

import pytest

from bot.i18n import use_locale
from bot.views import campaigns as cv
from storage.roles import ADMIN, COORDINATOR, NETWORK
from tests.conftest import NOW, Harness
from tests.helpers import eventually
from tests.test_campaigns import URL, _calls, _start
from tests.test_desk import COORD_ID, SEEKER_ID, call, refusals
from tests.test_map import init_data

POSTS: dict[str, dict[str, object]] = {
    "campaign/new": {},
    "campaign/edit": {"part": "title", "value": "Hijacked"},
    "campaign/act": {"action": "send"},
}


async def compose(harness: Harness, auth: str) -> int:
    """A complete call from the desk: English, an Arabic translation, link, asylum topic."""
    status, made = await call(harness, "campaign/new", auth, {})
    assert status == 200
    cid = int(made["id"])
    for part, value in (
        ("title", "Lift the ban on work"),
        ("body", "People wait years. Ask your MP."),
        ("url", URL),
        ("topics", ["asylum"]),
    ):
        status, done = await call(
            harness, "campaign/edit", auth, {"campaign": cid, "part": part, "value": value}
        )
        assert status == 200 and done["ok"] is True, (part, done)
    translation = {
        "campaign": cid,
        "part": "translation",
        "language": "ar",
        "title": "ارفعوا الحظر",
        "body": "الناس ينتظرون سنوات.",
    }
    status, done = await call(harness, "campaign/edit", auth, translation)
    assert status == 200 and done["ok"] is True
    return cid


async def test_sign_in_and_coordinators_only_on_every_campaigns_endpoint(mapped: Harness) -> None:
    services = mapped.services
    assert (await call(mapped, "campaigns", None))[0] == 401
    assert (await call(mapped, "campaign", None, query="?id=1"))[0] == 401
    for endpoint, body in POSTS.items():
        assert (await call(mapped, endpoint, None, {"campaign": 1, **body}))[0] == 401
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(SEEKER_ID, ADMIN, leeds, None, NOW)  # a group admin: not enough
    auth = init_data(SEEKER_ID)
    before = await refusals(mapped, "desk:campaigns")
    status, body = await call(mapped, "campaigns", auth)
    assert status == 403 and body["message"] == "Only a network coordinator can do this."
    assert await refusals(mapped, "desk:campaigns") == before + 1
    assert (await call(mapped, "campaign", auth, query="?id=1"))[0] == 403
    for endpoint, post in POSTS.items():
        assert (await call(mapped, endpoint, auth, {"campaign": 1, **post}))[0] == 403
    assert await mapped.row("SELECT COUNT(*) FROM campaigns") == (0,)


async def test_a_call_composed_in_the_desk_reaches_supporters_as_the_bot_sends_it(
    mapped: Harness,
) -> None:
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    await _start(mapped, 7201, "supporter")
    await _start(mapped, 7202, "supporter", "ar")
    await _start(mapped, 7203, "supporter", "fr")
    await _start(mapped, 7204, "seeking")
    auth = init_data(COORD_ID)

    # The bot's own checks, in its own words; nothing stored on a problem.
    status, made = await call(mapped, "campaign/new", auth, {})
    cid = int(made["id"])
    assert (await call(mapped, "campaign/new", auth, {}))[1]["id"] == cid  # the same draft
    bad = {"campaign": cid, "part": "url", "value": "http://example.org/x"}
    status, answer = await call(mapped, "campaign/edit", auth, bad)
    assert answer == {
        "ok": False,
        "problem": "That is not a link I can use. Send a full link starting with https://",
    }
    long = {"campaign": cid, "part": "title", "value": "x" * 121}
    assert "the limit is 120" in (await call(mapped, "campaign/edit", auth, long))[1]["problem"]
    none = {"campaign": cid, "part": "topics", "value": []}
    assert "reaches nobody" in (await call(mapped, "campaign/edit", auth, none))[1]["problem"]
    past = {"campaign": cid, "part": "when", "value": "2020-01-01 10:00"}
    assert "could not read that" in (await call(mapped, "campaign/edit", auth, past))[1]["problem"]
    status, answer = await call(mapped, "campaign/act", auth, {"campaign": cid, "action": "send"})
    assert answer["ok"] is False and answer["problem"].startswith("Still missing: title")
    await call(mapped, "campaign/act", auth, {"campaign": cid, "action": "discard"})
    assert await mapped.row("SELECT COUNT(*) FROM campaigns") == (0,)

    cid = await compose(mapped, auth)
    status, shown = await call(mapped, "campaign", auth, query=f"?id={cid}")
    assert status == 200 and shown["missing"] == [] and shown["audience"] == 3
    assert shown["when_example"] == "Date and time (Europe/London), for example 2026-11-24 18:00"
    assert "It goes to 3 people who asked for these calls." in shown["confirm"]
    assert shown["translations"] == {
        "ar": {"title": "ارفعوا الحظر", "body": "الناس ينتظرون سنوات."}
    }
    found = await services.campaigns.get(cid)
    assert found is not None
    for code in ("en", "ar", "fr"):
        with use_locale(code):
            expected = cv.call_message(found, code, cid)
        assert shown["previews"][code]["html"] == expected.text
    assert shown["previews"]["en"]["buttons"] == [["➡️ Take action"], ["✅ I did it", "Not for me"]]

    status, done = await call(mapped, "campaign/act", auth, {"campaign": cid, "action": "send"})
    assert status == 200 and done["message"] == "📤 Sending now. Follow it with /campaigns."
    await eventually(lambda: all(_calls(mapped, u) for u in (7201, 7202, 7203)), 10.0)
    for user, code in ((7201, "en"), (7202, "ar"), (7203, "fr")):
        sent = _calls(mapped, user)[0]
        assert sent.text == shown["previews"][code]["html"], code
    assert not _calls(mapped, 7204)
    actions = [e.action for e in await services.roles.audit()]
    assert "campaign_send" in actions
    # Sent: no more changes; the list shows its results.
    late = {"campaign": cid, "part": "title", "value": "Changed"}
    assert (await call(mapped, "campaign/edit", auth, late))[0] == 409
    await mapped.delivered()
    await services.plan_reminders()
    status, listed = await call(mapped, "campaigns", auth)
    first = listed["calls"][0]
    assert first["id"] == cid and first["state"] == "sent"
    assert first["results"].startswith("👥 3 · ✉️ sent 3")


async def test_schedule_pause_resume_and_cancel_from_the_desk(mapped: Harness) -> None:
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    auth = init_data(COORD_ID)
    cid = await compose(mapped, auth)
    when = {"campaign": cid, "part": "when", "value": "2026-11-24 18:00"}
    status, done = await call(mapped, "campaign/edit", auth, when)
    assert done["ok"] is True and done["call"]["send_at"] is not None
    area = {"campaign": cid, "part": "area", "value": "near", "place": "Leeds"}
    assert (await call(mapped, "campaign/edit", auth, area))[1]["ok"] is True
    placed = await mapped.row("SELECT area, area_label FROM campaigns WHERE id = ?", cid)
    assert placed is not None and placed[0] == "near" and "Leeds" in str(placed[1])
    nowhere = {"campaign": cid, "part": "area", "value": "near", "place": "Xqzzyville"}
    assert (
        "could not find that place"
        in (await call(mapped, "campaign/edit", auth, nowhere))[1]["problem"]
    )
    assert (await call(mapped, "campaign/act", auth, {"campaign": cid, "action": "send"}))[1][
        "message"
    ].startswith("🕒 Scheduled")
    status, listed = await call(mapped, "campaigns", auth)
    assert [a["action"] for a in listed["calls"][0]["actions"]] == ["pause", "cancel"]
    assert listed["calls"][0]["actions"][0]["label"] == f"⏸ Pause #{cid}"
    for action, state in (("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")):
        status, done = await call(mapped, "campaign/act", auth, {"campaign": cid, "action": action})
        assert status == 200, action
        assert await mapped.row("SELECT state FROM campaigns WHERE id = ?", cid) == (state,)
    assert (await call(mapped, "campaign/act", auth, {"campaign": cid, "action": "resume"}))[
        0
    ] == 409
    actions = [e.action for e in await services.roles.audit()]
    for action in ("campaign_schedule", "campaign_pause", "campaign_resume", "campaign_cancel"):
        assert action in actions


@pytest.mark.parametrize("granted", [False, True])
async def test_every_campaigns_endpoint_with_every_id_is_refused_to_the_wrong_person(
    mapped: Harness, granted: bool
) -> None:
    """As the explore test's forged buttons: someone never granted (or a group admin) tries
    every action on every call; nothing changes."""
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    coordinator = init_data(COORD_ID)
    ids = [await compose(mapped, coordinator)]
    await call(mapped, "campaign/act", coordinator, {"campaign": ids[0], "action": "send"})
    ids.append(int((await call(mapped, "campaign/new", coordinator, {}))[1]["id"]))
    if granted:
        leeds = (await services.groups.refs())["leeds"]
        await services.roles.grant(SEEKER_ID, ADMIN, leeds, None, NOW)
    auth = init_data(SEEKER_ID)

    async def state() -> list[Any]:
        async with services.db.conn.execute("SELECT * FROM campaigns ORDER BY id") as cur:
            return [tuple(r) for r in await cur.fetchall()]

    before = await state()
    tried = 0
    for cid in [*ids, 10**9, -1]:
        assert (await call(mapped, "campaign", auth, query=f"?id={cid}"))[0] == 403
        for endpoint, body in (
            ("campaign/edit", {"part": "title", "value": "x"}),
            ("campaign/edit", {"part": "topics", "value": ["asylum"]}),
            ("campaign/act", {"action": "send"}),
            ("campaign/act", {"action": "pause"}),
            ("campaign/act", {"action": "cancel"}),
            ("campaign/act", {"action": "discard"}),
        ):
            status, _body = await call(mapped, endpoint, auth, {"campaign": cid, **body})
            assert status == 403, (endpoint, cid)
            tried += 1
    assert (await call(mapped, "campaign/new", auth, {}))[0] == 403
    assert await state() == before
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND actor = ?", SEEKER_ID
    ) >= (tried,)  # type: ignore[operator]
