"""The coordinators' desk in a real browser: Debian's headless Chromium driven by Playwright,
360 pixels wide (a cheap phone), as tests/test_map_browser.py drives the map.

``telegram-web-app.js`` is answered locally by a stub that supplies signed ``initData``; any
other request off this machine is refused and fails the test. Each test saves a screenshot in
its tmp folder for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from storage.roles import ADMIN, COORDINATOR, NETWORK
from storage.stats import StatsRepository
from tests.conftest import NOW, Harness
from tests.helpers import tr
from tests.test_desk import COORD_ID
from tests.test_map import init_data
from tests.test_map_browser import CHROMIUM, CHROMIUM_ARGS, TELEGRAM_JS, _needs_browser, local_only
from tests.test_posting import ADMIN_ID, VOL_ID, notices, quick_post, team

PHONE = {"width": 360, "height": 740}


def _telegram_stub(signed: str, language: str) -> str:
    """telegram-web-app.js as much as the desk uses: the signed sign-in, its user's language
    (unsigned, as Telegram gives it), ready, expand, and the theme's variables."""
    unsafe = {"user": {"id": 0, "language_code": language}}
    return (
        "window.Telegram = {WebApp: {initData: " + json.dumps(signed) + ", "
        "initDataUnsafe: " + json.dumps(unsafe) + ", "
        "ready: function () {}, expand: function () {}}};"
        "document.documentElement.style.setProperty('--tg-theme-button-color', '#5288c1');"
    )


@asynccontextmanager
async def desk_page(harness: Harness, signed: str, language: str = "en") -> AsyncIterator[Any]:
    """The desk open in Chromium at 360 px, signed in with ``signed``; fails the test on any
    script error or request off this machine."""
    async_api = _needs_browser()
    refused: list[str] = []
    errors: list[str] = []

    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=PHONE)
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.route("**/*", local_only(refused))
            stub = _telegram_stub(signed, language)
            await page.route(
                TELEGRAM_JS,
                lambda route: route.fulfill(content_type="text/javascript", body=stub),
            )
            await page.goto(f"{harness.web_url}/desk/")
            yield page
            assert errors == []
            assert refused == []
        finally:
            await browser.close()


