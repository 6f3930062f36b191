"""What the queue's commands share: the ``Result`` they return, the ticket fact they state, the
look-ups that refuse (a service, a live ticket, a clerk's counter, its current ticket, a counter
still busy), a counter let go, the new day every command first rolls into, and ``annotate``, which
gives a decision's ticket facts the waiting counts.

The commands are apart, by what they act on: a ticket issued (``queueing.issuing``), called and
served at a counter (``queueing.serving``), moved between lines, held or cancelled
(``queueing.ticket_moves``), and the counters opened, paused and closed
(``queueing.counter_commands``). Each takes the state and ``now`` and returns a ``Decision``; none
changes what it is given, and a refused command raises a ``DomainError`` naming why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from hall.kernel.errors import DomainError, Forbidden, NotFound
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_, Text
from queueing.counters import CounterStatus
from queueing.services import Service
from queueing.state import QueueState
from queueing.tickets import Ticket, TicketState


class HallClosed(DomainError):
    code = "closed"


Result = Decision[QueueState]


def ticket_fact(kind: str, ticket: Ticket, **extra: Any) -> Fact:
    data: dict[str, Any] = {
        "ticket": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "priority": ticket.priority.value,
        "counter": ticket.counter,
    }
    data.update(extra)
    return Fact(f"ticket.{kind}", data)


def known_service(state: QueueState, code: str) -> Service:
    try:
        return state.services[code]
    except KeyError:
        raise NotFound(N_("no service '{service}' in this hall"), service=code) from None


def live_ticket(state: QueueState, ticket_id: str) -> Ticket:
    try:
        return state.tickets[ticket_id]
    except KeyError:
        raise NotFound(N_("no live ticket '{ticket}'"), ticket=ticket_id) from None


def check_clerk_counter(state: QueueState, counter: int, clerk: int, *, supervisor: bool = False) -> None:
    """The counter must exist, be open or paused, and be held by this clerk."""
    known = state.counters.get(counter)
    if known is None:
        raise NotFound(N_("no counter number {counter} in this hall"), counter=counter)
    if known.status is CounterStatus.CLOSED:
        raise DomainError(N_("counter {counter} is closed; open it first"), counter=counter)
    if known.clerk_id != clerk and not supervisor:
        raise Forbidden(N_("counter {counter} is held by another clerk"), counter=counter)


def current_ticket(state: QueueState, counter: int) -> Ticket:
    current = state.line(counter).current
    if current is None or current not in state.tickets:
        raise DomainError(N_("counter {counter} has no current ticket"), counter=counter)
    return state.tickets[current]


def check_counter_free(state: QueueState, counter: int) -> None:
    """The counter must have no ticket left on it before it calls another or closes."""
    current = state.line(counter).current
    if current is not None and current in state.tickets:
        held = state.tickets[current]
        raise DomainError(
            N_(
                "counter {counter} still has ticket {number} ({state}): finish, hold, transfer or mark it no-show first"
            ),
            counter=counter,
            say={"number": held.number, "state": Text(held.state.value, context="state")},
        )


def release_counter(state: QueueState, counter: int | None) -> QueueState:
    if counter is None:
        return state
    return state.with_line(counter, replace(state.line(counter), current=None))


def annotate(decision: Result) -> Result:
    """Ticket facts carry the waiting count per service after the command, so a display can show
    the lines without keeping its own tally."""
    if not any(f.type.startswith("ticket.") for f in decision.facts):
        return decision
    counts = decision.state.waiting_counts()
    facts = tuple(
        Fact(f.type, {**f.data, "waiting": counts}) if f.type.startswith("ticket.") else f for f in decision.facts
    )
    return Decision(decision.state, facts, decision.result, decision.changed)


# -- the day ---------------------------------------------------------------------------------


def roll_day(state: QueueState, now: datetime) -> Result:
    """Start a new day when the hall's local date has changed: numbering restarts and, unless
    the hall opts out, tickets still open from an earlier day are closed."""
    today = state.rules.local(now).date()
    if state.day == today:
        return Decision(state)
    facts: list[Fact] = []
    if state.day is not None and state.rules.close_at_day_end:
        for ticket in sorted(state.tickets.values(), key=lambda t: t.order):
            if ticket.day < today:
                closed = ticket.moved(now, TicketState.CLOSED, None)
                state = release_counter(state.with_ticket(closed), ticket.counter)
                facts.append(ticket_fact("closed", closed, reason="day_end"))
    elif state.day is not None:
        # Kept across the night: only no-shows of the old day are dropped.
        keep = {k: t for k, t in state.tickets.items() if t.state is not TicketState.NO_SHOW or t.day == today}
        state = replace(state, tickets=keep, counts=None, in_line=None)
    # The day's ratings are kept only for the tickets still here (one may be served again).
    rated = frozenset(k for k in state.rated if k.split(":", 1)[0] in state.tickets)
    state = replace(state, day=today, issued={}, rated=rated)
    return Decision(state, tuple(facts))


def then(first: Result, second: Result) -> Result:
    """The second decision, after the facts of the first (the new day a command rolled into)."""
    return Decision(second.state, first.facts + second.facts, second.result)
