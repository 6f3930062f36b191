"""People ahead and the estimated wait, from the counters serving a service and a moving average
of its recent service times; and the error of past estimates against the waits that happened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from queueing.counters import CounterStatus
from queueing.services import Priority
from queueing.state import QueueState
from queueing.tickets import Ticket


def mean_service_seconds(state: QueueState, service: str) -> float:
    recent = state.service_times.get(service, ())
    if recent:
        return sum(recent) / len(recent)
    known = state.services.get(service)
    return (known.default_service_minutes if known else 6.0) * 60


def capacity(state: QueueState, service: str) -> float:
    """How many counters' worth of service time goes to ``service`` now (weights shared out)."""
    total = 0.0
    for number, counter in state.counters.items():
        if counter.status is not CounterStatus.OPEN:
            continue
        line = state.line(number)
        weight = line.weight(service)
        if weight is None:
            continue
        total += weight / sum(w for _, w in line.services)
    return total


def ahead_of_new(state: QueueState, service: str, priority: Priority) -> int:
    waiting = [t for t in state.waiting() if t.service == service and t.target_counter is None]
    if priority.is_priority:
        return sum(1 for t in waiting if t.priority.is_priority)
    return len(waiting)


def ahead_of(state: QueueState, ticket: Ticket) -> int:
    """Tickets of the same service that go before ``ticket`` by class and place in line."""

    def place(t: Ticket) -> tuple[bool, object, int]:
        return (not t.boosted, t.queued_at, t.order)

    count = 0
    for other in state.waiting():
        if other.id == ticket.id or other.service != ticket.service:
            continue
        if other.priority.is_priority != ticket.priority.is_priority:
            count += other.priority.is_priority
        elif place(other) < place(ticket):
            count += 1
    return count


def estimate_minutes(state: QueueState, service: str, ahead: int) -> float | None:
    """None when no open counter serves the service: no honest estimate exists then."""
    share = capacity(state, service)
    if share <= 0:
        return None
    return round(ahead * mean_service_seconds(state, service) / share / 60, 1)


@dataclass(frozen=True)
class EstimateError:
    tickets: int
    mean_absolute_minutes: float | None


def estimate_error(tickets: Iterable[Ticket]) -> EstimateError:
    """Mean absolute error, in minutes, of the estimate given at issue against the real wait."""
    errors = []
    for ticket in tickets:
        waited = ticket.first_wait_seconds()
        if ticket.estimate_minutes is None or waited is None:
            continue
        errors.append(abs(waited / 60 - ticket.estimate_minutes))
    return EstimateError(len(errors), round(sum(errors) / len(errors), 2) if errors else None)
