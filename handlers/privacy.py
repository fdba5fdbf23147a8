"""Privacy: what the bot keeps, saving an area (rounded) and forgetting it, /mydata, /forget
and "I've moved"."""

from __future__ import annotations

import json
from io import BytesIO

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import formatting as fmt
from bot import views
from bot.callbacks import Expired, SearchState, positive_id, split
from bot.context import App, AppContext, Turn
from bot.geo import haversine_km, valid_uk_coordinates
from bot.i18n import current_language, gettext
from bot.search import Listing
from handlers.base import Own, answer, expired, send, show

_ = gettext


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


# --- /mydata and /forget -------------------------------------------------------------------


async def my_data(update: Update, context: AppContext) -> None:
    """/mydata or D:data: a short summary and a JSON file of everything kept."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    if update.callback_query is not None:
        await answer(update.callback_query)
    services = context.services
    data = await services.personal.export(user.id)
    if data is None:
        await send(update, views.nothing_kept())
        return
    row = await services.users.get(user.id)
    await send(
        update,
        views.my_data(
            current_language().native_name,
            row.intent if row else None,
            row.area_label if row else None,
            bool(row and row.has_area),
            len(data["reminders"]),
            row.created_at if row else None,
        ),
    )
    document = {
        "about": "Everything sanctuary-bot keeps about Telegram user "
        f"{user.id}, exported {services.now().isoformat()}. Times are UTC.",
        **data,
    }
    payload = json.dumps(document, ensure_ascii=False, indent=2).encode()
    await chat.send_document(
        InputFile(BytesIO(payload), filename="my-data.json"), caption=views.my_data_caption()
    )


async def forget_ask(update: Update, context: AppContext) -> None:
    """/forget or D:forget: one confirmation first."""
    if update.callback_query is not None:
        await answer(update.callback_query)
        await show(update, views.forget_confirm())
    else:
        await send(update, views.forget_confirm())


async def forget_confirmed(update: Update, context: AppContext) -> None:
    """D:erase: delete the person and everything linked to them, then confirm."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await context.services.forget(query.from_user.id)  # the caller's own data only; memory too
    await answer(query)
    await show(update, views.forgotten())


async def keep(update: Update, context: AppContext) -> None:
    """D:keep: the answer to "shall I keep your settings?" (writing already counted)."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await answer(query)
    kept = await context.services.users.get(query.from_user.id) is not None
    await show(update, views.stay_kept() if kept else views.forgotten())  # too late: deleted


# --- I've moved --------------------------------------------------------------------------


# "Where are you now?" is answered by a pin, a typed place or a choice among places (P:).
_MOVED_OWN = Own(buttons=("D:moved", "P:"), locations=True)


async def moved_ask(update: Update, context: AppContext) -> None:
    """D:moved: where are you now? (the next place or location is the new area)"""
    query = update.callback_query
    assert query is not None
    await answer(query)
    context.session["mode"] = "m"
    await send(update, views.ask_new_area())


async def moved_elsewhere(context: AppContext, user_id: int, turn: Turn) -> None:
    """Turning to something else gives up "where are you now?": the next place is a search,
    and nothing is saved. (The session is read without creating one: a forgotten person's
    was just dropped.)"""
    session = context.application.user_data.get(user_id)
    if session is not None and session.get("mode") == "m" and turn not in _MOVED_OWN:
        session["mode"] = "f"


def _far_reminders(
    context: AppContext, lat: float, lon: float, activity_ids: list[int]
) -> list[Listing]:
    directory = context.services.directory
    limit_km = context.services.config.search_radius_miles * fmt.KM_PER_MILE
    far = []
    for activity_id in activity_ids:
        activity = directory.activities.get(activity_id)
        if activity is not None and haversine_km(lat, lon, activity.lat, activity.lon) > limit_km:
            far.append(activity)
    return far


async def _moved_view(context: AppContext, user_id: int) -> views.View | None:
    services = context.services
    row = await services.users.get(user_id)
    if row is None or row.area_lat is None or row.area_lon is None:
        return None
    lat, lon = row.area_lat, row.area_lon
    nearest = services.directory.nearest_groups(lat, lon, 1)
    far = _far_reminders(context, lat, lon, await services.reminders.activities_of(user_id))
    return views.moved(
        row.area_label,
        row.weekly_digest,
        nearest[0] if nearest else None,
        far,
        services.config.search_radius_miles,
        SearchState.at(lat, lon),
    )


async def moved_to(
    update: Update, context: AppContext, lat: float, lon: float, label: str | None
) -> None:
    """The new area (from a place or a shared location): save it rounded, then what follows."""
    user = update.effective_user
    assert user is not None
    context.session["mode"] = "f"
    await context.services.users.save_area(user.id, lat, lon, label or "")
    view = await _moved_view(context, user.id)
    assert view is not None
    await send(update, view)


async def drop_far(update: Update, context: AppContext) -> None:
    """D:drop:<id> stops one reminder now far away; D:dropfar stops all of them."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    user_id = query.from_user.id
    services = context.services
    try:
        _prefix, fields = split(query.data)
        if fields[:1] == ["drop"] and len(fields) == 2:
            targets = [positive_id(fields[1])]
        elif fields == ["dropfar"]:
            row = await services.users.get(user_id)
            if row is None or row.area_lat is None or row.area_lon is None:
                raise Expired(query.data or "")
            mine = await services.reminders.activities_of(user_id)
            targets = [a.id for a in _far_reminders(context, row.area_lat, row.area_lon, mine)]
        else:
            raise Expired(query.data or "")
    except Expired:
        await expired(update, context)
        return
    for activity_id in targets:  # only ever the caller's own subscriptions
        await services.reminders.unsubscribe(user_id, activity_id)
    await answer(query, _("Reminders stopped."))
    view = await _moved_view(context, user_id)
    if view is not None:
        await show(update, view)


def register(app: App) -> None:
    """Commands and buttons of the privacy journey."""
    app.bot_data.elsewhere.append(moved_elsewhere)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("privacy", privacy_command, filters=private))
    app.add_handler(CommandHandler("mydata", my_data, filters=private))
    app.add_handler(CommandHandler("forget", forget_ask, filters=private))
    app.add_handler(CallbackQueryHandler(privacy_button, pattern=r"^M:(privacy|forgetarea)$"))
    app.add_handler(CallbackQueryHandler(save_area, pattern=r"^V:"))
    app.add_handler(CallbackQueryHandler(my_data, pattern=r"^D:data$"))
    app.add_handler(CallbackQueryHandler(forget_ask, pattern=r"^D:forget$"))
    app.add_handler(CallbackQueryHandler(forget_confirmed, pattern=r"^D:erase$"))
    app.add_handler(CallbackQueryHandler(keep, pattern=r"^D:keep$"))
    app.add_handler(CallbackQueryHandler(moved_ask, pattern=r"^D:moved$"))
    app.add_handler(CallbackQueryHandler(drop_far, pattern=r"^D:(drop:|dropfar$)"))
