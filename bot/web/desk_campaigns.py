"""The desk's Campaigns page (issue #26): compose a call with the English and a translation side
by side, a preview per language as supporters will see it, its audience, send time, sending or
scheduling, pause, resume, cancel, and each call's results.

Coordinators only, as /campaign and /campaigns: anyone else is 403, audited. Every step is the
bot's: ``handlers.campaigns.take_answer`` checks and stores what is typed (lengths as Telegram
counts them, the action link, the town, the send time), ``editable``/``before_launch`` say what
may still change, ``CampaignDesk`` confirms, pauses, resumes and cancels (with the bot's audit
lines), and the preview is ``views.campaigns.call_message``, the very message the outbox sends.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.domain.campaigns import NATIONS, UK, time_left
from bot.domain.vocabulary import TOPIC_ORDER
from bot.i18n import LANGUAGES, gettext, use_locale
from bot.services import Services
from bot.views import campaigns as cv
from bot.views import common as views
from bot.views import desk as dv
from bot.views import desk_campaigns as dcv
from bot.views.keyboard import Keyboard
from bot.views.labels import nation_label, topic_label
from bot.web.desk import DeskPages, Person, Refused, _body
from handlers.campaigns import TOPIC_BITS, before_launch, editable, take_answer
from storage.campaigns import Campaign

NATION_ORDER = ("england", "scotland", "wales", "northern-ireland")


class DeskCampaigns:
    """The Campaigns page's API, on the desk's sign-in; coordinators only."""

    def __init__(self, desk: DeskPages) -> None:
        self.desk = desk

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """/desk/api/campaigns (the list), campaign (one, with its previews and audience),
        campaign/new, campaign/edit and campaign/act (send, pause, resume, cancel)."""
        api = self.desk._api
        router.add_get("/desk/api/campaigns", api(self.campaigns))
        router.add_get("/desk/api/campaign", api(self.campaign))
        router.add_post("/desk/api/campaign/new", api(self.new))
        router.add_post("/desk/api/campaign/edit", api(self.edit))
        router.add_post("/desk/api/campaign/act", api(self.act))

    async def _coordinator(self, services: Services, person: Person, what: str) -> None:
        """403 and audited unless the person is a network coordinator (read now)."""
        if not person.coordinator:
            await services.roles.log(
                person.user_id, "refused", detail=f"desk:{what}", now=services.now()
            )
            raise Refused(403, "forbidden", cv.coordinators_only())

    async def _call(self, services: Services, wanted: object) -> Campaign:
        """The call named (404 when there is none: only coordinators get this far)."""
        found = (
            await services.campaigns.get(wanted)
            if isinstance(wanted, int) and not isinstance(wanted, bool)
            else None
        )
        if found is None:
            raise Refused(404, "not_found", cv.not_editable())
        return found

    # -- reading --------------------------------------------------------------------------------

    async def campaigns(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """The latest calls with their state, results and what can be done (as /campaigns),
        and the coordinator's draft if any."""
        await self._coordinator(services, person, "campaigns")
        repo = services.campaigns
        rate, now = services.config.send_rate, services.now()
        items = []
        for c in await repo.recent():
            figures = await repo.figures(c)
            left = await time_left(repo, c, figures, rate, now)
            items.append(
                {
                    "id": c.id,
                    "title": c.title,
                    "state": c.state,
                    "state_label": cv.state_label(c.state),
                    "results": cv.figures_line(figures),
                    "time_left": cv.time_left_line(left) if left is not None else "",
                    "actions": _actions(c),
                }
            )
        draft = await repo.draft_of(person.user_id)
        return {
            "texts": dcv.texts(),
            "calls": items,
            "draft": draft.id if draft else None,
            "empty": cv.campaign_list([]).text,
        }

    async def campaign(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """One call: its parts, its translations, a preview in every language as supporters
        will see it, who it would reach now, and what is still missing."""
        await self._coordinator(services, person, "campaign")
        wanted = request.query.get("id", "")
        call = await self._call(services, int(wanted) if wanted.isdigit() else None)
        return await self._shown(services, person, call)

    async def _shown(self, services: Services, person: Person, call: Campaign) -> dict[str, Any]:
        audience = await services.desk.audience(call)
        previews = {}
        for language in LANGUAGES:
            with use_locale(language.code):
                view = cv.call_message(call, language.code, call.id)
            previews[language.code] = {
                "html": view.text,
                "text": dv.plain(view.text),
                "buttons": _labels(view.markup),
            }
        confirm = cv.confirm_question(call, audience)
        return {
            "texts": dcv.texts(),
            "id": call.id,
            "state": call.state,
            "state_label": cv.state_label(call.state),
            "editable": editable(call),
            "before_launch": before_launch(call),
            "title": call.title,
            "body": call.body,
            "url": call.action_url,
            "translations": {k: {"title": t, "body": b} for k, (t, b) in call.translations.items()},
            "languages": [
                {"code": lang.code, "name": lang.native_name, "dir": "rtl" if lang.rtl else "ltr"}
                for lang in LANGUAGES
                if lang.code != "en"
            ],
            "topics": [
                {"code": t.value, "label": topic_label(t.value), "on": bool(call.topics & bit)}
                for t in TOPIC_ORDER
                for bit in (TOPIC_BITS[t.value],)
            ],
            "area": call.area,
            "place": call.area_label or "",
            "areas": [
                {"code": UK, "label": dcv.texts()["whole_uk"]},
                *({"code": n, "label": nation_label(n)} for n in NATION_ORDER),
                {"code": "near", "label": dcv.texts()["near"]},
            ],
            "send_at": call.send_at.isoformat() if call.send_at else None,
            "when_example": dcv.when_label(services.now()),
            "missing": cv.missing(call),
            "audience": audience,
            "confirm": dv.plain(confirm.text),
            "summary": dv.plain(cv.compose_summary(call).text),
            "previews": previews,
            "actions": _actions(call),
        }

    # -- changes --------------------------------------------------------------------------------

    async def new(self, request: web.Request, services: Services, person: Person) -> dict[str, Any]:
        """The coordinator's draft (as /campaign: carried on if there is one, else begun)."""
        await self._coordinator(services, person, "campaign")
        draft = await services.campaigns.draft_of(person.user_id)
        if draft is None:
            draft = await services.campaigns.create(person.user_id, services.now())
        return {"ok": True, "id": draft.id}

    async def edit(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Change one part of a call, checked as the bot checks a typed answer: ``title``,
        ``body``, ``url``, ``translation`` (``language``, ``title``, ``body``), ``topics``
        (a list), ``area`` (``uk``, a nation, or ``near`` with ``place``), ``when`` (empty for
        as soon as confirmed, else a date and time as the bot reads it)."""
        await self._coordinator(services, person, "campaign")
        body = await _body(request)
        call = await self._call(services, body.get("campaign"))
        part = body.get("part")
        value = body.get("value")
        if not editable(call) or (part in ("topics", "area", "when") and not before_launch(call)):
            raise Refused(409, "conflict", cv.not_editable())
        now = services.now()
        error = None
        if part in ("title", "body", "url") and isinstance(value, str):
            error = await take_answer(services, call, (call.id, part), value)
        elif part == "translation":
            language, title, text = body.get("language"), body.get("title"), body.get("body")
            codes = {lang.code for lang in LANGUAGES if lang.code != "en"}
            if language not in codes or not isinstance(title, str) or not isinstance(text, str):
                raise Refused(400, "bad_request", views.not_understood())
            empty = [w for w, v in (("title", title), ("text", text)) if not v.strip()]
            if empty:
                return {"ok": False, "problem": cv.incomplete([gettext(w) for w in empty])}
            error = await take_answer(services, call, (call.id, "tr_title", language), title)
            if error is None:
                step = (call.id, "tr_body", language, title.strip())
                error = await take_answer(services, call, step, text)
        elif part == "topics" and isinstance(value, list):
            bits = 0
            for code in value:
                if code not in TOPIC_BITS:
                    raise Refused(400, "bad_request", views.not_understood())
                bits |= TOPIC_BITS[code]
            if not bits:
                return {"ok": False, "problem": cv.topic_needed()}
            await services.campaigns.update(call.id, now, topics=bits)
        elif part == "area" and value in (UK, *NATIONS):
            await services.campaigns.update(
                call.id, now, area=value, area_lat=None, area_lon=None, area_label=None
            )
        elif part == "area" and value == "near" and isinstance(body.get("place"), str):
            error = await take_answer(services, call, (call.id, "place"), str(body["place"]))
        elif part == "when" and value == "":
            await services.campaigns.update(call.id, now, send_at=None)
        elif part == "when" and isinstance(value, str):
            error = await take_answer(services, call, (call.id, "when"), value)
        else:
            raise Refused(400, "bad_request", views.not_understood())
        if error is not None:
            return {"ok": False, "problem": dv.plain(error.text)}
        fresh = await self._call(services, call.id)
        return {
            "ok": True,
            "message": dcv.saved(),
            "call": await self._shown(services, person, fresh),
        }

    async def act(self, request: web.Request, services: Services, person: Person) -> dict[str, Any]:
        """Send (or schedule) a draft, pause, resume or cancel a call, or discard a draft:
        the bot's own steps, each audited as /campaigns' buttons are."""
        await self._coordinator(services, person, "campaign")
        body = await _body(request)
        call = await self._call(services, body.get("campaign"))
        action = body.get("action")
        desk = services.desk
        if action == "send":
            if call.state != "draft":
                raise Refused(409, "conflict", cv.not_editable())
            needed = cv.missing(call)
            if needed:
                return {"ok": False, "problem": cv.incomplete(needed)}
            state = await desk.confirm(call.id, person.user_id)
            if state is None:
                raise Refused(409, "conflict", cv.not_editable())
            return {"ok": True, "message": cv.confirmed(state)}
        if action == "discard":
            if call.state != "draft" or not await services.campaigns.discard(call.id):
                raise Refused(409, "conflict", cv.not_editable())
            return {"ok": True, "message": cv.discarded()}
        steps = {"pause": desk.pause, "resume": desk.resume, "cancel": desk.cancel}
        if action not in steps:
            raise Refused(400, "bad_request", views.not_understood())
        if not await steps[str(action)](call.id, person.user_id):
            raise Refused(409, "conflict", cv.not_editable())
        after = {"pause": "paused", "resume": "sending", "cancel": "cancelled"}[str(action)]
        return {"ok": True, "message": cv.state_label(after)}


def _labels(markup: object) -> list[list[str]]:
    """A message's buttons' labels, row by row."""
    if not isinstance(markup, Keyboard):
        return []
    return [[key.text for key in row] for row in markup.rows]


def _actions(call: Campaign) -> list[dict[str, str]]:
    """What can be done to a call now, with the bot's /campaigns button for it."""
    return [
        {"action": a, "label": cv.action_label(a, call.id)} for a in cv.call_actions(call.state)
    ]
