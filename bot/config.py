"""Configuration from the environment, checked once at start-up.

A bad value raises ``ConfigError`` with one line naming the variable; the CLI prints it and
exits with code 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DB = "data/sanctuary.db"
DEFAULT_CACHE = "data/cache"
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")  # Telegram's rule for usernames


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
    log_format: str = "text"
    bot_username: str | None = None  # for t.me links made without the bot (posters)

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
        db_path = Path(env.get("SANCTUARY_DB", "").strip() or DEFAULT_DB)
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
        return cls(
            token=token,
            api_url=api_url,
            db_path=db_path,
            cache_dir=cache_dir,
            outcodes_path=outcodes_path,
            timezone=tz,
            search_radius_miles=radius,
            send_rate=send_rate,
            log_format=log_format,
            bot_username=bot_username,
        )
