"""Volunteers post an activity (/newactivity), one question at a time, and edit one part of
an activity from /myactivities with the same questions.

Every answer is stored in the database at once (storage.drafts): after a restart the next
answer still lands in the right place, and /newactivity carries on. /back asks the previous
question again; /cancel stops asking and keeps the answers. The role is read again at every
answer and at publishing: a removed volunteer's old buttons are refused and audited.
"""

from __future__ import annotations

import contextlib
from datetime import date

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import posting_views as pv
from bot import views
from bot.callbacks import Expired, positive_id, split
from bot.context import App, AppContext, KeepOpen
from bot.posting import (
    CATEGORIES,
    KINDS,
    NEEDS,
    SECTIONS,
    SPOKEN,
    TYPED,
    Problem,
    answers_of,
    check_date,
    first_step,
    hard_to_read,
    local_today,
    missing,
    next_dates,
    next_step,
    preview_activity,
    take_location,
    take_text,
)
from bot.views import View
from handlers import places
from handlers.admin import refuse
from handlers.base import answer, expired, send, show
from handlers.questions import TypedQuestion
from storage.drafts import Draft
from storage.models import Group

_NONE: dict[str, dict[str, object]] = {"description": {"description": ""}, "until": {"until": None}, "skips": {"skips": []},
         "cost": {"cost": None}, "contact": {"contact": ""}}  # fmt: skip
CHOICES = 90  # groups offered as buttons (Telegram shows at most 100)
_TOGGLES = {"day": ("days", "days"), "lang": ("languages", "languages"), "need": ("needs", "needs")}
# A post's own buttons, commands and pins: doing anything else stops the asking (answers kept).
_KEEP_OPEN = KeepOpen(buttons=("W:",), commands=("newactivity", "back", "cancel"), locations=True)


