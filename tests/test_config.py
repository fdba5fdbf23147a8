"""Configuration: defaults, and one clear line naming the variable for a bad value."""

from __future__ import annotations

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
