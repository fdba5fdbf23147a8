"""The typed callback context: handlers reach services as ``context.services``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.callbacks import Button, Expired, parse
from bot.domain.vocabulary import PlaceFor
from bot.places.geo import Place
from bot.services import Services
from bot.web.health import Contact


@dataclass(frozen=True, slots=True)
class Action:
    """What a person did other than typing text: a command, a button or a shared location.

    After every update, each open question is shown the action; one that is not part of it
    is given up (see ``KeepOpen`` and docs/conversations.md)."""

    kind: Literal["command", "button", "location"]
    value: str = ""  # a command's name (no "/", no bot name), or a button's callback data


@dataclass(frozen=True, slots=True)
class KeepOpen:
    """The actions that keep a question open, because they are part of answering it: its
    buttons (button codes of bot/callbacks.py, pressed with data that decodes), its commands
    (names without "/") and shared pins. Any other action gives the question up."""

    buttons: tuple[type[Button], ...] = ()
    commands: tuple[str, ...] = ()
    locations: bool = False

    def __contains__(self, action: Action) -> bool:
        if action.kind == "button":
            try:
                return isinstance(parse(action.value), self.buttons)
            except Expired:
                return False
        if action.kind == "command":
            return action.value in self.commands
        return self.locations


@dataclass(frozen=True, slots=True)
class PlaceGiven:
    """A place a person gave: a shared pin (``place`` None) or a place they named, with the
    kind of activity they asked for with it ("English class in Leeds")."""

    lat: float
    lon: float
    place: Place | None = None
    category: str | None = None


# What a journey does with the place it asked for (see handlers.places).
PlaceTaker: TypeAlias = "Callable[[Update, AppContext, PlaceGiven], Awaitable[None]]"


class BotData:
    """What the application keeps for all chats: the services, and the hooks the journeys
    add when they are registered:

    - ``reopen_at_start``: reopen the questions people were answering before a restart (run
      in post_init, once the services exist);
    - ``forget_in_memory``: let go of what a journey holds in memory about a person who is
      forgotten (/forget, retention);
    - ``give_up_on_action``: give up a question when the person does something that is not
      part of it (run after every handler);
    - ``place_takers``: what each journey does with the next place given for it, and
      ``place_once`` the purposes that last for one place (handlers.places).
    """

    __slots__ = (
        "contact",
        "forget_in_memory",
        "give_up_on_action",
        "place_once",
        "place_takers",
        "reopen_at_start",
        "services",
    )

    def __init__(self) -> None:
        self.services: Services | None = None
        self.contact = Contact()  # when Telegram was last heard from (/readyz)
        self.reopen_at_start: list[Callable[[Services], Awaitable[None]]] = []
        self.forget_in_memory: list[Callable[[int], object]] = []
        self.give_up_on_action: list[Callable[[AppContext, int, Action], Awaitable[None]]] = []
        self.place_takers: dict[PlaceFor, PlaceTaker] = {}
        self.place_once: set[PlaceFor] = set()


class AppContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to the services.

    One context serves every handler group of an update; ``asked_now`` names the questions
    this update asked, so that the update itself does not count as turning away from them.
    """

    def __init__(
        self, application: App, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.asked_now: set[str] = set()

    @property
    def services(self) -> Services:
        """The running services (set in post_init)."""
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services are not started yet")
        return services

    @property
    def session(self) -> dict[Any, Any]:
        """In-memory state of this person's chat (never persisted): what the next place is for
        (handlers.places), the last place searched, a kind of activity asked before a place."""
        if self.user_data is None:
            return {}
        return self.user_data


App: TypeAlias = Application[
    ExtBot[None], AppContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[AppContext]
]
