"""Group admins: invites, the team, and the weekly post in a group's Telegram chat.

Roles are read from the database on every command and button: nothing about who may do what
is trusted from the update or kept in memory. A refusal is answered and written to the audit
log.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.context import App, AppContext
from bot.domain import deeplinks
from bot.i18n import current_locale
from bot.views import admin as av
from bot.views import safeguarding as sv
from bot.views import share as shv
from bot.views.common import View, which_group
from handlers.base import answer, send, show
from handlers.menus import roles_changed
from storage.models import Group
from storage.roles import ADMIN, COORDINATOR, VOLUNTEER

GROUP_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP)


async def _reply(update: Update, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)  # HTML (the bot's Defaults); views escape what they insert


async def may_manage(context: AppContext, user_id: int, group_id: int) -> bool:
    """Whether the person is a coordinator or an admin of this group (read now, every time)."""
    return await context.services.roles.manages(user_id, group_id)


async def refuse(
    update: Update,
    context: AppContext,
    what: str,
    group_id: int | None,
    message: str | None = None,
) -> None:
    """Answer a refused command or button (default: admins only) and audit it."""
    user = update.effective_user
    services = context.services
    await services.roles.log(
        user.id if user else None, "refused", group_id=group_id, detail=what, now=services.now()
    )
    text = message or av.admins_only()
    if update.callback_query is not None:
        await answer(update.callback_query, text)
    else:
        await _reply(update, text)


async def managed_group(update: Update, context: AppContext, what: str) -> Group | None:
    """The group the caller manages, named after the command when they manage several.

    Replies (which group? / refused) and returns None when there is none to act on.
    """
    user = update.effective_user
    assert user is not None
    args = context.args or []
    directory = context.services.directory
    roles = await context.services.roles.roles_of(user.id)
    coordinator = any(r.role == COORDINATOR for r in roles)
    admin_of = {r.group_id for r in roles if r.role == ADMIN}
    group: Group | None = None
    if args:
        group = next((g for g in directory.groups.values() if g.ref == args[0].lower()), None)
    elif len(admin_of) == 1:
        group = directory.groups.get(next(iter(admin_of)))
    if group is None and (coordinator or admin_of):  # none named, several, or a wrong name
        refs = sorted(g.ref for g in directory.groups.values() if coordinator or g.id in admin_of)
        await _reply(update, which_group(refs))
        return None
    if group is None or not (coordinator or group.id in admin_of):
        await refuse(update, context, what, group.id if group else None)
        return None
    if any(not r.label for r in roles):  # granted from the command line: no name yet
        await context.services.roles.name(user.id, user.first_name)
    return group


async def weekly(update: Update, context: AppContext) -> None:
    """/weekly on [group] or /weekly off, in a group chat: group admins and coordinators."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    assert chat is not None
    args = [a.lower() for a in (context.args or [])]
    if chat.type not in GROUP_CHATS or not args or args[0] not in ("on", "off") or len(args) > 2:
        await _reply(update, av.weekly_usage())
        return
    # Sent as the group (an anonymous admin) or as a channel: nobody whose role can be checked.
    if user is None or (message is not None and message.sender_chat is not None):
        await _reply(update, av.weekly_anonymous())
        return
    services = context.services
    group: Group | None
    if args[0] == "off":
        linked = await services.group_chats.get(chat.id)
        if linked is None:  # nothing linked here: nothing to switch off
            await _reply(update, av.weekly_nothing_linked())
            return
        group = services.directory.groups.get(linked.group_id)
        if group is None or not await may_manage(context, user.id, group.id):
            await refuse(update, context, "weekly", linked.group_id)
            return
    else:
        context.args = args[1:]
        group = await managed_group(update, context, "weekly")
        if group is None:
            return
    on = args[0] == "on"
    now = services.now()
    await services.group_chats.set_weekly(chat.id, group.id, on, current_locale(), now)
    await services.roles.log(
        user.id, "weekly_on" if on else "weekly_off", group_id=group.id, now=now
    )
    await _reply(update, av.weekly_on(group.name) if on else av.weekly_off())


async def invite(update: Update, context: AppContext) -> None:
    """/invite [group]: a one-time link that makes someone a volunteer of the group."""
    user = update.effective_user
    assert user is not None
    group = await managed_group(update, context, "invite")
    if group is None:
        return
    services = context.services
    code = await services.roles.create_invite(group.id, user.id, services.now())
    link = deeplinks.link(context.bot.username, "j", code)
    await send(update, av.invite_link(group.name, link))


async def join(update: Update, context: AppContext, code: str) -> None:
    """/start j-<code>: the invite link was opened."""
    user = update.effective_user
    assert user is not None
    services = context.services
    redeemed = await services.roles.redeem_invite(code, user.id, user.first_name, services.now())
    group = services.directory.groups.get(redeemed.group_id) if redeemed is not None else None
    if group is None or redeemed is None:
        await send(update, av.invite_invalid())
    elif not redeemed.joined:  # their own link, or already in the team: kindly, nothing changed
        await send(update, av.invite_own(group.name))
    else:
        await send(update, av.joined(group.name))
        # /newactivity and /myactivities in their menu
        await roles_changed(update, context, user.id)


async def _team_view(context: AppContext, group: Group) -> View:
    services = context.services
    members = await services.roles.team(group.id)
    contact = await services.safeguarding.contact(group.id)
    interest = await services.safeguarding.interest_counts(group.id)
    extra = [sv.contact_line(contact.label or f"#{contact.user_id}" if contact else None)]
    extra += sv.interest_lines([(title, count) for _id, title, count in interest[:10]])
    extra.append(shv.group_link_line(deeplinks.group_link(context.bot.username, group.ref)))
    listed = [(m.user_id, m.role, m.label) for m in members]
    return av.team(group.name, group.id, listed, tuple(extra))


async def team(update: Update, context: AppContext) -> None:
    """/team [group]: the group's admins and volunteers, each volunteer removable."""
    group = await managed_group(update, context, "team")
    if group is not None:
        await send(update, await _team_view(context, group))


async def remove_volunteer(update: Update, context: AppContext) -> None:
    """T:rm:<group>:<user>: remove a volunteer (the caller's role is checked again here)."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    pressed = cb.RemoveVolunteer.decode(query.data)
    group_id, volunteer = pressed.group, pressed.user
    services = context.services
    group = services.directory.groups.get(group_id)
    if group is None or not await may_manage(context, query.from_user.id, group_id):
        await refuse(update, context, "team", group_id)
        return
    await services.roles.revoke(volunteer, VOLUNTEER, group_id, query.from_user.id, services.now())
    await roles_changed(update, context, volunteer)  # their command menu loses what they cannot do
    await answer(query, av.removed_from_team())
    await show(update, await _team_view(context, group))


def register(app: App) -> None:
    """Admin commands and buttons (/weekly checks itself where it runs)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("weekly", weekly))
    app.add_handler(CommandHandler("invite", invite, filters=private))
    app.add_handler(CommandHandler("team", team, filters=private))
    app.add_handlers(cb.handlers(remove_volunteer, cb.RemoveVolunteer))
