"""The typed callback context: handlers reach services as ``context.services``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.services import Services
from bot.web.health import Contact


@dataclass(frozen=True, slots=True)
class Turn:
    """What a person did instead of typing an answer: a command, a button or a location."""

    kind: Literal["command", "button", "location"]
    value: str = ""  # a command's name (no "/", no bot name), or a button's callback data


class BotData:
    """What the application keeps for all chats: the services, what the journeys pick up
    again when the bot starts (run in post_init, once the services exist), how each lets go
    of what it holds in memory about a person who is forgotten, and how each gives up its
    question when the person turns to something else (``elsewhere``, after every handler)."""

    __slots__ = ("contact", "elsewhere", "let_go", "resume", "services")

    def __init__(self) -> None:
        self.services: Services | None = None
        self.contact = Contact()  # when Telegram was last heard from (/readyz)
        self.resume: list[Callable[[Services], Awaitable[None]]] = []
        self.let_go: list[Callable[[int], object]] = []
        self.elsewhere: list[Callable[[AppContext, int, Turn], Awaitable[None]]] = []


class AppContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to the services.

    One context serves every handler group of an update; ``asked`` names the questions this
    update asked, so that the update itself does not count as turning away from them.
    """

    def __init__(
        self, application: App, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.asked: set[str] = set()

    @property
    def services(self) -> Services:
        """The running services (set in post_init)."""
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services are not started yet")
        return services

    @property
    def session(self) -> dict[Any, Any]:
        """In-memory state of this person's chat (never persisted): search mode, last place."""
        if self.user_data is None:
            return {}
        return self.user_data


App: TypeAlias = Application[
    ExtBot[None], AppContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[AppContext]
]
