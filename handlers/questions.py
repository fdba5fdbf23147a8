"""Typed answers: questions whose answer is the person's next text, and giving them up.

A journey asks a ``TypedQuestion`` just after a button ("Type the title", "Why was it
refused?"). The person's next private text then goes to that journey's handler instead of
being read as a place (handlers.places). What the answer is for is kept in the database
(``awaited_answers``), read when each of the person's updates begins
(``bot.context.remembered``), so a question asked before a restart, or on another instance
sharing the database, is still answered.

A question stays open while the person does what is part of answering it (its ``KeepOpen``:
its buttons, commands, shared pins). After every update, any other action (another command,
another journey's button, a pin) gives it up, unless that same update asked it: the next
text is then read afresh. Each journey's questions are listed in docs/conversations.md.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import MessageHandler, TypeHandler, filters

from bot.context import Action, App, AppContext, KeepOpen, remembered_now
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


class _Answering(filters.MessageFilter):
    """Messages from people the question waits for, as the database said when their update
    began (``bot.context.remembered``): any instance may take the answer."""

    def __init__(self, key: str) -> None:
        super().__init__(name=f"answering {key}")
        self.key = key

    def filter(self, message: Message) -> bool:
        user = message.from_user
        state = remembered_now(user.id) if user is not None else None
        return state is not None and self.key in state.awaited


class TypedQuestion:
    """A question some people are answering now by typing: ``filter`` lets their text reach
    the journey's handler, and the database holds what the answer is for (``About``), so the
    question survives a restart, and the answer may reach any instance. Unanswered for 30
    days, it is no longer waited for.

    The question is given up when the person does something that is not ``keep_open``:
    another command, another journey's button, a shared location.
    """

    def __init__(self, app: App, key: str, keep_open: KeepOpen) -> None:
        self.key = key
        self.keep_open = keep_open
        self.filter = _Answering(key)
        app.bot_data.give_up_on_action.append(self.give_up)

    def handler(
        self, callback: Callable[[Update, AppContext], Coroutine[Any, Any, None]]
    ) -> MessageHandler[AppContext, None]:
        """The handler that gets the answering people's typed text (not commands, private only)."""
        return MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & self.filter, callback
        )

    def _waits(self, user_id: int) -> bool | None:
        """Whether the question waits for the person, as read when their update began (None:
        not read, this update is someone else's)."""
        state = remembered_now(user_id)
        return None if state is None else self.key in state.awaited

    async def expect(self, context: AppContext, user_id: int, about: About) -> None:
        """Ask: wait for the person's next text, about ``about``."""
        services = context.services
        await services.awaited.expect(user_id, self.key, about, services.now())
        state = remembered_now(user_id)
        if state is not None:
            state.awaited.add(self.key)
        context.asked_now.add(self.key)

    async def about(self, context: AppContext, user_id: int) -> About | None:
        """What the awaited text is for (None when nothing is awaited)."""
        if self._waits(user_id) is False:
            return None
        return await context.services.awaited.get(user_id, self.key)

    async def stop(self, context: AppContext, user_id: int) -> About | None:
        """Wait no longer (answered, cancelled or given up); what the text was for."""
        state = remembered_now(user_id)
        if state is not None:
            if self.key not in state.awaited:
                return None
            state.awaited.discard(self.key)
        return await context.services.awaited.take(user_id, self.key)

    async def give_up(self, context: AppContext, user_id: int, action: Action) -> None:
        """The person did ``action``: stop waiting, unless it is part of answering or this
        very update asked the question."""
        if action not in self.keep_open and self.key not in context.asked_now:
            await self.stop(context, user_id)


def register(app: App) -> None:
    """Questions are given up last (group 1), after the journey has handled the update."""
    app.add_handler(TypeHandler(Update, give_up_on_action), group=1)
