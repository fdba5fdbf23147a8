"""Safeguarding: "Report a concern" and "I'm interested" on every card, /reports to review
concerns, /safeguarding to choose a group's safeguarding contact.

The rules (who is told, when reports hide an activity, who may review, the report's mark)
are in bot/domain/safeguarding.py. Reporters are anonymous to organisers; interest is shown
as counts only. Roles are read from the database on every command and button; refusals are
answered and audited.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import Expired
from bot.context import App, AppContext, KeepOpen
from bot.views import cards as cdv
from bot.views import safeguarding as sv
from bot.views.common import View, not_understood
from handlers.admin import managed_group, may_manage, refuse
from handlers.base import answer, expired, send, show, swap_buttons
from handlers.questions import TypedQuestion


class Safeguarding:
    """The journeys of one application (``asking``: reporters who may add words now)."""

    def __init__(self, app: App) -> None:
        self.asking = TypedQuestion(app, "report", KeepOpen(buttons=cb.family("Q")))

    # -- reporting ----------------------------------------------------------------------------

    async def report_button(self, update: Update, context: AppContext) -> None:
        """Q:<activity>:<mark> reasons; Q:r:<activity>:<reason>:<mark> files; Q:x / Q:done
        close. The mark was made for this person and activity, on the card they were shown
        (Concerns.mark): forged or borrowed data is an expired menu."""
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
            services.concerns.check_mark(pressed.mark, query.from_user.id, activity_id)
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
        filed = await services.concerns.report(activity_id, query.from_user.id, pressed.reason)
        if filed is None:
            await expired(update, context)
            return
        await answer(query)
        if filed.report_id is None:
            await show(update, sv.report_already())
            return
        await self.asking.expect(context, query.from_user.id, filed.report_id)
        await show(update, sv.report_filed(filed.told))

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
            await send(update, View(not_understood()))

    # -- reviewing ----------------------------------------------------------------------------

    async def reports(self, update: Update, context: AppContext) -> None:
        """/reports: open concerns about the activities the caller may review."""
        user = update.effective_user
        assert user is not None
        groups = await context.services.concerns.reviewable(user.id)
        if groups is not None and not groups:
            await refuse(update, context, "reports", None)
            return
        await send(update, sv.reports_list(await context.services.concerns.open_concerns(groups)))

    async def review_button(self, update: Update, context: AppContext) -> None:
        """Q:ok:<activity> shows it again; Q:rm:<activity> asks once, Q:rmy:<activity> removes
        it; Q:ls is the list again (the permission is checked again every time)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        services = context.services
        groups = await services.concerns.reviewable(query.from_user.id)
        pressed = cb.parse(query.data)
        if isinstance(pressed, cb.ReviewList):
            if groups is not None and not groups:
                await refuse(update, context, "review", None)
                return
            await answer(query)
            await show(update, sv.reports_list(await services.concerns.open_concerns(groups)))
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
        await services.concerns.review(activity, outcome, query.from_user.id)
        await answer(query, sv.reviewed(outcome))
        await show(update, sv.reports_list(await services.concerns.open_concerns(groups)))

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
        member = None
        if allowed and group is not None:
            member = await services.concerns.choose_contact(group_id, user_id, query.from_user.id)
        if group is None or member is None:
            await refuse(update, context, "safeguarding", group_id)
            return
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
        new = cdv.interest_button(activity_id, marked)
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
