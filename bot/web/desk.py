"""The coordinators' desk: a Mini App for network coordinators and group admins, opened with
/desk or the chat's menu button, served at ``/desk/`` (``bot/web/static/desk/``).

Sign-in is Telegram's own: the page sends the Mini App's raw ``initData`` with every API call
as ``Authorization: tma <initData>``; ``bot.web.signin`` checks it with init-data-py (its
HMAC-SHA256 signature keyed by HMAC("WebAppData", the bot's token), compared in constant time,
at most a day old), as the map's "Open in the chat" does. The person's roles are then read
from the database on every call: missing, forged or expired sign-in is 401; someone without
the role for that action or that group gets 403, and the refusal is audited as the bot's
refusals are (action ``refused``, detail ``desk:...``).

The API is JSON under ``/desk/api/``, in the person's language (their stored choice, else
Telegram's). Its actions call the same domain functions as the bot's buttons
(``Organiser.moderate``, ``Concerns.review``), so the same audit lines are written
and the same messages sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import init_data_py
from aiohttp import web

from bot.context import App
from bot.i18n import resolve_locale, use_locale
from bot.services import Services
from bot.views import admin as av
from bot.views import common as views
from bot.views import desk as dv
from bot.views import formatting as fmt
from bot.views import posting as pv
from bot.views import safeguarding as sv
from bot.views import translating as tv
from bot.web.signin import signed_user
from storage.models import Activity
from storage.roles import ADMIN, COORDINATOR, Role
from storage.stats import StatsRepository

STATIC = Path(__file__).parent / "static"
REASON_LIMIT = 300  # as the bot takes a moderator's typed reason
REVIEW_SHOWN = 50  # posts waiting, and activities with concerns, on the Review page
AUDIT_PAGE = 50
# The network's figures are counted at most this often (the jobs count them more often).
NETWORK_EVERY = timedelta(minutes=5)
HISTORY_DAYS = timedelta(days=90)  # the network's totals over time: the days kept of the last 90


@dataclass(frozen=True, slots=True)
class Person:
    """Who made this request (signed in by Telegram), with their roles read now."""

    user_id: int
    locale: str
    roles: tuple[Role, ...]

    @property
    def coordinator(self) -> bool:
        return any(r.role == COORDINATOR for r in self.roles)

    @property
    def groups(self) -> set[int] | None:
        """The groups they run as an admin; None for every group (a coordinator)."""
        if self.coordinator:
            return None
        return {r.group_id for r in self.roles if r.role == ADMIN}


class Refused(Exception):
    """An answer other than 200, as JSON: ``status``, a code and a message to show."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(error)
        self.status, self.error, self.message = status, error, message


Handler = Callable[[web.Request, Services, Person], Awaitable[dict[str, Any]]]


