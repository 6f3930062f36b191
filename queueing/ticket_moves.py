"""Tickets moved between lines: a missed one back in line, one transferred to another service
or counter (or back where it came from), held and released when its time is up, cancelled; and
``tick``, what time alone changes.

Apart from a ticket's steps at its counter (``queueing.serving``) because each of these takes the
ticket off a counter or out of the line and puts it somewhere else.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hall.kernel.errors import DomainError, NotFound, TransitionError
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_
from queueing import queue
from queueing.counters import CounterInactive
from queueing.ratings import escalate_overdue, forget_expired_ratings
from queueing.state import QueueState
from queueing.tickets import Span, TicketState


def requeue(state: QueueState, ticket_id: str, now: datetime) -> queue.Result:
    """A late resident whose ticket was marked no-show joins the line again, at its end."""
    ticket = queue.live_ticket(state, ticket_id)
    if ticket.state is not TicketState.NO_SHOW:
        raise TransitionError(
            N_("ticket {number}"), ticket.state.value, TicketState.WAITING.value, number=ticket.number
        )
    missed_at = ticket.spans[-1].end or ticket.spans[-1].start
    if now - missed_at > timedelta(minutes=state.rules.requeue_minutes):
        raise DomainError(
            N_("ticket {number} was missed more than {minutes} minutes ago; take a new one"),
            say={"number": ticket.number, "minutes": state.rules.requeue_minutes},
        )
    back = ticket.moved(
        now,
        TicketState.WAITING,
        Span("waiting", now, service=ticket.service),
        queued_at=now,
        order=state.next_order,
        counter=None,
        clerk=None,
        recalls=0,
    )
    state = replace(state.with_ticket(back), next_order=state.next_order + 1)
    return Decision(state, (queue.ticket_fact("requeued", back),), {"ticket": back.for_staff()})


def transfer(
    state: QueueState,
    counter: int,
    clerk: int,
    now: datetime,
    *,
    to_service: str | None = None,
    to_counter: int | None = None,
    front: bool = False,
) -> queue.Result:
    """Send the current ticket to another service or a named counter, keeping its place in line
    (its first queueing time) or at the front.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: the counter is closed.
        Forbidden: another clerk holds the counter.
        DomainError: the counter has no current ticket.
        TransitionError: the current ticket is neither called nor being served.
        DomainError: neither or both of ``to_service`` and ``to_counter``; ``to_counter`` is this
            counter.
        NotFound: ``to_service`` or ``to_counter`` is not in this hall.
    """
    queue.check_clerk_counter(state, counter, clerk)
    ticket = queue.current_ticket(state, counter)
    if ticket.state not in (TicketState.CALLED, TicketState.SERVING):
        raise TransitionError(N_("ticket {number}"), ticket.state.value, "transferred", number=ticket.number)
    if (to_service is None) == (to_counter is None):
        raise DomainError(N_("transfer to either a service or a counter"), field="to")
    service = queue.known_service(state, to_service) if to_service else queue.known_service(state, ticket.service)
    if to_service and not service.active:
        raise queue.HallClosed(
            N_("{name} is no longer offered at this hall"), service=service.code, say={"name": service.name}
        )
    if to_counter is not None:
        if to_counter not in state.counters:
            raise NotFound(N_("no counter number {counter} in this hall"), counter=to_counter)
        if not state.counters[to_counter].active:
            raise CounterInactive(
                N_("counter {counter} is out of use: an administrator deactivated it"), counter=to_counter
            )
        if to_counter == counter:
            raise DomainError(N_("a ticket cannot be transferred to its own counter"))
    moved = ticket.moved(
        now,
        TicketState.WAITING,
        Span("waiting", now, service=service.code),
        service=service.code,
        previous_service=ticket.service if service.code != ticket.service else ticket.previous_service,
        target_counter=to_counter,
        counter=None,
        clerk=None,
        boosted=front,
    )
    state = queue.release_counter(state.with_ticket(moved), counter)
    fact = queue.ticket_fact(
        "transferred",
        moved,
        clerk=clerk,
        from_service=ticket.service,
        from_counter=counter,
        to_counter=to_counter,
        front=front,
    )
    return Decision(state, (fact,), {"ticket": moved.for_staff()})


def transfer_back(state: QueueState, counter: int, clerk: int, now: datetime) -> queue.Result:
    """Return the current ticket to the service it came from, at the front."""
    ticket = queue.current_ticket(state, counter)
    if ticket.previous_service is None:
        raise DomainError(N_("ticket {number} was not transferred here"), say={"number": ticket.number})
    return transfer(state, counter, clerk, now, to_service=ticket.previous_service, front=True)


def hold(state: QueueState, counter: int, clerk: int, now: datetime, *, minutes: int | None = None) -> queue.Result:
    """Park the current ticket (the resident fetches a document); it comes back by itself."""
    queue.check_clerk_counter(state, counter, clerk)
    ticket = queue.current_ticket(state, counter)
    if ticket.state not in (TicketState.CALLED, TicketState.SERVING):
        raise TransitionError(N_("ticket {number}"), ticket.state.value, TicketState.HELD.value, number=ticket.number)
    minutes = state.rules.hold_minutes if minutes is None else minutes
    if not 1 <= minutes <= 240:
        raise DomainError(N_("a hold lasts 1 to 240 minutes"), field="minutes")
    until = now + timedelta(minutes=minutes)
    held = ticket.moved(
        now,
        TicketState.HELD,
        Span("held", now, service=ticket.service, counter=counter, clerk=clerk),
        hold_until=until,
        target_counter=counter,
    )
    state = queue.release_counter(state.with_ticket(held), counter)
    return Decision(
        state, (queue.ticket_fact("held", held, clerk=clerk, until=until.isoformat()),), {"ticket": held.for_staff()}
    )


def release_due(state: QueueState, now: datetime) -> queue.Result:
    """Held tickets whose time is up go back to the line, at the front of the counter that held them."""
    facts: list[Fact] = []
    for ticket in sorted(state.tickets.values(), key=lambda t: t.order):
        if ticket.state is TicketState.HELD and ticket.hold_until is not None and ticket.hold_until <= now:
            back = ticket.moved(
                now, TicketState.WAITING, Span("waiting", now, service=ticket.service), boosted=True, hold_until=None
            )
            state = state.with_ticket(back)
            facts.append(queue.ticket_fact("released", back, to_counter=back.target_counter))
    return Decision(state, tuple(facts), {"released": len(facts)})


def cancel(state: QueueState, ticket_id: str, now: datetime) -> queue.Result:
    ticket = queue.live_ticket(state, ticket_id)
    if ticket.state not in (TicketState.WAITING, TicketState.HELD):
        raise TransitionError(
            N_("ticket {number}"), ticket.state.value, TicketState.CANCELLED.value, number=ticket.number
        )
    gone = ticket.moved(now, TicketState.CANCELLED, None)
    return Decision(state.with_ticket(gone), (queue.ticket_fact("cancelled", gone),), {"ticket": gone.for_staff()})


def tick(state: QueueState, now: datetime) -> queue.Result:
    """What time alone changes: a new day, held tickets coming back, ratings no longer possible,
    work orders past their due day escalated."""
    rolled = queue.roll_day(state, now)
    released = queue.then(rolled, release_due(forget_expired_ratings(rolled.state, now), now))
    escalated = escalate_overdue(released.state, now)
    return Decision(escalated.state, released.facts + escalated.facts, released.result)
