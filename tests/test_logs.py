"""Logs never carry what people typed or where they are."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Harness


async def test_a_journey_logs_no_text_or_coordinates(
    bot: Harness, caplog: pytest.LogCaptureFixture
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
    await chat.press_data("D:moved")
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
    for secret in (
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
    ):
        assert secret not in logged, secret
