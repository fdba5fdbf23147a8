"""The desk's Groups and people page over HTTP, without a browser: a group's contacts (the
importer's checks), its safeguarding contact, its team, invites (link and QR code), giving and
taking away roles (audited, the person's menu button following); 401 and 403 on every
endpoint, and someone never granted (or another group's admin) trying every one with every id."""

from __future__ import annotations

from typing import Any

import pytest

from storage.roles import ADMIN, COORDINATOR, NETWORK, VOLUNTEER
from tests.conftest import NOW, PUBLIC_URL, Harness
from tests.helpers import eventually, tr
from tests.test_desk import COORD_ID, SEEKER_ID, call, refusals
from tests.test_map import init_data
from tests.test_posting import ADMIN_ID, VOL_ID, team

NEWCOMER = 8311
POSTS: dict[str, dict[str, object]] = {
    "group/contacts": {"email": "hello@example.org"},
    "group/safeguarding": {"user": VOL_ID},
    "group/invite": {},
    "role": {"action": "grant", "role": ADMIN, "user": NEWCOMER},
}


def menu_buttons(harness: Harness, chat_id: int) -> list[dict[str, Any]]:
    return [
        dict(c.params["menu_button"])
        for c in harness.server.calls_to("setChatMenuButton")
        if c.params.get("chat_id") == chat_id
    ]


async def test_sign_in_and_roles_on_every_groups_endpoint(mapped: Harness) -> None:
    leeds = (await mapped.services.groups.refs())["leeds"]
    assert (await call(mapped, "groups", None))[0] == 401
    forged = init_data(COORD_ID)[:-4] + "0000"
    assert (await call(mapped, "groups", forged))[0] == 401
    for endpoint, body in POSTS.items():
        assert (await call(mapped, endpoint, None, {"group": leeds, **body}))[0] == 401
        assert (await call(mapped, endpoint, forged, {"group": leeds, **body}))[0] == 401
    before = await refusals(mapped, "desk:desk")
    status, body = await call(mapped, "groups", init_data(SEEKER_ID))
    assert status == 403 and body["error"] == "forbidden"
    for endpoint, post in POSTS.items():
        assert (await call(mapped, endpoint, init_data(SEEKER_ID), {"group": leeds, **post}))[
            0
        ] == 403
    assert await refusals(mapped, "desk:desk") == before + 1 + len(POSTS)

    # A group admin of a group no longer in the directory: nothing to show, nothing broken.
    await mapped.services.roles.grant(SEEKER_ID, ADMIN, 10**6, None, NOW)
    status, body = await call(mapped, "groups", init_data(SEEKER_ID))
    assert status == 404 and body["message"] == "Nothing to show."


