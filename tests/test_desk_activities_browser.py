"""The desk's Activities page in a real browser (Debian's headless Chromium driven by
Playwright, 360 pixels wide), as tests/test_desk_browser.py drives the other pages: a Leeds
admin sees and changes only Leeds and downloads an activity's poster from its row, and a CSV
with errors imports nothing and lists its rows.
Each test saves screenshots in its tmp folder for a person to look at."""

from __future__ import annotations

from pathlib import Path

from bot.domain.importer import export_activities
from storage.roles import COORDINATOR, NETWORK
from tests.conftest import NOW, Harness
from tests.helpers import tr
from tests.test_desk import COORD_ID
from tests.test_desk_activities import CAFE, _csv, _id, _leeds_admin, _rows
from tests.test_desk_browser import _fits, desk_page
from tests.test_map import init_data
from tests.test_poster import _first_page, _plain, _qr_texts, _text
from tests.test_posting import ADMIN_ID


async def test_a_leeds_admin_sees_and_changes_only_leeds(mapped: Harness, tmp_path: Path) -> None:
    services = mapped.services
    leeds = await _leeds_admin(mapped)
    chat = mapped.chat(ADMIN_ID)
    await chat.send("/start")
    await chat.press("English")
    cafe = await _id(mapped, CAFE)
    sheffield = (await services.groups.refs())["sheffield"]
    other = (await mapped.row("SELECT id FROM activities WHERE group_id = ?", sheffield))[0]  # type: ignore[index]
    async with services.db.conn.execute(
        "SELECT id FROM activities WHERE group_id = ?", (leeds,)
    ) as cur:
        mine = sorted(r[0] for r in await cur.fetchall())
    signed = init_data(ADMIN_ID)
    async with desk_page(mapped, signed) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=activities]")
        await page.locator("body[data-page=activities]").wait_for(state="attached")
        shown = await page.eval_on_selector_all(
            "tr[data-activity]", "rows => rows.map(r => Number(r.dataset.activity))"
        )
        assert sorted(shown) == mine
        groups = await page.eval_on_selector_all(
            "#filter-group option", "o => o.map(x => x.value).filter(Boolean)"
        )
        assert groups == [str(leeds)]
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-activities.png"), full_page=True)

        # another group's activity, asked for by hand from the page: refused
        status = await page.evaluate(
            "([id, signed]) => fetch('api/activity?id=' + id, "
            "{headers: {Authorization: 'tma ' + signed}}).then(r => r.status)",
            [other, signed],
        )
        assert status == 403

        # edit the title with the keyboard: open, Edit, type, Enter
        await page.locator(f"tr[data-activity='{cafe}'] button").focus()
        await page.keyboard.press("Enter")
        detail = page.locator(f"#activity-detail[data-activity='{cafe}']")
        await detail.wait_for()
        assert "Conversation café" in await detail.locator(".card-text").inner_text()
        await detail.locator("button[data-action=edit]").click()
        assert await page.evaluate("document.activeElement.id") == "edit-section"
        await page.fill("#edit-title", "x" * 81)
        await page.press("#edit-title", "Enter")
        await page.locator("#note", has_text="That is too long for the card").wait_for()
        await page.fill("#edit-title", "Tea and talk")
        await page.press("#edit-title", "Enter")
        await page.locator("#note", has_text="is updated").wait_for()
        await page.locator("#activity-detail .card-text", has_text="Tea and talk").wait_for()
        assert "Tea and talk" in await page.locator(f"tr[data-activity='{cafe}']").inner_text()
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-activity-edited.png"), full_page=True)

        # when: the form has the next date and the time as the chat would take them
        await page.locator("#activity-detail button[data-action=edit]").click()
        await page.select_option("#edit-section", "when")
        assert await page.input_value("#edit-date") == "24/11/2026"
        assert await page.is_hidden("#edit-nth")  # weekly: days, not a week of the month
        await page.fill("#edit-time", "18:00-20:30")
        await page.evaluate("document.getElementById('note').textContent = ''")
        await page.click("#activity-detail button[data-action=save]")
        await page.locator("#note", has_text="is updated").wait_for()

        # cancel one date, then pause it
        await page.locator("#activity-detail button[data-action=dates]").click()
        first = await page.input_value("#cancel-date")
        await page.click("#activity-detail button[data-action=cancel-date]")
        await page.locator("#note", has_text="Done").wait_for()
        await page.locator("#activity-detail button[data-action=pause]").click()
        await page.locator("#activity-detail button[data-action=resume]").wait_for()
        await page.screenshot(path=str(tmp_path / "desk-activity-paused.png"), full_page=True)
    assert await mapped.row(
        "SELECT title, paused, duration_min FROM activities WHERE id = ?", cafe
    ) == ("Tea and talk", 1, 150)
    assert first.startswith("2026-11-24T18:00")
    assert await mapped.row(
        "SELECT local_date FROM activity_skips WHERE activity_id = ?", cafe
    ) == ("2026-11-24",)
    assert await mapped.row("SELECT title FROM activities WHERE id = ?", other) != ("Tea and talk",)
    # the bot's own card says the new title
    await chat.send("/myactivities")
    card = await chat.press("Tea and talk")
    assert "Tea and talk" in card[-1].plain_text()
    assert await mapped.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'activity_edited' AND actor = ?", ADMIN_ID
    ) == (2,)


