"""Configuration from the environment, checked once at start-up.

A bad value raises ``ConfigError`` with one line naming the variable; the CLI prints it and
exits with code 2.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DB = "data/sanctuary.db"
POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_CACHE = "data/cache"
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")  # Telegram's rule for usernames
DEFAULT_LISTEN = "127.0.0.1:8080"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# OpenStreetMap's standard tiles (https://operations.osmfoundation.org/policies/tiles/).
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, what: str
) -> float:
    """A number from ``low`` to ``high``, or a ConfigError naming the variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for nan
        raise ConfigError(f"{name} must be {what} from {low:g} to {high:g}, got {raw!r}")
    return value


def _postgresql_url(url: str) -> str:
    """SANCTUARY_DB as postgresql://user:password@host:port/database, checked."""
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        parsed = None
    if parsed is None or not parsed.hostname or parsed.path in ("", "/"):
        raise ConfigError(
            "SANCTUARY_DB as a URL must be postgresql://user:password@host:5432/database"
        )
    return url


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the bot reads from its environment."""

    token: str | None
    api_url: str
    db_path: Path
    cache_dir: Path
    outcodes_path: Path | None
    timezone: str = "Europe/London"
    search_radius_miles: float = 25.0
    send_rate: float = 30.0
    # Seconds between two messages to one person (Telegram's 1 a second); tests of other
    # things than the limits shorten it, or every further message of theirs waits a second
    chat_gap_s: float = 1.0
    log_format: str = "text"
    bot_username: str | None = None  # for t.me links made without the bot (posters)
    # Set together: Telegram posts updates to webhook_url; without it the bot long-polls.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Where the web server (webhook, /healthz, /readyz, /metrics) listens; None: not at all.
    listen: tuple[str, int] | None = None
    # The web server's public https address, no path (the map Mini App); None: no map button.
    public_url: str | None = None
    tile_url: str = DEFAULT_TILE_URL  # the map's tiles, with {z} {x} {y}
    # This instance's name among those sharing the database (the leases' holder): the same
    # name after a restart, so a restarted instance takes back its leases at once.
    instance: str = field(default_factory=socket.gethostname)
    # SANCTUARY_DB as a postgresql:// URL: PostgreSQL instead of the SQLite file at db_path.
    db_url: str | None = None

    @property
    def database(self) -> str | Path:
        """What storage.db.Database.open opens: the PostgreSQL URL, else the SQLite file."""
        return self.db_url if self.db_url is not None else self.db_path

    @property
    def database_name(self) -> str:
        """The database for a message: the file, or the URL without its password."""
        if self.db_url is None:
            return str(self.db_path)
        parsed = urlparse(self.db_url)
        host = parsed.hostname or ""
        port = f":{parsed.port}" if parsed.port else ""
        user = f"{parsed.username}@" if parsed.username else ""
        return f"{parsed.scheme}://{user}{host}{port}{parsed.path}"

    @property
    def file_url(self) -> str:
        """Base URL for file downloads, derived from the API URL like Telegram's."""
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read and validate the environment."""
        env = os.environ if env is None else env
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
        if token is not None and (":" not in token or " " in token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (expected 123456:ABC...)"
            )
        api_url = env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL
        parsed = urlparse(api_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"TELEGRAM_API_URL must be an http(s) URL such as {DEFAULT_API_URL}, got {api_url!r}"
            )
        db_raw = env.get("SANCTUARY_DB", "").strip()
        db_url = _postgresql_url(db_raw) if db_raw.startswith(POSTGRESQL_SCHEMES) else None
        db_path = Path(DEFAULT_DB if db_url is not None else db_raw or DEFAULT_DB)
        if db_path.is_dir():
            raise ConfigError(f"SANCTUARY_DB must be a file path, {db_path} is a directory")
        cache_dir = Path(env.get("SANCTUARY_CACHE_DIR", "").strip() or DEFAULT_CACHE)
        outcodes_raw = env.get("SANCTUARY_OUTCODES", "").strip()
        outcodes_path = Path(outcodes_raw) if outcodes_raw else None
        if outcodes_path is not None and not outcodes_path.is_file():
            raise ConfigError(f"SANCTUARY_OUTCODES: no such file: {outcodes_path}")
        tz = env.get("SANCTUARY_TIMEZONE", "").strip() or "Europe/London"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"SANCTUARY_TIMEZONE: unknown time zone {tz!r}") from None
        radius = _number(env, "SANCTUARY_RADIUS_MILES", 25, 1, 200, "a number of miles")
        send_rate = _number(env, "SANCTUARY_SEND_RATE", 30, 1, 1000, "messages per second")
        log_format = env.get("SANCTUARY_LOG_FORMAT", "").strip().lower() or "text"
        if log_format not in ("text", "json"):
            raise ConfigError(f"SANCTUARY_LOG_FORMAT must be text or json, got {log_format!r}")
        bot_username = env.get("SANCTUARY_BOT_USERNAME", "").strip().lstrip("@") or None
        if bot_username is not None and not _USERNAME.fullmatch(bot_username):
            raise ConfigError(
                f"SANCTUARY_BOT_USERNAME must be a bot's username such as sanctuary_bot, got {bot_username!r}"
            )
        webhook_url, webhook_secret = _webhook(env)
        listen = _listen(env.get("SANCTUARY_LISTEN", "").strip() or DEFAULT_LISTEN)
        if webhook_url is not None and listen is None:
            raise ConfigError("SANCTUARY_LISTEN cannot be off with SANCTUARY_WEBHOOK_URL set")
        public_url, tile_url = _map(env)
        instance = env.get("SANCTUARY_INSTANCE", "").strip() or socket.gethostname()
        if len(instance) > 100 or not instance.isprintable():
            raise ConfigError(f"SANCTUARY_INSTANCE must be a short name, got {instance!r}")
        if public_url is not None and listen is None:
            raise ConfigError("SANCTUARY_LISTEN cannot be off with SANCTUARY_PUBLIC_URL set")
        return cls(
            token=token,
            api_url=api_url,
            db_path=db_path,
            db_url=db_url,
            cache_dir=cache_dir,
            outcodes_path=outcodes_path,
            timezone=tz,
            search_radius_miles=radius,
            send_rate=send_rate,
            log_format=log_format,
            bot_username=bot_username,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            listen=listen,
            public_url=public_url,
            tile_url=tile_url,
            instance=instance,
        )


def _webhook(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """SANCTUARY_WEBHOOK_URL and its SANCTUARY_WEBHOOK_SECRET, checked together."""
    url = env.get("SANCTUARY_WEBHOOK_URL", "").strip() or None
    secret = env.get("SANCTUARY_WEBHOOK_SECRET", "").strip() or None
    if url is None:
        return None, None
    parsed = urlparse(url)
    local = parsed.scheme == "http" and parsed.hostname in _LOCAL_HOSTS  # a test, a local proxy
    if not (parsed.scheme == "https" or local) or not parsed.hostname:
        raise ConfigError(
            f"SANCTUARY_WEBHOOK_URL must be the public https URL Telegram calls, got {url!r}"
        )
    if secret is None:
        raise ConfigError("SANCTUARY_WEBHOOK_SECRET is required with SANCTUARY_WEBHOOK_URL")
    if not _SECRET.fullmatch(secret):
        raise ConfigError(
            "SANCTUARY_WEBHOOK_SECRET must be 1 to 256 of the characters A-Z a-z 0-9 _ -"
        )
    return url, secret


def _map(env: Mapping[str, str]) -> tuple[str | None, str]:
    """SANCTUARY_PUBLIC_URL (https, as Telegram opens Mini Apps) and SANCTUARY_TILE_URL."""
    public = env.get("SANCTUARY_PUBLIC_URL", "").strip().rstrip("/") or None
    if public is not None:
        parsed = urlparse(public)
        if (
            parsed.scheme != "https"
            or not parsed.hostname
            or parsed.path not in ("", "/")
            or parsed.query
            or parsed.fragment
        ):
            raise ConfigError(
                f"SANCTUARY_PUBLIC_URL must be the bot's public https address such as https://bot.example.org, got {public!r}"
            )
    tiles = env.get("SANCTUARY_TILE_URL", "").strip() or DEFAULT_TILE_URL
    parsed = urlparse(tiles)
    if (
        parsed.scheme not in ("http", "https")
        or not parsed.hostname
        or not all(part in tiles for part in ("{z}", "{x}", "{y}"))
    ):
        raise ConfigError(
            f"SANCTUARY_TILE_URL must be an http(s) URL with {{z}}, {{x}} and {{y}} such as {DEFAULT_TILE_URL}, got {tiles!r}"
        )
    return public, tiles


def _listen(raw: str) -> tuple[str, int] | None:
    """SANCTUARY_LISTEN: ``host:port`` (``[::1]:8080`` for IPv6), or ``off``."""
    if raw.lower() == "off":
        return None
    host, _, port = raw.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(
            f"SANCTUARY_LISTEN must be host:port such as {DEFAULT_LISTEN}, or off, got {raw!r}"
        )
    return host, int(port)
