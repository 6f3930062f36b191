"""The queue's whole state for one hall, and the hall's queue rules (settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from queueing.counters import Counter
from queueing.services import Service
from queueing.tickets import Ticket, TicketState

if TYPE_CHECKING:
    from queueing.ratings import Rateable, WorkOrder

RECENT_SERVICE_TIMES = 20


@dataclass(frozen=True)
class Rules:
    """A hall's queue settings."""

    timezone: str = "Asia/Shanghai"
    # After this many priority calls in a row a counter takes one normal ticket, if one waits.
    priority_run: int = 2
    # Recalls of a called ticket before the next recall marks it no-show.
    recall_limit: int = 2
    hold_minutes: int = 10
    close_at_day_end: bool = True
    appointment_early_minutes: int = 30
    appointment_late_minutes: int = 15
    # A no-show may come back into the line within this time.
    requeue_minutes: int = 60
    # A finished service may be rated within this time (一事一评), on the scored aspects named here.
    rating_window_minutes: int = 120
    rating_aspects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)
        if self.priority_run < 1:
            raise ValueError("priority_run must be at least 1")
        if self.recall_limit < 0 or self.hold_minutes < 1:
            raise ValueError("recall_limit must be ≥ 0 and hold_minutes ≥ 1")

    def local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "priority_run": self.priority_run,
            "recall_limit": self.recall_limit,
            "hold_minutes": self.hold_minutes,
            "close_at_day_end": self.close_at_day_end,
            "appointment_early_minutes": self.appointment_early_minutes,
            "appointment_late_minutes": self.appointment_late_minutes,
            "requeue_minutes": self.requeue_minutes,
            "rating_window_minutes": self.rating_window_minutes,
            "rating_aspects": list(self.rating_aspects),
        }


@dataclass(frozen=True)
class Line:
    """The queue side of a counter: the services it takes, with weights, and what it is doing."""

    services: tuple[tuple[str, float], ...] = ()
    current: str | None = None
    # Priority calls since the last normal call (anti-starvation of the normal line).
    streak: int = 0

    def weight(self, service: str) -> float | None:
        for code, weight in self.services:
            if code == service:
                return weight
        return None


@dataclass(frozen=True)
class QueueState:
    rules: Rules = field(default_factory=Rules)
    services: Mapping[str, Service] = field(default_factory=dict)
    counters: Mapping[int, Counter] = field(default_factory=dict)
    lines: Mapping[int, Line] = field(default_factory=dict)
    # Live tickets, and today's no-shows (they may be re-queued).
    tickets: Mapping[str, Ticket] = field(default_factory=dict)
    day: date | None = None
    issued: Mapping[str, int] = field(default_factory=dict)
    service_times: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    next_order: int = 1
    # Finished services that may still be rated, by "ticket:service"; open work orders by id.
    rateable: Mapping[str, Rateable] = field(default_factory=dict)
    work_orders: Mapping[str, WorkOrder] = field(default_factory=dict)
    # Tickets, ratings and work orders changed since the storage adapter last drained this.
    changed: tuple[Any, ...] = ()

    def line(self, number: int) -> Line:
        return self.lines.get(number, Line())

    def waiting(self) -> list[Ticket]:
        return [t for t in self.tickets.values() if t.state is TicketState.WAITING]

    def waiting_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.services, 0)
        for ticket in self.waiting():
            counts[ticket.service] = counts.get(ticket.service, 0) + 1
        return counts

    def with_ticket(self, ticket: Ticket) -> QueueState:
        tickets = dict(self.tickets)
        if ticket.state.live or ticket.state is TicketState.NO_SHOW:
            tickets[ticket.id] = ticket
        else:
            tickets.pop(ticket.id, None)
        return replace(self, tickets=tickets, changed=(*self.changed, ticket))

    def with_line(self, number: int, line: Line) -> QueueState:
        lines = dict(self.lines)
        lines[number] = line
        return replace(self, lines=lines)
