"""The desk's Groups and people page in Chromium at 360 px (see tests/test_desk_browser.py):
a Leeds admin sees and changes only Leeds, and a grant from the desk gives the person the role
and the bot's menu button. Screenshots in each test's tmp folder."""

from __future__ import annotations

from pathlib import Path

import zxingcpp
from PIL import Image

from bot.i18n import gettext, use_locale
from bot.views.labels import CATEGORY_LABELS
from storage.roles import ADMIN, COORDINATOR, NETWORK
from tests.conftest import NOW, PUBLIC_URL, Harness
from tests.helpers import eventually, tr
from tests.test_desk import COORD_ID
from tests.test_desk_browser import _fits, desk_page
from tests.test_desk_groups import menu_buttons
from tests.test_map import init_data
from tests.test_poster import _labels, _plain, _text
from tests.test_posting import ADMIN_ID, VOL_ID, team


async def test_a_leeds_admin_sees_and_changes_only_leeds(mapped: Harness, tmp_path: Path) -> None:
    services = mapped.services
    leeds, _volunteer = await team(mapped)
    async with desk_page(mapped, init_data(ADMIN_ID)) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=groups]")
        await page.locator("body[data-page=groups]").wait_for(state="attached")
        assert await page.get_attribute("#group-name", "data-group") == str(leeds)
        assert await page.locator("#groups-group").count() == 0  # one group: nothing to pick
        users = await page.eval_on_selector_all(
            "section[data-section=team] li", "l => l.map(x => [x.dataset.user, x.dataset.role])"
        )
        assert users == [[str(ADMIN_ID), "admin"], [str(VOL_ID), "volunteer"]]
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-groups.png"), full_page=True)

        # A contact the importer refuses: said next to the field, nothing saved. With the
        # keyboard alone: Tab from the page reaches the first contact, Enter sends the form.
        assert await page.evaluate("document.activeElement.id") == "main"
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "contact-email"
        await page.fill("#contact-website", "http://leeds.example.org")
        await page.focus("#contact-website")
        await page.keyboard.press("Enter")
        problem = page.locator("[data-problem=website]")
        await problem.filter(has_text="https://").wait_for()
        assert await page.evaluate("document.activeElement.id") == "contact-website"
        assert services.directory.groups[leeds].website != "http://leeds.example.org"
        await page.fill("#contact-website", "https://leeds.example.org")
        await page.click("button[data-action=contacts]")
        await page.locator("#note", has_text="Saved").wait_for()
        assert services.directory.groups[leeds].website == "https://leeds.example.org"

        # The safeguarding contact, and an invite with its QR code.
        volunteer = page.locator(f"li[data-user='{VOL_ID}']")
        await volunteer.locator("button[data-action=make-contact]").click()
        await page.locator("#note", has_text="safeguarding contact").wait_for()
        contact = await services.safeguarding.contact(leeds)
        assert contact is not None and contact.user_id == VOL_ID
        await page.click("button[data-action=invite]")
        await page.locator("#invite svg.qr").wait_for()
        link = await page.inner_text("#invite-link")
        assert link.startswith("https://t.me/") and "?start=j-" in link
        shot = tmp_path / "desk-groups-qr.png"
        await page.locator("#invite svg.qr").screenshot(path=str(shot))
        with Image.open(shot) as image:  # a phone's camera reads the link back
            assert [f.text for f in zxingcpp.read_barcodes(image.convert("L"))] == [link]
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-groups-invite.png"), full_page=True)

        # Another group's page, asked by hand: refused, and nothing of it shown.
        sheffield = (await services.groups.refs())["sheffield"]
        await page.evaluate(f"window.location.hash = 'groups?group={sheffield}'")
        await page.locator("body[data-error='403']").wait_for(state="attached")
        assert "Only an admin" in await page.inner_text("#note")
        assert await page.locator("body[data-page=groups]").count() == 0
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND detail = 'desk:groups' "
        "AND actor = ? AND group_id = ?",
        ADMIN_ID,
        sheffield,
    ) == (1,)


async def test_a_grant_from_the_desk_gives_the_role_and_the_menu_button(
    mapped: Harness, tmp_path: Path
) -> None:
    services = mapped.services
    leeds, _volunteer = await team(mapped, "ar")
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    async with desk_page(mapped, init_data(COORD_ID)) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.evaluate(f"window.location.hash = 'groups?group={leeds}'")
        await page.locator("body[data-page=groups]").wait_for(state="attached")
        assert await page.input_value("#groups-group") == str(leeds)
        volunteer = page.locator(f"li[data-user='{VOL_ID}']")
        await volunteer.locator("button[data-action=make-admin]").click()
        await page.locator(f"li[data-user='{VOL_ID}'][data-role=admin]").wait_for()
        assert "group admin" in await page.inner_text("#note")
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-groups-granted.png"), full_page=True)
    assert ADMIN in {r.role for r in await services.roles.roles_of(VOL_ID)}
    await eventually(
        lambda: (
            bool(menu_buttons(mapped, VOL_ID))
            and menu_buttons(mapped, VOL_ID)[-1].get("type") == "web_app"
        ),
        5.0,
    )
    assert menu_buttons(mapped, VOL_ID)[-1] == {
        "type": "web_app",
        "text": tr("ar", "Desk"),
        "web_app": {"url": PUBLIC_URL + "/desk/"},
    }
    # The person now opens the desk as a Leeds admin, right to left.
    async with desk_page(mapped, init_data(VOL_ID, "ar"), "ar") as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=groups]")
        await page.locator("body[data-page=groups]").wait_for(state="attached")
        assert await page.evaluate("document.documentElement.dir") == "rtl"
        assert await page.get_attribute("#group-name", "data-group") == str(leeds)
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-groups-ar.png"), full_page=True)


async def test_a_leeds_admin_downloads_a_poster(mapped: Harness, tmp_path: Path) -> None:
    """The poster's languages picked on the page (English and Arabic), the button pressed:
    the browser saves the group's PDF, in those languages."""
    leeds, _volunteer = await team(mapped)
    async with desk_page(mapped, init_data(ADMIN_ID)) as page:
        await page.evaluate(f"window.location.hash = 'groups?group={leeds}'")
        await page.locator("body[data-page=groups]").wait_for(state="attached")
        assert await page.input_value("#poster-lang-0") == "en"
        await page.select_option("#poster-lang-1", "ar")
        await page.select_option("#poster-lang-2", "")
        await _fits(page)
        await page.locator("section[data-section=poster]").screenshot(
            path=str(tmp_path / "desk-groups-poster.png")
        )
        async with page.expect_download() as waiting:
            await page.click("button[data-action=poster]")
        download = await waiting.value
        assert download.suggested_filename == "poster-leeds-en-ar.pdf"
        pdf = tmp_path / download.suggested_filename
        await download.save_as(pdf)
    text = _text(pdf)
    assert _plain("Conversation café") in text
    for code in ("en", "ar"):
        for label in _labels(code, ["conversation"], ["free"], 1):
            assert _plain(label) in text, f"{code}: {label!r} is not in the poster's text"
    with use_locale("ti"):
        assert _plain(gettext(CATEGORY_LABELS["conversation"])) not in text
