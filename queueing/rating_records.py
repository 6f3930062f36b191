"""What 一事一评 leaves behind, as values: GB/T 39734-2020's five levels, a finished service that
may still be rated, a rating, and the work order an unsatisfied rating opens. The rules that make
and change them are in queueing.ratings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from typing import Any


class Level(IntEnum):
    """GB/T 39734-2020's five levels, 5 best."""

    VERY_SATISFIED = 5
    SATISFIED = 4
    BASICALLY_SATISFIED = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def unsatisfied(self) -> bool:
        return self <= Level.DISSATISFIED


_LABELS = {
    Level.VERY_SATISFIED: "非常满意",
    Level.SATISFIED: "满意",
    Level.BASICALLY_SATISFIED: "基本满意",
    Level.DISSATISFIED: "不满意",
    Level.VERY_DISSATISFIED: "非常不满意",
}


@dataclass(frozen=True)
class Rateable:
    """A finished service that may still be rated."""

    ticket: str
    number: str
    service: str
    counter: int
    clerk: int | None
    finished_at: datetime

    @property
    def key(self) -> str:
        return f"{self.ticket}:{self.service}"


@dataclass(frozen=True)
class Rating:
    id: str
    ticket: str
    number: str
    service: str
    counter: int
    clerk: int | None
    level: Level
    aspects: Mapping[str, int]
    comment: str
    source: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticket": self.ticket,
            "number": self.number,
            "service": self.service,
            "counter": self.counter,
            "clerk": self.clerk,
            "level": int(self.level),
            "label": self.level.label,
            "aspects": dict(self.aspects),
            "comment": self.comment,
            "source": self.source,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class WorkOrder:
    """The follow-up a bad rating demands: a callback to the resident, then a fix."""

    id: str
    rating: str
    ticket: str
    number: str
    counter: int
    clerk: int | None
    level: Level
    state: str  # open → called_back → resolved
    due: date
    created_at: datetime
    callback_note: str = ""
    callback_at: datetime | None = None
    callback_by: int | None = None
    resolution: str = ""
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    # When the clock found it still unresolved after its due day: escalated once, on the board.
    escalated_at: datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.escalated_at is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rating": self.rating,
            "ticket": self.ticket,
            "number": self.number,
            "counter": self.counter,
            "clerk": self.clerk,
            "level": int(self.level),
            "label": self.level.label,
            "state": self.state,
            "due": self.due.isoformat(),
            "created_at": self.created_at.isoformat(),
            "callback_note": self.callback_note,
            "resolution": self.resolution,
            "overdue": self.overdue,
            "escalated_at": self.escalated_at.isoformat() if self.escalated_at else None,
        }
