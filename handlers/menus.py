"""The main menu, /help and the chat's command menu, which follow the person's roles.

Shared by the journeys that show the menu or change roles (start, find, admin, privacy): kept
apart from any journey's module so none of them imports another for it.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, MenuButtonDefault, Update
from telegram.error import TelegramError

from bot.context import AppContext, remembered_now
from bot.i18n import current_locale, resolve_locale, use_locale
from bot.views import desk as dv
from bot.views import menus as mv
from bot.views.common import View

log = logging.getLogger(__name__)
_COMMANDS = "commands"  # in the person's session: the command menu last set for them
_DESK = "desk_menu"  # in the person's session: their menu button opens the desk


async def roles_of(context: AppContext, user_id: int) -> frozenset[str]:
    """The kinds of role the person holds now (read from the database every time)."""
    return frozenset(r.role for r in await context.services.roles.roles_of(user_id))


async def help_view(update: Update, context: AppContext) -> View:
    """/help for this person: their roles' commands too (and their command menu in step)."""
    user = update.effective_user
    roles = await roles_of(context, user.id) if user else frozenset()
    if user is not None:
        await sync_commands(context, user.id, roles)
    return mv.help_text(roles)


async def menu_view(update: Update, context: AppContext) -> View:
    """The main menu for this person: what brought them, their saved area, their roles."""
    user = update.effective_user
    row = await context.services.users.get(user.id) if user else None
    roles = await roles_of(context, user.id) if user else frozenset()
    if user is not None:
        await sync_commands(context, user.id, roles)
    return mv.main_menu(
        row.intent if row else None,
        row.area_label if row else None,
        bool(row and row.has_area),
        roles,
    )


async def sync_commands(
    context: AppContext, user_id: int, roles: frozenset[str], changed: bool = False
) -> None:
    """The command menu of the person's private chat, in their language, with their roles'
    commands, and its menu button (the desk for coordinators and group admins, with a public
    address) (best effort). Set again only when the language or the roles changed since it
    was last set, as their session says (kept in the database: any instance may set it);
    ``changed``: their roles just changed (the menu button is put back if it was the desk)."""
    done = f"{current_locale()}:{','.join(sorted(roles))}"
    state = remembered_now(user_id)  # None: another person's menu (an admin removed them)
    if state is not None and state.session.get(_COMMANDS) == done:
        return
    try:
        await context.bot.set_my_commands(
            [BotCommand(name, text) for name, text in mv.commands(roles)],
            scope=BotCommandScopeChat(user_id),
        )
    except TelegramError as exc:
        log.info("could not set chat commands: %s", exc.message)
        return
    public_url = context.services.config.public_url
    desk = dv.menu_button(public_url, roles)
    was_desk = state is not None and bool(state.session.get(_DESK))
    if public_url is not None and (desk is not None or changed or was_desk):
        try:
            await context.bot.set_chat_menu_button(user_id, desk or MenuButtonDefault())
        except TelegramError as exc:
            log.info("could not set the chat's menu button: %s", exc.message)
            return
        if state is not None:
            state.session[_DESK] = desk is not None
    if state is not None:
        state.session[_COMMANDS] = done
        return
    # Their session no longer says what their menu is: set it again when they next come.
    services = context.services
    stored = await services.sessions.get(user_id)
    if stored.pop(_COMMANDS, None) is not None:
        await services.sessions.save(user_id, stored, services.now())


async def forget_commands(context: AppContext, user_id: int) -> None:
    """After /forget (roles gone with everything else): the chat's own command menu is
    deleted, so the language's menu for everyone shows again (best effort)."""
    try:
        await context.bot.delete_my_commands(scope=BotCommandScopeChat(user_id))
        if context.services.config.public_url is not None:  # no more desk in the menu
            await context.bot.set_chat_menu_button(user_id, MenuButtonDefault())
    except TelegramError as exc:
        log.info("could not delete chat commands: %s", exc.message)


async def roles_changed(update: Update, context: AppContext, user_id: int) -> None:
    """The person's roles changed (they joined a team, were removed from one): their command
    menu follows, in their language (this update's when it is theirs, else their stored one)."""
    roles = await roles_of(context, user_id)
    sender = update.effective_user
    if sender is not None and sender.id == user_id:
        await sync_commands(context, user_id, roles, changed=True)
        return
    row = await context.services.users.get(user_id)
    with use_locale(resolve_locale(row.locale if row else None, None)):
        await sync_commands(context, user_id, roles, changed=True)
