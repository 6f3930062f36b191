"""Topics a websocket client subscribes to, and the kinds they come in.

A topic names one hall and one view of its log: ``hall/3/queue`` (public: displays and kiosks),
``hall/3/counter/5`` (one counter's console), ``hall/3/wallboard`` (supervision),
``hall/3/devices`` (the device fleet). Each kind declares who may subscribe, which events it
carries (and in what form: public kinds drop personal data), and how to build a snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.events import Event
from hall.kernel.roles import Access

_TOPIC = re.compile(r"^hall/(?P<hall>[1-9][0-9]{0,9})/(?P<kind>[a-z]{1,20})(?:/(?P<arg>[1-9][0-9]{0,5}))?$")


class TopicError(ValueError):
    """A topic string that does not name a hall and a known kind of view."""


@dataclass(frozen=True, slots=True)
class Topic:
    hall_id: int
    kind: str
    arg: int | None = None

    def __post_init__(self) -> None:
        if self.hall_id < 1:
            raise TopicError("hall id must be positive")

    @classmethod
    def parse(cls, text: object) -> Topic:
        if not isinstance(text, str) or len(text) > 64:
            raise TopicError("topic must be a string like 'hall/1/queue'")
        match = _TOPIC.match(text)
        if match is None:
            raise TopicError(f"not a topic: {text!r} (expected 'hall/<id>/<kind>[/<n>]')")
        arg = match["arg"]
        return cls(int(match["hall"]), match["kind"], int(arg) if arg else None)

    def __str__(self) -> str:
        base = f"hall/{self.hall_id}/{self.kind}"
        return base if self.arg is None else f"{base}/{self.arg}"


# Returns the event as this topic shows it, or None when the topic does not carry it.
Selector = Callable[[Topic, Event], Mapping[str, Any] | None]
Snapshot = Callable[[AsyncConnection, Topic], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class TopicKind:
    name: str
    access: Access
    select: Selector
    snapshot: Snapshot
    takes_arg: bool = False


class TopicRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, TopicKind] = {}

    def register(self, kind: TopicKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"topic kind {kind.name!r} registered twice")
        self._kinds[kind.name] = kind

    def kind_of(self, topic: Topic) -> TopicKind:
        kind = self._kinds.get(topic.kind)
        if kind is None:
            raise TopicError(f"unknown topic kind {topic.kind!r}; known: {', '.join(sorted(self._kinds))}")
        if kind.takes_arg != (topic.arg is not None):
            form = f"hall/<id>/{kind.name}/<n>" if kind.takes_arg else f"hall/<id>/{kind.name}"
            raise TopicError(f"topic {topic} must have the form {form}")
        return kind

    def kinds(self) -> list[TopicKind]:
        return list(self._kinds.values())