class Posting:
    """The /newactivity journey of one application.

    ``asking`` holds who is being asked a question now, so that their text and locations
    come here; like every awaited answer, it is kept in the database and picked up again when
    the bot starts. The answers themselves are in the person's draft.
    """

    def __init__(self, app: App) -> None:
        self.asking = TypedQuestion(app, "posting", _KEEP_OPEN)

    # -- helpers --------------------------------------------------------------------------------

    async def _allowed(self, update: Update, context: AppContext, draft: Draft) -> bool:
        """Whether the person may still post for (or edit in) the draft's group; else refuse."""
        services = context.services
        organiser = services.organiser
        if draft.activity_id is not None:
            activity = await services.activities.get(draft.activity_id)
            ok = activity is not None and await organiser.may_edit(draft.user_id, activity)
        else:
            ok = await organiser.may_post(draft.user_id, draft.group_id)
        if not ok:
            await self.asking.stop(context, draft.user_id)
            await services.drafts.delete(draft.user_id)
            await refuse(update, context, "post", draft.group_id, pv.not_allowed())
        return ok

    def _group(self, context: AppContext, draft: Draft) -> Group | None:
        return context.services.directory.groups.get(draft.group_id)

    async def _ask(
        self, update: Update, context: AppContext, draft: Draft, hint: bool = False
    ) -> None:
        """Ask the draft's current question (or show the preview), as a new message."""
        group = self._group(context, draft)
        if group is None:
            raise Expired("group")
        await self.asking.expect(context, draft.user_id, draft.step)
        if hint:
            await send(update, View(pv.hard_to_read_hint()))
        if draft.step == "preview":
            await send(update, await self._preview(context, draft, group))
            return
        await send(update, self._question(context, draft, group))

    def _question(self, context: AppContext, draft: Draft, group: Group) -> View:
        today = local_today(context.services.now(), group.timezone)
        dates = self._dates(draft, today)
        return pv.question(draft.step, draft.data, today, group.timezone, dates)

    async def _refuse(
        self, update: Update, context: AppContext, draft: Draft, group: Group, error: Problem
    ) -> None:
        """What is wrong with a typed answer, with the question's buttons again (it stands)."""
        markup = self._question(context, draft, group).markup
        await send(update, View(pv.problem(error).text, markup))

    def _dates(self, draft: Draft, today: date) -> list[date]:
        if draft.step != "date":
            return []
        once = draft.data.get("repeat", "once") == "once"
        return next_dates(draft.data, today, 8 if once else 4)  # a one-off: the next 8 days

    async def _preview(self, context: AppContext, draft: Draft, group: Group) -> View:
        services = context.services
        gaps = missing(draft.data)
        text = ""
        if not gaps:
            text = pv.card_text(preview_activity(draft.data, group), group, services.now())
        waits = await services.organiser.would_wait(draft.user_id, group.id)
        return pv.preview(text, waits, gaps)

    async def _advance(
        self, update: Update, context: AppContext, draft: Draft, hint: bool = False
    ) -> None:
        """The answer is in: on to the next question, the preview, or (an edit) save it."""
        services = context.services
        draft.trail.append(draft.step)
        following = next_step(draft.step, draft.data, draft.section)
        if following == "done" and draft.activity_id is not None:
            await self._save_edit(update, context, draft)  # (no /back hint: it is saved)
            return
        if following == "done":
            draft.section, following = "all", "preview"
        draft.step = following
        await services.drafts.save(draft, services.now())
        await self._ask(update, context, draft, hint)

    async def _save_edit(self, update: Update, context: AppContext, draft: Draft) -> None:
        services = context.services
        await self.asking.stop(context, draft.user_id)
        activity = await services.activities.get(draft.activity_id or 0)
        group = self._group(context, draft)
        if activity is None or group is None:
            await services.drafts.delete(draft.user_id)
            await send(update, View(views.expired()))
            return
        edited = await services.organiser.apply_edit(draft, activity, group)
        if edited is None:  # refused and audited
            await services.drafts.delete(draft.user_id)
            await send(update, View(pv.not_allowed()))
            return
        title = draft.data.get("title", activity.title)
        outcome, told = edited
        await send(update, pv.edit_saved(title, checked=outcome == "checked", told=told))

    # -- commands -------------------------------------------------------------------------------

    async def newactivity(self, update: Update, context: AppContext) -> None:
        """/newactivity [group] (or "Post an activity"): carry on with the draft, or start one.

        Someone who may post for several groups names one after the command or picks it from
        buttons; a coordinator may post for every group. A press is answered once: with the
        refusal, or before the question.
        """
        user = update.effective_user
        assert user is not None
        services = context.services
        query = update.callback_query
        draft = await services.drafts.get(user.id)
        if draft is not None:
            if await self._allowed(update, context, draft):  # else refused (press answered)
                if query is not None:
                    await answer(query)
                await self._ask(update, context, draft)
            return
        groups = await services.organiser.posting_groups(user.id)
        if groups is not None and not groups:
            await refuse(update, context, "newactivity", None, pv.not_a_volunteer())
            return
        if query is not None:
            await answer(query)
        directory = services.directory.groups
        allowed = sorted(
            (g for g in directory.values() if groups is None or g.id in groups),
            key=lambda g: g.name.casefold(),
        )
        args = [] if query is not None else (context.args or [])
        named = next((g for g in allowed if args and g.ref == args[0].lower()), None)
        if named is None and not args and len(allowed) == 1:
            named = allowed[0]
        if named is not None:
            await self._start(update, context, user.id, named.id)
            return
        if len(allowed) > CHOICES:  # too many for buttons: the person names it
            await send(update, View(views.which_group([g.ref for g in allowed])))
            return
        await send(update, pv.choose_group([(g.id, g.name) for g in allowed]))

    async def _start(self, update: Update, context: AppContext, user_id: int, group: int) -> None:
        services = context.services
        draft = Draft(user_id, group, first_step("all", {}), data={"languages": ["en"]})
        await services.drafts.save(draft, services.now())
        await self._ask(update, context, draft)

    async def back(self, update: Update, context: AppContext) -> None:
        """/back: the previous question again (its answer can be changed)."""
        user = update.effective_user
        assert user is not None
        services = context.services
        draft = await services.drafts.get(user.id)
        if draft is None:
            await self.asking.stop(context, user.id)
            await send(update, pv.stopped(False))
            return
        if not await self._allowed(update, context, draft):
            return
        if not draft.trail:
            await send(update, View(pv.nothing_to_go_back_to()))
            await self._ask(update, context, draft)
            return
        draft.step = draft.trail.pop()
        await services.drafts.save(draft, services.now())
        await self._ask(update, context, draft)

    async def cancel(self, update: Update, context: AppContext) -> None:
        """/cancel: stop asking; the answers stay (an edit in progress is dropped)."""
        user = update.effective_user
        assert user is not None
        await self.asking.stop(context, user.id)
        drafts = context.services.drafts
        draft = await drafts.get(user.id)
        if draft is not None and draft.activity_id is not None:
            await drafts.delete(user.id)
            draft = None
        await send(update, pv.stopped(draft is not None))

    # -- answers --------------------------------------------------------------------------------

    async def _current(self, update: Update, context: AppContext) -> tuple[Draft, Group] | None:
        user = update.effective_user
        assert user is not None
        draft = await context.services.drafts.get(user.id)
        if draft is None:
            await self.asking.stop(context, user.id)
            return None
        if not await self._allowed(update, context, draft):
            return None
        group = self._group(context, draft)
        if group is None:
            return None
        return draft, group

    async def on_text(self, update: Update, context: AppContext) -> None:
        """A typed answer: checked, stored, and on to the next question (or what is wrong)."""
        message = update.effective_message
        assert message is not None and message.text is not None
        user = update.effective_user
        assert user is not None
        if await context.services.drafts.get(user.id) is None:  # gone (forgotten, purged)
            await self.asking.stop(context, user.id)
            await places.on_text(update, context)  # the text is what it would have been: a place
            return
        found = await self._current(update, context)
        if found is None:
            return
        draft, group = found
        services = context.services
        if draft.step not in TYPED:
            await send(update, pv.problem(Problem("use_buttons")))
            await self._ask(update, context, draft)
            return
        try:
            answers = take_text(
                draft.step, message.text, draft.data, services.now(), group.timezone,
                services.locator.outcodes, group,
            )  # fmt: skip
        except Problem as error:
            await self._refuse(update, context, draft, group, error)
            return
        draft.data.update(answers)
        hint = draft.step == "description" and hard_to_read(answers["description"])
        await self._advance(update, context, draft, hint)

    async def on_location(self, update: Update, context: AppContext) -> None:
        """A pin for "where is it?"."""
        message = update.effective_message
        assert message is not None and message.location is not None
        found = await self._current(update, context)
        if found is None:
            return
        draft, group = found
        if draft.step != "where":
            await send(update, pv.problem(Problem("use_buttons")))
            await self._ask(update, context, draft)
            return
        try:
            answers = take_location(message.location.latitude, message.location.longitude)
        except Problem as error:
            await self._refuse(update, context, draft, group, error)
            return
        draft.data.update(answers)
        await self._advance(update, context, draft)

    async def button(self, update: Update, context: AppContext) -> None:
        """W:<action>[:<value>]: a button of the question being asked (else expired)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        user_id = query.from_user.id
        services = context.services
        try:
            _prefix, fields = split(query.data)
            action = fields[0] if fields else ""
            value = fields[1] if len(fields) == 2 else None
            if len(fields) > 2:
                raise Expired(query.data or "")
            if action == "grp" and value is not None:
                group_id = positive_id(value)
                if not await services.organiser.may_post(user_id, group_id):
                    await refuse(update, context, "newactivity", group_id, pv.not_allowed())
                    return
                await answer(query)
                if await services.drafts.get(user_id) is None:
                    await self._start(update, context, user_id, group_id)
                return
            if action == "new" and value is None:  # the main menu's "Post an activity"
                await self.newactivity(update, context)  # answers the press itself, once
                return
            if action == "del" and value is None:
                await self.asking.stop(context, user_id)
                await services.drafts.delete(user_id)
                await answer(query)
                await show(update, pv.discarded())
                return
            if await services.drafts.get(user_id) is None:
                raise Expired(action)
            found = await self._current(update, context)
            if found is None:
                return
            draft, group = found
            await self._press(update, context, draft, group, action, value)
        except Expired:
            await expired(update, context)

    async def _press(
        self,
        update: Update,
        context: AppContext,
        draft: Draft,
        group: Group,
        action: str,
        value: str | None,
    ) -> None:
        query = update.callback_query
        assert query is not None
        services = context.services
        step = draft.step
        data = draft.data
        if action == "cat" and step == "category" and value in CATEGORIES:
            data["category"] = value
        elif action == "none" and step in _NONE and value is None:
            data.update(_NONE[step])
        elif action == "rep" and step == "repeat" and value in KINDS:
            if data.get("repeat") != value:
                for key in ("days", "nth", "weekday", "date", "until", "skips"):
                    data.pop(key, None)
            data["repeat"] = value
        elif action in _TOGGLES and step == _TOGGLES[action][0] and value is not None:
            key = _TOGGLES[action][1]
            allowed = {"day": [str(d) for d in range(7)], "lang": SPOKEN, "need": NEEDS}[action]
            if value not in allowed:
                raise Expired(value)
            item: int | str = int(value) if action == "day" else value
            chosen = list(data.get(key) or [])
            if item in chosen:
                chosen.remove(item)
            else:
                chosen.append(item)
            data[key] = chosen
            await services.drafts.save(draft, services.now())
            await answer(query)
            today = local_today(services.now(), group.timezone)
            await show(update, pv.question(step, data, today, group.timezone, []))
            return
        elif action == "ok" and step in ("days", "languages", "needs") and value is None:
            if step == "days" and not data.get("days"):
                await answer(query, pv.problem(Problem("no_days")).text[2:])
                return
            if step == "languages" and not data.get("languages"):
                data["languages"] = ["en"]
        elif action == "nth" and step == "nth" and value in ("1", "2", "3", "4", "-1"):
            data["nth"] = int(value)
        elif action == "wd" and step == "weekday" and value in [str(d) for d in range(7)]:
            data["weekday"] = int(value)
        elif action == "date" and step == "date" and value is not None:
            try:
                day = date.fromisoformat(value)
                data.update(check_date(day, data, local_today(services.now(), group.timezone)))
            except ValueError:
                raise Expired(value) from None
            except Problem as error:
                await answer(query, pv.problem(error).text[2:])
                return
        elif action == "pub" and step == "preview" and value is None:
            await self._publish(update, context, draft, group)
            return
        elif action == "fix" and step == "preview" and value is None:
            await answer(query)
            await show(update, pv.fix_picker())
            return
        elif action == "pv" and step == "preview" and value is None:
            await answer(query)
            await show(update, await self._preview(context, draft, group))
            return
        elif action == "sec" and step == "preview" and value in SECTIONS:
            draft.section = value
            draft.step = first_step(value, data)
            draft.trail = []
            await services.drafts.save(draft, services.now())
            await answer(query)
            await self._ask(update, context, draft)
            return
        else:
            raise Expired(action)
        await answer(query)
        await self._close_buttons(update)
        await self._advance(update, context, draft)

    async def _close_buttons(self, update: Update) -> None:
        """The question was answered by a button: take its keyboard away."""
        query = update.callback_query
        if query is not None and isinstance(query.message, Message):
            with contextlib.suppress(BadRequest):  # only tidiness is at stake
                await query.message.edit_reply_markup(None)

    async def _publish(
        self, update: Update, context: AppContext, draft: Draft, group: Group
    ) -> None:
        query = update.callback_query
        assert query is not None
        services = context.services
        if missing(draft.data):
            await answer(query)
            await show(update, await self._preview(context, draft, group))
            return
        done = await services.organiser.publish(draft, group)
        await self.asking.stop(context, draft.user_id)
        if done is None:
            await answer(query, pv.not_allowed())
            return
        await answer(query)
        await self._close_buttons(update)
        await send(update, pv.published(done.title, done.pending, done.told))

    async def start_edit(
        self, update: Update, context: AppContext, user_id: int, activity_id: int, section: str
    ) -> bool:
        """Ask the first question of one part of an existing activity (from /myactivities).

        False when a new post is in progress (it would be overwritten).
        """
        services = context.services
        existing = await services.drafts.get(user_id)
        if existing is not None and existing.activity_id is None:
            return False
        activity = await services.activities.get(activity_id)
        group = services.directory.groups.get(activity.group_id) if activity else None
        if activity is None or group is None:
            raise Expired(str(activity_id))
        data = answers_of(activity, group.timezone)
        draft = Draft(user_id, group.id, first_step(section, data), activity.id, section, data=data)
        await services.drafts.save(draft, services.now())
        await self._ask(update, context, draft)
        return True


def register(app: App) -> Posting:
    """Posting commands, answers and buttons; answers go before the places catch-all.

    Returns the journey (managing reuses it). Who is being asked is picked up again in
    post_init; another command, button or pin stops the asking (``TypedQuestion``).
    """
    journey = Posting(app)
    private = filters.ChatType.PRIVATE
    listening = private & journey.asking.filter
    app.add_handler(CommandHandler("newactivity", journey.newactivity, filters=private))
    app.add_handler(CommandHandler("back", journey.back, filters=private))
    app.add_handler(CommandHandler("cancel", journey.cancel, filters=listening))
    app.add_handler(MessageHandler(listening & filters.TEXT & ~filters.COMMAND, journey.on_text))
    app.add_handler(MessageHandler(listening & filters.LOCATION, journey.on_location))
    app.add_handler(CallbackQueryHandler(journey.button, pattern=r"^W:"))
    return journey
