"""Privacy: what the bot keeps, saving an area (rounded) and forgetting it, /mydata, /forget
and "I've moved"."""

from __future__ import annotations

import json
from io import BytesIO

from telegram import InputFile, Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.context import App, AppContext, KeepOpen, PlaceGiven
from bot.domain.vocabulary import PlaceFor
from bot.i18n import current_language, gettext
from bot.places.place import haversine_km, valid_uk_coordinates
from bot.search.directory import Listing
from bot.views import formatting as fmt
from bot.views import privacy as prv
from bot.views.common import View
from handlers import places
from handlers.base import answer, expired, send, show
from handlers.menus import forget_commands
from storage.roles import COORDINATOR

_ = gettext


def _privacy_view(context: AppContext, has_area: bool) -> View:
    return prv.privacy(has_area, context.services.locator.attributions)


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
    if cb.ForgetArea.matches(query.data):
        await users.clear_area(query.from_user.id)
        await show(update, prv.area_forgotten())
        return
    row = await users.get(query.from_user.id)
    await show(update, _privacy_view(context, bool(row and row.has_area)))


async def save_area(update: Update, context: AppContext) -> None:
    """V:<lat>:<lon>: save the searched area, rounded to about 1 km, with its place name."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    pressed = cb.SaveArea.decode(query.data)
    lat, lon = pressed.lat, pressed.lon
    if not valid_uk_coordinates(lat / 100, lon / 100):
        await expired(update, context)
        return
    last = context.session.get("last_place")
    label = last[2] if isinstance(last, tuple) and last[:2] == (lat, lon) else None
    await context.services.users.save_area(query.from_user.id, lat / 100, lon / 100, label or "")
    await answer(query)
    await send(update, prv.area_saved(label))


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
        await send(update, prv.nothing_kept())
        return
    row = await services.users.get(user.id)
    await send(
        update,
        prv.my_data(
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
        InputFile(BytesIO(payload), filename="my-data.json"),
        caption=prv.my_data_caption(),
        parse_mode=None,  # plain text, not HTML
    )


async def _forget_view(context: AppContext, user_id: int) -> View:
    """The confirmation, naming the roles that go too and the groups left without a
    safeguarding contact."""
    services = context.services
    groups = services.directory.groups

    def name(group_id: int) -> str:
        group = groups.get(group_id)
        return group.name if group else f"#{group_id}"

    roles: list[tuple[str, str | None]] = [
        (r.role, None if r.role == COORDINATOR else name(r.group_id))
        for r in await services.roles.roles_of(user_id)
    ]
    uncovered = [name(g) for g in await services.safeguarding.contact_of(user_id)]
    roles += [("contact", group) for group in uncovered]
    return prv.forget_confirm(roles, uncovered)


async def forget_ask(update: Update, context: AppContext) -> None:
    """/forget or D:forget: one confirmation first."""
    user = update.effective_user
    assert user is not None
    view = await _forget_view(context, user.id)
    if update.callback_query is not None:
        await answer(update.callback_query)
        await show(update, view)
    else:
        await send(update, view)


async def forget_confirmed(update: Update, context: AppContext) -> None:
    """D:erase: delete the person and everything linked to them, then confirm."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await context.services.forget(query.from_user.id)  # the caller's own data only; memory too
    await forget_commands(context, query.from_user.id)  # their roles' commands went too
    await answer(query)
    await show(update, prv.forgotten())


async def keep(update: Update, context: AppContext) -> None:
    """D:keep: the answer to "shall I keep your settings?" (writing already counted)."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await answer(query)
    kept = await context.services.users.get(query.from_user.id) is not None
    await show(update, prv.stay_kept() if kept else prv.forgotten())  # too late: deleted


# --- I've moved --------------------------------------------------------------------------


# "Where are you now?" is answered by a pin, a typed place or a choice among places (P:).
_NEW_AREA_KEEP_OPEN = KeepOpen(buttons=(cb.Moved, cb.ChoosePlace), locations=True)


async def moved_ask(update: Update, context: AppContext) -> None:
    """D:moved: where are you now? (the next place or location is the new area)"""
    query = update.callback_query
    assert query is not None
    await answer(query)
    await ask_area(update, context)


async def ask_area(update: Update, context: AppContext) -> None:
    """Where are you now? The next place or location is saved as the area (also asked by
    other journeys' buttons that need an area, such as /alerts). Doing anything else
    gives the question up: the next place is a search, and nothing is saved."""
    places.expect_place(context, PlaceFor.NEW_AREA)
    await send(update, prv.ask_new_area())


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


async def _moved_view(context: AppContext, user_id: int) -> View | None:
    services = context.services
    row = await services.users.get(user_id)
    if row is None or row.area_lat is None or row.area_lon is None:
        return None
    lat, lon = row.area_lat, row.area_lon
    nearest = services.directory.nearest_groups(lat, lon, 1)
    far = _far_reminders(context, lat, lon, await services.reminders.activities_of(user_id))
    return prv.moved(
        row.area_label,
        row.weekly_digest,
        nearest[0] if nearest else None,
        far,
        services.config.search_radius_miles,
        SearchState.at(lat, lon),
    )


async def moved_to(update: Update, context: AppContext, given: PlaceGiven) -> None:
    """The new area (from a place or a shared location): save it rounded, then what follows."""
    user = update.effective_user
    assert user is not None
    label = given.place.name if given.place is not None else ""
    await context.services.users.save_area(user.id, given.lat, given.lon, label)
    view = await _moved_view(context, user.id)
    assert view is not None
    await send(update, view)


async def drop_far(update: Update, context: AppContext) -> None:
    """D:drop:<id> stops one reminder now far away; D:dropfar stops all of them."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    user_id = query.from_user.id
    services = context.services
    pressed = cb.parse(query.data)
    if isinstance(pressed, cb.DropFarReminder):
        targets = [pressed.activity]
    else:
        row = await services.users.get(user_id)
        if row is None or row.area_lat is None or row.area_lon is None:
            await expired(update, context)
            return
        mine = await services.reminders.activities_of(user_id)
        targets = [a.id for a in _far_reminders(context, row.area_lat, row.area_lon, mine)]
    for activity_id in targets:  # only ever the caller's own subscriptions
        await services.reminders.unsubscribe(user_id, activity_id)
    await answer(query, _("Reminders stopped."))
    view = await _moved_view(context, user_id)
    if view is not None:
        await show(update, view)


def register(app: App) -> None:
    """Commands and buttons of the privacy journey."""
    places.take(app, PlaceFor.NEW_AREA, moved_to, once=True, keep_open=_NEW_AREA_KEEP_OPEN)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("privacy", privacy_command, filters=private))
    app.add_handler(CommandHandler("mydata", my_data, filters=private))
    app.add_handler(CommandHandler("forget", forget_ask, filters=private))
    app.add_handlers(cb.handlers(privacy_button, cb.MenuPrivacy, cb.ForgetArea))
    app.add_handlers(cb.handlers(save_area, cb.SaveArea))
    app.add_handlers(cb.handlers(my_data, cb.MyData))
    app.add_handlers(cb.handlers(forget_ask, cb.ForgetAsk))
    app.add_handlers(cb.handlers(forget_confirmed, cb.ForgetConfirmed))
    app.add_handlers(cb.handlers(keep, cb.KeepSettings))
    app.add_handlers(cb.handlers(moved_ask, cb.Moved))
    app.add_handlers(cb.handlers(drop_far, cb.DropFarReminder, cb.DropAllFarReminders))
