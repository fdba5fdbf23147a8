"""The desk's Groups and people page (issue #26): a group's contacts and safeguarding contact,
its admins and volunteers, invites (a link and a QR code), and giving or taking away roles.

Sign-in, roles and refusals are the desk's (``bot.web.desk``): a group admin sees and changes
their groups only, a coordinator every group and also the coordinator role; another group's
id, or one that is not there, is 403 and audited. Changes go through what the bot and the
command line use, so the same audit lines are written: the importer's checks of a group's
contacts, ``Concerns.choose_contact`` (/safeguarding), ``RoleRepository.create_invite``
(/invite), ``grant``/``revoke`` (`sanctuary-bot grant`, the team's remove button); after a role
changes, the person's command menu and the chat's menu button follow, as after the bot's own
changes (``handlers.menus.roles_changed_elsewhere``).
"""

from __future__ import annotations

import base64
import csv
import io
from typing import Any

from aiohttp import web

from bot.domain import deeplinks
from bot.domain.importer import GROUP_COLUMNS, ImportFailed, group_row, parse_groups
from bot.i18n import BY_CODE, gettext
from bot.services import Services
from bot.views import admin as av
from bot.views import common as views
from bot.views import desk as dv
from bot.views import desk_groups as gv
from bot.views import poster
from bot.views import safeguarding as sv
from bot.web.desk import DeskPages, Person, Refused, _body
from handlers.menus import roles_changed_elsewhere
from storage.models import Group
from storage.roles import ADMIN, COORDINATOR, NETWORK, VOLUNTEER

USER_ID_LIMIT = 10**15  # Telegram's user ids are far below this


async def poster_languages(services: Services) -> dict[str, Any]:
    """A poster's language choices (the group's, or one activity's): English, then the
    languages readers chose, most read first, then the others; the first three chosen."""
    readers = await services.translations.readers_languages()
    chosen = ["en", *(c for c in readers if c in BY_CODE)]
    codes = chosen + [c for c in BY_CODE if c not in chosen]
    return {
        "languages": [{"code": c, "name": BY_CODE[c].native_name} for c in codes],
        "chosen": chosen[: poster.MAX_LANGUAGES],
    }


def poster_asked(request: web.Request) -> tuple[str, ...]:
    """A poster's languages as asked (``languages=en,ar``): 501 when the poster extra is not
    installed, 400 unless one to three languages the bot speaks."""
    if not poster.available():
        raise Refused(501, "not_implemented", gv.poster_unavailable())
    try:
        return poster.parse_languages(request.query.get("languages", ""))
    except poster.PosterError:
        raise Refused(400, "bad_request", views.not_understood()) from None


