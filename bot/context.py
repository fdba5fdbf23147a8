"""The typed callback context: handlers reach services as ``context.services``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.services import Services


class BotData:
    """What the application keeps for all chats: the services, what the journeys pick up
    again when the bot starts (run in post_init, once the services exist), and how each lets
    go of what it holds in memory about a person who is forgotten."""

    __slots__ = ("let_go", "resume", "services")

    def __init__(self) -> None:
        self.services: Services | None = None
        self.resume: list[Callable[[Services], Awaitable[None]]] = []
        self.let_go: list[Callable[[int], object]] = []


class AppContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to the services."""

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
