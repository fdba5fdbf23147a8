"""Organisers look after their activities: /myactivities (edit, cancel a date, pause, still
running, cancel, feedback), "still running?" answers, and /moderate for group admins.

Every button names an activity; the caller's right to it is read again from the roles table
each time (a forged id, another group's activity or a removed volunteer is refused and
audited).
"""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import posting_views as pv
from bot import translation_views as tv
from bot import views
from bot.callbacks import Expired, positive_id, split, verb_and_id
from bot.context import App, AppContext, KeepOpen
from bot.posting import SECTIONS, upcoming
from bot.views import View
from handlers.activities import Posting
from handlers.admin import managed_group, may_manage, refuse
from handlers.base import answer, expired, send, show
from handlers.questions import TypedQuestion
from storage.models import Activity, Group

REASON_LIMIT = 300


async def _activity(context: AppContext, activity_id: int) -> tuple[Activity, Group]:
    services = context.services
    activity = await services.activities.get(activity_id)
    group = services.directory.groups.get(activity.group_id) if activity else None
    if activity is None or group is None:
        raise Expired(str(activity_id))
    return activity, group


async def _manage_view(context: AppContext, activity: Activity, group: Group) -> View:
    services = context.services
    text = pv.card_text(activity, group, services.now())
    if activity.status == "cancelled":
        reasons = (await services.safeguarding.removed_reasons([activity.id])).get(activity.id)
        if reasons:
            return pv.removed(activity, text, reasons)
    counts = dict((a, n) for a, _t, n in await services.safeguarding.interest_counts(group.id))
    return pv.manage(
        activity, text, counts.get(activity.id, 0), activity.moderation_note, bool(activity.rrule)
    )


async def _list_view(context: AppContext, items: list[Activity]) -> View:
    """/myactivities: the list, with the activities removed after concerns marked."""
    shown = [a.id for a in items[: pv.LISTED] if a.status == "cancelled"]
    services = context.services
    removed = await services.safeguarding.removed_reasons(shown) if shown else {}
    return pv.my_list(items, removed.keys(), await _missing(context, items))


async def _missing(context: AppContext, items: list[Activity]) -> str:
    """How many of the published activities miss each language the bot's readers use."""
    translations = context.services.translations
    published = [a.id for a in items if a.status == "published"]
    if not published:
        return ""
    titled = await translations.titled(published)
    counts = [
        (code, sum(1 for a in published if code not in titled.get(a, set())))
        for code in await translations.readers_languages()
    ]
    return tv.missing_line(counts)