class DeskPages:
    """The desk's page and API, for one running application."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.policy = (
            "default-src 'self'; script-src 'self' https://telegram.org; "
            "img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
            "frame-ancestors https://web.telegram.org https://*.telegram.org"
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """/desk/ (the page), /desk/static/ (its script and style), /desk/api/."""
        router.add_get("/desk", self.to_page)
        router.add_get("/desk/", self.page)
        router.add_get("/desk/api/me", self._api(self.me))
        router.add_get("/desk/api/overview", self._api(self.overview))
        router.add_get("/desk/api/review", self._api(self.review))
        router.add_post("/desk/api/moderate", self._api(self.moderate))
        router.add_post("/desk/api/concern", self._api(self.concern))
        router.add_get("/desk/api/audit", self._api(self.audit))
        router.add_static("/desk/static/", STATIC / "desk", append_version=False)

    async def to_page(self, request: web.Request) -> web.Response:
        """/desk without its slash: the page's relative links need it."""
        raise web.HTTPMovedPermanently(location="/desk/")

    async def page(self, request: web.Request) -> web.FileResponse:
        """The page itself (static: what it shows comes from the API)."""
        response = web.FileResponse(STATIC / "desk" / "index.html")
        response.headers["Content-Security-Policy"] = self.policy
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-cache"
        return response

    # -- sign-in and rights ---------------------------------------------------------------------

    def _api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """An API endpoint: signed in, with a desk role, in the person's language; a refusal
        is JSON with a translated message."""

        async def endpoint(request: web.Request) -> web.Response:
            services = self.app.bot_data.services
            headers = {"Cache-Control": "no-store"}
            if services is None:
                return web.json_response({"error": "starting"}, status=503, headers=headers)
            try:
                person = await self._person(request, services)
                with use_locale(person.locale):
                    if not person.coordinator and not person.groups:
                        await self._refuse(services, person, "desk", None)
                    data = await handler(request, services, person)
            except Refused as refused:
                body = {"error": refused.error, "message": refused.message}
                return web.json_response(body, status=refused.status, headers=headers)
            return web.json_response(data, headers=headers)

        return endpoint

    async def _person(self, request: web.Request, services: Services) -> Person:
        """The signed-in person and their roles, or 401 (in the page's language, as it says)."""
        try:
            raw = init_data_py.strip_auth_header(request.headers.get("Authorization", ""))
            user = signed_user(raw, self.app.bot.token, services.now())
        except (init_data_py.errors.InvalidInitDataError, ValueError):
            with use_locale(resolve_locale(None, request.query.get("lang"))):
                raise Refused(401, "unauthorized", dv.sign_in_again()) from None
        row = await services.users.get(user.id)
        locale = resolve_locale(row.locale if row else None, user.language_code)
        return Person(user.id, locale, tuple(await services.roles.roles_of(user.id)))

    async def _refuse(
        self, services: Services, person: Person, what: str, group_id: int | None
    ) -> NoReturn:
        """403, audited as the bot's refusals are."""
        await services.roles.log(
            person.user_id, "refused", group_id=group_id, detail=f"desk:{what}", now=services.now()
        )
        raise Refused(403, "forbidden", av.admins_only())

    async def _group_filter(
        self, request: web.Request, services: Services, person: Person, what: str
    ) -> set[int] | None:
        """The groups a page shows: the one named by ``group`` (403 and audited unless the
        person runs it), else all of theirs (None: every group, for a coordinator)."""
        wanted = request.query.get("group")
        if not wanted:
            return person.groups
        if not wanted.isdigit():
            raise Refused(400, "bad_request", views.not_understood())
        group_id = int(wanted)
        if person.groups is not None and group_id not in person.groups:
            await self._refuse(services, person, what, group_id)
        return {group_id}

    async def _activity_for(
        self, services: Services, person: Person, body: dict[str, Any], what: str
    ) -> Activity:
        """The activity a request names, once the person may act on its group (403 and
        audited otherwise; an id that is not there is the same 403, so ids cannot be probed)."""
        activity_id = body.get("activity")
        activity = (
            await services.activities.get(activity_id)
            if isinstance(activity_id, int) and not isinstance(activity_id, bool)
            else None
        )
        groups = (
            await services.concerns.reviewable(person.user_id)
            if what == "concern"
            else person.groups
        )
        if activity is None:
            await self._refuse(services, person, what, None)
        if groups is not None and activity.group_id not in groups:
            await self._refuse(services, person, what, activity.group_id)
        return activity

    # -- the API --------------------------------------------------------------------------------

    async def me(self, request: web.Request, services: Services, person: Person) -> dict[str, Any]:
        """Who is signed in: their roles and groups, and the page's words in their language."""
        directory = services.directory.groups
        groups = person.groups
        shown = (
            directory.values()
            if groups is None
            else [directory[g] for g in groups if g in directory]
        )
        return {
            "user": person.user_id,
            "roles": sorted({r.role for r in person.roles}),
            "coordinator": person.coordinator,
            "groups": [
                {"id": g.id, "ref": g.ref, "name": g.name}
                for g in sorted(shown, key=lambda g: g.name)
            ],
            "texts": dv.texts(),
        }

    async def overview(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """The network's figures (`sanctuary-bot stats`) for a coordinator; a group admin's
        groups' figures for a group admin; one group's with ``group`` (one of theirs)."""
        groups = await self._group_filter(request, services, person, "overview")
        stats = StatsRepository(services.db)
        history: list[tuple[str, str, str, int]] = []
        if groups is None:
            counted, figures = await services.network_figures(NETWORK_EVERY)
            history = await stats.history((counted - HISTORY_DAYS).date().isoformat())
        else:  # a few groups' figures: indexed by group, milliseconds at national scale
            counted = services.now()
            figures = await stats.group_figures(counted, groups)
        return {
            "network": groups is None,
            "counted": dv.counted_at(counted, services.config.timezone),
            "sections": dv.overview(figures, history),
        }

    async def review(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """The posts waiting for a check and the open concerns, of the person's groups."""
        now = services.now()
        posts = []
        waiting = await services.activities.pending(person.groups)
        for item in waiting[:REVIEW_SHOWN]:
            activity = await services.activities.get(item.id)
            group = services.directory.groups.get(item.group_id)
            if activity is None or group is None:
                continue
            text = pv.card_text(activity, group, now)
            text += tv.waiting(await services.translations.of_activity(activity.id))
            posts.append(
                {
                    "id": activity.id,
                    "title": activity.title,
                    "group": group.name,
                    "text": dv.plain(text),
                }
            )
        found = await services.concerns.open_concerns(
            await services.concerns.reviewable(person.user_id)
        )
        return {
            "waiting": len(waiting),
            "posts": posts,
            "concerns": [
                {
                    "id": c.activity_id,
                    "title": c.title,
                    "group": c.group,
                    "hidden": c.hidden,
                    "reasons": dv.concern_lines((r.reason, r.words) for r in c.reports),
                    "buttons": sv.review_buttons(c.title),
                    "confirm": dv.plain(sv.remove_confirm(c.activity_id, c.title).text),
                }
                for c in found[:REVIEW_SHOWN]
            ],
        }

    async def moderate(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Approve, ask for changes (with a reason) or reject (with a reason) a waiting post:
        the bot's own moderation, so its author gets the bot's message."""
        body = await _body(request)
        outcome = body.get("outcome")
        activity = await self._activity_for(services, person, body, "moderate")
        note = " ".join(str(body.get("note") or "").split())[:REASON_LIMIT] or None
        if outcome not in ("approve", "changes", "reject") or (outcome != "approve" and not note):
            raise Refused(400, "bad_request", views.not_understood())
        if activity.status != "pending":
            raise Refused(409, "conflict", pv.not_allowed())
        done = await services.organiser.moderate(
            person.user_id, activity, outcome, None if outcome == "approve" else note
        )
        if not done:
            raise Refused(409, "conflict", pv.not_allowed())
        return {"ok": True, "message": pv.moderated(outcome)}

    async def concern(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Show an activity again after concerns, or remove it (as /reports does)."""
        body = await _body(request)
        outcome = body.get("outcome")
        activity = await self._activity_for(services, person, body, "concern")
        if outcome not in ("restored", "removed"):
            raise Refused(400, "bad_request", views.not_understood())
        if not await services.safeguarding.open_reports([activity.id]):  # reviewed meanwhile
            raise Refused(409, "conflict", pv.not_allowed())
        await services.concerns.review(activity, str(outcome), person.user_id)
        return {"ok": True, "message": sv.reviewed(str(outcome))}

    async def audit(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """The audit log, newest first: all of it for a coordinator, a group admin's groups'
        lines for a group admin; filtered by action and group, paged by ``before``."""
        query = request.query
        action = query.get("action") or None
        if action is not None and action not in dv.AUDIT_KINDS:
            raise Refused(400, "bad_request", views.not_understood())
        groups = await self._group_filter(request, services, person, "audit")
        before = query.get("before")
        entries = await services.roles.audit(
            AUDIT_PAGE,
            action=action,
            groups=groups,
            before=int(before) if before and before.isdigit() else None,
        )
        names = {g.id: g.name for g in services.directory.groups.values()}
        return {
            "actions": dv.audit_kinds(),
            "entries": [
                {
                    "id": e.id,
                    "at": e.at.isoformat(timespec="minutes"),
                    "when": fmt.when(e.at, services.config.timezone),
                    "action": e.action,
                    "kind": dv.audit_kind(e.action),
                    "actor": e.actor,
                    "target": e.target,
                    "group": names.get(e.group_id, "") if e.group_id else "",
                    "detail": e.detail,
                }
                for e in entries
            ],
            "more": len(entries) == AUDIT_PAGE,
        }


async def _body(request: web.Request) -> dict[str, Any]:
    """A JSON object, or 400."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Refused(400, "bad_request", views.not_understood())
    return body
