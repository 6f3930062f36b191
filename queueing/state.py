"""The queue's whole state for one hall, and the hall's queue rules (settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from hall.kernel.zones import DEFAULT_ZONE, zone
from queueing.counters import Counter
from queueing.rating_records import Rateable, WorkOrder
from queueing.services import Priority, Service
from queueing.tickets import Ticket, TicketState

RECENT_SERVICE_TIMES = 20
# The priority classes a resident may claim at a public kiosk, to show the certificate at the
# counter; an appointment is never among them: it needs a booking, staff or a registered device.
KIOSK_PRIORITIES = ("normal", "elderly", "disabled", "military")
# What a kiosk does for a service no open counter serves: "warn" issues the ticket and says so on
# the screen and the slip, "refuse" takes none.
NO_COUNTER_POLICIES = ("warn", "refuse")


@dataclass(frozen=True)
class Rules:
    """A hall's queue settings."""

    # The hall's zone (HALL_TIMEZONE): the server sets it on every load (QueueDomain).
    timezone: str = DEFAULT_ZONE
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
    kiosk_priorities: tuple[str, ...] = KIOSK_PRIORITIES
    no_counter: str = "warn"
    # The wallboard raises an alarm when a counter stays paused longer than this, and suggests
    # opening a counter when this many tickets of a service wait over its target (queueing.alarm_rules).
    pause_limit_minutes: int = 15
    open_counter_after: int = 3

    def __post_init__(self) -> None:
        zone(self.timezone)
        known = {p.value for p in Priority}
        if unknown := set(self.kiosk_priorities) - known:
            raise ValueError(f"kiosk_priorities names unknown classes: {', '.join(sorted(unknown))}")
        if Priority.NORMAL.value not in self.kiosk_priorities:
            raise ValueError("kiosk_priorities must include normal")
        if Priority.APPOINTMENT.value in self.kiosk_priorities:
            raise ValueError("an appointment needs a booking, staff or a device: not a kiosk_priorities class")
        if self.no_counter not in NO_COUNTER_POLICIES:
            raise ValueError(f"no_counter must be one of {', '.join(NO_COUNTER_POLICIES)}")
        if self.priority_run < 1:
            raise ValueError("priority_run must be at least 1")
        if self.recall_limit < 0 or self.hold_minutes < 1:
            raise ValueError("recall_limit must be ≥ 0 and hold_minutes ≥ 1")
        if self.pause_limit_minutes < 1 or self.open_counter_after < 1:
            raise ValueError("pause_limit_minutes and open_counter_after must be at least 1")

    def local(self, now: datetime) -> datetime:
        return now.astimezone(zone(self.timezone))

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
            "kiosk_priorities": list(self.kiosk_priorities),
            "no_counter": self.no_counter,
            "pause_limit_minutes": self.pause_limit_minutes,
            "open_counter_after": self.open_counter_after,
        }

    def kiosk_offers(self, priority: Priority) -> bool:
        """Whether a resident may take a ticket of ``priority`` at a public kiosk, on their word."""
        return priority.value in self.kiosk_priorities


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
    # A deactivated hall takes no tickets (its counters still finish what they hold).
    hall_active: bool = True
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
    # Services of the live tickets already rated, by "ticket:service": a service finished again
    # (the ticket sent back to it) is not offered a second rating (一事一评, one per service).
    rated: frozenset[str] = frozenset()
    work_orders: Mapping[str, WorkOrder] = field(default_factory=dict)
    # Tickets, ratings and work orders changed since the storage adapter last drained this.
    changed: tuple[Any, ...] = ()
    # Waiting tickets counted by service, and (of those in the open line, not sent to a counter by
    # name) by service and priority class: kept up to date by ``with_ticket`` so a kiosk press
    # does not scan every ticket. Computed from ``tickets`` when not given.
    counts: Mapping[str, int] | None = None
    in_line: Mapping[tuple[str, bool], int] | None = None

    def __post_init__(self) -> None:
        if self.counts is None or self.in_line is None:
            counts: dict[str, int] = {}
            in_line: dict[tuple[str, bool], int] = {}
            for ticket in self.tickets.values():
                _count(counts, in_line, ticket, 1)
            object.__setattr__(self, "counts", counts)
            object.__setattr__(self, "in_line", in_line)

    def line(self, number: int) -> Line:
        return self.lines.get(number, Line())

    def waiting(self) -> list[Ticket]:
        return [t for t in self.tickets.values() if t.state is TicketState.WAITING]

    def waiting_counts(self) -> dict[str, int]:
        assert self.counts is not None
        return {**dict.fromkeys(self.services, 0), **self.counts}

    def in_line_count(self, service: str, priority: bool) -> int:
        assert self.in_line is not None
        return self.in_line.get((service, priority), 0)

    def with_ticket(self, ticket: Ticket) -> QueueState:
        assert self.counts is not None
        assert self.in_line is not None
        tickets = dict(self.tickets)
        counts = dict(self.counts)
        in_line = dict(self.in_line)
        before = tickets.get(ticket.id)
        if before is not None:
            _count(counts, in_line, before, -1)
        if ticket.state.live or ticket.state is TicketState.NO_SHOW:
            tickets[ticket.id] = ticket
            _count(counts, in_line, ticket, 1)
        else:
            tickets.pop(ticket.id, None)
        return replace(self, tickets=tickets, changed=(*self.changed, ticket), counts=counts, in_line=in_line)

    def with_line(self, number: int, line: Line) -> QueueState:
        lines = dict(self.lines)
        lines[number] = line
        return replace(self, lines=lines)


def _count(counts: dict[str, int], in_line: dict[tuple[str, bool], int], ticket: Ticket, step: int) -> None:
    if ticket.state is not TicketState.WAITING:
        return
    _add(counts, ticket.service, step)
    if ticket.target_counter is None:
        _add(in_line, (ticket.service, ticket.priority.is_priority), step)


def _add(counts: dict[Any, int], key: Any, step: int) -> None:
    # Zero counts are dropped, so two states with the same tickets compare equal.
    left = counts.get(key, 0) + step
    if left:
        counts[key] = left
    else:
        counts.pop(key, None)