class DeskGroups:
    """The Groups and people page's API, on the desk's sign-in and rights."""

    def __init__(self, desk: DeskPages) -> None:
        self.desk = desk

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """/desk/api/groups (a group and its people), group/contacts, group/safeguarding,
        group/invite and role (give or take away)."""
        api = self.desk._api
        router.add_get("/desk/api/groups", api(self.groups))
        router.add_post("/desk/api/group/contacts", api(self.contacts))
        router.add_post("/desk/api/group/safeguarding", api(self.safeguarding))
        router.add_post("/desk/api/group/invite", api(self.invite))
        router.add_post("/desk/api/role", api(self.role))
        router.add_get("/desk/api/group/poster", api(self.poster))

    async def _group(self, services: Services, person: Person, wanted: object, what: str) -> Group:
        """The group named, once the person runs it (403 and audited otherwise; an id that
        is not there is the same 403, so ids cannot be probed)."""
        group_id = wanted if isinstance(wanted, int) and not isinstance(wanted, bool) else None
        group = services.directory.groups.get(group_id) if group_id is not None else None
        if group is None or (person.groups is not None and group.id not in person.groups):
            await self.desk._refuse(services, person, what, group.id if group else None)
        return group

    # -- the page -------------------------------------------------------------------------------

    async def groups(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """One of the person's groups (``group``, else the first by name) with its contacts,
        safeguarding contact and team; a coordinator also sees the network's coordinators."""
        wanted = request.query.get("group")
        if wanted:
            if not wanted.isdigit():
                raise Refused(400, "bad_request", views.not_understood())
            group = await self._group(services, person, int(wanted), "groups")
        else:
            mine = [
                g
                for g in services.directory.groups.values()
                if person.groups is None or g.id in person.groups
            ]
            if not mine:  # their groups are no longer in the directory
                raise Refused(404, "not_found", gettext(dv.TEXTS["nothing"]))
            group = min(mine, key=lambda g: (g.name, g.id))
        contact = await services.safeguarding.contact(group.id)
        team = await services.roles.team(group.id)
        data: dict[str, Any] = {
            "texts": gv.texts(),
            "coordinator": person.coordinator,
            "group": {
                "id": group.id,
                "ref": group.ref,
                "name": group.name,
                "link": deeplinks.group_link(self.desk.app.bot.username, group.ref),
                "contacts": {c: getattr(group, c) or "" for c in gv.CONTACT_COLUMNS},
                "safeguarding": (
                    {"user": contact.user_id, "name": contact.label or f"#{contact.user_id}"}
                    if contact
                    else None
                ),
                "team": [
                    {"user": m.user_id, "role": m.role, "name": m.label or f"#{m.user_id}"}
                    for m in team
                ],
            },
        }
        if poster.available():  # the extra is installed
            data["poster"] = await poster_languages(services)
        if person.coordinator:
            data["coordinators"] = [
                {"user": m.user_id, "name": m.label or f"#{m.user_id}"}
                for m in await services.roles.members(NETWORK)
            ]
        return data

    async def poster(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """The group's A4 poster in one to three languages (``languages=en,ar``; ``lang`` is the page's own hint), as
        `sanctuary-bot poster` draws it: a PDF, base64, with its file name. Drawing it is CPU
        work, so it runs in a process of its own; 501 when the poster extra is not installed."""
        wanted = request.query.get("group", "")
        if not wanted.isdigit():
            raise Refused(400, "bad_request", views.not_understood())
        group = await self._group(services, person, int(wanted), "poster")
        languages = poster_asked(request)
        now = services.now()
        entries = await poster.group_entries(
            services.activities, services.translations, group, languages, now
        )
        if not entries:
            raise Refused(409, "conflict", gv.poster_empty())
        link = poster.group_link(self.desk.app.bot.username, group)
        pdf = await poster.render_apart(group, entries, languages, link, now)
        return {
            "filename": f"poster-{group.ref}-{'-'.join(languages)}.pdf",
            "pdf": base64.b64encode(pdf).decode("ascii"),
        }

    # -- changes --------------------------------------------------------------------------------

    async def contacts(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Change a group's contacts, checked as an imported groups file is (the importer's
        own checks, on the group's row with the new contacts); nothing is saved unless every
        one passes."""
        body = await _body(request)
        group = await self._group(services, person, body.get("group"), "contacts")
        given = {c: " ".join(str(body.get(c) or "").split()) for c in gv.CONTACT_COLUMNS}
        row = dict(zip(GROUP_COLUMNS, group_row(group), strict=True)) | given
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(GROUP_COLUMNS)
        writer.writerow([row[c] for c in GROUP_COLUMNS])
        try:
            parse_groups(out.getvalue())
        except ImportFailed as failed:
            columns = [e.column for e in failed.errors if e.column in gv.CONTACT_COLUMNS]
            if not columns:  # another column of the stored row: not this page's to fix
                raise Refused(409, "conflict", views.not_understood()) from None
            none_left = not any(given.values())
            problems = {
                c: gv.no_contact_left() if none_left else gv.contact_problem(c) for c in columns
            }
            return {"ok": False, "problems": problems}
        now = services.now()
        changed = [c for c in gv.CONTACT_COLUMNS if given[c] != (getattr(group, c) or "")]
        await services.groups.set_contacts(group.id, {c: v or None for c, v in given.items()})
        await services.roles.log(
            person.user_id, "group_contacts", group_id=group.id, detail=",".join(changed), now=now
        )
        await services.directory.refresh(force=True)
        return {"ok": True, "message": gv.contacts_saved()}

    async def safeguarding(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Make a member of the group's team its safeguarding contact (as /safeguarding)."""
        body = await _body(request)
        group = await self._group(services, person, body.get("group"), "safeguarding")
        user_id = body.get("user")
        member = (
            await services.concerns.choose_contact(group.id, user_id, person.user_id)
            if isinstance(user_id, int) and not isinstance(user_id, bool)
            else None
        )
        if member is None:  # not in the team: as the bot's forged button
            await self.desk._refuse(services, person, "safeguarding", group.id)
        said = sv.contact_set(member.label or f"#{member.user_id}", group.name)
        return {"ok": True, "message": dv.plain(said.text)}

    async def invite(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """A one-time invite for a new volunteer (as /invite): the bot's words, the link and
        its QR code."""
        body = await _body(request)
        group = await self._group(services, person, body.get("group"), "invite")
        code = await services.roles.create_invite(group.id, person.user_id, services.now())
        link = deeplinks.link(self.desk.app.bot.username, "j", code)
        return {
            "ok": True,
            "message": dv.plain(av.invite_link(group.name, link).text),
            "link": link,
            "qr": gv.qr_svg(link),
        }

    async def role(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Give (``grant``) or take away (``revoke``) a role: admin of a group by its admins
        and the coordinators, coordinator by coordinators only; a volunteer is only taken out
        of the team (invites make volunteers). Audited as `sanctuary-bot grant` is."""
        body = await _body(request)
        action, role, user_id = body.get("action"), body.get("role"), body.get("user")
        if role == COORDINATOR:
            if not person.coordinator:
                await self.desk._refuse(services, person, "role", None)
            group_id, where = NETWORK, ""
        elif role in (ADMIN, VOLUNTEER):
            group = await self._group(services, person, body.get("group"), "role")
            group_id, where = group.id, group.name
        else:
            raise Refused(400, "bad_request", views.not_understood())
        if (
            action not in ("grant", "revoke")
            or (role == VOLUNTEER and action == "grant")
            or not isinstance(user_id, int)
            or isinstance(user_id, bool)
            or not 0 < user_id < USER_ID_LIMIT
        ):
            raise Refused(400, "bad_request", views.not_understood())
        change = services.roles.grant if action == "grant" else services.roles.revoke
        if not await change(user_id, str(role), group_id, person.user_id, services.now()):
            return {"ok": False, "message": gv.nothing_changed()}
        await roles_changed_elsewhere(self.desk.app, user_id)
        name = await self._name(services, user_id)
        said = gv.role_name(str(role)) + (f" · {where}" if where else "")
        done = gv.role_given if action == "grant" else gv.role_taken
        return {"ok": True, "message": done(name, said)}

    @staticmethod
    async def _name(services: Services, user_id: int) -> str:
        """How the team shows the person: their name on a role, else their id."""
        for r in await services.roles.roles_of(user_id):
            if r.label:
                return r.label
        return f"#{user_id}"
