"""Reminders: "Remind me" on a card, /reminders to see and stop them, their settings."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.context import App, AppContext
from bot.domain.translations import titles_in
from bot.i18n import current_locale, gettext
from bot.views import cards as cdv
from bot.views import reminders as rv
from bot.views.common import View, expired
from handlers.base import answer, send, show, swap_buttons

_ = gettext


async def toggle_from_card(update: Update, context: AppContext) -> None:
    """X:rem:<id> / X:unrem:<id> on an activity card."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    pressed = cb.parse(query.data)
    assert isinstance(pressed, cb.RemindMe | cb.StopRemindingFromCard)
    activity_id, remind = pressed.activity, isinstance(pressed, cb.RemindMe)
    services = context.services
    user_id = query.from_user.id
    if remind:
        if activity_id not in services.directory.activities:  # re-checked: data is untrusted
            await answer(query, expired())
            return
        await services.users.ensure(user_id)
        await services.reminders.subscribe(user_id, activity_id, services.now())
        services.reminder_asked(activity_id)
        await answer(query, _("I will remind you a day and an hour before each time."))
    else:
        await services.reminders.unsubscribe(user_id, activity_id)
        await answer(query, _("Reminders stopped."))
    new = cdv.reminder_button(activity_id, reminded=remind)
    old = {cb.RemindMe(activity_id).encode(), cb.StopRemindingFromCard(activity_id).encode()}
    await swap_buttons(query.message, old, new)


async def _list_view(context: AppContext, user_id: int) -> View:
    services = context.services
    directory = services.directory
    items = []
    for activity_id in await services.reminders.activities_of(user_id):
        activity = directory.activities.get(activity_id)
        if activity is not None:
            group = directory.groups[activity.group_id]
            items.append((activity, group, directory.next_occurrence(activity_id, services.now())))
    listed = [activity for activity, _group, _next in items]
    titles = await titles_in(services.translations, listed, current_locale())
    return rv.reminders_list(items, titles)


async def reminders_command(update: Update, context: AppContext) -> None:
    """/reminders: what I remind you of, with a button to stop each."""
    user = update.effective_user
    assert user is not None
    await send(update, await _list_view(context, user.id))


async def stop_from_list(update: Update, context: AppContext) -> None:
    """R:<id>: stop one reminder from the /reminders list."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    activity_id = cb.StopReminder.decode(query.data).activity
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
        pressed = cb.parse(query.data)
        if isinstance(pressed, cb.ToggleDigest):
            if row is None or not row.has_area:
                await answer(
                    query,
                    _("Save an area first: search for a place, then tap “💾 Save this area”."),
                )
                return
            row = await users.set_digest(user.id, not row.weekly_digest)
        elif isinstance(pressed, cb.ToggleDayBefore | cb.ToggleHourBefore):
            day = isinstance(pressed, cb.ToggleDayBefore)
            on = (row.remind_day_before if day else row.remind_hour_before) if row else True
            row = await users.set_reminder_lead(user.id, "day" if day else "hour", not on)
        await answer(query)
    view = rv.reminder_settings(
        row.remind_day_before if row else True,
        row.remind_hour_before if row else True,
        row.weekly_digest if row else False,
    )
    await (show(update, view) if query is not None else send(update, view))


def register(app: App) -> None:
    """Reminder commands and buttons."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("reminders", reminders_command, filters=private))
    app.add_handler(CommandHandler("settings", settings, filters=private))
    app.add_handlers(cb.handlers(toggle_from_card, cb.RemindMe, cb.StopRemindingFromCard))
    app.add_handlers(cb.handlers(stop_from_list, cb.StopReminder))
    settings_codes = (cb.ReminderSettings, cb.ToggleDayBefore, cb.ToggleHourBefore)
    app.add_handlers(cb.handlers(settings, *settings_codes, cb.ToggleDigest))
