"""What screens see of the queue, computed from its state: the public view for kiosks and
displays (no personal data), and a counter's view for the clerk's console."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from queueing.calling import eligible
from queueing.estimates import ahead_of, estimate_minutes, estimates_for_new
from queueing.state import QueueState
from queueing.tickets import Ticket, TicketState


def _current_number(state: QueueState, counter: int) -> str | None:
    current = state.line(counter).current
    ticket = state.tickets.get(current) if current else None
    return ticket.number if ticket else None


def public_view(state: QueueState, now: datetime) -> dict[str, Any]:
    local = state.rules.local(now)
    counts = state.waiting_counts()
    estimates = estimates_for_new(state, now, state.services)
    services = []
    # Deactivated services and counters are history, not choices: screens do not show them.
    for service in state.services.values():
        if not service.active:
            continue
        hours = service.hours(local.date())
        services.append(
            {
                "code": service.code,
                "name": service.name,
                "name_en": service.name_en,
                "prefix": service.prefix,
                "waiting": counts.get(service.code, 0),
                "estimate_minutes": estimates[service.code],
                "open": service.is_open(local),
                "hours": [hours.opens.isoformat("minutes"), hours.closes.isoformat("minutes")] if hours else None,
                "sold_out": service.daily_cap is not None and state.issued.get(service.code, 0) >= service.daily_cap,
                # The service's waiting-time target (服务目标), against which the wallboard marks a line.
                "target_minutes": service.target_wait_minutes,
            }
        )
    counters = [
        {
            "number": number,
            "name": counter.name,
            "status": counter.status.value,
            "current": _current_number(state, number),
            "services": [code for code, _ in state.line(number).services],
        }
        for number, counter in sorted(state.counters.items())
        if counter.active
    ]
    # What the kiosk does for a service no open counter serves: "warn" or "refuse" (Rules.no_counter).
    return {"services": services, "counters": counters, "no_counter": state.rules.no_counter}


def _order(state: QueueState, counter: int, now: datetime, ticket: Ticket) -> tuple[int, int, bool, float, int]:
    """Roughly the order ``choose`` would call these tickets in (it decides one call at a time)."""
    weight = state.line(counter).weight(ticket.service) or 1.0
    waited = (now - ticket.queued_at).total_seconds() * weight
    return (
        0 if ticket.target_counter == counter else 1,
        0 if ticket.priority.is_priority else 1,
        not ticket.boosted,
        -waited,
        ticket.order,
    )


def counter_view(state: QueueState, counter: int, now: datetime, *, limit: int = 50) -> dict[str, Any]:
    known = state.counters.get(counter)
    line = state.line(counter)
    current = state.tickets.get(line.current) if line.current else None
    waiting = sorted(
        (t for t in state.waiting() if eligible(state, counter, t)),
        key=lambda t: _order(state, counter, now, t),
    )
    held = [t for t in state.tickets.values() if t.state is TicketState.HELD and t.target_counter == counter]
    no_shows = [t for t in state.tickets.values() if t.state is TicketState.NO_SHOW and t.counter == counter]
    return {
        "counter": known.as_json() if known else None,
        "services": [
            {"code": code, "weight": weight, "name": state.services[code].name if code in state.services else code}
            for code, weight in line.services
        ],
        "current": current.for_staff() if current else None,
        "waiting_total": len(waiting),
        "waiting": [dict(t.for_staff(), ahead=ahead_of(state, t)) for t in waiting[:limit]],
        # When each comes back, so a console opened after the hold still shows it.
        "held": [{**t.for_staff(), "hold_until": t.hold_until.isoformat() if t.hold_until else None} for t in held],
        "no_shows": [t.for_staff() for t in no_shows[-10:]],
        "all_services": [
            {"code": s.code, "name": s.name, "name_en": s.name_en} for s in state.services.values() if s.active
        ],
        "counters": [
            {"number": n, "name": c.name, "status": c.status.value}
            for n, c in sorted(state.counters.items())
            if c.active
        ],
    }


def ticket_status(state: QueueState, ticket_id: str, now: datetime) -> dict[str, Any] | None:
    """A ticket's public status, for the page its QR code opens: no personal data."""
    ticket = state.tickets.get(ticket_id)
    if ticket is None:
        return None
    data = ticket.public()
    if ticket.state is TicketState.WAITING:
        ahead = ahead_of(state, ticket)
        data.update(ahead=ahead, estimate_minutes=estimate_minutes(state, ticket.service, now, ticket=ticket))
    return data


def open_work_orders(state: QueueState) -> list[dict[str, Any]]:
    """The 一事一评 work orders still to answer (open or called back), the earliest due first: what
    the wallboard's snapshot lists and its live events keep up to date."""
    return [o.as_json() for o in sorted(state.work_orders.values(), key=lambda o: (o.due, o.id))]
