"""Typed answers: questions whose answer is the person's next text, and giving them up.

A journey asks a ``TypedQuestion`` just after a button ("Type the title", "Why was it
refused?"). The person's next private text then goes to that journey's handler instead of
being read as a place (handlers.places). What the answer is for is kept in the database
(``awaited_answers``), so a question asked before a restart is still answered after it.

A question stays open while the person does what is part of answering it (its ``KeepOpen``:
its buttons, commands, shared pins). After every update, any other action (another command,
another journey's button, a pin) gives it up, unless that same update asked it: the next
text is then read afresh. Each journey's questions are listed in docs/conversations.md.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import MessageHandler, TypeHandler, filters

from bot.context import Action, App, AppContext, KeepOpen
from bot.domain.retention import KEEP_DRAFTS
from bot.services import Services
from handlers import places
from storage.awaited import About


def action_of(update: Update) -> Action | None:
    """A button pressed anywhere, or a command or pin sent in private; None for anything else
    (typed text above all, which answers the open question)."""
    if update.callback_query is not None:
        return Action("button", update.callback_query.data or "")
    message = update.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return None
    if message.location is not None:
        return Action("location")
    text = message.text or ""
    if text.startswith("/"):
        return Action("command", text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower())
    return None


async def give_up_on_action(update: Update, context: AppContext) -> None:
    """After every handler: a command, a button or a pin gives up the questions it is not
    part of, so that the next text is read afresh (a question this update asked stays)."""
    user = update.effective_user
    action = action_of(update)
    if user is None or action is None:
        return
    for give_up in context.bot_data.give_up_on_action:
        await give_up(context, user.id, action)


class TypedQuestion:
    """A question some people are answering now by typing: ``filter`` lets their text reach
    the journey's handler, and the database holds what the answer is for (``About``), so the
    question survives a restart (``reopen``, run when the bot starts).

    The question is given up when the person does something that is not ``keep_open``:
    another command, another journey's button, a shared location.
    """

    def __init__(self, app: App, key: str, keep_open: KeepOpen) -> None:
        self.key = key
        self.keep_open = keep_open
        self.filter = filters.User(allow_empty=False)
        app.bot_data.reopen_at_start.append(self.reopen)
        app.bot_data.forget_in_memory.append(self.filter.remove_user_ids)
        app.bot_data.give_up_on_action.append(self.give_up)

    async def reopen(self, services: Services) -> None:
        """Wait again for the answers asked for before the bot started."""
        for row in await services.awaited.of(self.key, services.now() - KEEP_DRAFTS):
            self.filter.add_user_ids(row.user_id)

    def handler(
        self, callback: Callable[[Update, AppContext], Coroutine[Any, Any, None]]
    ) -> MessageHandler[AppContext, None]:
        """The handler that gets the answering people's typed text (not commands, private only).

        When the question is no longer kept (deleted after 30 days untouched), the text is
        what it would have been had nothing been asked: a place.
        """

        async def answered(update: Update, context: AppContext) -> None:
            user = update.effective_user
            assert user is not None
            if await context.services.awaited.waits(user.id, self.key):
                await callback(update, context)
                return
            self.filter.remove_user_ids(user.id)
            await places.on_text(update, context)

        return MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & self.filter, answered
        )

    async def expect(self, context: AppContext, user_id: int, about: About) -> None:
        """Ask: wait for the person's next text, about ``about``."""
        services = context.services
        await services.awaited.expect(user_id, self.key, about, services.now())
        self.filter.add_user_ids(user_id)
        context.asked_now.add(self.key)

    async def about(self, context: AppContext, user_id: int) -> About | None:
        """What the awaited text is for (None when nothing is awaited)."""
        if user_id not in self.filter.user_ids:
            return None
        return await context.services.awaited.get(user_id, self.key)

    async def stop(self, context: AppContext, user_id: int) -> About | None:
        """Wait no longer (answered, cancelled or given up); what the text was for."""
        if user_id not in self.filter.user_ids:
            return None
        self.filter.remove_user_ids(user_id)
        return await context.services.awaited.take(user_id, self.key)

    async def give_up(self, context: AppContext, user_id: int, action: Action) -> None:
        """The person did ``action``: stop waiting, unless it is part of answering or this
        very update asked the question."""
        if action not in self.keep_open and self.key not in context.asked_now:
            await self.stop(context, user_id)


def register(app: App) -> None:
    """Questions are given up last (group 1), after the journey has handled the update."""
    app.add_handler(TypeHandler(Update, give_up_on_action), group=1)
