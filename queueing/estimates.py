"""People ahead and the estimated wait; and the error of past estimates against the waits that
happened.

The estimate plays the calling rules forward from the state as it is at ``now`` (see ``_play``):
every open counter first finishes the ticket in its hand, then calls as ``queueing.calling``
would — tickets sent to it by name, held tickets coming back to it, the priority classes within the
priority run, then the longest wait times the counter's weight — each call taking the service's
recent mean service time plus the residents' walk up, until the ticket in question is called. A
counter serving several lines gives its time to whichever the rules would pick, not an even share
to each, and a ticket already being served counts with only the time it still needs. Pure: no
clock, no I/O.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime

from queueing.counters import CounterStatus
from queueing.services import Priority
from queueing.state import QueueState
from queueing.tickets import Ticket, TicketState

# A service that has run past its mean still needs some time: at least this share of the mean.
REMAINING_FLOOR = 0.2


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


def walk_up_seconds(state: QueueState) -> float:
    """How long residents take from their call to the start of their service: the mean over the
    tickets being served now (0 when none is)."""
    total, count = 0.0, 0
    for number in state.counters:
        current = state.line(number).current
        ticket = state.tickets.get(current) if current else None
        if ticket is None or ticket.state is not TicketState.SERVING or len(ticket.spans) < 2:
            continue
        called = ticket.spans[-2]
        if called.kind == "called" and called.end is not None:
            total += max(0.0, (called.end - called.start).total_seconds())
            count += 1
    return total / count if count else 0.0


def remaining_seconds(state: QueueState, ticket: Ticket, now: datetime, *, walk_up: float = 0.0) -> float:
    """The time the ticket in a counter's hand still needs. Being served: its service's mean less
    the time served so far, never below ``REMAINING_FLOOR`` of the mean (a service past its mean is
    still running). Called: what is left of the walk up, then the whole mean."""
    mean = mean_service_seconds(state, ticket.service)
    last = ticket.spans[-1] if ticket.spans else None
    since = max(0.0, (now - last.start).total_seconds()) if last is not None else 0.0
    if ticket.state is TicketState.SERVING:
        return max(mean - since, mean * REMAINING_FLOOR)
    return max(walk_up - since, 0.0) + mean


def ahead_of_new(state: QueueState, service: str, priority: Priority) -> int:
    """Tickets in the service's line that a new ticket of ``priority`` queues behind."""
    ahead = state.in_line_count(service, True)
    if not priority.is_priority:
        ahead += state.in_line_count(service, False)
    return ahead


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


# -- playing the calling rules forward ------------------------------------------------------------

# A waiting ticket in the forward play, sorted as ``calling.choose`` takes one line's tickets (sent
# to the front first, then first queued, then first issued): (not boosted, seconds queued from now,
# order, service, whose estimate it is or "" for a ticket that only takes a counter's time).
_Entry = tuple[bool, float, int, str, str]


class _Desk:
    """An open counter in the forward play: its lines (weight, priority line, normal line), the
    tickets sent to it by name (a heap), held tickets coming back to it (a heap by time)."""

    __slots__ = ("lanes", "named", "returning", "streak")

    def __init__(self, streak: int) -> None:
        self.lanes: list[tuple[float, deque[_Entry], deque[_Entry]]] = []
        self.named: list[_Entry] = []
        self.returning: list[tuple[float, _Entry]] = []
        self.streak = streak

    def call(self, at: float, run: int) -> _Entry | None:
        """The ticket ``calling.choose`` would pick at ``at`` (seconds from now), taken off its line."""
        while self.returning and self.returning[0][0] <= at:
            heapq.heappush(self.named, heapq.heappop(self.returning)[1])
        if self.named:
            return heapq.heappop(self.named)
        has_priority = has_normal = False
        for _, priority, normal in self.lanes:
            has_priority = has_priority or bool(priority)
            has_normal = has_normal or bool(normal)
        if not (has_priority or has_normal):
            return None
        pool = has_priority and (self.streak < run or not has_normal)
        best: tuple[bool, float, int] | None = None
        taken: deque[_Entry] | None = None
        for weight, priority, normal in self.lanes:
            line = priority if pool else normal
            if line:
                front, queued, order, _, _ = line[0]
                rank = (not front, (at - queued) * weight, -order)
                if best is None or rank > best:
                    best, taken = rank, line
        assert taken is not None
        chosen = taken.popleft()
        if not chosen[4]:  # an estimate's own ticket is not there for the others: it leaves no trace
            self.streak = self.streak + 1 if pool else 0
        return chosen


# One whose estimate is asked: (its entry, its service, whether it is of a priority class).
_Target = tuple[_Entry, str, bool]
_Lines = dict[tuple[str, bool], deque[_Entry]]


def _entry(ticket: Ticket, now: datetime, key: str = "", *, boosted: bool | None = None) -> _Entry:
    front = not (ticket.boosted if boosted is None else boosted)
    return (front, (ticket.queued_at - now).total_seconds(), ticket.order, ticket.service, key)