class Manage:
    """/myactivities, "still running?" and /moderate of one application."""

    def __init__(self, app: App, posting: Posting) -> None:
        self.posting = posting
        # Moderators typing a reason now (after "Ask for changes" or "Reject").
        self.reasoning = TypedQuestion(app, "moderating", KeepOpen(buttons=("Z:",)))

    # -- /myactivities --------------------------------------------------------------------------

    async def my_activities(self, update: Update, context: AppContext) -> None:
        """/myactivities [group]: what the person posted, and their groups' activities if they
        run one; a named group's activities for its admins and coordinators."""
        user = update.effective_user
        assert user is not None
        services = context.services
        organiser = services.organiser
        if context.args:
            group = await managed_group(update, context, "myactivities")
            if group is not None:
                items = await services.activities.manageable(user.id, [group.id])
                await send(
                    update, await _list_view(context, [a for a in items if a.group_id == group.id])
                )
            return
        items = await organiser.manageable(user.id)
        groups = await organiser.posting_groups(user.id)
        if not items and groups is None:  # a coordinator: which group?
            refs = sorted(g.ref for g in services.directory.groups.values())
            await send(update, View(views.which_group(refs)))
            return
        if not items and not groups:
            await refuse(update, context, "myactivities", None, pv.not_a_volunteer())
            return
        await send(update, await _list_view(context, items))

    async def button(self, update: Update, context: AppContext) -> None:
        """Y:<action>[:<activity>[:<value>]]."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        user_id = query.from_user.id
        services = context.services
        organiser = services.organiser
        try:
            _prefix, fields = split(query.data)
            if fields == ["l"]:
                await answer(query)
                await show(update, await _list_view(context, await organiser.manageable(user_id)))
                return
            if len(fields) not in (2, 3):
                raise Expired(query.data or "")
            action, value = fields[0], (fields[2] if len(fields) == 3 else None)
            activity, group = await _activity(context, positive_id(fields[1]))
            if not await organiser.may_edit(user_id, activity):
                await refuse(
                    update, context, f"manage:{action}", activity.group_id, pv.not_allowed()
                )
                return
            await self._act(update, context, user_id, action, activity, group, value)
        except Expired:
            await expired(update, context)

    async def _act(
        self,
        update: Update,
        context: AppContext,
        user_id: int,
        action: str,
        activity: Activity,
        group: Group,
        value: str | None,
    ) -> None:
        query = update.callback_query
        assert query is not None
        services = context.services
        organiser = services.organiser
        aid = activity.id
        live = activity.status != "cancelled"
        if action == "o" and value is None:
            await answer(query)
            await show(update, await _manage_view(context, activity, group))
            return
        if not live:
            await answer(query, pv.not_allowed())
            return
        if action == "e" and value is None:
            await answer(query)
            await show(update, pv.edit_picker(aid))
        elif action == "s" and value in SECTIONS:
            await answer(query)
            if not await self.posting.start_edit(update, context, user_id, aid, value):
                await send(update, pv.stopped(True))
        elif action == "c" and value is None and activity.rrule:
            await answer(query)
            starts = upcoming(activity, group.timezone, services.now())
            await show(update, pv.dates_picker(aid, starts, group.timezone))
        elif action == "d" and value is not None and len(value) == 12 and value.isdigit():
            try:
                start = datetime.strptime(value, "%Y%m%d%H%M").replace(tzinfo=UTC)
            except ValueError:
                raise Expired(value) from None
            done = await organiser.cancel_date(user_id, activity, group, start)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif action in ("pa", "re") and value is None:
            done = await organiser.set_paused(user_id, activity, group, action == "pa")
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif action == "ok" and value is None:
            done = await organiser.confirm(user_id, activity)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif action == "x" and value is None:
            await answer(query)
            await show(update, pv.cancel_confirm(aid, activity.title))
        elif action == "xx" and value is None:
            done = await organiser.cancel(user_id, activity, group)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif action == "rs" and value is None:
            done = await organiser.resubmit(user_id, activity, group)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif action == "fb" and value is None:
            await answer(query)
            summary = await services.feedback.summary(aid, services.now())
            await send(update, pv.feedback_summary(activity.title, summary))
        else:
            raise Expired(action)

    async def _refresh(self, update: Update, context: AppContext, activity_id: int) -> None:
        activity, group = await _activity(context, activity_id)
        await show(update, await _manage_view(context, activity, group))

    # -- "still running?" -----------------------------------------------------------------------

    async def fresh_button(self, update: Update, context: AppContext) -> None:
        """F:yes:<activity> keeps it (and shows it again); F:end:<activity> cancels it."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        organiser = context.services.organiser
        try:
            verb, activity_id = verb_and_id(query.data, ("yes", "end"))
            activity, group = await _activity(context, activity_id)
        except Expired:
            await expired(update, context)
            return
        user_id = query.from_user.id
        if not await organiser.may_edit(user_id, activity):
            await refuse(update, context, "fresh", activity.group_id, pv.not_allowed())
            return
        if verb == "yes":
            done = await organiser.confirm(user_id, activity)
        else:
            done = await organiser.cancel(user_id, activity, group)
        await answer(query)
        await show(update, pv.fresh_answered(verb == "yes") if done else View(pv.not_allowed()))

    # -- /moderate ------------------------------------------------------------------------------

    async def moderate(self, update: Update, context: AppContext) -> None:
        """/moderate: the first post waiting for the caller's check."""
        user = update.effective_user
        assert user is not None
        groups = await context.services.roles.managed_groups(user.id)
        if groups is not None and not groups:
            await refuse(update, context, "moderate", None)
            return
        await send(update, await self._queue(context, groups))

    async def _queue(self, context: AppContext, groups: set[int] | None) -> View:
        services = context.services
        waiting = await services.activities.pending(groups)
        if not waiting:
            return pv.nothing_to_moderate()
        first = waiting[0]
        activity = await services.activities.get(first.id)
        group = services.directory.groups.get(first.group_id)
        if activity is None or group is None:
            return pv.nothing_to_moderate()
        text = pv.card_text(activity, group, services.now())
        text += tv.waiting(await services.translations.of_activity(activity.id))
        return pv.moderation_item(activity, text, group.name, len(waiting))

    async def moderate_button(self, update: Update, context: AppContext) -> None:
        """Z:a|c|r:<activity>: approve now, or ask for the reason (changes, reject)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        user_id = query.from_user.id
        organiser = context.services.organiser
        try:
            verb, activity_id = verb_and_id(query.data, ("a", "c", "r"))
            activity, _group = await _activity(context, activity_id)
        except Expired:
            await expired(update, context)
            return
        if not await may_manage(context, user_id, activity.group_id):
            await refuse(update, context, "moderate", activity.group_id)
            return
        if activity.status != "pending":
            await answer(query, pv.not_allowed())
            return
        await answer(query)
        if verb == "a":
            await organiser.moderate(user_id, activity, "approve", None)
            await send(update, View(pv.moderated("approve")))
            await send(
                update,
                await self._queue(context, await context.services.roles.managed_groups(user_id)),
            )
            return
        outcome = "changes" if verb == "c" else "reject"
        await self.reasoning.expect(context, user_id, (activity.id, outcome))
        await send(update, pv.ask_reason(outcome))

    async def reason(self, update: Update, context: AppContext) -> None:
        """The typed reason for "ask for changes" or "reject"."""
        message = update.effective_message
        user = update.effective_user
        assert message is not None and message.text is not None and user is not None
        pending = await self.reasoning.stop(context, user.id)
        organiser = context.services.organiser
        match pending:
            case (int() as activity_id, "changes" | "reject" as outcome):
                pass
            case _:
                await send(update, View(pv.not_allowed()))
                return
        activity = await context.services.activities.get(activity_id)
        if activity is None or not await may_manage(context, user.id, activity.group_id):
            await refuse(update, context, "moderate", activity.group_id if activity else None)
            return
        note = " ".join(message.text.split())[:REASON_LIMIT]
        done = await organiser.moderate(user.id, activity, outcome, note)
        await send(update, View(pv.moderated(outcome) if done else pv.not_allowed()))
        await send(
            update, await self._queue(context, await context.services.roles.managed_groups(user.id))
        )


def register(app: App, posting: Posting) -> None:
    """Managing and moderating; typed reasons go before the places catch-all."""
    journey = Manage(app, posting)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("myactivities", journey.my_activities, filters=private))
    app.add_handler(CommandHandler("moderate", journey.moderate, filters=private))
    app.add_handler(CallbackQueryHandler(journey.button, pattern=r"^Y:"))
    app.add_handler(CallbackQueryHandler(journey.fresh_button, pattern=r"^F:"))
    app.add_handler(CallbackQueryHandler(journey.moderate_button, pattern=r"^Z:"))
    app.add_handler(journey.reasoning.handler(journey.reason))
