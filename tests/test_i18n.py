"""Locale resolution and the gettext runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import (
    CatalogsNotCompiled,
    current_locale,
    gettext,
    load_catalogs,
    match_language,
    ngettext,
    resolve_locale,
    use_locale,
)
from bot.views import formatting as fmt


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ar", "ar"),
        ("ar-SY", "ar"),
        ("ar_SY", "ar"),
        ("fa-IR", "fa"),
        ("FA", "fa"),
        ("uk", "uk"),
        ("fr-CA", "fr"),
        ("en-GB", "en"),
        ("pt-BR", None),
        ("", None),
        (None, None),
        ("xx-YY", None),
    ],
)
def test_match_language(tag: str | None, expected: str | None) -> None:
    assert match_language(tag) == expected


def test_resolve_stored_then_telegram_then_english() -> None:
    assert resolve_locale("fa", "ar") == "fa"
    assert resolve_locale(None, "ar-SY") == "ar"
    assert resolve_locale(None, "pt-BR") == "en"
    assert resolve_locale("zz", None) == "en"  # a stored code we no longer offer


def test_use_locale_restores() -> None:
    with use_locale("ar"):
        assert current_locale() == "ar"
        with use_locale("fr"):
            assert current_locale() == "fr"
        assert current_locale() == "ar"
    assert current_locale() == "en"


def test_translations_and_plurals() -> None:
    with use_locale("fr"):
        assert gettext("Free") != "Free"
        one = ngettext(
            "{count} welcoming activity near you", "{count} welcoming activities near you", 1
        )
        many = ngettext(
            "{count} welcoming activity near you", "{count} welcoming activities near you", 5
        )
        assert one != many and "{count}" in many
    with use_locale("ar"):
        forms = {
            ngettext(
                "{count} welcoming activity near you", "{count} welcoming activities near you", n
            )
            for n in (0, 1, 2, 3, 11, 100)
        }
        assert len(forms) >= 4  # Arabic has six plural forms


def test_missing_catalog_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(CatalogsNotCompiled, match="make compile"):
        load_catalogs(tmp_path)
    load_catalogs()  # restore the real ones for the other tests


def test_distances_follow_the_locale() -> None:
    with use_locale("en"):
        assert fmt.distance(1.609344) == "1 mi"
        assert fmt.distance(0.01) == "0.1 mi"
        assert fmt.distance(40.2) == "25 mi"
    with use_locale("fr"):
        assert fmt.distance(1.5) == "1,5\u202fkm"  # narrow no-break space, as CLDR has it
    with use_locale("ar"):
        assert fmt.distance(2.0).startswith("2") and "كم" in fmt.distance(2.0)


def test_bidi_isolates_only_in_rtl_and_clean_strips_controls() -> None:
    with use_locale("en"):
        assert fmt.bidi("LS6") == "LS6"
    with use_locale("fa"):
        assert fmt.bidi("LS6") == "\u2068LS6\u2069"
    assert fmt.clean("\u202eabc\u202c  \n def", 50) == "abc def"
    assert len(fmt.clean("x" * 500, 60)) == 60
    assert fmt.escape("<b>&") == "&lt;b&gt;&amp;"
