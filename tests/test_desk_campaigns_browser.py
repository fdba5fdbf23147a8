"""The desk's Campaigns page in Chromium at 360 px (see tests/test_desk_browser.py): a call
composed in the desk, English and Arabic side by side, reaches supporters with the same message
the bot sends. Screenshots in the test's tmp folder."""

from __future__ import annotations

from pathlib import Path

from bot.i18n import use_locale
from bot.views import campaigns as cv
from storage.roles import COORDINATOR, NETWORK
from tests.conftest import NOW, Harness
from tests.helpers import eventually
from tests.test_campaigns import URL, _calls, _start
from tests.test_desk import COORD_ID
from tests.test_desk_browser import _fits, desk_page
from tests.test_map import init_data


async def test_a_call_composed_in_the_desk_reaches_supporters(
    mapped: Harness, tmp_path: Path
) -> None:
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    await _start(mapped, 7201, "supporter")
    await _start(mapped, 7202, "supporter", "ar")
    async with desk_page(mapped, init_data(COORD_ID)) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=campaigns]")
        await page.locator("body[data-page=campaigns]").wait_for(state="attached")
        await page.click("button[data-action=new]")
        await page.locator("#call[data-state=draft]").wait_for()
        cid = int(await page.get_attribute("#call", "data-call") or 0)

        # The English: a title too long is refused in the bot's words, then saved.
        await page.fill("#en-title", "x" * 121)
        await page.fill("#en-body", "People wait years. Ask your MP.")
        await page.click("button[data-action=save-en]")
        await page.locator(
            "form[data-language=en] .problem", has_text="the limit is 120"
        ).wait_for()
        await page.fill("#en-title", "Lift the ban on work")
        await page.click("button[data-action=save-en]")
        await page.locator("#note", has_text="Saved").wait_for()
        assert "Lift the ban on work" in await page.inner_text("[data-preview=en] .message")

        # The Arabic beside it, right to left, with its own preview.
        await page.select_option("#call-language", "ar")
        await page.locator("form[data-language=ar]").wait_for()
        assert await page.get_attribute("#tr-title", "dir") == "rtl"
        await page.fill("#tr-title", "ارفعوا الحظر")
        await page.fill("#tr-body", "الناس ينتظرون سنوات.")
        await page.click("button[data-action=save-ar]")
        await page.locator("[data-preview=ar] .message", has_text="ارفعوا الحظر").wait_for()

        await page.fill("#call-url", URL)
        await page.click("button[data-action=save-url]")
        await page.locator("#note", has_text="Saved").wait_for()
        await page.check("input[name=topic][value=asylum]")
        await page.click("button[data-action=save-audience]")
        await page.locator("#call-confirm", has_text="It goes to 2 people").wait_for()
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-campaign-compose.png"), full_page=True)

        await page.click("#call-send button[data-action=send]")
        await page.locator("#call[data-state=sending]").wait_for()
        assert "Sending now" in await page.inner_text("#note")
        await page.screenshot(path=str(tmp_path / "desk-campaign-sending.png"), full_page=True)

    found = await services.campaigns.get(cid)
    assert found is not None and found.translations["ar"][0] == "ارفعوا الحظر"
    await eventually(lambda: all(_calls(mapped, u) for u in (7201, 7202)), 10.0)
    for user, code in ((7201, "en"), (7202, "ar")):
        with use_locale(code):
            expected = cv.call_message(found, code, cid)
        assert _calls(mapped, user)[0].text == expected.text
    assert "ارفعوا الحظر" in _calls(mapped, 7202)[0].plain_text()
