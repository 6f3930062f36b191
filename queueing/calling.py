"""Which ticket a counter calls next.

Tickets transferred to this counter by name come first. Otherwise the counter takes from the
priority classes (appointment, elderly, disabled, military) first, but after ``priority_run``
priority calls in a row it takes a normal ticket if one waits, so the normal line is never starved.
Within the chosen class: tickets sent to the front (returned from hold, follow-on services,
transfers to the front) first, then the longest wait weighted by the counter's weight for the
service. For tickets of one service and class this is first come, first served.
"""

from __future__ import annotations

from datetime import datetime

from queueing.state import QueueState
from queueing.tickets import Ticket, TicketState


def eligible(state: QueueState, counter: int, ticket: Ticket) -> bool:
    if ticket.target_counter is not None:
        return ticket.target_counter == counter
    return state.line(counter).weight(ticket.service) is not None


def choose(state: QueueState, counter: int, now: datetime) -> Ticket | None:
    line = state.line(counter)
    candidates = [t for t in state.tickets.values() if t.state is TicketState.WAITING and eligible(state, counter, t)]
    if not candidates:
        return None
    named = [t for t in candidates if t.target_counter == counter]
    if named:
        return min(named, key=lambda t: (not t.boosted, t.queued_at, t.order))
    priority = [t for t in candidates if t.priority.is_priority]
    normal = [t for t in candidates if not t.priority.is_priority]
    pool = priority if priority and (line.streak < state.rules.priority_run or not normal) else normal

    def rank(ticket: Ticket) -> tuple[bool, float, int]:
        weight = line.weight(ticket.service) or 1.0
        return (ticket.boosted, (now - ticket.queued_at).total_seconds() * weight, -ticket.order)

    return max(pool, key=rank)
