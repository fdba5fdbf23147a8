"""Telegram's sign-in for the Mini Apps (the map's "Open in the chat", the desk): the raw
``initData`` Telegram gives a Mini App, checked with init-data-py (core.telegram.org/bots/webapps,
"Validating data received via the Mini App": HMAC-SHA256 of the sorted fields, keyed by
HMAC("WebAppData", the bot's token), compared in constant time), at most a day old."""

from __future__ import annotations

from datetime import datetime, timedelta

import init_data_py

INIT_DATA_AGE = timedelta(days=1)  # how long a Mini App's sign-in is taken
CLOCK_SKEW = timedelta(minutes=5)  # a sign-in from a little in the future (clocks differ)


def signed_user(init_data: str, token: str, now: datetime) -> init_data_py.User:
    """The Telegram user who opened the Mini App, once ``init_data`` is signed with this
    bot's token and less than a day old; ValueError otherwise."""
    try:
        data = init_data_py.validate_by_hash(init_data, token, expires_in=INIT_DATA_AGE, now=now)
    except init_data_py.errors.InvalidInitDataError as exc:
        raise ValueError(f"initData not taken: {type(exc).__name__}") from exc
    if data.issued_at > now + CLOCK_SKEW:
        raise ValueError("initData from the future")
    if data.user is None:
        raise ValueError("initData without a user")
    return data.user
