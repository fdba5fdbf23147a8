"""The desk's Activities page (issue #26): a table with filters, editing any part of an
activity, pausing it, cancelling one date, and CSV import (checked first, saved only when
confirmed) and export.

Sign-in, roles and refusals are the desk's (``bot.web.desk``): a group admin sees and changes
their groups' activities, a coordinator all of them; another group's id, or an id that is not
there, is 403 and audited. Every change goes through the bot's own domain functions
(``bot.domain.editing`` with posting's checks, ``Organiser.apply_edit``, ``set_paused``,
``cancel_date``; the importer for CSV), so the same audit lines are written and the same
messages sent as from /myactivities and the command line.
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.domain.editing import apply_section, form_of
from bot.domain.importer import (
    ImportFailed,
    RowError,
    export_activities,
    export_ref,
    read_activities,
    row_error,
    save_activities,
)
from bot.domain.organiser import ASK_AFTER
from bot.domain.posting import Problem, upcoming
from bot.services import Services
from bot.views import common as views
from bot.views import desk as dv
from bot.views import desk_activities as av
from bot.views import poster
from bot.views import posting as pv
from bot.web.desk import DeskPages, Person, Refused, _body
from bot.web.desk_groups import poster_asked, poster_languages
from storage.drafts import Draft
from storage.models import Activity, Group

PAGE = 100  # activities a page of the table


class DeskActivities:
    """The Activities page's API, on the desk's sign-in and rights."""

    def __init__(self, desk: DeskPages) -> None:
        self.desk = desk

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """/desk/api/activities (the table), activity (one), edit, pause, cancel-date,
        import (check, then confirm) and export, and one activity's poster."""
        api = self.desk._api
        router.add_get("/desk/api/activities", api(self.table))
        router.add_get("/desk/api/activity", api(self.activity))
        router.add_post("/desk/api/activity/edit", api(self.edit))
        router.add_post("/desk/api/activity/pause", api(self.pause))
        router.add_post("/desk/api/activity/cancel-date", api(self.cancel_date))
        router.add_post("/desk/api/activities/import", api(self.import_csv))
        router.add_get("/desk/api/activities/export", api(self.export_csv))
        router.add_get("/desk/api/activity/poster", api(self.poster))

    async def _one(
        self, services: Services, person: Person, body: dict[str, Any], what: str
    ) -> tuple[Activity, Group]:
        """The named activity and its group, once the person may change it (403 otherwise)."""
        activity = await self.desk._activity_for(services, person, body, what)
        group = services.directory.groups.get(activity.group_id)
        if group is None:
            await self.desk._refuse(services, person, what, activity.group_id)
        return activity, group

    # -- the table ------------------------------------------------------------------------------

    async def table(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """The person's groups' activities, filtered by group, status, not confirmed for 30
        days, and a readers' language the title is not translated into; paged by ``offset``."""
        query = request.query
        groups = person.groups
        wanted = query.get("group")
        if wanted:
            if not wanted.isdigit():
                raise Refused(400, "bad_request", views.not_understood())
            if groups is not None and int(wanted) not in groups:
                await self.desk._refuse(services, person, "activities", int(wanted))
            groups = {int(wanted)}
        readers = await services.translations.readers_languages()
        status = query.get("status") or None
        lang = query.get("missing") or None
        if (status is not None and status not in pv.STATUS_LABELS) or (
            lang is not None and lang not in readers
        ):
            raise Refused(400, "bad_request", views.not_understood())
        found = await services.activities.of_groups(groups)
        if status is not None:
            found = [a for a in found if pv.status_key(a) == status]
        if query.get("stale"):
            since = services.now() - ASK_AFTER
            found = [
                a
                for a in found
                if a.status == "published"
                and (a.stale_since is not None or (a.confirmed_at or a.updated_at) < since)
            ]
        titled = await services.translations.titled(a.id for a in found)
        missing = {a.id: [c for c in readers if c not in titled.get(a.id, set())] for a in found}
        if lang is not None:
            found = [a for a in found if lang in missing[a.id]]
        offset = query.get("offset", "0")
        start = int(offset) if offset.isdigit() else 0
        shown = found[start : start + PAGE]
        directory = services.directory.groups
        return {
            "texts": av.texts(),
            "choices": av.choices(readers),
            "count": len(found),
            "rows": [av.table_row(a, directory.get(a.group_id), missing[a.id]) for a in shown],
            "next": start + PAGE if start + PAGE < len(found) else None,
        }

    async def activity(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """One activity: the bot's card, its parts as the edit form shows them, whether it
        can be paused or resumed, and its next dates (to cancel one)."""
        wanted = request.query.get("id", "")
        body = {"activity": int(wanted) if wanted.isdigit() else None}
        activity, group = await self._one(services, person, body, "activity")
        now = services.now()
        live = activity.status != "cancelled"
        starts = upcoming(activity, group.timezone, now) if activity.rrule and live else []
        return {
            "id": activity.id,
            "title": activity.title,
            "group": group.name,
            "status": pv.status_key(activity),
            "card": dv.plain(pv.card_text(activity, group, now)),
            "form": form_of(activity, group, now),
            "live": live,
            "pause": activity.status == "published" and not activity.paused,
            "resume": activity.status == "published" and activity.paused,
            "repeats": bool(activity.rrule),
            "dates": av.dates(starts, group.timezone),
            # where the poster extra is installed, for an activity the bot shows
            "poster": (
                await poster_languages(services)
                if poster.available() and activity.visible and group.verified
                else None
            ),
        }

    async def poster(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """One activity's A4 poster in one to three languages (``languages=en,ar``), as
        `sanctuary-bot poster --activity` draws it, with the QR code of the activity's link
        in the bot: a PDF, base64, with its file name. Drawn in a process of its own (CPU
        work, as the group's poster); 501 when the poster extra is not installed, 409 when
        the bot does not show the activity or it has no date in the poster's weeks."""
        wanted = request.query.get("activity", "")
        body = {"activity": int(wanted) if wanted.isdigit() else None}
        activity, group = await self._one(services, person, body, "poster")
        languages = poster_asked(request)
        now = services.now()
        shown = [activity] if activity.visible and group.verified else []
        entries = await poster.entries_of(services.translations, shown, group, languages, now)
        if not entries:
            raise Refused(409, "conflict", av.poster_empty())
        link = poster.activity_link(self.desk.app.bot.username, activity)
        pdf = await poster.render_apart(group, entries, languages, link, now, single=True)
        return {
            "filename": f"poster-{export_ref(activity)}-{'-'.join(languages)}.pdf",
            "pdf": base64.b64encode(pdf).decode("ascii"),
        }

    # -- changes --------------------------------------------------------------------------------

    async def edit(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """One part of an activity from the form, with the bot's checks and its answer (the
        same as the chat's: saved, or sent for a check)."""
        body = await _body(request)
        activity, group = await self._one(services, person, body, "edit")
        self._live(activity)
        section, form = body.get("section"), body.get("values")
        if not isinstance(section, str) or not isinstance(form, dict):
            raise Refused(400, "bad_request", views.not_understood())
        now = services.now()
        try:
            data = apply_section(section, form, activity, group, now, services.locator.outcodes)
        except Problem as error:
            raise Refused(400, "problem", dv.plain(pv.problem(error).text)) from None
        draft = Draft(person.user_id, group.id, "done", activity.id, section, data=data)
        edited = await services.organiser.apply_edit(draft, activity, group, in_chat=False)
        if edited is None:  # refused and audited by the organiser
            raise Refused(403, "forbidden", pv.not_allowed())
        outcome, told = edited
        saved = pv.edit_saved(data["title"], checked=outcome == "checked", told=told)
        return {"ok": True, "message": dv.plain(saved.text)}

    async def pause(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Pause the whole series (``paused``: true) or resume it, as /myactivities does."""
        body = await _body(request)
        activity, group = await self._one(services, person, body, "pause")
        paused = body.get("paused")
        if not isinstance(paused, bool):
            raise Refused(400, "bad_request", views.not_understood())
        if not await services.organiser.set_paused(person.user_id, activity, group, paused):
            raise Refused(409, "conflict", pv.not_allowed())
        return {"ok": True, "message": pv.done()}

    async def cancel_date(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """Cancel one of the next dates (``start``, as the activity's dates gave it)."""
        body = await _body(request)
        activity, group = await self._one(services, person, body, "cancel_date")
        self._live(activity)
        try:
            start = datetime.fromisoformat(str(body.get("start")))
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise Refused(400, "bad_request", views.not_understood())
        if not await services.organiser.cancel_date(person.user_id, activity, group, start):
            raise Refused(409, "conflict", pv.not_allowed())
        return {"ok": True, "message": pv.done()}

    def _live(self, activity: Activity) -> None:
        if activity.status == "cancelled":
            raise Refused(409, "conflict", pv.not_allowed())

    # -- CSV ------------------------------------------------------------------------------------

    async def import_csv(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """An activities CSV (``csv``): checked, every problem listed with its row number and
        nothing saved; saved only when sent again with ``confirm``: true and still without a
        problem. A group admin's file may only hold their groups' activities."""
        try:
            body = await _body(request)
        except web.HTTPRequestEntityTooLarge:  # over the web server's 1 MB
            raise Refused(413, "too_large", av.too_large()) from None
        text = body.get("csv")
        if not isinstance(text, str):
            raise Refused(400, "bad_request", views.not_understood())
        try:
            items, translated = await read_activities(services.db, text.removeprefix("\ufeff"))
            errors = await self._not_theirs(services, person, text)
        except ImportFailed as failed:
            errors = failed.errors
        if errors:
            return {"ok": False, "errors": av.row_errors(errors), "message": ""}
        if body.get("confirm") is not True:
            return {
                "ok": True,
                "saved": False,
                "count": len(items),
                "message": av.ready(len(items)),
            }
        count = await save_activities(services.db, items, translated)
        refs = await services.groups.refs()
        now = services.now()
        for ref in sorted({item.group_ref for item in items}):
            group_count = sum(1 for item in items if item.group_ref == ref)
            await services.roles.log(
                person.user_id, "activity_imported", group_id=refs.get(ref),
                detail=f"desk:{group_count}", now=now,
            )  # fmt: skip
        await services.directory.refresh(force=True)
        return {"ok": True, "saved": True, "count": count, "message": av.imported(count)}

    async def _not_theirs(self, services: Services, person: Person, text: str) -> list[RowError]:
        """Rows of a group admin's file for another group, or updating (by ref) another
        group's activity."""
        groups = person.groups
        if groups is None:
            return []
        refs = await services.groups.refs()
        owner = {export_ref(a): a.group_id for a, _g in await services.activities.with_group_refs()}
        errors = []
        reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
        for values in reader:
            group_ref = (values.get("group_ref") or "").strip()
            ref = (values.get("ref") or "").strip()
            if refs.get(group_ref) not in groups:
                errors.append(
                    row_error(reader.line_num, "group_ref", av.NOT_YOUR_GROUP, ref=group_ref)
                )
            elif ref in owner and owner[ref] not in groups:
                errors.append(row_error(reader.line_num, "ref", av.NOT_YOUR_GROUP, ref=ref))
        return errors

    async def export_csv(
        self, request: web.Request, services: Services, person: Person
    ) -> dict[str, Any]:
        """The importer's export (with its translation columns), of the person's groups."""
        text = await export_activities(services.db, person.groups)
        return {"csv": text, "filename": f"activities-{services.now():%Y-%m-%d}.csv"}
