"""Group admins: the weekly post in a group's Telegram chat (/weekly on|off).

Roles are read from the database on every command: nothing about who may do what is trusted
from the update or kept in memory. A refusal is answered and written to the audit log.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler

from bot import views
from bot.context import App, AppContext
from bot.i18n import current_locale
from storage.models import Group
from storage.roles import ADMIN, COORDINATOR

GROUP_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP)


async def _reply(update: Update, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)


def _group_by_ref(context: AppContext, ref: str) -> Group | None:
    return next((g for g in context.services.directory.groups.values() if g.ref == ref), None)


async def weekly(update: Update, context: AppContext) -> None:
    """/weekly on [group] or /weekly off, in a group chat: group admins and coordinators."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    args = [a.lower() for a in (context.args or [])]
    if chat.type not in GROUP_CHATS or not args or args[0] not in ("on", "off") or len(args) > 2:
        await _reply(update, views.weekly_usage())
        return
    services = context.services
    now = services.now()
    roles = await services.roles.roles_of(user.id)
    coordinator = any(r.role == COORDINATOR for r in roles)
    admin_of = {r.group_id for r in roles if r.role == ADMIN}
    linked = await services.group_chats.get(chat.id)

    group: Group | None = None
    if args[0] == "off":
        group = services.directory.groups.get(linked.group_id) if linked else None
    elif len(args) == 2:
        group = _group_by_ref(context, args[1])
    elif len(admin_of) == 1:
        group = services.directory.groups.get(next(iter(admin_of)))
    if group is None and (coordinator or admin_of):
        if args[0] == "off":  # nothing linked here: nothing to switch off
            await _reply(update, views.weekly_off())
            return
        groups = services.directory.groups.values()
        refs = sorted(g.ref for g in groups if coordinator or g.id in admin_of)
        await _reply(update, views.weekly_which(refs))
        return
    if group is None or not (coordinator or group.id in admin_of):
        await services.roles.log(
            user.id, "refused", group_id=group.id if group else None, detail="weekly", now=now
        )
        await _reply(update, views.admins_only())
        return
    on = args[0] == "on"
    await services.group_chats.set_weekly(chat.id, group.id, on, current_locale(), now)
    await services.roles.log(
        user.id, "weekly_on" if on else "weekly_off", group_id=group.id, now=now
    )
    await _reply(update, views.weekly_on(group.name) if on else views.weekly_off())


def register(app: App) -> None:
    """Admin commands (group chats and private chats alike: each checks where it runs)."""
    app.add_handler(CommandHandler("weekly", weekly))
