"""Reminders: "Remind me" on a card, /reminders to see and stop them, their settings."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import views
from bot.callbacks import Expired, positive_id, split, verb_and_id
from bot.context import App, AppContext
from bot.i18n import gettext
from handlers.base import answer, expired, send, show, swap_buttons

_ = gettext


async def toggle_from_card(update: Update, context: AppContext) -> None:
    """X:rem:<id> / X:unrem:<id> on an activity card."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    try:
        verb, activity_id = verb_and_id(query.data, ("rem", "unrem"))
    except Expired:
        await expired(update, context)
        return
    services = context.services
    user_id = query.from_user.id
    if verb == "rem":
        if activity_id not in services.directory.activities:  # re-checked: data is untrusted
            await answer(query, views.expired())
            return
        await services.users.ensure(user_id)
        await services.reminders.subscribe(user_id, activity_id, services.now())
        services.reminder_asked(activity_id)
        await answer(query, _("I will remind you a day and an hour before each time."))
    else:
        await services.reminders.unsubscribe(user_id, activity_id)
        await answer(query, _("Reminders stopped."))
    new = views.reminder_button(activity_id, reminded=verb == "rem")
    await swap_buttons(query.message, {f"X:rem:{activity_id}", f"X:unrem:{activity_id}"}, new)


async def _list_view(context: AppContext, user_id: int) -> views.View:
    services = context.services
    directory = services.directory
    items = []
    for activity_id in await services.reminders.activities_of(user_id):
        activity = directory.activities.get(activity_id)
        if activity is not None:
            group = directory.groups[activity.group_id]
            items.append((activity, group, directory.next_occurrence(activity_id, services.now())))
    return views.reminders_list(items)


async def reminders_command(update: Update, context: AppContext) -> None:
    """/reminders: what I remind you of, with a button to stop each."""
    user = update.effective_user
    assert user is not None
    await send(update, await _list_view(context, user.id))


async def stop_from_list(update: Update, context: AppContext) -> None:
    """R:<id>: stop one reminder from the /reminders list."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    try:
        _prefix, fields = split(query.data)
        activity_id = positive_id(fields[0]) if len(fields) == 1 else 0
    except Expired:
        activity_id = 0
    if not activity_id:
        await expired(update, context)
        return
    await context.services.reminders.unsubscribe(query.from_user.id, activity_id)
    await answer(query, _("Reminders stopped."))
    await show(update, await _list_view(context, query.from_user.id))


async def settings(update: Update, context: AppContext) -> None:
    """/settings, or RS:show / RS:day / RS:hour: see or switch the reminder times."""
    user = update.effective_user
    assert user is not None
    users = context.services.users
    query = update.callback_query
    row = await users.get(user.id)
    if query is not None:
        item = (query.data or "").partition(":")[2]
        if item not in ("show", "day", "hour", "digest"):
            await expired(update, context)
            return
        if item == "digest":
            if row is None or not row.has_area:
                await answer(
                    query,
                    _("Save an area first: search for a place, then tap “💾 Save this area”."),
                )
                return
            row = await users.set_digest(user.id, not row.weekly_digest)
        elif item != "show":
            on = (
                (row.remind_day_before if item == "day" else row.remind_hour_before)
                if row
                else True
            )
            row = await users.set_reminder_lead(user.id, item, not on)
        await answer(query)
    view = views.reminder_settings(
        row.remind_day_before if row else True,
        row.remind_hour_before if row else True,
        row.weekly_digest if row else False,
    )
    await (show(update, view) if query is not None else send(update, view))


def register(app: App) -> None:
    """Reminder commands and buttons (before the find journey, which owns the other X: buttons)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("reminders", reminders_command, filters=private))
    app.add_handler(CommandHandler("settings", settings, filters=private))
    app.add_handler(CallbackQueryHandler(toggle_from_card, pattern=r"^X:(rem|unrem):"))
    app.add_handler(CallbackQueryHandler(stop_from_list, pattern=r"^R:"))
    app.add_handler(CallbackQueryHandler(settings, pattern=r"^RS:"))
