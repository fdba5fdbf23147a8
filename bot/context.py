"""The typed callback context: handlers reach services as ``context.services``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.callbacks import Button, Expired, parse
from bot.domain.retention import KEEP_DRAFTS
from bot.domain.vocabulary import PlaceFor
from bot.places.place import Place
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


@dataclass(slots=True)
class Remembered:
    """What one person's conversation remembers between two updates, read from the database
    before an update of theirs is handled and written back after it, so that the next update
    may be handled by another instance: the session (what the next place is for, a kind of
    activity asked before a place, the last place searched: handlers.places) and the typed
    questions they are answering (handlers.questions)."""

    user_id: int
    session: dict[str, Any]
    awaited: set[str]
    stored: str = ""  # the session as read, to write it back only when it changed
    forgotten: bool = field(default=False)  # the person was forgotten meanwhile: nothing kept


log = logging.getLogger(__name__)
_REMEMBERED: ContextVar[Remembered | None] = ContextVar("remembered", default=None)


def conversing(update: Update) -> int | None:
    """The person whose conversation an update carries on: a button they pressed, or a
    message in their private chat (None for anything else)."""
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    message = update.message
    if message is not None and message.chat.type == ChatType.PRIVATE and message.from_user:
        return message.from_user.id
    return None


def _session(text: str) -> dict[str, Any]:
    """A stored session (JSON keeps tuples as lists: they are tuples again)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


@asynccontextmanager
async def remembered(services: Services, user_id: int) -> AsyncIterator[Remembered]:
    """The person's conversation, read before their update is handled (one read by key) and
    written back after it if the session changed."""
    stored, awaited = await services.sessions.conversation(user_id, services.now() - KEEP_DRAFTS)
    text = json.dumps(stored, sort_keys=True) if stored else ""
    state = Remembered(user_id, _session(text), awaited, text)
    token = _REMEMBERED.set(state)
    try:
        yield state
    finally:
        _REMEMBERED.reset(token)
        now = json.dumps(state.session, sort_keys=True) if state.session else ""
        if now != state.stored and not state.forgotten:
            try:
                await services.sessions.save(user_id, state.session, services.now())
            except Exception:  # the reply has gone: the next update starts afresh
                log.exception("could not keep a session")


def remembered_now(user_id: int) -> Remembered | None:
    """The conversation of the person whose update is being handled, if it is ``user_id``'s
    (None: read the database)."""
    state = _REMEMBERED.get()
    return state if state is not None and state.user_id == user_id else None


def forget_remembered(user_id: int) -> None:
    """The person is forgotten (/forget, retention): what this update read of their
    conversation is dropped, and nothing of it is written back."""
    state = remembered_now(user_id)
    if state is not None:
        state.forgotten = True
        state.session.clear()
        state.awaited.clear()


class BotData:
    """What the application keeps for all chats: the services, and the hooks the journeys
    add when they are registered:

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
        "services",
    )

    def __init__(self) -> None:
        self.services: Services | None = None
        self.contact = Contact()  # when Telegram was last heard from (/readyz)
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
    def session(self) -> dict[str, Any]:
        """This person's session, kept in the database between their updates (``Remembered``):
        what the next place is for (handlers.places), the last place searched, a kind of
        activity asked before a place. Empty, and not kept, for an update that carries on no
        conversation (an inline query, a group's message)."""
        state = _REMEMBERED.get()  # the update being handled is this context's
        return state.session if state is not None else {}


App: TypeAlias = Application[
    ExtBot[None], AppContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[AppContext]
]