async def test_a_leeds_admin_sees_and_changes_only_leeds(mapped: Harness) -> None:
    services = mapped.services
    leeds, _volunteer = await team(mapped)
    sheffield = (await services.groups.refs())["sheffield"]
    auth = init_data(ADMIN_ID)

    status, data = await call(mapped, "groups", auth)
    assert status == 200 and data["group"]["id"] == leeds and "coordinators" not in data
    people = {(m["user"], m["role"]) for m in data["group"]["team"]}
    assert people == {(ADMIN_ID, ADMIN), (VOL_ID, VOLUNTEER)}
    assert data["group"]["safeguarding"] is None
    assert data["texts"]["groups"] == "Groups and people"
    before = await refusals(mapped, "desk:groups")
    assert (await call(mapped, "groups", auth, query=f"?group={sheffield}"))[0] == 403
    assert (await call(mapped, "groups", auth, query="?group=x"))[0] == 400
    assert await refusals(mapped, "desk:groups") == before + 1
    for endpoint, body in POSTS.items():
        assert (await call(mapped, endpoint, auth, {"group": sheffield, **body}))[0] == 403
    assert (await mapped.row("SELECT COUNT(*) FROM roles WHERE user_id = ?", NEWCOMER)) == (0,)

    # Contacts: the importer's checks, in the person's words; nothing saved on a problem.
    bad = {"group": leeds, "email": "not an address", "website": "http://x.org", "phone": "x"}
    status, answer = await call(mapped, "group/contacts", auth, bad)
    assert status == 200 and answer["ok"] is False
    assert answer["problems"] == {
        "email": "Please check the email address.",
        "website": "A website address starts with https://",
        "phone": "Please check the phone number: digits, spaces, + ( ) and - only.",
    }
    empty = {"group": leeds, "email": "", "website": "", "phone": "", "telegram": ""}
    status, answer = await call(mapped, "group/contacts", auth, empty)
    assert answer["problems"] == {
        "email": "Give at least one contact: email, website, phone or Telegram."
    }
    good = {"group": leeds, "email": "leeds-desk@example.org", "telegram": "@leedscos"}
    status, answer = await call(mapped, "group/contacts", auth, good)
    assert status == 200 and answer["ok"] is True
    assert await mapped.row(
        "SELECT email, website, phone, telegram FROM groups WHERE id = ?", leeds
    ) == ("leeds-desk@example.org", None, None, "@leedscos")
    assert services.directory.groups[leeds].email == "leeds-desk@example.org"
    assert await mapped.row(
        "SELECT actor, detail FROM audit_log WHERE action = 'group_contacts'"
    ) == (ADMIN_ID, "email,website,phone,telegram")

    # The safeguarding contact: a member of the team only (as the bot's forged button).
    outsider = {"group": leeds, "user": NEWCOMER}
    assert (await call(mapped, "group/safeguarding", auth, outsider))[0] == 403
    status, answer = await call(
        mapped, "group/safeguarding", auth, {"group": leeds, "user": VOL_ID}
    )
    assert status == 200 and "safeguarding contact of" in answer["message"]
    assert (await services.safeguarding.contact(leeds)).user_id == VOL_ID  # type: ignore[union-attr]

    # An invite: the bot's words, a link that works once, and its QR code.
    status, answer = await call(mapped, "group/invite", auth, {"group": leeds})
    assert status == 200 and answer["link"] in answer["message"]
    assert answer["qr"].startswith("<svg") and "<script" not in answer["qr"]
    code = answer["link"].rsplit("j-", 1)[1]
    newcomer = mapped.chat(NEWCOMER)
    await newcomer.send("/start")
    await newcomer.send(f"/start j-{code}")
    assert await mapped.row(
        "SELECT role FROM roles WHERE user_id = ? AND group_id = ?", NEWCOMER, leeds
    ) == (VOLUNTEER,)

    # A group admin makes a volunteer of their group an admin of it, and takes it back.
    make = {"action": "grant", "role": ADMIN, "group": leeds, "user": NEWCOMER}
    status, answer = await call(mapped, "role", auth, make)
    assert status == 200 and answer["message"].endswith(
        "is now: group admin · Leeds City of Sanctuary (test)."
    )
    assert await services.roles.manages(NEWCOMER, leeds)
    assert (await call(mapped, "role", auth, {**make, "action": "revoke"}))[1]["ok"] is True
    assert not await services.roles.manages(NEWCOMER, leeds)
    # A group admin may not make anyone a coordinator.
    coordinator = {"action": "grant", "role": COORDINATOR, "user": NEWCOMER}
    assert (await call(mapped, "role", auth, coordinator))[0] == 403
    assert await services.roles.roles_of(NEWCOMER) == [
        r for r in await services.roles.roles_of(NEWCOMER) if r.role == VOLUNTEER
    ]


