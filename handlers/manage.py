"""Organisers look after their activities: /myactivities (edit, cancel a date, pause, still
running, cancel, feedback), "still running?" answers, and /moderate for group admins.

Every button names an activity; the caller's right to it is read again from the roles table
each time (a forged id, another group's activity or a removed volunteer is refused and
audited).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import Expired
from bot.context import App, AppContext, KeepOpen
from bot.domain.posting import upcoming
from bot.views import posting as pv
from bot.views import translating as tv
from bot.views.common import View, which_group
from handlers.activities import Posting
from handlers.admin import managed_group, may_manage, refuse
from handlers.base import answer, expired, send, show
from handlers.questions import TypedQuestion
from storage.models import Activity, Group

REASON_LIMIT = 300
# The buttons of one of my activities (each carries the activity).
MANAGE_CODES = (
    cb.ManageOpen, cb.ManageEdit, cb.ManageEditSection, cb.ManagePickDate, cb.ManageCancelDate,
    cb.ManagePause, cb.ManageResume, cb.ManageStillRunning, cb.ManageCancelAsk, cb.ManageCancel,
    cb.ManageResubmit, cb.ManageFeedback,
)  # fmt: skip


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
        self.reasoning = TypedQuestion(app, "moderating", KeepOpen(buttons=cb.family("Z")))

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
            await send(update, View(which_group(refs)))
            return
        if not items and not groups:
            await refuse(update, context, "myactivities", None, pv.not_a_volunteer())
            return
        await send(update, await _list_view(context, items))

    async def button(self, update: Update, context: AppContext) -> None:
        """My activities' buttons (bot/callbacks.py: MyActivities and the Manage… codes)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        user_id = query.from_user.id
        services = context.services
        organiser = services.organiser
        pressed = cb.parse(query.data)
        if isinstance(pressed, cb.MyActivities):
            await answer(query)
            await show(update, await _list_view(context, await organiser.manageable(user_id)))
            return
        assert isinstance(pressed, MANAGE_CODES)
        try:
            activity, group = await _activity(context, pressed.activity)
            if not await organiser.may_edit(user_id, activity):
                action = pressed.prefix.removeprefix("Y:")  # as the audit log has always said
                await refuse(
                    update, context, f"manage:{action}", activity.group_id, pv.not_allowed()
                )
                return
            await self._act(update, context, user_id, pressed, activity, group)
        except Expired:
            await expired(update, context)

    async def _act(
        self,
        update: Update,
        context: AppContext,
        user_id: int,
        pressed: cb.Button,
        activity: Activity,
        group: Group,
    ) -> None:
        query = update.callback_query
        assert query is not None
        services = context.services
        organiser = services.organiser
        aid = activity.id
        live = activity.status != "cancelled"
        if isinstance(pressed, cb.ManageOpen):
            await answer(query)
            await show(update, await _manage_view(context, activity, group))
            return
        if not live:
            await answer(query, pv.not_allowed())
            return
        if isinstance(pressed, cb.ManageEdit):
            await answer(query)
            await show(update, pv.edit_picker(aid))
        elif isinstance(pressed, cb.ManageEditSection):
            await answer(query)
            if not await self.posting.start_edit(update, context, user_id, aid, pressed.section):
                await send(update, pv.stopped(True))
        elif isinstance(pressed, cb.ManagePickDate) and activity.rrule:
            await answer(query)
            starts = upcoming(activity, group.timezone, services.now())
            await show(update, pv.dates_picker(aid, starts, group.timezone))
        elif isinstance(pressed, cb.ManageCancelDate):
            done = await organiser.cancel_date(user_id, activity, group, pressed.start)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif isinstance(pressed, cb.ManagePause | cb.ManageResume):
            pause = isinstance(pressed, cb.ManagePause)
            done = await organiser.set_paused(user_id, activity, group, pause)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif isinstance(pressed, cb.ManageStillRunning):
            done = await organiser.confirm(user_id, activity)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif isinstance(pressed, cb.ManageCancelAsk):
            await answer(query)
            await show(update, pv.cancel_confirm(aid, activity.title))
        elif isinstance(pressed, cb.ManageCancel):
            done = await organiser.cancel(user_id, activity, group)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif isinstance(pressed, cb.ManageResubmit):
            done = await organiser.resubmit(user_id, activity, group)
            await answer(query, pv.done() if done else pv.not_allowed())
            await self._refresh(update, context, aid)
        elif isinstance(pressed, cb.ManageFeedback):
            await answer(query)
            summary = await services.feedback.summary(aid, services.now())
            await send(update, pv.feedback_summary(activity.title, summary))
        else:
            raise Expired(pressed.prefix)

    async def _refresh(self, update: Update, context: AppContext, activity_id: int) -> None:
        activity, group = await _activity(context, activity_id)
        await show(update, await _manage_view(context, activity, group))

    # -- "still running?" -----------------------------------------------------------------------

    async def fresh_button(self, update: Update, context: AppContext) -> None:
        """F:yes:<activity> keeps it (and shows it again); F:end:<activity> cancels it."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        organiser = context.services.organiser
        pressed = cb.parse(query.data)
        assert isinstance(pressed, cb.FreshYes | cb.FreshEnded)
        still_running = isinstance(pressed, cb.FreshYes)
        try:
            activity, group = await _activity(context, pressed.activity)
        except Expired:
            await expired(update, context)
            return
        user_id = query.from_user.id
        if not await organiser.may_edit(user_id, activity):
            await refuse(update, context, "fresh", activity.group_id, pv.not_allowed())
            return
        if still_running:
            done = await organiser.confirm(user_id, activity)
        else:
            done = await organiser.cancel(user_id, activity, group)
        await answer(query)
        await show(update, pv.fresh_answered(still_running) if done else View(pv.not_allowed()))

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
        pressed = cb.parse(query.data)
        assert isinstance(pressed, cb.ModerateApprove | cb.ModerateChanges | cb.ModerateReject)
        try:
            activity, _group = await _activity(context, pressed.activity)
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
        if isinstance(pressed, cb.ModerateApprove):
            await organiser.moderate(user_id, activity, "approve", None)
            await send(update, View(pv.moderated("approve")))
            await send(
                update,
                await self._queue(context, await context.services.roles.managed_groups(user_id)),
            )
            return
        outcome = "changes" if isinstance(pressed, cb.ModerateChanges) else "reject"
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
    app.add_handlers(cb.handlers(journey.button, cb.MyActivities, *MANAGE_CODES))
    app.add_handlers(cb.handlers(journey.fresh_button, cb.FreshYes, cb.FreshEnded))
    moderating = (cb.ModerateApprove, cb.ModerateChanges, cb.ModerateReject)
    app.add_handlers(cb.handlers(journey.moderate_button, *moderating))
    app.add_handler(journey.reasoning.handler(journey.reason))
