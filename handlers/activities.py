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
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.callbacks import Expired
from bot.context import App, AppContext, KeepOpen
from bot.domain.posting import (
    NONE_ANSWERS,
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
from bot.views import common
from bot.views import posting as pv
from bot.views.common import View, which_group
from handlers import places
from handlers.admin import refuse
from handlers.base import answer, expired, send, show
from handlers.questions import TypedQuestion
from storage.drafts import Draft
from storage.models import Group

_NONE = NONE_ANSWERS
CHOICES = 90  # groups offered as buttons (Telegram shows at most 100)
POSTING_CODES = (
    cb.PostNew, cb.PostForGroup, cb.PostDiscard, cb.PostCategory, cb.PostNone, cb.PostRepeat,
    cb.PostToggleDay, cb.PostToggleLanguage, cb.PostToggleNeed, cb.PostDone, cb.PostNth,
    cb.PostWeekday, cb.PostDate, cb.PostPublish, cb.PostFix, cb.PostPreview, cb.PostSection,
)  # fmt: skip


def _toggled(pressed: cb.Button) -> tuple[str, int | str] | None:
    """A multiple-choice button: the question (and the draft's key) it answers, and the item."""
    if isinstance(pressed, cb.PostToggleDay):
        return "days", pressed.day
    if isinstance(pressed, cb.PostToggleLanguage):
        return "languages", pressed.language
    if isinstance(pressed, cb.PostToggleNeed):
        return "needs", pressed.need
    return None


# A post's own buttons, commands and pins: doing anything else stops the asking (answers kept).
_KEEP_OPEN = KeepOpen(
    buttons=cb.family("W"), commands=("newactivity", "back", "cancel"), locations=True
)


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
            await send(update, View(common.expired()))
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
            await send(update, View(which_group([g.ref for g in allowed])))
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
        """A posting button (bot/callbacks.py): an answer to the question being asked (else
        expired), or the group to post for, the menu's "Post an activity", discard."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        user_id = query.from_user.id
        services = context.services
        pressed = cb.parse(query.data)
        try:
            if isinstance(pressed, cb.PostForGroup):
                group_id = pressed.group
                if not await services.organiser.may_post(user_id, group_id):
                    await refuse(update, context, "newactivity", group_id, pv.not_allowed())
                    return
                await answer(query)
                if await services.drafts.get(user_id) is None:
                    await self._start(update, context, user_id, group_id)
                return
            if isinstance(pressed, cb.PostNew):  # the main menu's "Post an activity"
                await self.newactivity(update, context)  # answers the press itself, once
                return
            if isinstance(pressed, cb.PostDiscard):
                await self.asking.stop(context, user_id)
                await services.drafts.delete(user_id)
                await answer(query)
                await show(update, pv.discarded())
                return
            if await services.drafts.get(user_id) is None:
                raise Expired(pressed.prefix)
            found = await self._current(update, context)
            if found is None:
                return
            draft, group = found
            await self._press(update, context, draft, group, pressed)
        except Expired:
            await expired(update, context)

    async def _press(
        self,
        update: Update,
        context: AppContext,
        draft: Draft,
        group: Group,
        pressed: cb.Button,
    ) -> None:
        query = update.callback_query
        assert query is not None
        services = context.services
        step = draft.step
        data = draft.data
        toggled = _toggled(pressed)
        if isinstance(pressed, cb.PostCategory) and step == "category":
            data["category"] = pressed.category
        elif isinstance(pressed, cb.PostNone) and step in _NONE:
            data.update(_NONE[step])
        elif isinstance(pressed, cb.PostRepeat) and step == "repeat":
            if data.get("repeat") != pressed.kind:
                for key in ("days", "nth", "weekday", "date", "until", "skips"):
                    data.pop(key, None)
            data["repeat"] = pressed.kind
        elif toggled is not None and step == toggled[0]:
            key, item = toggled
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
        elif isinstance(pressed, cb.PostDone) and step in ("days", "languages", "needs"):
            if step == "days" and not data.get("days"):
                await answer(query, pv.problem(Problem("no_days")).text[2:])
                return
            if step == "languages" and not data.get("languages"):
                data["languages"] = ["en"]
        elif isinstance(pressed, cb.PostNth) and step == "nth":
            data["nth"] = int(pressed.nth)
        elif isinstance(pressed, cb.PostWeekday) and step == "weekday":
            data["weekday"] = pressed.weekday
        elif isinstance(pressed, cb.PostDate) and step == "date":
            today = local_today(services.now(), group.timezone)
            try:
                data.update(check_date(pressed.day, data, today))
            except Problem as error:
                await answer(query, pv.problem(error).text[2:])
                return
        elif isinstance(pressed, cb.PostPublish) and step == "preview":
            await self._publish(update, context, draft, group)
            return
        elif isinstance(pressed, cb.PostFix) and step == "preview":
            await answer(query)
            await show(update, pv.fix_picker())
            return
        elif isinstance(pressed, cb.PostPreview) and step == "preview":
            await answer(query)
            await show(update, await self._preview(context, draft, group))
            return
        elif isinstance(pressed, cb.PostSection) and step == "preview":
            draft.section = pressed.section
            draft.step = first_step(pressed.section, data)
            draft.trail = []
            await services.drafts.save(draft, services.now())
            await answer(query)
            await self._ask(update, context, draft)
            return
        else:
            raise Expired(pressed.prefix)
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
    app.add_handlers(cb.handlers(journey.button, *POSTING_CODES))
    return journey
