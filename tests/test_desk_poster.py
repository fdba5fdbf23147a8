"""The desk's posters (Groups and people page: a group's; Activities page: one activity's): an
A4 PDF as `sanctuary-bot poster` draws it, in up to three languages, behind the desk's sign-in
and rights; 501 with a translated reason when the poster extra is not installed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.views import desk_activities as av
from bot.views import desk_groups as gv
from bot.views import poster
from storage.roles import COORDINATOR, NETWORK
from tests.conftest import NOW, Harness
from tests.test_desk import COORD_ID, SEEKER_ID, call, refusals
from tests.test_map import init_data
from tests.test_poster import _first_page, _labels, _plain, _qr_texts, _text
from tests.test_posting import ADMIN_ID, team


async def test_poster_sign_in_and_rights(mapped: Harness) -> None:
    leeds, _volunteer = await team(mapped)
    sheffield = (await mapped.services.groups.refs())["sheffield"]
    query = f"?group={leeds}&languages=en,ar"
    assert (await call(mapped, "group/poster", None, query=query))[0] == 401
    forged = init_data(ADMIN_ID)[:-4] + "0000"
    assert (await call(mapped, "group/poster", forged, query=query))[0] == 401

    before = await refusals(mapped, "desk:desk")
    status, body = await call(mapped, "group/poster", init_data(SEEKER_ID), query=query)
    assert status == 403 and body["error"] == "forbidden" and "pdf" not in body
    assert await refusals(mapped, "desk:desk") == before + 1

    # Leeds's admin asking for Sheffield's poster, or a group that is not there.
    auth = init_data(ADMIN_ID)
    before = await refusals(mapped, "desk:poster")
    for group in (sheffield, 10**6):
        status, body = await call(
            mapped, "group/poster", auth, query=f"?group={group}&languages=en"
        )
        assert status == 403 and "pdf" not in body
    assert await refusals(mapped, "desk:poster") == before + 2
    for bad in (
        "?group=x&languages=en",
        f"?group={leeds}&languages=xx",
        f"?group={leeds}&languages=en,ar,ti,fa",
    ):
        assert (await call(mapped, "group/poster", auth, query=bad))[0] == 400


async def test_a_leeds_admin_downloads_the_leeds_poster(mapped: Harness, tmp_path: Path) -> None:
    leeds, _volunteer = await team(mapped, "ti")
    auth = init_data(ADMIN_ID)
    status, data = await call(mapped, "groups", auth)
    # English first, then the languages readers chose, most read first; the rest after.
    readers = await mapped.services.translations.readers_languages()
    assert "ti" in readers
    codes = [lang["code"] for lang in data["poster"]["languages"]]
    assert codes[: 1 + len(readers)] == ["en", *readers] and len(codes) == len(set(codes)) == 20
    assert status == 200 and data["poster"]["chosen"] == ["en", *readers][:3]
    assert {"code": "ti", "name": "ትግርኛ"} in data["poster"]["languages"]

    status, data = await call(
        mapped, "group/poster", auth, query=f"?group={leeds}&languages=en,ar,ti"
    )
    assert status == 200 and data["filename"] == "poster-leeds-en-ar-ti.pdf"
    pdf = tmp_path / data["filename"]
    pdf.write_bytes(base64.b64decode(data["pdf"]))
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _text(pdf)
    for title in ("Conversation café", "English for beginners", "Friday football"):
        assert _plain(title) in text, title
    for elsewhere in ("Summer picnic", "Sheffield welcome café"):
        assert _plain(elsewhere) not in text, elsewhere
    for code in ("en", "ar", "ti"):
        for label in _labels(code, ["conversation", "english", "sport"], ["free"], 1):
            assert _plain(label) in text, f"{code}: {label!r} is not in the poster's text"


async def test_without_the_poster_extra(mapped: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    leeds, _volunteer = await team(mapped)
    monkeypatch.setattr(poster, "available", lambda: False)
    auth = init_data(ADMIN_ID)
    status, data = await call(mapped, "groups", auth)
    assert status == 200 and "poster" not in data  # the page shows no button
    status, body = await call(mapped, "group/poster", auth, query=f"?group={leeds}&languages=en")
    assert status == 501 and body["message"] == gv.poster_unavailable()
    # nor for one activity
    english = await _activity(mapped, "leeds-english")
    status, item = await call(mapped, "activity", auth, query=f"?id={english}")
    assert status == 200 and item["poster"] is None
    query = f"?activity={english}&languages=en"
    status, body = await call(mapped, "activity/poster", auth, query=query)
    assert status == 501 and body["message"] == gv.poster_unavailable()


async def test_a_group_with_nothing_coming_is_told_so(mapped: Harness) -> None:
    """A coordinator asks for Sheffield's poster once its one activity is paused: a clear
    message in their language, no PDF."""
    services = mapped.services
    await services.roles.grant(COORD_ID, COORDINATOR, NETWORK, None, NOW)
    sheffield = (await services.groups.refs())["sheffield"]
    auth = init_data(COORD_ID)
    query = f"?group={sheffield}&languages=en,ar"
    status, data = await call(mapped, "group/poster", auth, query=query)
    assert status == 200 and data["filename"] == "poster-sheffield-en-ar.pdf"
    (cafe,) = [a for a in await services.activities.published_of_group(sheffield)]
    assert await services.activities.set_paused(cafe.id, True, NOW)
    status, body = await call(mapped, "group/poster", auth, query=query)
    assert status == 409 and "pdf" not in body
    assert body["message"] == gv.poster_empty()


async def _activity(harness: Harness, ref: str) -> int:
    found = await harness.row("SELECT id FROM activities WHERE ref = ?", ref)
    assert found is not None
    return int(str(found[0]))


async def test_an_activitys_poster_sign_in_and_rights(mapped: Harness) -> None:
    # A Leeds admin gets a Leeds activity's poster; another group's activity, or an id that
    # is not there, is 403 and audited; unsigned or forged, 401; no role, 403.
    await team(mapped)
    english = await _activity(mapped, "leeds-english")
    sheffield = await _activity(mapped, "sheffield-cafe")
    query = f"?activity={english}&languages=en,ar"
    assert (await call(mapped, "activity/poster", None, query=query))[0] == 401
    forged = init_data(ADMIN_ID)[:-4] + "0000"
    assert (await call(mapped, "activity/poster", forged, query=query))[0] == 401
    before = await refusals(mapped, "desk:desk")
    status, body = await call(mapped, "activity/poster", init_data(SEEKER_ID), query=query)
    assert status == 403 and "pdf" not in body
    assert await refusals(mapped, "desk:desk") == before + 1

    auth = init_data(ADMIN_ID)
    status, data = await call(mapped, "activity/poster", auth, query=query)
    assert status == 200 and data["filename"] == "poster-leeds-english-en-ar.pdf"
    assert base64.b64decode(data["pdf"]).startswith(b"%PDF")
    before = await refusals(mapped, "desk:poster")
    for other in (str(sheffield), str(10**6), "x"):
        status, body = await call(
            mapped, "activity/poster", auth, query=f"?activity={other}&languages=en"
        )
        assert status == 403 and "pdf" not in body
    assert await refusals(mapped, "desk:poster") == before + 3
    for bad in ("xx", "en,ar,ti,fa", ""):
        status, _body = await call(
            mapped, "activity/poster", auth, query=f"?activity={english}&languages={bad}"
        )
        assert status == 400


async def test_a_leeds_admin_downloads_an_activitys_poster(mapped: Harness, tmp_path: Path) -> None:
    """From the activity's card on the Activities page: its poster, with what it is, in the
    languages chosen, and the QR code of its own link in the bot."""
    await team(mapped)
    english = await _activity(mapped, "leeds-english")
    auth = init_data(ADMIN_ID)
    status, item = await call(mapped, "activity", auth, query=f"?id={english}")
    assert status == 200 and item["poster"]["chosen"][0] == "en"
    status, data = await call(
        mapped, "activity/poster", auth, query=f"?activity={english}&languages=en,ar"
    )
    assert status == 200
    pdf = tmp_path / data["filename"]
    pdf.write_bytes(base64.b64decode(data["pdf"]))
    text = _text(pdf)
    assert _plain("English for beginners") in text
    assert _plain("Learn English together.") in text  # one activity: what it is, too
    assert _plain("Conversation café") not in text
    link = f"https://t.me/{mapped.app.bot.username}?start=a-{english}"
    assert link in text
    assert _qr_texts(_first_page(pdf)) == [link]

    # paused, the bot does not show it: no poster, said in the admin's words
    assert await mapped.services.activities.set_paused(english, True, NOW)
    status, item = await call(mapped, "activity", auth, query=f"?id={english}")
    assert status == 200 and item["poster"] is None
    status, body = await call(
        mapped, "activity/poster", auth, query=f"?activity={english}&languages=en"
    )
    assert status == 409 and "pdf" not in body and body["message"] == av.poster_empty()