async def test_a_csv_with_errors_imports_nothing_and_lists_the_rows(
    mapped: Harness, tmp_path: Path
) -> None:
    """An Arabic-speaking coordinator (a right-to-left page) checks a file with two bad rows:
    both are listed by number, nothing is saved; the corrected file is saved once confirmed."""
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    rows = _rows(await export_activities(services.db))
    bad = [dict(r) for r in rows]
    bad[0]["title"] = "Renamed by import"
    bad[1]["start_date"] = "31/02/2026"
    bad[3]["postcode"] = "NOWHERE"
    snapshot = "SELECT id, title, starts_at, postcode FROM activities ORDER BY id"
    async with services.db.conn.execute(snapshot) as cur:
        before = [tuple(r) for r in await cur.fetchall()]
    async with desk_page(mapped, init_data(COORD_ID, "ar"), "ar") as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=activities]")
        await page.locator("body[data-page=activities]").wait_for(state="attached")
        assert await page.evaluate("document.documentElement.dir") == "rtl"
        label = await page.inner_text("label[for=import-file]")
        assert label == tr("ar", "Import a CSV file")
        await page.set_input_files(
            "#import-file",
            {"name": "activities.csv", "mimeType": "text/csv", "buffer": _csv(bad).encode()},
        )
        await page.click("button[data-action=check]")
        await page.locator("ul.errors li").first.wait_for()
        listed = await page.eval_on_selector_all(
            "ul.errors li", "l => l.map(x => [Number(x.dataset.row), x.dataset.column])"
        )
        assert listed == [[3, "start_date"], [5, "postcode"]]
        first = await page.inner_text("ul.errors li >> nth=0")
        assert first.startswith(tr("ar", "Row {row}, {column}: {message}").split("{")[0].strip())
        # the importer's own words too, not only the frame
        assert tr("ar", "“{value}” is not a date (YYYY-MM-DD)").split("»")[-1].strip() in first
        assert await page.locator("button[data-action=confirm]").count() == 0
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-import-errors-ar.png"), full_page=True)

        good = [dict(r) for r in rows]
        good[0]["title"] = "Renamed by import"
        await page.set_input_files(
            "#import-file",
            {"name": "activities.csv", "mimeType": "text/csv", "buffer": _csv(good).encode()},
        )
        await page.click("button[data-action=check]")
        confirm = page.locator("button[data-action=confirm]")
        await confirm.wait_for()
        assert await page.locator("ul.errors").count() == 0
        async with services.db.conn.execute(snapshot) as cur:
            assert [tuple(r) for r in await cur.fetchall()] == before  # checked, not saved
        await page.screenshot(path=str(tmp_path / "desk-import-ready-ar.png"), full_page=True)
        await confirm.click()
        saved = tr("ar", "✅ Saved: {count}.").split("{")[0]
        await page.locator("#note", has_text=saved).wait_for()
    assert await mapped.row(
        "SELECT COUNT(*) FROM activities WHERE title = 'Renamed by import'"
    ) == (1,)


async def test_an_activitys_poster_from_its_row(mapped: Harness, tmp_path: Path) -> None:
    """The activity's row opens its card, and the card's poster button saves its PDF in the
    languages picked, with the QR code of its own link in the bot."""
    await _leeds_admin(mapped)
    cafe = await _id(mapped, CAFE)
    async with desk_page(mapped, init_data(ADMIN_ID)) as page:
        await page.locator("body[data-page=overview]").wait_for(state="attached")
        await page.click("nav a[data-page=activities]")
        await page.locator("body[data-page=activities]").wait_for(state="attached")
        await page.click(f"tr[data-activity='{cafe}'] button")
        await page.locator("#activity-detail section[data-section=poster]").wait_for()
        assert await page.input_value("#poster-lang-0") == "en"
        await page.select_option("#poster-lang-1", "ar")
        await _fits(page)
        await page.screenshot(path=str(tmp_path / "desk-activity-poster.png"), full_page=True)
        async with page.expect_download() as waiting:
            await page.click("button[data-action=poster]")
        download = await waiting.value
        assert download.suggested_filename == f"poster-{CAFE}-en-ar.pdf"
        pdf = tmp_path / download.suggested_filename
        await download.save_as(pdf)
    assert _plain("Conversation café") in _text(pdf)
    assert _qr_texts(_first_page(pdf)) == [f"https://t.me/{mapped.app.bot.username}?start=a-{cafe}"]
