"""Configuration: defaults, and one clear line naming the variable for a bad value."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.config import DEFAULT_API_URL, Config, ConfigError


def test_defaults() -> None:
    config = Config.from_env({})
    assert config.token is None
    assert config.api_url == DEFAULT_API_URL
    assert config.db_path == Path("data/sanctuary.db")
    assert config.outcodes_path is None
    assert config.file_url == "https://api.telegram.org/file/bot"
    assert config.log_format == "text"
    assert Config.from_env({"SANCTUARY_LOG_FORMAT": "JSON"}).log_format == "json"
    assert config.bot_username is None
    assert Config.from_env({"SANCTUARY_BOT_USERNAME": "@leeds_bot"}).bot_username == "leeds_bot"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"TELEGRAM_API_URL": "nonsense"}, "TELEGRAM_API_URL"),
        ({"SANCTUARY_OUTCODES": "/no/such/file.csv"}, "SANCTUARY_OUTCODES"),
        ({"SANCTUARY_TIMEZONE": "Mars/Olympus"}, "SANCTUARY_TIMEZONE"),
        ({"SANCTUARY_RADIUS_MILES": "far"}, "SANCTUARY_RADIUS_MILES"),
        ({"SANCTUARY_RADIUS_MILES": "0"}, "SANCTUARY_RADIUS_MILES"),
        ({"SANCTUARY_RADIUS_MILES": "nan"}, "SANCTUARY_RADIUS_MILES"),
        ({"SANCTUARY_SEND_RATE": "5000"}, "SANCTUARY_SEND_RATE"),
        ({"SANCTUARY_LOG_FORMAT": "xml"}, "SANCTUARY_LOG_FORMAT"),
        ({"SANCTUARY_BOT_USERNAME": "t.me/some_bot"}, "SANCTUARY_BOT_USERNAME"),
        ({"SANCTUARY_BOT_USERNAME": "abc"}, "SANCTUARY_BOT_USERNAME"),
        ({"SANCTUARY_WEBHOOK_URL": "https://bot.example.org/hook"}, "SANCTUARY_WEBHOOK_SECRET"),
        (
            {
                "SANCTUARY_WEBHOOK_URL": "https://bot.example.org/h",
                "SANCTUARY_WEBHOOK_SECRET": "a b",
            },
            "SANCTUARY_WEBHOOK_SECRET",
        ),
        (
            {"SANCTUARY_WEBHOOK_URL": "https://b.example.org/h", "SANCTUARY_WEBHOOK_SECRET": "é"},
            "SANCTUARY_WEBHOOK_SECRET",
        ),
        (
            {
                "SANCTUARY_WEBHOOK_URL": "https://b.example.org/",
                "SANCTUARY_WEBHOOK_SECRET": "x" * 257,
            },
            "SANCTUARY_WEBHOOK_SECRET",
        ),
        (
            {"SANCTUARY_WEBHOOK_URL": "http://bot.example.org/h", "SANCTUARY_WEBHOOK_SECRET": "s"},
            "SANCTUARY_WEBHOOK_URL",
        ),
        (
            {"SANCTUARY_WEBHOOK_URL": "bot.example.org", "SANCTUARY_WEBHOOK_SECRET": "s"},
            "SANCTUARY_WEBHOOK_URL",
        ),
        ({"SANCTUARY_LISTEN": "8080"}, "SANCTUARY_LISTEN"),
        (
            {
                "SANCTUARY_WEBHOOK_URL": "https://bot.example.org/tg",
                "SANCTUARY_WEBHOOK_SECRET": "s",
                "SANCTUARY_LISTEN": "off",
            },
            "SANCTUARY_LISTEN",
        ),
        ({"SANCTUARY_LISTEN": "127.0.0.1:http"}, "SANCTUARY_LISTEN"),
        ({"SANCTUARY_LISTEN": "127.0.0.1:70000"}, "SANCTUARY_LISTEN"),
        ({"SANCTUARY_PUBLIC_URL": "http://bot.example.org"}, "SANCTUARY_PUBLIC_URL"),
        ({"SANCTUARY_PUBLIC_URL": "bot.example.org"}, "SANCTUARY_PUBLIC_URL"),
        ({"SANCTUARY_PUBLIC_URL": "https://bot.example.org/?a=1"}, "SANCTUARY_PUBLIC_URL"),
        ({"SANCTUARY_PUBLIC_URL": "https://example.org/bot"}, "SANCTUARY_PUBLIC_URL"),
        (
            {"SANCTUARY_PUBLIC_URL": "https://bot.example.org", "SANCTUARY_LISTEN": "off"},
            "SANCTUARY_LISTEN",
        ),
        ({"SANCTUARY_TILE_URL": "https://tiles.example.org/{z}/{x}.png"}, "SANCTUARY_TILE_URL"),
        ({"SANCTUARY_TILE_URL": "ftp://tiles.example.org/{z}/{x}/{y}"}, "SANCTUARY_TILE_URL"),
        ({"SANCTUARY_INSTANCE": "x" * 101}, "SANCTUARY_INSTANCE"),
        ({"SANCTUARY_INSTANCE": "leeds\n1"}, "SANCTUARY_INSTANCE"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(env)
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message


def test_self_hosted_api_url() -> None:
    config = Config.from_env({"TELEGRAM_API_URL": "http://127.0.0.1:8081/bot"})
    assert config.file_url == "http://127.0.0.1:8081/file/bot"


def test_webhook_and_listen() -> None:
    assert Config.from_env({}).listen == ("127.0.0.1", 8080)
    assert Config.from_env({}).webhook_url is None
    assert Config.from_env({"SANCTUARY_LISTEN": "off"}).listen is None
    assert Config.from_env({"SANCTUARY_LISTEN": "[::1]:9000"}).listen == ("::1", 9000)
    secret = "A-z_09" * 42 + "abcd"  # 256 characters
    config = Config.from_env(
        {"SANCTUARY_WEBHOOK_URL": "https://bot.example.org/tg", "SANCTUARY_WEBHOOK_SECRET": secret}
    )
    assert (config.webhook_url, config.webhook_secret) == ("https://bot.example.org/tg", secret)
    local = {"SANCTUARY_WEBHOOK_URL": "http://127.0.0.1:8080/tg", "SANCTUARY_WEBHOOK_SECRET": "s"}
    assert Config.from_env(local).webhook_url == "http://127.0.0.1:8080/tg"  # a local proxy


def test_map_settings() -> None:
    config = Config.from_env({})
    assert config.public_url is None  # no map button
    assert config.tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    config = Config.from_env(
        {
            "SANCTUARY_PUBLIC_URL": "https://bot.example.org/",
            "SANCTUARY_TILE_URL": "https://tiles.example.org/{z}/{x}/{y}.png",
        }
    )
    assert config.public_url == "https://bot.example.org"
    assert config.tile_url == "https://tiles.example.org/{z}/{x}/{y}.png"


def test_sanctuary_db_as_a_postgresql_url() -> None:
    url = "postgresql://sanctuary:s3cret@db.example.org:5432/sanctuary"
    config = Config.from_env({"SANCTUARY_DB": url})
    assert config.db_url == url and config.database == url
    assert config.database_name == "postgresql://sanctuary@db.example.org:5432/sanctuary"
    assert Config.from_env({"SANCTUARY_DB": "data/x.db"}).database == Path("data/x.db")
    for bad in ("postgresql://db.example.org", "postgresql://host:port/db", "postgres:///x"):
        with pytest.raises(ConfigError, match="SANCTUARY_DB"):
            Config.from_env({"SANCTUARY_DB": bad})


def test_the_instance_is_named_by_the_host_unless_told() -> None:
    assert Config.from_env({}).instance == socket.gethostname()
    assert Config.from_env({"SANCTUARY_INSTANCE": " web-2 "}).instance == "web-2"
