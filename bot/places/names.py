"""Place names as comparison keys: typed text and GeoNames names normalised alike."""

from __future__ import annotations

import unicodedata

from bot.places.place import Region

__all__ = ["normalize_name", "strip_country", "useful_alternate"]

_MAX_RAW_CHARS = 300  # input beyond this is ignored before normalising

# --------------------------------------------------------------------------------------------
# Text normalisation

_APOSTROPHES = "'’‘‛ʼʻʹʾʿ`´′"
_CHAR_MAP: dict[int, int | str | None] = {
    **str.maketrans("", "", _APOSTROPHES),
    # Latin letters that do not decompose
    **str.maketrans("øłđðıħŀ", "olddihl"),
    ord("æ"): "ae",
    ord("œ"): "oe",
    ord("þ"): "th",
    # Arabic script: alef variants, then yeh, kaf and heh forms
    **str.maketrans("أإآٱٲٳ", "اااااا"),
    **str.maketrans("ىیېێ", "يييي"),
    **str.maketrans("كڪ", "کک"),
    **str.maketrans("ہەھۀۂ", "ههههه"),
}
# tatweel and harakat / Quranic marks
for _cp in [0x0640, *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)]:
    _CHAR_MAP[_cp] = None

_COUNTRY_SUFFIXES: dict[str, Region | None] = {
    "uk": None,
    "u k": None,
    "united kingdom": None,
    "gb": None,
    "great britain": None,
    "britain": None,
    "england": "ENG",
    "scotland": "SCT",
    "wales": "WLS",
    "cymru": "WLS",
    "northern ireland": "NIR",
    "n ireland": "NIR",
    "ni": "NIR",
}


def _strips_marks(base: str) -> bool:
    """Whether combining marks on this base character are dropped (Latin and Greek)."""
    return base < "\u0250" or "\u1e00" <= base <= "\u1eff" or "\u0370" <= base <= "\u03ff"


def normalize_name(text: str) -> str:
    """A comparison key: NFKC, casefold, no Latin diacritics, unified Arabic letters, no
    punctuation, control or format characters, single spaces, and "st" spelt "saint"."""
    text = unicodedata.normalize("NFKC", text[:_MAX_RAW_CHARS]).casefold().translate(_CHAR_MAP)
    out: list[str] = []
    base = " "
    for ch in unicodedata.normalize("NFD", text):
        cat = unicodedata.category(ch)
        major = cat[0]
        if major == "M":
            if base == " " or _strips_marks(base):
                continue  # a mark on nothing (e.g. an emoji's variation selector) or on Latin
            out.append(ch)
        elif major in "LN":
            base = ch
            out.append(ch)
        elif cat == "Cf":
            continue  # bidi controls, zero-width characters, soft hyphen
        else:
            base = " "
            out.append(" ")
    words = unicodedata.normalize("NFC", "".join(out)).split()
    return " ".join("saint" if w == "st" else w for w in words)


def _is_wide(text: str) -> bool:
    """Whether the text contains East Asian wide characters (a 2-character name is real)."""
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


def useful_alternate(raw: str, key: str) -> bool:
    """Skip airport codes ('LBA') and keys of two characters or fewer (except CJK)."""
    if len(raw) == 3 and raw.isascii() and raw.isalpha() and raw.isupper():
        return False
    return len(key) > 2 or (len(key) == 2 and _is_wide(key))


def strip_country(key: str) -> tuple[str, Region | None]:
    """Drop trailing country words ("leeds uk", "bangor wales"); the last nation named wins."""
    region: Region | None = None
    changed = True
    while changed:
        changed = False
        for suffix, suffix_region in _COUNTRY_SUFFIXES.items():
            if key.endswith(" " + suffix):
                key = key[: -len(suffix) - 1]
                region = region or suffix_region
                changed = True
                break
    return key, region
