"""Organisers translate an activity's title, description, cost note and place notes, one
language at a time ("🌐 Translations" in /myactivities).

Each typed answer is saved at once (storage.translations); /back asks the previous field
again, /cancel stops (what was typed stays). The right to the activity is read again at every
answer and button, as for edits; a volunteer's translation waits for an admin while their
posts do (Organiser.translate).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import Expired
from bot.context import App, AppContext, KeepOpen
from bot.domain.posting import Problem, take_text
from bot.domain.translations import TARGETS, is_stale, original_of
from bot.views import common
from bot.views import posting as pv
from bot.views import translating as tv
from bot.views.common import View
from handlers.admin import refuse
from handlers.base import answer, expired, send, show
from handlers.questions import TypedQuestion
from storage.models import Activity, Group
from storage.translations import FIELDS, Translation

BUTTONS = (cb.TranslationLanguages, cb.TranslateInto, cb.TranslationSkip, cb.TranslationStillRight)
_KEEP_OPEN = KeepOpen(buttons=BUTTONS, commands=("back", "cancel"))
_ORDER = tuple(FIELDS)
_STEP = {"title": "title", "description": "description", "cost": "cost", "place": "venue"}


def _states(activity: Activity, found: list[Translation]) -> dict[str, str]:
    """Each language it has: "pending", "stale" or "ok" (in the bot's language order)."""
    states: dict[str, str] = {}
    for t in found:
        if t.status == "pending":
            states[t.lang] = "pending"
        elif is_stale(activity, t) and states.get(t.lang) != "pending":
            states[t.lang] = "stale"
        else:
            states.setdefault(t.lang, "ok")
    return {code: states[code] for code in TARGETS if code in states}


class Translating:
    """The translations journey of one application."""

    def __init__(self, app: App) -> None:
        self.asking = TypedQuestion(app, "translating", _KEEP_OPEN)

    async def _activity(
        self, update: Update, context: AppContext, activity_id: int
    ) -> tuple[Activity, Group] | None:
        """The activity and its group if the person may still change it; else refused."""
        user = update.effective_user
        assert user is not None
        services = context.services
        activity = await services.activities.get(activity_id)
        group = services.directory.groups.get(activity.group_id) if activity else None
        if activity is None or group is None or activity.status == "cancelled":
            raise Expired(str(activity_id))
        if not await services.organiser.may_edit(user.id, activity):
            await self.asking.stop(context, user.id)
            await refuse(update, context, "translate", activity.group_id, pv.not_allowed())
            return None
        return activity, group

    async def _screen(self, context: AppContext, activity: Activity) -> View:
        found = await context.services.translations.of_activity(activity.id)
        return tv.languages(activity, _states(activity, found))

    async def _ask(
        self, update: Update, context: AppContext, activity: Activity, lang: str, field: str
    ) -> None:
        user = update.effective_user
        assert user is not None
        found = await context.services.translations.of_activity(activity.id)
        mine = {t.field: t for t in found if t.lang == lang}
        now = mine.get(field)
        stale = any(is_stale(activity, t) for t in mine.values())
        await self.asking.expect(context, user.id, (activity.id, lang, field))
        view = tv.question(
            activity, lang, field, original_of(activity, field), now.text if now else None, stale
        )
        await send(update, view)

    async def _next(
        self,
        update: Update,
        context: AppContext,
        activity: Activity,
        lang: str,
        after: str | None,
        pending: bool = False,
    ) -> None:
        """Ask the next field that has an original to translate, or finish the language."""
        start = 0 if after is None else _ORDER.index(after) + 1
        for field in _ORDER[start:]:
            if original_of(activity, field):
                await self._ask(update, context, activity, lang, field)
                return
        user = update.effective_user
        assert user is not None
        await self.asking.stop(context, user.id)
        found = await context.services.translations.of_activity(activity.id)
        waiting = pending or any(t.lang == lang and t.status == "pending" for t in found)
        await send(update, View(tv.saved(lang, waiting)))
        await send(update, tv.languages(activity, _states(activity, found)))

    async def button(self, update: Update, context: AppContext) -> None:
        """The translations' buttons (bot/callbacks.py: TranslationLanguages, TranslateInto,
        TranslationSkip, TranslationStillRight)."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        pressed = cb.parse(query.data)
        assert isinstance(pressed, BUTTONS)
        try:
            found = await self._activity(update, context, pressed.activity)
        except Expired:
            await expired(update, context)
            return
        if found is None:
            return
        activity, _group = found
        if isinstance(pressed, cb.TranslationLanguages):
            await answer(query)
            await show(update, await self._screen(context, activity))
        elif isinstance(pressed, cb.TranslateInto):
            await answer(query)
            await self._next(update, context, activity, pressed.language, None)
        elif isinstance(pressed, cb.TranslationSkip):
            await answer(query)
            await self._next(update, context, activity, pressed.language, pressed.field)
        else:
            done = await context.services.organiser.confirm_translation(
                query.from_user.id, activity, pressed.language
            )
            await answer(query, pv.done() if done else pv.not_allowed())
            await self.asking.stop(context, query.from_user.id)
            await send(update, await self._screen(context, activity))

    async def _current(
        self, update: Update, context: AppContext
    ) -> tuple[Activity, Group, str, str] | None:
        """What the awaited text is for: the activity, its group, the language and field."""
        user = update.effective_user
        assert user is not None
        about = await self.asking.about(context, user.id)
        if (
            not isinstance(about, tuple)
            or len(about) != 3
            or not isinstance(about[0], int)
            or about[1] not in TARGETS
            or about[2] not in FIELDS
        ):
            await self.asking.stop(context, user.id)
            await send(update, View(common.expired()))
            return None
        try:
            found = await self._activity(update, context, about[0])
        except Expired:
            await self.asking.stop(context, user.id)
            await send(update, View(common.expired()))
            return None
        if found is None:
            return None
        return found[0], found[1], str(about[1]), str(about[2])

    async def on_text(self, update: Update, context: AppContext) -> None:
        """A typed field: saved at once, then the next field."""
        message = update.message
        user = update.effective_user
        assert message is not None and user is not None
        current = await self._current(update, context)
        if current is None:
            return
        activity, group, lang, field = current
        services = context.services
        try:
            taken = take_text(
                _STEP[field], message.text or "", {}, services.now(), group.timezone, None, group
            )
        except Problem as error:
            await send(update, pv.problem(error))
            await self._ask(update, context, activity, lang, field)
            return
        status = await services.organiser.translate(
            user.id, activity, group, lang, field, str(taken[_STEP[field]])
        )
        if status is None:
            await self.asking.stop(context, user.id)
            await send(update, View(pv.not_allowed()))
            return
        await self._next(update, context, activity, lang, field, status == "pending")

    async def back(self, update: Update, context: AppContext) -> None:
        """/back: the previous field of this language again."""
        current = await self._current(update, context)
        if current is None:
            return
        activity, _group, lang, field = current
        earlier = [f for f in _ORDER[: _ORDER.index(field)] if original_of(activity, f)]
        if not earlier:
            await send(update, View(pv.nothing_to_go_back_to()))
            await self._ask(update, context, activity, lang, field)
            return
        await self._ask(update, context, activity, lang, earlier[-1])

    async def cancel(self, update: Update, context: AppContext) -> None:
        """/cancel: stop asking; what was typed stays."""
        user = update.effective_user
        assert user is not None
        await self.asking.stop(context, user.id)
        await send(update, pv.stopped(False))


def register(app: App) -> None:
    """Buttons, and the answers, /back and /cancel of people translating now: before the
    posting journey's /back and the places catch-all."""
    journey = Translating(app)
    listening = filters.ChatType.PRIVATE & journey.asking.filter
    app.add_handler(CommandHandler("back", journey.back, filters=listening))
    app.add_handler(CommandHandler("cancel", journey.cancel, filters=listening))
    app.add_handler(journey.asking.handler(journey.on_text))
    app.add_handlers(cb.handlers(journey.button, *BUTTONS))