def _hall_as_it_stands(state: QueueState, now: datetime, skip: Container[str]) -> tuple[dict[int, _Desk], _Lines]:
    """The open counters and the lines of the services they take, with every waiting ticket (but
    ``skip``) in its place, and held tickets due back at their counters."""
    desks: dict[int, _Desk] = {}
    lines: _Lines = {}
    for number, counter in state.counters.items():
        if counter.status is CounterStatus.OPEN:
            line = state.line(number)
            desk = desks[number] = _Desk(line.streak)
            for code, weight in line.services:
                first = lines.setdefault((code, True), deque())
                desk.lanes.append((weight or 1.0, first, lines.setdefault((code, False), deque())))
    for ticket in state.tickets.values():
        if ticket.id in skip:
            continue
        if ticket.state is TicketState.WAITING:
            if ticket.target_counter is None:
                waiting = lines.get((ticket.service, ticket.priority.is_priority))
                if waiting is not None:
                    waiting.append(_entry(ticket, now))
            elif ticket.target_counter in desks:
                desks[ticket.target_counter].named.append(_entry(ticket, now))
        elif ticket.state is TicketState.HELD and ticket.hold_until is not None and ticket.target_counter in desks:
            # It comes back sent to the front of the counter that held it.
            due = max(0.0, (ticket.hold_until - now).total_seconds())
            desks[ticket.target_counter].returning.append((due, _entry(ticket, now, boosted=True)))
    return desks, lines


def _play(
    state: QueueState, now: datetime, targets: list[_Target], named_to: int | None = None
) -> dict[str, float | None]:
    """Seconds from ``now`` until each target (keyed by its entry's name) is called, or None where
    no open counter would call it. Targets join their lines (or counter ``named_to``'s tickets sent
    by name); everything else is as the state has it. Each open counter finishes the ticket in its
    hand, then calls one ticket after another, each taking its service's mean time plus the walk
    up. A target takes no time: it is the question, not a ticket in the others' way. The lines are
    sorted once (they come nearly in order); then each call is a heap step over the counters and a
    look at the heads of the counter's lines, and no ticket is called twice."""
    found: dict[str, float | None] = {entry[4]: None for entry, _, _ in targets}
    desks, lines = _hall_as_it_stands(state, now, found)
    wanted = 0
    for entry, service, priority in targets:
        if named_to is not None:
            if named_to in desks:
                desks[named_to].named.append(entry)
                wanted += 1
        elif (service, priority) in lines:
            lines[(service, priority)].append(entry)
            wanted += 1
    if not wanted:
        return found
    for waiting in lines.values():
        if len(waiting) > 1:
            ordered = sorted(waiting)
            waiting.clear()
            waiting.extend(ordered)
    for desk in desks.values():
        heapq.heapify(desk.named)
        heapq.heapify(desk.returning)

    walk_up = walk_up_seconds(state)
    free: list[tuple[float, int]] = []
    for number in desks:
        current = state.line(number).current
        held = state.tickets.get(current) if current else None
        busy = held is not None and held.state in (TicketState.CALLED, TicketState.SERVING)
        free.append((remaining_seconds(state, held, now, walk_up=walk_up) if held and busy else 0.0, number))
    heapq.heapify(free)
    means: dict[str, float] = {}
    run = state.rules.priority_run
    while free and wanted:
        at, number = heapq.heappop(free)
        desk = desks[number]
        chosen = desk.call(at, run)
        if chosen is None:
            if desk.returning:  # idle until a held ticket comes back to it
                heapq.heappush(free, (desk.returning[0][0], number))
            continue
        _, _, _, service, key = chosen
        if key:
            found[key] = at
            wanted -= 1
            heapq.heappush(free, (at, number))
            continue
        if service not in means:
            means[service] = mean_service_seconds(state, service) + walk_up
        heapq.heappush(free, (at + means[service], number))
    return found


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def estimate_minutes(
    state: QueueState,
    service: str,
    now: datetime,
    *,
    priority: Priority = Priority.NORMAL,
    ticket: Ticket | None = None,
) -> float | None:
    """Minutes until a new ticket of ``service`` and ``priority`` taken at ``now`` — or the waiting
    ``ticket`` — is called, playing the calling rules forward from the state (see ``_play``).
    Tickets issued later are not foreseen. None when no open counter would call it: no honest
    estimate exists then."""
    if ticket is None:
        return estimates_for_new(state, now, (service,), priority)[service]
    if ticket.target_counter is None and ticket.service not in _served(state):
        return None
    target = (_entry(ticket, now, ticket.id), ticket.service, ticket.priority.is_priority)
    found = _play(state, now, [target], ticket.target_counter)
    return _minutes(found[ticket.id])


def _served(state: QueueState) -> set[str]:
    """The services some open counter takes."""
    return {
        code
        for number, counter in state.counters.items()
        if counter.status is CounterStatus.OPEN
        for code, _ in state.line(number).services
    }


def estimates_for_new(
    state: QueueState, now: datetime, services: Iterable[str], priority: Priority = Priority.NORMAL
) -> dict[str, float | None]:
    """``estimate_minutes`` of a new ticket for each of ``services``, in one play: each new ticket
    is only asked about, it takes no counter's time, so each estimate is as if it were alone."""
    services = list(services)
    served = _served(state)
    # No open counter takes the service: no estimate, and no need to play the hall forward.
    targets = [
        ((True, 0.0, state.next_order, code, "+" + code), code, priority.is_priority)
        for code in services
        if code in served
    ]
    found = _play(state, now, targets) if targets else {}
    return {code: _minutes(found.get("+" + code)) for code in services}


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
