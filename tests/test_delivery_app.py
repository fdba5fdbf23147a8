"""The delivery path inside the running bot: block/unblock updates and localised notices."""

from __future__ import annotations

from bot.i18n import N_
from storage.outbox import OutboxItem
from tests.conftest import Harness
from tests.helpers import eventually, tr

NOTICE = N_("Sorry, something went wrong on our side. Please try again in a moment.")


async def _settle(bot: Harness, chat_id: int, count: int) -> None:
    def enough() -> bool:
        return len([m for m in bot.server.messages(chat_id) if m.kind == "text"]) >= count

    await eventually(enough, 5.0, bot.server.describe_calls)
    # and marked sent: on PostgreSQL the sender's write is on a connection of its own, so
    # it may land a moment after Telegram took the message
    await bot.delivered(chat_id)


async def test_notice_goes_out_in_the_recipients_language(bot: Harness) -> None:
    chat = bot.chat(9001, "fr")
    await chat.send("/language")
    await chat.press("Français")
    before = len(bot.server.messages(9001))
    services = bot.services
    assert services.sender is not None
    await services.outbox.enqueue(
        [OutboxItem("notice", "n1", 9001, {"message": NOTICE}), OutboxItem("notice", "n1", 9001)],
        services.now(),
    )
    services.sender.wake()
    await _settle(bot, 9001, before + 1)
    assert bot.server.messages(9001)[-1].text == tr("fr", NOTICE)
    assert await bot.row("SELECT state FROM outbox WHERE subject = 'n1'") == ("sent",)


async def test_blocking_the_bot_stops_delivery_until_unblocked(bot: Harness) -> None:
    chat = bot.chat(9002)
    await chat.send("/start")
    blocked = chat.user.block_bot()
    await bot.processor.wait_processed(blocked)
    assert await bot.row("SELECT unreachable FROM chat_status WHERE chat_id = 9002") == (1,)
    services = bot.services
    await services.outbox.enqueue(
        [OutboxItem("notice", "n2", 9002, {"message": NOTICE})], services.now()
    )
    assert await bot.row("SELECT state FROM outbox WHERE subject = 'n2'") == ("blocked",)
    unblocked = chat.user.unblock_bot()
    await bot.processor.wait_processed(unblocked)
    assert await bot.row("SELECT unreachable FROM chat_status WHERE chat_id = 9002") == (0,)
    await services.outbox.enqueue(
        [OutboxItem("notice", "n3", 9002, {"message": NOTICE})], services.now()
    )
    assert services.sender is not None
    services.sender.wake()
    await _settle(bot, 9002, 2)
    assert await bot.row("SELECT state FROM outbox WHERE subject = 'n3'") == ("sent",)


async def test_the_sender_meets_a_429_itself_where_a_reply_would_wait(bot: Harness) -> None:
    services = bot.services
    assert services.sender is not None
    bot.server.fail_next("sendMessage", kind="429", retry_after=1, chat_id=9003)
    await services.outbox.enqueue(
        [OutboxItem("notice", "n4", 9003, {"message": NOTICE})], services.now()
    )
    services.sender.wake()

    async def handled() -> bool:  # the 429 met, and the row no longer in flight
        row = await bot.row("SELECT state FROM outbox WHERE subject = 'n4'")
        return any(c.status == 429 for c in bot.server.calls) and row != ("sending",)

    await eventually(handled, 5.0, bot.server.describe_calls)
    # The sender paused itself and put the row back (the test clock stands still): the
    # application's patience with replies did not send it again behind the sender's back.
    assert await bot.row("SELECT state, attempts, error FROM outbox WHERE subject = 'n4'") == (
        "pending",
        1,
        "429 retry after 1s",
    )
    assert [
        c.status for c in bot.server.calls if c.method == "sendMessage" and c.chat_id == 9003
    ] == [429]
