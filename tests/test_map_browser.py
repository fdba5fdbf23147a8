"""The map Mini App in a real browser: Debian's headless Chromium driven by Playwright.

``telegram-web-app.js`` and the map tiles are answered locally (``page.route``); any other
request off this machine is refused and fails the test. The pins must be the results page's,
in the same order and numbered alike, the page right to left in Arabic, and "Open in the
chat" must send the card and close the Mini App. A screenshot is saved in the test's tmp folder
for a person to look at. Without Chromium or Playwright the test fails in CI (env CI) and is
skipped elsewhere.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import Harness
from tests.data import LEEDS
from tests.helpers import only, tr
from tests.test_map import init_data, listed, map_button

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TELEGRAM_JS = "https://telegram.org/js/telegram-web-app.js"
TILES = "https://tile.openstreetmap.org/"


def _needs_browser() -> Any:
    """Playwright's async API, or a clear failure in CI (a skip elsewhere)."""
    missing = None
    try:
        from playwright import async_api
    except ImportError:
        missing = "playwright is not installed: pip install -e '.[dev]'"
    else:
        if not Path(CHROMIUM).exists():
            missing = f"{CHROMIUM} is missing: apt-get install -y chromium"
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    return async_api


def local_only(refused: list[str]) -> Callable[[Any], Awaitable[None]]:
    """A route handler that lets requests to this machine through and refuses (and notes in
    ``refused``) any other."""

    async def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.fallback()
        else:
            refused.append(route.request.url)
            await route.abort()

    return only_local


def _tile(z: int, x: int, y: int) -> bytes:
    """A plain 256-pixel tile saying which one it is (so a screenshot shows the grid)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (256, 256), (236, 232, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 255, 255), outline=(200, 196, 186))
    draw.text((8, 8), f"{z}/{x}/{y}", fill=(150, 146, 136))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _telegram_stub(signed: str) -> str:
    """telegram-web-app.js as much as the page uses: a signed sign-in, ready, expand, close."""
    return (
        "window.Telegram = {WebApp: {initData: " + json.dumps(signed) + ", "
        "ready: function () {}, expand: function () {}, "
        'close: function () { document.body.dataset.closed = "yes"; }}};'
    )


async def test_the_map_in_arabic_in_chromium(mapped: Harness, tmp_path: Path) -> None:
    async_api = _needs_browser()
    chat = mapped.chat(4201, "ar")
    await chat.send("/start")
    await chat.press("العربية")
    results = [m for m in await chat.share_location(*LEEDS) if m.has_inline_keyboard()][-1]
    url = map_button(results)
    assert url is not None
    expected = listed(results)
    assert len(expected) == 5

    tiles: list[tuple[str, str | None]] = []
    refused: list[str] = []

    async def answer_tile(route: Any) -> None:
        request = route.request
        tiles.append((request.url, await request.header_value("referer")))
        z, x, y = (int(part) for part in request.url[len(TILES) :].removesuffix(".png").split("/"))
        await route.fulfill(status=200, content_type="image/png", body=_tile(z, x, y))

    only_local = local_only(refused)
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 640})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append("console: " + message.text))
            await page.route("**/*", only_local)  # the last route added is asked first
            await page.route(f"{TILES}**", answer_tile)
            stub = _telegram_stub(init_data(4201, "ar"))
            await page.route(
                TELEGRAM_JS,
                lambda route: route.fulfill(content_type="text/javascript", body=stub),
            )
            await page.goto(f"{mapped.web_url}/map/?{urlsplit(url).query}")
            try:
                await page.wait_for_selector("body[data-pins]", state="attached", timeout=10000)
            except async_api.TimeoutError:
                raise AssertionError(f"no pins shown: {errors}, refused: {refused}") from None
            await page.locator(".leaflet-tile-loaded").first.wait_for()

            assert await page.evaluate("document.documentElement.dir") == "rtl"
            assert await page.evaluate("document.documentElement.lang") == "ar"
            assert await page.title() == tr("ar", "Map of activities")
            pins = await page.eval_on_selector_all(
                ".leaflet-marker-icon",
                "icons => icons.map(i => [i.dataset.number, i.title])",
            )
            assert [number for number, _title in pins] == [n for n, _t in expected]
            assert [title for _n, title in pins] == [f"{n}. {t}" for n, t in expected]
            attribution = await page.inner_text(".leaflet-control-attribution")
            assert "OpenStreetMap" in attribution

            await page.click(".leaflet-marker-icon >> nth=0")
            card = page.locator(".leaflet-popup-content .card")
            await card.wait_for()
            # the popup has faded in (expect, as the page's CSP forbids wait_for_function's eval)
            await async_api.expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")
            assert await card.evaluate("c => getComputedStyle(c).direction") == "rtl"
            assert expected[0][1] in await card.inner_text()
            await page.screenshot(path=str(tmp_path / "map-ar.png"))

            # OpenStreetMap's tile policy: a referrer, nothing beyond zoom 19.
            assert tiles and all(referer for _url, referer in tiles)
            assert all(int(u[len(TILES) :].split("/")[0]) <= 19 for u, _r in tiles)

            sent_before = len(mapped.server.calls_to("sendMessage"))
            await page.click(f"text={tr('ar', '💬 Open in the chat')}")
            await page.locator("body[data-closed]").wait_for(state="attached")
            assert len(mapped.server.calls_to("sendMessage")) == sent_before + 1
            card_message = only(
                [m for m in [mapped.server.last_message(chat.user.chat_id)] if m is not None]
            )
            assert expected[0][1] in card_message.plain_text()
            assert tr("ar", "⏰ Remind me") in str(card_message.buttons())
            assert errors == []
            assert refused == []
        finally:
            await browser.close()
