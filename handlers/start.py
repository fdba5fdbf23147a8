"""Start: choose a language, say what brings you here, reach the main menu; /language, /help."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.context import App, AppContext
from bot.domain import deeplinks
from bot.domain.vocabulary import Intent
from bot.i18n import (
    current_locale,
    match_language,
    set_locale,
)
from bot.views import campaigns as cv
from bot.views import start as stv
from bot.views.common import View
from bot.views.share import INLINE_START
from handlers.alerts import subscribe_supporter
from handlers.base import answer, send, show
from handlers.find import find_command
from handlers.menus import help_view, menu_view, roles_of, sync_commands
from handlers.share import link_view

log = logging.getLogger(__name__)


async def start(update: Update, context: AppContext) -> None:
    """/start: the language picker, the person's Telegram language first.

    A deep link's payload (bot.domain.deeplinks) says more: ``j-<code>`` an invite, the person
    joins a group's team; ``a-<id>`` and ``g-<ref>`` a shared activity or group, shown at
    once to someone who chose a language before, and after the choice to someone new (the
    language buttons carry the payload, so a restart in between loses nothing).
    """
    link = deeplinks.parse(context.args[0] if context.args else None)
    if link is not None and link.kind == "j":
        from handlers.admin import join

        await join(update, context, link.value)
        return
    user = update.effective_user
    stored = await context.services.users.get(user.id) if user else None
    known = stored is not None and stored.locale is not None
    if link is not None and known:
        await send(update, await link_view(update, context, link))
        return
    if known and context.args == [INLINE_START]:  # "Type a town or postcode" in inline mode
        await find_command(update, context)
        return
    suggested = (stored.locale if stored else None) or match_language(
        user.language_code if user else None
    )
    await send(update, stv.language_picker(suggested, link.payload if link else "s"))


async def language(update: Update, context: AppContext) -> None:
    """/language: the picker at any time."""
    await send(update, stv.language_picker(current_locale(), "c"))


async def help_command(update: Update, context: AppContext) -> None:
    """/help: what the bot does, and the commands of the person's roles."""
    await send(update, await help_view(update, context))


async def menu(update: Update, context: AppContext) -> None:
    """/menu: the main menu."""
    await send(update, await menu_view(update, context))


async def chose_language(update: Update, context: AppContext) -> None:
    """L:<code>:<flow>: store the language, then ask what brings them (s: start), confirm
    (c: changed), or open the shared activity or group a deep link named (its payload)."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    pressed = cb.ChooseLanguage.decode(query.data)
    code, flow, link = pressed.language, pressed.flow, pressed.link
    await context.services.users.set_locale(query.from_user.id, code)
    set_locale(code)
    await answer(query)
    await sync_commands(context, query.from_user.id, await roles_of(context, query.from_user.id))
    if link is not None:
        await show(update, await link_view(update, context, link))
    elif flow == "s":
        await show(update, stv.intent_question())
    else:
        menu = await menu_view(update, context)
        await show(update, View(stv.language_saved() + "\n\n" + menu.text, menu.markup))


async def chose_intent(update: Update, context: AppContext) -> None:
    """I:<intent>: remember what brought the person, then show the main menu."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    intent = cb.ChooseIntent.decode(query.data).intent
    users = context.services.users
    before = await users.get(query.from_user.id)
    await users.set_intent(query.from_user.id, intent)
    await answer(query)
    menu = await menu_view(update, context)
    # Subscribed when they first say they came for campaigns, never again after /stop alerts.
    newly = before is None or before.intent != Intent.SUPPORTER
    if (
        intent == Intent.SUPPORTER
        and newly
        and await subscribe_supporter(context, query.from_user.id)
    ):
        menu = View(cv.alerts_subscribed_note() + "\n\n" + menu.text, menu.markup)
    await show(update, menu)


async def menu_button(update: Update, context: AppContext) -> None:
    """M:lang, M:help, M:menu."""
    query = update.callback_query
    assert query is not None
    await answer(query)
    pressed = cb.parse(query.data)
    if isinstance(pressed, cb.MenuLanguage):
        await show(update, stv.language_picker(current_locale(), "c"))
    elif isinstance(pressed, cb.MenuHelp):
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
    app.add_handlers(cb.handlers(chose_language, cb.ChooseLanguage))
    app.add_handlers(cb.handlers(chose_intent, cb.ChooseIntent))
    app.add_handlers(cb.handlers(menu_button, cb.MenuLanguage, cb.MenuHelp, cb.MenuShow))
