"""/desk: the coordinators' desk (a Mini App, bot/web/desk.py) for coordinators and group
admins, and the chat's menu button that opens it. Roles are read from the database; a refusal
is answered and audited."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.context import App, AppContext
from bot.views import desk as dv
from handlers.admin import refuse
from handlers.base import send
from storage.roles import ADMIN, COORDINATOR


async def desk(update: Update, context: AppContext) -> None:
    """/desk: the button that opens the desk, for coordinators and group admins."""
    user = update.effective_user
    assert user is not None
    roles = {r.role for r in await context.services.roles.roles_of(user.id)}
    if not roles & {ADMIN, COORDINATOR}:
        await refuse(update, context, "desk", None)
        return
    public_url = context.services.config.public_url
    if public_url is None:
        await send(update, dv.not_set_up())
        return
    await send(update, dv.open_desk(public_url))


def register(app: App) -> None:
    """The /desk command (private chats)."""
    app.add_handler(CommandHandler("desk", desk, filters=filters.ChatType.PRIVATE))
