"""Safeguarding: "Report a concern" and "I'm interested" on every card, /reports to review
concerns, /safeguarding to choose a group's safeguarding contact.

A concern tells the group's safeguarding contact and admins at once (through the outbox);
three open reports from different people hide the activity until someone reviews it.
Reporters are anonymous to organisers; interest is shown as counts only. Roles are read from
the database on every command and button; refusals are answered and audited.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import Expired
from bot.context import App, AppContext, KeepOpen
from bot.domain import concerns
from bot.views import common as views
from bot.views import safeguarding as sv
from handlers.admin import managed_group, may_manage, refuse
from handlers.base import answer, expired, send, show, swap_buttons
from handlers.questions import TypedQuestion
from storage.outbox import OutboxItem
from storage.safeguarding import HIDE_AFTER


class Safeguarding:
    """The journeys of one application (``asking``: reporters who may add words now)."""

    def __init__(self, app: App) -> None:
        self.asking = TypedQuestion(app, "report", KeepOpen(buttons=cb.family("Q")))

    async def _reviewable(self, context: AppContext, user_id: int) -> set[int] | None:
        """The groups whose reports the person may review; None for every group."""
        return await concerns.reviewable_groups(context.services, user_id)

    async def _tell_reviewers(
        self, context: AppContext, activity_id: int, reason: str, hidden: bool, report_id: int
    ) -> str | None:
        """Tell the group's safeguarding contact and admins (its admins when it has no contact,
        the network's coordinators when it has neither). Returns who was told: "contact",
        "admins", "coordinators", or None when nobody could be (logged and audited: the
        concern waits in /reports all the same)."""
        services = context.services
        activity = await services.activities.get(activity_id)
        if activity is None:
            return None
        group = services.directory.groups.get(activity.group_id)
        contact = await services.safeguarding.contact(activity.group_id)
        told, people = await services.roles.looking_after(activity.group_id)
        if contact is not None:  # the contact, and the admins (if any)
            admins = people if told == "admins" else set()
            told, people = "contact", {contact.user_id} | admins
        if told is None:
            await services.roles.nobody_told(
                activity.group_id, f"report:{report_id}", "/reports", services.now()
            )
            return None
        payload = {
            "title": activity.title,
            "group": group.name if group else "",
            "reason": reason,
            "hidden": hidden,
        }
        subject = f"report:{report_id}:{'hidden' if hidden else 'new'}"
        await services.outbox.enqueue(
            [OutboxItem("concern", subject, person, payload) for person in sorted(people)],
            services.now(),
        )
        if services.sender is not None:
            services.sender.wake()
        return told

    # -- reporting ----------------------------------------------------------------------------

    async def report_button(self, update: Update, context: AppContext) -> None:
        """Q:<activity>:<mark> reasons; Q:r:<activity>:<reason>:<mark> files; Q:x / Q:done
        close. The mark was made for this person and activity, on the card they were shown
        (Services.report_mark): forged or borrowed data is an expired menu."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        services = context.services
        pressed = cb.parse(query.data)
        if isinstance(pressed, cb.CancelReport | cb.ReportDone):
            await self.asking.stop(context, query.from_user.id)
            await answer(query, sv.report_closed())
            return
        assert isinstance(pressed, cb.ReportConcern | cb.FileReport)
        activity_id = pressed.activity
        try:
            services.check_report_mark(pressed.mark, query.from_user.id, activity_id)
        except Expired:
            await expired(update, context)
            return
        if isinstance(pressed, cb.ReportConcern):
            if activity_id not in services.directory.activities:
                await expired(update, context)
                return
            await answer(query)
            await send(update, sv.report_reasons(activity_id, pressed.mark))
            return
        if await services.activities.get(activity_id) is None:
            await expired(update, context)
            return
        reason = pressed.reason
        await answer(query)
        filed = await services.safeguarding.file(
            activity_id, query.from_user.id, reason, services.now()
        )
        if filed.report_id is None:
            await show(update, sv.report_already())
            return
        hidden = False
        if filed.open_reports >= HIDE_AFTER:
            hidden = await services.activities.set_status(
                activity_id, "hidden", services.now(), only_from=("published",)
            )
            if hidden:
                await services.directory.refresh(force=True)
        told = await self._tell_reviewers(context, activity_id, reason, hidden, filed.report_id)
        await self.asking.expect(context, query.from_user.id, filed.report_id)
        await show(update, sv.report_filed(told))

    async def report_words(self, update: Update, context: AppContext) -> None:
        """The reporter's optional words after filing (once)."""
        message = update.effective_message
        user = update.effective_user
        assert message is not None and message.text is not None and user is not None
        report_id = await self.asking.stop(context, user.id)
        if isinstance(report_id, int) and await context.services.safeguarding.add_words(
            report_id, user.id, message.text.strip()
        ):
            await send(update, sv.words_added())
        else:
            await send(update, views.View(views.not_understood()))

    # -- reviewing ----------------------------------------------------------------------------

    async def reports(self, update: Update, context: AppContext) -> None:
        """/reports: open concerns about the activities the caller may review."""
        user = update.effective_user
        assert user is not None
        groups = await self._reviewable(context, user.id)
        if groups is not None and not groups:
            await refuse(update, context, "reports", None)
            return
        await send(update, await self._list(context, groups))

    async def _list(self, context: AppContext, groups: set[int] | None) -> views.View:
        found = await concerns.open_concerns(context.services, groups)
        return sv.reports_list(
            [(c.activity.id, c.activity.title, c.group, c.hidden, c.reports) for c in found]
        )

    async def review_button(self, update: Update, context: AppContext) -> None:
        """Q:ok:<activity> shows it again; Q:rm:<activity> asks once, Q:rmy:<activity> removes
        it; Q:ls is the list again (the permission is checked again every time)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        services = context.services
        groups = await self._reviewable(context, query.from_user.id)
        pressed = cb.parse(query.data)
        if isinstance(pressed, cb.ReviewList):
            if groups is not None and not groups:
                await refuse(update, context, "review", None)
                return
            await answer(query)
            await show(update, await self._list(context, groups))
            return
        assert isinstance(pressed, cb.ReviewShowAgain | cb.ReviewRemoveAsk | cb.ReviewRemove)
        activity = await services.activities.get(pressed.activity)
        if activity is None:
            await expired(update, context)
            return
        if groups is not None and activity.group_id not in groups:
            await refuse(update, context, "review", activity.group_id)
            return
        if isinstance(pressed, cb.ReviewRemoveAsk):  # once more, before it is gone for good
            await answer(query)
            await show(update, sv.remove_confirm(activity.id, activity.title))
            return
        outcome = "restored" if isinstance(pressed, cb.ReviewShowAgain) else "removed"
        await concerns.review(services, query.from_user.id, activity, outcome)
        await answer(query, sv.reviewed(outcome))
        await show(update, await self._list(context, groups))

    # -- the safeguarding contact -----------------------------------------------------------

    async def contact_command(self, update: Update, context: AppContext) -> None:
        """/safeguarding [group]: choose the group's safeguarding contact among its team."""
        group = await managed_group(update, context, "safeguarding")
        if group is None:
            return
        services = context.services
        members = [(m.user_id, m.label) for m in await services.roles.team(group.id)]
        current = await services.safeguarding.contact(group.id)
        name = (current.label or f"#{current.user_id}") if current else None
        await send(update, sv.contact_picker(group.name, group.id, members, name))

    async def contact_button(self, update: Update, context: AppContext) -> None:
        """Q:sg:<group>:<user>: set the contact (admin and membership checked again)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        services = context.services
        pressed = cb.SetSafeguardingContact.decode(query.data)
        group_id, user_id = pressed.group, pressed.user
        allowed = await may_manage(context, query.from_user.id, group_id)
        group = services.directory.groups.get(group_id)
        member = next(
            (m for m in await services.roles.members(group_id) if m.user_id == user_id), None
        )
        if not allowed or group is None or member is None:
            await refuse(update, context, "safeguarding", group_id)
            return
        now = services.now()
        await services.safeguarding.set_contact(
            group_id, user_id, member.label, query.from_user.id, now
        )
        await services.roles.log(
            query.from_user.id, "safeguarding_contact", target=user_id, group_id=group_id, now=now
        )
        await answer(query)
        await show(update, sv.contact_set(member.label or f"#{user_id}", group.name))

    # -- interest -----------------------------------------------------------------------------

    async def interest_button(self, update: Update, context: AppContext) -> None:
        """X:int:<activity>: mark or unmark "I'm interested" (anonymous: counts only)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        services = context.services
        activity_id = cb.Interested.decode(query.data).activity
        if activity_id not in services.directory.activities:
            await expired(update, context)
            return
        marked = await services.safeguarding.toggle_interest(
            activity_id, query.from_user.id, services.now()
        )
        await answer(query, sv.interest_marked(marked))
        new = views.interest_button(activity_id, marked)
        await swap_buttons(query.message, {cb.Interested(activity_id).encode()}, new)


def register(app: App) -> None:
    """Safeguarding commands and buttons."""
    journey = Safeguarding(app)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("reports", journey.reports, filters=private))
    app.add_handler(CommandHandler("safeguarding", journey.contact_command, filters=private))
    reporting = (cb.ReportConcern, cb.FileReport, cb.CancelReport, cb.ReportDone)
    app.add_handlers(cb.handlers(journey.report_button, *reporting))
    reviewing = (cb.ReviewShowAgain, cb.ReviewRemoveAsk, cb.ReviewRemove, cb.ReviewList)
    app.add_handlers(cb.handlers(journey.review_button, *reviewing))
    app.add_handlers(cb.handlers(journey.contact_button, cb.SetSafeguardingContact))
    app.add_handlers(cb.handlers(journey.interest_button, cb.Interested))
    app.add_handler(journey.asking.handler(journey.report_words))
