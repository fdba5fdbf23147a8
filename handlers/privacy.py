"""Privacy: what the bot keeps, saving an area (rounded) and forgetting it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import views
from bot.callbacks import Expired, split
from bot.context import App, AppContext
from bot.geo import valid_uk_coordinates
from handlers.base import answer, expired, send, show


def _privacy_view(context: AppContext, has_area: bool) -> views.View:
    return views.privacy(has_area, context.services.locator.attributions)


async def privacy_command(update: Update, context: AppContext) -> None:
    """/privacy."""
    user = update.effective_user
    row = await context.services.users.get(user.id) if user else None
    await send(update, _privacy_view(context, bool(row and row.has_area)))


async def privacy_button(update: Update, context: AppContext) -> None:
    """M:privacy shows the note; M:forgetarea forgets the saved area."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await answer(query)
    users = context.services.users
    if query.data == "M:forgetarea":
        await users.clear_area(query.from_user.id)
        await show(update, views.area_forgotten())
        return
    row = await users.get(query.from_user.id)
    await show(update, _privacy_view(context, bool(row and row.has_area)))


async def save_area(update: Update, context: AppContext) -> None:
    """V:<lat>:<lon>: save the searched area, rounded to about 1 km, with its place name."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    try:
        _prefix, fields = split(query.data)
        if len(fields) != 2:
            raise Expired(query.data or "")
        lat, lon = int(fields[0]), int(fields[1])
        if not valid_uk_coordinates(lat / 100, lon / 100):
            raise Expired(query.data or "")
    except (Expired, ValueError):
        await expired(update, context)
        return
    last = context.session.get("last_place")
    label = last[2] if isinstance(last, tuple) and last[:2] == (lat, lon) else None
    await context.services.users.save_area(query.from_user.id, lat / 100, lon / 100, label or "")
    await answer(query)
    await send(update, views.area_saved(label))


def register(app: App) -> None:
    """Commands and buttons of the privacy journey."""
    app.add_handler(CommandHandler("privacy", privacy_command, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(privacy_button, pattern=r"^M:(privacy|forgetarea)$"))
    app.add_handler(CallbackQueryHandler(save_area, pattern=r"^V:"))