async def _fits(page: Any) -> None:
    """Nothing wider than the phone's screen: no sideways scrolling of the page."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_a_coordinators_overview_shows_the_numbers_of_stats(
    mapped: Harness, tmp_path: Path
) -> None:
    await mapped.services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    mapped.services.clock = lambda: NOW - timedelta(days=1)  # yesterday's count, kept
    await mapped.services.network_figures()
    mapped.services.clock = lambda: NOW
    async with desk_page(mapped, init_data(COORD_ID)) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        # the days kept, over time
        assert await page.locator("section[data-figure=people_with_role] svg.history").count() == 1
        rows = await page.eval_on_selector_all(
            "tr[data-figure]",
            "rows => rows.map(r => [r.dataset.figure, r.dataset.key, r.dataset.month, "
            "Number(r.dataset.count), r.querySelector('.count').textContent])",
        )
        expected = await StatsRepository(mapped.services.db).figures(NOW)
        assert [r[:4] for r in rows] == [[f.figure, f.key, f.month, f.count] for f in expected]
        assert all(shown == str(count) or "," in shown for *_k, count, shown in rows)
        assert await page.locator("section[data-figure=activities_added] svg.chart").count() == 1
        assert await page.title() == "Desk"
        assert await page.evaluate("document.documentElement.dir") == "ltr"
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-overview.png"), full_page=True)
        # one group's figures
        leeds = (await mapped.services.groups.refs())["leeds"]
        await page.select_option("#overview-group", str(leeds))
        await page.locator("section[data-figure=people_with_role]").wait_for(state="detached")
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        rows = await page.eval_on_selector_all(
            "tr[data-figure]",
            "rows => rows.map(r => [r.dataset.figure, r.dataset.key, r.dataset.month, "
            "Number(r.dataset.count)])",
        )
        mine = await StatsRepository(mapped.services.db).group_figures(NOW, {leeds})
        assert rows == [[f.figure, f.key, f.month, f.count] for f in mine]
        # with the keyboard alone: from the page, Tab reaches the group filter, and back
        # (Shift+Tab) the tabs; Enter opens the Review page
        assert await page.evaluate("document.activeElement.id") == "main"
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "overview-group"
        await page.keyboard.press("Shift+Tab")
        tabs = await page.eval_on_selector_all("nav a", "l => l.map(a => a.dataset.page)")
        assert await page.evaluate("document.activeElement.dataset.page") == tabs[-1]
        for _tab in tabs[tabs.index("review") + 1 :]:
            await page.keyboard.press("Shift+Tab")
        assert await page.evaluate("document.activeElement.dataset.page") == "review"
        await page.keyboard.press("Enter")
        await page.locator("body[data-page=review]").wait_for(state="attached")


async def test_approving_a_post_in_the_desk_publishes_it(mapped: Harness, tmp_path: Path) -> None:
    _leeds, volunteer = await team(mapped)
    preview = await quick_post(volunteer, "Park picnic")
    await volunteer.press("Publish", preview)
    picnic = (await mapped.row("SELECT id FROM activities WHERE title = 'Park picnic'"))[0]  # type: ignore[index]
    async with desk_page(mapped, init_data(ADMIN_ID)) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=review]")
        await page.locator("body[data-page=review]").wait_for(state="attached")
        post = page.locator(f"section[data-activity='{picnic}']")
        assert "Park picnic" in await post.inner_text()
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-review.png"), full_page=True)
        await post.locator("button[data-action=approve]").click()
        await page.locator("#note", has_text="Approved and published").wait_for()
        assert await page.locator(f"section[data-activity='{picnic}']").count() == 0
    assert await mapped.row("SELECT status FROM activities WHERE id = ?", picnic) == ("published",)
    assert "Park picnic" in (await notices(mapped, VOL_ID, "was approved"))[0]


async def test_an_arabic_speaking_admin_gets_a_right_to_left_desk(
    mapped: Harness, tmp_path: Path
) -> None:
    services = mapped.services
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    chat = mapped.chat(ADMIN_ID, "ar")
    await chat.send("/start")
    await chat.press("العربية")
    activity = next(a for a in services.directory.activities.values() if a.group_id == leeds)
    await services.concerns.report(activity.id, VOL_ID, "money")
    async with desk_page(mapped, init_data(ADMIN_ID, "ar"), "ar") as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        assert await page.evaluate("document.documentElement.dir") == "rtl"
        assert await page.evaluate("document.documentElement.lang") == "ar"
        assert await page.title() == tr("ar", "Desk")
        assert await page.inner_text("nav a[data-page=review]") == tr("ar", "Review")
        figures = await page.eval_on_selector_all(
            "section[data-figure]", "s => s.map(x => x.dataset.figure)"
        )
        assert "users_by_language" not in figures  # a group admin sees their group's figures
        await page.screenshot(path=str(tmp_path / "desk-overview-ar.png"), full_page=True)
        await page.click("nav a[data-page=review]")
        await page.locator("body[data-page=review]").wait_for(state="attached")
        concern = page.locator(f"section[data-concern='{activity.id}']")
        assert tr("ar", "They ask for money or documents") in await concern.inner_text()
        direction = await concern.evaluate("c => getComputedStyle(c).direction")
        assert direction == "rtl"
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-review-ar.png"), full_page=True)
        await concern.locator("button[data-action=remove]").click()
        await concern.locator("button[data-action=removed]").click()
        await page.locator("#note", has_text=tr("ar", "🗑 The activity was removed.")).wait_for()
    assert await mapped.row("SELECT status FROM activities WHERE id = ?", activity.id) == (
        "cancelled",
    )


async def test_a_seeker_gets_refused_and_a_forged_sign_in_too(
    mapped: Harness, tmp_path: Path
) -> None:
    async with desk_page(mapped, init_data(8399)) as page:
        await page.locator("body[data-error='403']").wait_for(state="attached")
        assert "Only an admin" in await page.inner_text("#note")
        assert await page.locator("nav").is_hidden()
        await page.screenshot(path=str(tmp_path / "desk-403.png"))
    forged = init_data(8399)[:-2] + ("00" if not init_data(8399).endswith("00") else "11")
    async with desk_page(mapped, forged, "fr") as page:
        await page.locator("body[data-error='401']").wait_for(state="attached")
        assert await page.inner_text("#note") == tr(
            "fr", "Please open the desk again from the chat: send /desk."
        )
        await page.screenshot(path=str(tmp_path / "desk-401.png"))


async def test_the_audit_log_filters_by_action(mapped: Harness, tmp_path: Path) -> None:
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    await services.roles.log(8399, "refused", group_id=leeds, detail="desk:moderate", now=NOW)
    async with desk_page(mapped, init_data(COORD_ID)) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=audit]")
        await page.locator("body[data-page=audit]").wait_for(state="attached")
        actions = await page.eval_on_selector_all(
            "li[data-action]", "l => l.map(x => x.dataset.action)"
        )
        assert actions == ["refused", "grant", "grant"]  # newest first
        first = await page.inner_text("li[data-action] >> nth=0")
        assert "Leeds City of Sanctuary (test)" in first and "desk:moderate" in first
        assert first.splitlines()[-1].startswith("Refused · #8399")
        options = await page.eval_on_selector_all("#audit-action option", "o => o.map(x => x.text)")
        assert options[:3] == ["Everything", "Roles given", "Roles taken away"]
        await page.select_option("#audit-action", "grant")
        await page.locator("body[data-page=audit]").wait_for(state="attached")
        await page.locator("li[data-action=refused]").wait_for(state="detached")
        actions = await page.eval_on_selector_all(
            "li[data-action]", "l => l.map(x => x.dataset.action)"
        )
        assert actions == ["grant", "grant"]
        await page.select_option("#audit-group", str(leeds))
        await page.locator("li[data-action] >> nth=1").wait_for(state="detached")
        assert await page.inner_text("li[data-action]") != ""
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-audit.png"), full_page=True)
