"""Start: choose a language, say what brings you here, reach the main menu; /language, /help."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import campaign_views as cv
from bot import views
from bot.callbacks import Expired, split
from bot.context import App, AppContext
from bot.domain import Intent
from bot.i18n import (
    BY_CODE,
    current_locale,
    match_language,
    resolve_locale,
    set_locale,
    use_locale,
)
from handlers.alerts import subscribe_supporter
from handlers.base import answer, expired, send, show

log = logging.getLogger(__name__)
_INTENTS = {i.value for i in Intent}
_COMMANDS = "commands"  # in the person's chat data: the command menu last set for them


async def start(update: Update, context: AppContext) -> None:
    """/start: the language picker, the person's Telegram language first.

    /start j-<code> comes from an invite link: the person joins a group's team.
    """
    if context.args and context.args[0].startswith("j-"):
        from handlers.admin import join

        await join(update, context, context.args[0][2:])
        return
    user = update.effective_user
    stored = await context.services.users.get(user.id) if user else None
    suggested = (stored.locale if stored else None) or match_language(
        user.language_code if user else None
    )
    await send(update, views.language_picker(suggested, "s"))


async def language(update: Update, context: AppContext) -> None:
    """/language: the picker at any time."""
    await send(update, views.language_picker(current_locale(), "c"))


async def help_command(update: Update, context: AppContext) -> None:
    """/help: what the bot does, and the commands of the person's roles."""
    await send(update, await help_view(update, context))


async def menu(update: Update, context: AppContext) -> None:
    """/menu: the main menu."""
    await send(update, await menu_view(update, context))


async def roles_of(context: AppContext, user_id: int) -> frozenset[str]:
    """The kinds of role the person holds now (read from the database every time)."""
    return frozenset(r.role for r in await context.services.roles.roles_of(user_id))


async def help_view(update: Update, context: AppContext) -> views.View:
    """/help for this person: their roles' commands too (and their command menu in step)."""
    user = update.effective_user
    roles = await roles_of(context, user.id) if user else frozenset()
    if user is not None:
        await sync_commands(context, user.id, roles)
    return views.help_text(roles)


async def menu_view(update: Update, context: AppContext) -> views.View:
    """The main menu for this person: what brought them, their saved area, their roles."""
    user = update.effective_user
    row = await context.services.users.get(user.id) if user else None
    roles = await roles_of(context, user.id) if user else frozenset()
    if user is not None:
        await sync_commands(context, user.id, roles)
    return views.main_menu(
        row.intent if row else None,
        row.area_label if row else None,
        bool(row and row.has_area),
        roles,
    )


async def chose_language(update: Update, context: AppContext) -> None:
    """L:<code>:<flow>: store the language, then ask what brings them (start) or confirm."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    try:
        _prefix, fields = split(query.data)
        if len(fields) != 2 or fields[0] not in BY_CODE or fields[1] not in ("s", "c"):
            raise Expired(query.data or "")
    except Expired:
        await expired(update, context)
        return
    code, flow = fields
    await context.services.users.set_locale(query.from_user.id, code)
    set_locale(code)
    await answer(query)
    await sync_commands(context, query.from_user.id, await roles_of(context, query.from_user.id))
    if flow == "s":
        await show(update, views.intent_question())
    else:
        menu = await menu_view(update, context)
        await show(update, views.View(views.language_saved() + "\n\n" + menu.text, menu.markup))


async def sync_commands(context: AppContext, user_id: int, roles: frozenset[str]) -> None:
    """The command menu of the person's private chat, in their language, with their roles'
    commands (best effort). Set again only when the language or the roles changed since it
    was last set by this process."""
    done = f"{current_locale()}:{','.join(sorted(roles))}"
    data = context.application.user_data[user_id]
    if data.get(_COMMANDS) == done:
        return
    try:
        await context.bot.set_my_commands(
            [BotCommand(name, text) for name, text in views.commands(roles)],
            scope=BotCommandScopeChat(user_id),
        )
    except TelegramError as exc:
        log.info("could not set chat commands: %s", exc.message)
        return
    data[_COMMANDS] = done


async def forget_commands(context: AppContext, user_id: int) -> None:
    """After /forget (roles gone with everything else): the chat's own command menu is
    deleted, so the language's menu for everyone shows again (best effort)."""
    try:
        await context.bot.delete_my_commands(scope=BotCommandScopeChat(user_id))
    except TelegramError as exc:
        log.info("could not delete chat commands: %s", exc.message)


async def roles_changed(update: Update, context: AppContext, user_id: int) -> None:
    """The person's roles changed (they joined a team, were removed from one): their command
    menu follows, in their language (this update's when it is theirs, else their stored one)."""
    roles = await roles_of(context, user_id)
    sender = update.effective_user
    if sender is not None and sender.id == user_id:
        await sync_commands(context, user_id, roles)
        return
    row = await context.services.users.get(user_id)
    with use_locale(resolve_locale(row.locale if row else None, None)):
        await sync_commands(context, user_id, roles)


async def chose_intent(update: Update, context: AppContext) -> None:
    """I:<intent>: remember what brought the person, then show the main menu."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    try:
        _prefix, fields = split(query.data)
        if len(fields) != 1 or fields[0] not in _INTENTS:
            raise Expired(query.data or "")
    except Expired:
        await expired(update, context)
        return
    users = context.services.users
    before = await users.get(query.from_user.id)
    await users.set_intent(query.from_user.id, fields[0])
    await answer(query)
    menu = await menu_view(update, context)
    # Subscribed when they first say they came for campaigns, never again after /stop alerts.
    newly = before is None or before.intent != Intent.SUPPORTER
    if (
        fields[0] == Intent.SUPPORTER
        and newly
        and await subscribe_supporter(context, query.from_user.id)
    ):
        menu = views.View(cv.alerts_subscribed_note() + "\n\n" + menu.text, menu.markup)
    await show(update, menu)


async def menu_button(update: Update, context: AppContext) -> None:
    """M:lang, M:help, M:menu."""
    query = update.callback_query
    assert query is not None
    await answer(query)
    item = (query.data or "").partition(":")[2]
    if item == "lang":
        await show(update, views.language_picker(current_locale(), "c"))
    elif item == "help":
        await show(update, await help_view(update, context))
    else:
        await show(update, await menu_view(update, context))


def register(app: App) -> None:
    """Commands and buttons of the start journey."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start, filters=private))
    app.add_handler(CommandHandler("language", language, filters=private))
    app.add_handler(CommandHandler("help", help_command, filters=private))
    app.add_handler(CommandHandler("menu", menu, filters=private))
    app.add_handler(CallbackQueryHandler(chose_language, pattern=r"^L:"))
    app.add_handler(CallbackQueryHandler(chose_intent, pattern=r"^I:"))
    app.add_handler(CallbackQueryHandler(menu_button, pattern=r"^M:(lang|help|menu)$"))
