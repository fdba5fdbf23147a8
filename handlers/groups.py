"""Groups near me: City of Sanctuary groups and Streams of Sanctuary with their contacts."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import callbacks as cb
from bot.callbacks import SearchState
from bot.context import App, AppContext, PlaceGiven
from bot.domain.vocabulary import PlaceFor
from bot.views import groups as gv
from bot.views import places as plv
from bot.views.common import PAGE_SIZE, View
from handlers import places
from handlers.base import answer, send, show

MAX_GROUPS = 25


async def groups_command(update: Update, context: AppContext) -> None:
    """/groups: ask where (or use the saved area)."""
    user = update.effective_user
    row = await context.services.users.get(user.id) if user else None
    if row is not None and row.area_lat is not None and row.area_lon is not None:
        await send(
            update, group_view(context, round(row.area_lat * 100), round(row.area_lon * 100), 0)
        )
        return
    places.expect_place(context, PlaceFor.GROUPS)
    await send(update, plv.ask_location(PlaceFor.GROUPS))


async def groups_button(update: Update, context: AppContext) -> None:
    """M:groups: ask where."""
    query = update.callback_query
    assert query is not None
    await answer(query)
    places.expect_place(context, PlaceFor.GROUPS)
    await send(update, plv.ask_location(PlaceFor.GROUPS))


async def groups_here(update: Update, context: AppContext, given: PlaceGiven) -> None:
    """A place given for groups: the nearest groups."""
    state = SearchState.at(given.lat, given.lon)
    places.remember_last(context, state, given.place)
    await show(update, group_view(context, state.lat, state.lon, 0))


def group_view(context: AppContext, lat: int, lon: int, page: int) -> View:
    """A page of the nearest groups around a point in hundredths of a degree."""
    hits = context.services.directory.nearest_groups(lat / 100, lon / 100, MAX_GROUPS)
    page = min(page, max(0, (len(hits) - 1) // PAGE_SIZE))
    shown = hits[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    return gv.group_list(shown, lat, lon, page, len(hits))


async def groups_page(update: Update, context: AppContext) -> None:
    """G:<lat>:<lon>:<page>."""
    query = update.callback_query
    assert query is not None
    pressed = cb.GroupsPage.decode(query.data)
    await answer(query)
    await show(update, group_view(context, pressed.lat, pressed.lon, pressed.page))


def register(app: App) -> None:
    """Commands and buttons of the groups journey."""
    app.add_handler(CommandHandler("groups", groups_command, filters=filters.ChatType.PRIVATE))
    app.add_handlers(cb.handlers(groups_button, cb.MenuGroups))
    app.add_handlers(cb.handlers(groups_page, cb.GroupsPage))
    places.take(app, PlaceFor.GROUPS, groups_here)
