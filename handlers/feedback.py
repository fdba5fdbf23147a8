"""Anonymous feedback: after an occurrence, people who said "I'm interested" are asked how
welcome they felt (1-5) and may add a few words. Organisers see aggregates, never who."""

from __future__ import annotations

from telegram import Update

from bot import callbacks as cb
from bot.context import App, AppContext, KeepOpen
from bot.views import posting as pv
from bot.views.common import View, not_understood
from handlers.base import answer, expired, send, show
from handlers.questions import TypedQuestion
from storage.feedback import WORDS_LIMIT


class Feedback:
    """The feedback answers of one application (``adding``: people who may type words now)."""

    def __init__(self, app: App) -> None:
        self.adding = TypedQuestion(app, "feedback", KeepOpen(buttons=cb.family("FB")))

    async def button(self, update: Update, context: AppContext) -> None:
        """FB:<activity>:<1-5> records the answer; FB:done closes."""
        query = update.callback_query
        assert query is not None and query.from_user is not None
        user_id = query.from_user.id
        services = context.services
        pressed = cb.parse(query.data)
        if isinstance(pressed, cb.FeedbackDone):
            await self.adding.stop(context, user_id)
            await answer(query, pv.feedback_closed())
            await show(update, View(pv.feedback_closed()))
            return
        assert isinstance(pressed, cb.FeedbackScore)
        activity_id = pressed.activity
        if not await services.feedback.was_asked(activity_id, user_id):
            await expired(update, context)  # only people who were asked may answer
            return
        await services.feedback.answer(activity_id, user_id, pressed.score, services.now())
        await self.adding.expect(context, user_id, activity_id)
        await answer(query)
        await show(update, pv.feedback_thanks())

    async def words(self, update: Update, context: AppContext) -> None:
        """The optional words after an answer (once)."""
        message = update.effective_message
        user = update.effective_user
        assert message is not None and message.text is not None and user is not None
        activity_id = await self.adding.stop(context, user.id)
        words = message.text.strip()[:WORDS_LIMIT]
        if isinstance(activity_id, int) and await context.services.feedback.add_words(
            activity_id, user.id, words
        ):
            await send(update, pv.feedback_words_added())
        else:
            await send(update, View(not_understood()))


def register(app: App) -> None:
    """Feedback buttons, and the words typed just after (before the places catch-all)."""
    journey = Feedback(app)
    app.add_handlers(cb.handlers(journey.button, cb.FeedbackScore, cb.FeedbackDone))
    app.add_handler(journey.adding.handler(journey.words))
