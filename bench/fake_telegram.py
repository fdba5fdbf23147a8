"""The fake Telegram of ``make bench``'s webhook figures, run in a process of its own."""

from __future__ import annotations

import asyncio
import time
from typing import Any


def fake_telegram(conn: Any, people: int) -> None:
    """The fake Bot API in a process of its own, so that what Telegram does (posting each
    update to the webhook, or answering getUpdates) is not timed as the bot's work.

    Commands through ``conn``: ``("run", places)`` sends each (latitude, longitude) as a shared
    location from a person of its own and answers, once each has had its reply, with the
    seconds that took and each reply's delay after its update was first posted to the webhook
    (or queued for getUpdates); ``("stop",)``.
    """
    from tests.fakeapi import ApiCall, FakeBotAPI

    async def serve() -> None:
        async with FakeBotAPI() as server:
            users = [server.user(10_000 + i, language_code="en") for i in range(people)]
            conn.send(server.port)
            loop = asyncio.get_running_loop()
            while True:
                command, *args = await loop.run_in_executor(None, conn.recv)
                if command == "stop":
                    return
                (places,) = args
                count = len(places)
                since, posted = len(server.calls), len(server.webhook_posts)
                queued: dict[int, float] = {}  # chat -> when its update was queued
                start = time.perf_counter()
                for user, (lat, lon) in zip(users, places, strict=False):
                    user.send_location(lat, lon)
                    queued[user.chat_id] = time.monotonic()
                replied: list[ApiCall] = []

                def all_replied(
                    call: ApiCall,
                    chats: dict[int, float] = queued,
                    got: list[ApiCall] = replied,
                    count: int = count,
                ) -> bool:
                    """Looks at each new call once: keeps the replies, true at the last."""
                    if call.method == "sendMessage" and call.chat_id in chats:
                        got.append(call)
                    return len(got) >= count

                await server.wait_for_call(all_replied, 600.0, since)
                elapsed = time.perf_counter() - start
                sent_at = dict(queued)
                chat_of = {u["update_id"]: u["message"]["chat"]["id"] for u in server.updates}
                posts: dict[int, float] = {}
                for post in server.webhook_posts[posted:]:  # the first post of each update
                    posts.setdefault(chat_of[post.update_id], post.at)
                sent_at |= posts
                conn.send((elapsed, [c.at - sent_at[c.chat_id] for c in replied]))

    asyncio.run(serve())