async def test_a_grant_from_the_desk_gives_the_role_and_the_menu_button(mapped: Harness) -> None:
    services = mapped.services
    leeds, _volunteer = await team(mapped, "fr")
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    auth = init_data(COORD_ID)
    assert all(b["type"] == "default" for b in menu_buttons(mapped, VOL_ID))  # no desk yet
    set_before = len(menu_buttons(mapped, VOL_ID))

    body = {"action": "grant", "role": ADMIN, "group": leeds, "user": VOL_ID}
    status, answer = await call(mapped, "role", auth, body)
    assert status == 200 and answer["ok"] is True
    assert ADMIN in {r.role for r in await services.roles.roles_of(VOL_ID)}
    assert await mapped.row(
        "SELECT actor, target, group_id, detail FROM audit_log WHERE action = 'grant' "
        "ORDER BY id DESC LIMIT 1"
    ) == (COORD_ID, VOL_ID, leeds, ADMIN)
    await eventually(lambda: len(menu_buttons(mapped, VOL_ID)) > set_before, 5.0)
    assert menu_buttons(mapped, VOL_ID)[-1] == {
        "type": "web_app",
        "text": tr("fr", "Desk"),
        "web_app": {"url": PUBLIC_URL + "/desk/"},
    }
    scopes = [c.params.get("scope") for c in mapped.server.calls_to("setMyCommands")]
    assert VOL_ID in [s.get("chat_id") for s in scopes if isinstance(s, dict)]
    # Given twice: nothing changes.
    status, answer = await call(mapped, "role", auth, body)
    assert status == 200 and answer["ok"] is False
    # The volunteer, now admin, sees their group in the desk.
    status, data = await call(mapped, "groups", init_data(VOL_ID, "fr"))
    assert status == 200 and data["group"]["id"] == leeds

    # Taken away: the menu button goes back to Telegram's own.
    status, answer = await call(mapped, "role", auth, {**body, "action": "revoke"})
    assert status == 200 and answer["ok"] is True
    assert ADMIN not in {r.role for r in await services.roles.roles_of(VOL_ID)}
    await eventually(lambda: menu_buttons(mapped, VOL_ID)[-1] == {"type": "default"}, 5.0)

    # Coordinators may give and take away the coordinator role.
    coord = {"action": "grant", "role": COORDINATOR, "user": NEWCOMER}
    assert (await call(mapped, "role", auth, coord))[1]["ok"] is True
    status, data = await call(mapped, "groups", auth)
    assert NEWCOMER in {c["user"] for c in data["coordinators"]}
    assert (await call(mapped, "role", auth, {**coord, "action": "revoke"}))[1]["ok"] is True
    assert await services.roles.roles_of(NEWCOMER) == []
    for bad in (
        {"action": "grant", "role": VOLUNTEER, "group": leeds, "user": NEWCOMER},
        {"action": "give", "role": ADMIN, "group": leeds, "user": NEWCOMER},
        {"action": "grant", "role": "owner", "group": leeds, "user": NEWCOMER},
        {"action": "grant", "role": ADMIN, "group": leeds, "user": -5},
        {"action": "grant", "role": ADMIN, "group": leeds, "user": "8311"},
    ):
        assert (await call(mapped, "role", auth, bad))[0] == 400, bad
    assert await services.roles.roles_of(NEWCOMER) == []


@pytest.mark.parametrize("granted", [False, True])
async def test_every_groups_endpoint_with_every_id_is_refused_to_the_wrong_person(
    mapped: Harness, granted: bool
) -> None:
    """As the explore test's forged buttons: someone never granted (or a Sheffield admin, for
    every other group) tries every action on every group and every person; nothing changes."""
    services = mapped.services
    leeds, _volunteer = await team(mapped)
    sheffield = (await services.groups.refs())["sheffield"]
    if granted:
        await services.roles.grant(SEEKER_ID, ADMIN, sheffield, None, NOW)
    auth = init_data(SEEKER_ID)

    async def state() -> list[object]:
        rows = []
        for table in ("roles", "groups", "invites", "safeguarding_contacts"):
            async with services.db.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2") as cur:
                rows.append([tuple(r) for r in await cur.fetchall()])
        return rows

    before = await state()
    groups = [g for g in (await services.groups.refs()).values() if not granted or g != sheffield]
    people = [ADMIN_ID, VOL_ID, COORD_ID, SEEKER_ID, NEWCOMER]
    tried = 0
    for group_id in [*groups, 10**9, -1]:
        assert (await call(mapped, "groups", auth, query=f"?group={group_id}"))[0] in (403, 400)
        for user in people:
            for endpoint, body in (
                ("group/contacts", {"email": "x@example.org"}),
                ("group/safeguarding", {"user": user}),
                ("group/invite", {}),
                ("role", {"action": "grant", "role": ADMIN, "user": user}),
                ("role", {"action": "revoke", "role": ADMIN, "user": user}),
                ("role", {"action": "revoke", "role": VOLUNTEER, "user": user}),
            ):
                status, _body = await call(mapped, endpoint, auth, {"group": group_id, **body})
                assert status == 403, (endpoint, group_id, user)
                tried += 1
    for user in people:
        for action in ("grant", "revoke"):
            body = {"action": action, "role": COORDINATOR, "user": user}
            assert (await call(mapped, "role", auth, body))[0] == 403
            tried += 1
    for forged in ({"group": True}, {"group": str(leeds)}, {"group": None}, {}):
        assert (await call(mapped, "group/invite", auth, forged))[0] == 403
    assert await state() == before
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND actor = ?", SEEKER_ID
    ) >= (tried,)  # type: ignore[operator]
