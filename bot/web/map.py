"""The map Mini App: a results page on an OpenStreetMap map, and its way back to a card.

"🗺 Map" under a results page opens ``/map/?s=<search>&lang=<code>`` in Telegram. The page
(``bot/web/static/map/``, with Leaflet vendored beside it) asks ``/map/api/results`` with
the same query: the results page's own button code (``SearchPage``: a point rounded to about
1 km, its filters and page) and the reader's language. Nothing else about the person reaches the
server, and nothing is stored.

Tapping "Open in the chat" in a pin's popup posts the Mini App's signed ``initData`` and the
pin's card button (the ``OpenCard`` code its number's button carries in the list) to ``/map/api/open``:
once its signature (made by Telegram with the bot's token) checks out,
the bot sends that activity's card into the person's chat, in their language, and the page
closes. An inline button's Mini App cannot ``sendData``, and a t.me link would leave the
person at a new /start: this keeps them where they were.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from telegram.error import TelegramError

from bot import callbacks as cb
from bot.callbacks import Expired, SearchState
from bot.context import App
from bot.domain.translations import titles_in
from bot.i18n import current_locale, resolve_locale, use_locale
from bot.views import find as fv
from bot.views.common import expired
from bot.web.signin import signed_user
from handlers.base import send_to
from handlers.find import card_for, search_page

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
MAX_ZOOM = 19  # OpenStreetMap's tiles go no further


class MapPages:
    """The map's page, its data and its way back to the chat, for one running application."""

    def __init__(self, app: App, tile_url: str) -> None:
        self.app = app
        self.tile_url = tile_url
        origin = urlsplit(tile_url)
        tiles = f"{origin.scheme}://{origin.netloc}".replace("{s}.", "*.")
        # Only our own scripts, Telegram's, and the tiles: a popup's text can never run.
        self.policy = (
            "default-src 'self'; script-src 'self' https://telegram.org; "
            f"img-src 'self' data: {tiles}; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; frame-ancestors https://web.telegram.org https://*.telegram.org"
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """/map/ (the page), /map/static/ (Leaflet and the page's script), /map/api/."""
        router.add_get("/map", self.to_page)
        router.add_get("/map/", self.page)
        router.add_get("/map/api/results", self.results)
        router.add_post("/map/api/open", self.open_card)
        router.add_static("/map/static/", STATIC, append_version=False)

    async def to_page(self, request: web.Request) -> web.Response:
        """/map without its slash: the page's relative links need it."""
        raise web.HTTPMovedPermanently(location="/map/?" + request.query_string)

    async def page(self, request: web.Request) -> web.FileResponse:
        """The page itself (static: what it shows comes from /map/api/results)."""
        response = web.FileResponse(STATIC / "map" / "index.html")
        response.headers["Content-Security-Policy"] = self.policy
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def results(self, request: web.Request) -> web.Response:
        """The results page's pins, numbered as in the list, and the page's texts, in
        ``lang``; a search that does not parse gets the expired-menu text and no pins."""
        services = self.app.bot_data.services
        if services is None:
            return web.json_response({"error": "starting"}, status=503)
        with use_locale(resolve_locale(request.query.get("lang"), None)):
            try:
                state = _state(request.query.get("s", ""))
            except Expired:
                data = fv.map_page(None, None, {})
            else:
                found, next_of = await search_page(services, state)
                listed = [hit.activity for hit in found.hits]
                titles = await titles_in(services.translations, listed, current_locale())
                data = fv.map_page(found, state, next_of, titles)
        data["tiles"] = {"url": self.tile_url, "attribution": ATTRIBUTION, "max_zoom": MAX_ZOOM}
        return web.json_response(data, headers={"Cache-Control": "no-store"})

    async def open_card(self, request: web.Request) -> web.Response:
        """Send the card of the pin tapped into the person's chat (signed in by Telegram)."""
        services = self.app.bot_data.services
        if services is None:
            return web.json_response({"ok": False}, status=503)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
            user = signed_user(str(body["init_data"]), self.app.bot.token, services.now())
            card = cb.OpenCard.decode(body["card"])  # as its number's button in the list
            activity_id, state = card.activity, card.search
        except (ValueError, KeyError, TypeError, Expired):
            return web.json_response({"ok": False}, status=403)
        user_id = user.id
        row = await services.users.get(user_id)
        locale = resolve_locale(row.locale if row else None, user.language_code)
        with use_locale(locale):
            view = await card_for(services, activity_id, state, user_id)
            if view is None:
                return web.json_response({"ok": False, "message": expired()}, status=404)
            try:
                await send_to(self.app.bot, user_id, view)
            except TelegramError as exc:
                log.warning("could not send a card asked for on the map: %s", type(exc).__name__)
                return web.json_response({"ok": False}, status=502)
        return web.json_response({"ok": True})


def _state(text: str) -> SearchState:
    """The search of the map's link: the results page's own button (``SearchPage``)."""
    return cb.SearchPage.decode(text).search


def sign(fields: dict[str, str], token: str) -> str:
    """``initData`` as Telegram signs it, written here from Telegram's description (for
    tests: an independent check of the library that checks it, bot.web.signin)."""
    return urlencode({**fields, "hash": _signature(fields, token)})


def _signature(fields: dict[str, str], token: str) -> str:
    """HMAC-SHA256 of the sorted ``key=value`` lines, keyed by HMAC("WebAppData", token)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
