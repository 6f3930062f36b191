"""Events: the one ordered log every change is written to, and what rules emit before it.

A rule returns ``Fact`` values; the writer gives each the next sequence number of its hall and
stores it as an ``Event`` in the same transaction as the state it changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class Fact:
    """Something that happened, as a rule states it: a type such as ``counter.opened`` and data."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    # Other halls whose logs carry the fact too, each with its own sequence number: a case's
    # progress is logged where it was accepted as well as where it is decided (三级联动).
    also: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if "." not in self.type or len(self.type) > 64:
            raise ValueError(f"event type must look like 'thing.happened' (≤ 64 chars): {self.type!r}")


@dataclass(frozen=True)
class Decision(Generic[S]):
    """What a rule decided: the new state, the facts to log, and the answer for the caller.

    ``changed`` names values whose stored rows must be rewritten (filled in by a storage adapter
    from what the rules report; the rules themselves leave it empty)."""

    state: S
    facts: tuple[Fact, ...] = ()
    result: Mapping[str, Any] = field(default_factory=dict)
    changed: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Event:
    """A committed fact with its place in the hall's log."""

    hall_id: int
    seq: int
    type: str
    data: Mapping[str, Any]
    actor: str
    at: datetime
    command_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "hall": self.hall_id,
            "seq": self.seq,
            "type": self.type,
            "data": dict(self.data),
            "actor": self.actor,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class Command:
    """A request to change state. ``id`` is the caller's idempotency key: a repeated id returns
    the first result and changes nothing (a double-pressed kiosk button prints one ticket)."""

    id: str
    hall_id: int
    name: str
    actor: str
    args: Mapping[str, Any] = field(default_factory=dict)
    # False for the server's own housekeeping (clock ticks): not kept for repeat detection.
    record: bool = True
    # Halls whose logs the command's facts may be copied to (``Fact.also``): declared up front
    # so the writer locks every head it will move in one sorted pass.
    also: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        """The id as the writer keeps it for repeats: scoped by hall, command and actor, so an id
        someone else sends is a command of their own, never a look at another's first result."""
        return repeat_key(self.hall_id, self.name, self.actor, self.id)

    def __post_init__(self) -> None:
        if not 8 <= len(self.id) <= 100:
            raise ValueError("command id must be 8 to 100 characters")
        if not self.actor:
            raise ValueError("command needs an actor")


def repeat_key(hall_id: int, name: str, actor: str, command_id: str) -> str:
    """See ``Command.key``: 64 hex digits of SHA-256 over the four, each kept apart."""
    scoped = "\x1f".join((str(hall_id), name, actor, command_id))
    return hashlib.sha256(scoped.encode("utf-8", "surrogatepass")).hexdigest()
