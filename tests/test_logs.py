"""Logs never carry what people typed or where they are, in either format."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from bot import callbacks as cb
from bot.logs import make_handler
from tests.conftest import Harness

SECRETS = (
    "53.79",
    "53.8",
    "-1.54",
    "-1.55",
    "Sheffeild",
    "secret",
    "Leeds",
    "Cardiff",
    "51.4",
    "-3.1",
    "TEST-token",
)


# a line's time, as either format writes it ("2026-12-07 23:55:51,465", "...T23:55:51.465+00:00")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:[+-]\d\d:\d\d|Z)?")


def _without_times(logged: str) -> str:
    return _TIME.sub("<time>", logged)


@pytest.fixture
def written() -> Iterator[dict[str, io.StringIO]]:
    """What the operator's log would show, in each format (the handlers `run` installs)."""
    streams = {fmt: io.StringIO() for fmt in ("text", "json")}
    handlers = [make_handler(fmt, stream) for fmt, stream in streams.items()]
    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield streams
    finally:
        for handler in handlers:
            root.removeHandler(handler)


async def test_a_journey_logs_no_text_or_coordinates(
    bot: Harness, caplog: pytest.LogCaptureFixture, written: dict[str, io.StringIO]
) -> None:
    caplog.set_level(logging.INFO)
    chat = bot.chat(7001)
    await chat.send("/start")
    await chat.press("English")
    await chat.press("looking for welcome")
    await chat.share_location(53.7997, -1.5492)
    await chat.send("Sheffeild")
    await chat.press("Save this area")
    await chat.send("my secret words")
    await chat.press_data(cb.Moved())
    await chat.send("Cardiff")  # the new area: a place name that must not be logged
    await chat.send("/mydata")
    await chat.send("/forget")
    await chat.press("Yes, delete everything")
    bot.server.fail_next("sendMessage", kind="500")
    await chat.send("Leeds")  # an error is logged: it must not carry the text either
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.args!r}"
        for record in caplog.records
    )
    assert any(record.levelno >= logging.ERROR for record in caplog.records)
    for secret in SECRETS:
        assert secret not in logged, secret
        for fmt, stream in written.items():
            # without the lines' times: "23:55:51.465" holds "51.4" by chance, not a place
            assert secret not in _without_times(stream.getvalue()), (fmt, secret)

    # Plain text stays the default shape; JSON is one object a line.
    text = written["text"].getvalue()
    assert " ERROR handlers.base: error handling update " in text
    assert "Traceback" in text
    lines = written["json"].getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    error = next(e for e in entries if e["level"] == "ERROR")
    assert error["logger"] == "handlers.base"
    assert error["message"].startswith("error handling update ")
    assert error["update_kind"] == "message"  # the typed "Leeds" that met the 500
    assert "Traceback" in error["exception"]
