"""A ticket at a counter: called (the next one, or one by its id), called again, served,
finished (perhaps on to a follow-on service) or marked no-show.

Apart from issuing (``queueing.issuing``) and from moving tickets between lines
(``queueing.ticket_moves``) because these are the counter clerk's steps with the ticket in front of
them, each one from the state the step before left it in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hall.kernel.errors import DomainError, Forbidden, TransitionError
from hall.kernel.events import Decision
from hall.kernel.i18n import N_
from queueing.calling import choose, eligible
from queueing.counters import CounterStatus
from queueing.queue import (
    Result,
    check_clerk_counter,
    check_counter_free,
    current_ticket,
    known_service,
    live_ticket,
    release_counter,
    roll_day,
    then,
    ticket_fact,
)
from queueing.rating_records import Rateable
from queueing.ratings import rateable_after_finish
from queueing.state import RECENT_SERVICE_TIMES, QueueState
from queueing.tickets import Span, Ticket, TicketState


class NothingWaiting(DomainError):
    code = "nothing_waiting"


def _call(state: QueueState, counter: int, clerk: int, ticket: Ticket, now: datetime, *, streak: int) -> Result:
    called = ticket.moved(
        now,
        TicketState.CALLED,
        Span("called", now, service=ticket.service, counter=counter, clerk=clerk),
        counter=counter,
        clerk=clerk,
        recalls=0,
        target_counter=None,
        boosted=False,
        hold_until=None,
    )
    line = replace(state.line(counter), current=called.id, streak=streak)
    state = state.with_ticket(called).with_line(counter, line)
    return Decision(state, (ticket_fact("called", called, clerk=clerk),), {"ticket": called.for_staff()})


def call_next(state: QueueState, counter: int, clerk: int, now: datetime) -> Result:
    """The counter's clerk calls whoever the lines say is next.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: the counter is closed.
        Forbidden: another clerk holds the counter.
        DomainError: the counter is paused, or still has a ticket (finish, hold, transfer or
            mark it no-show first).
        NothingWaiting: no ticket waits for this counter.
    """
    rolled = roll_day(state, now)
    state = rolled.state
    check_clerk_counter(state, counter, clerk)
    if state.counters[counter].status is not CounterStatus.OPEN:
        raise DomainError(N_("counter {counter} is paused; resume it to call"), counter=counter)
    check_counter_free(state, counter)
    ticket = choose(state, counter, now)
    if ticket is None:
        raise NothingWaiting(N_("no one is waiting for counter {counter}"), counter=counter)
    streak = state.line(counter).streak
    if ticket.target_counter != counter:
        # A ticket handed to this counter by name (transferred, or back from hold) is not a choice
        # between the lines, so it neither counts towards nor resets the priority run.
        streak = streak + 1 if ticket.priority.is_priority else 0
    return then(rolled, _call(state, counter, clerk, ticket, now, streak=streak))


def call_ticket(state: QueueState, counter: int, clerk: int, now: datetime, *, ticket_id: str) -> Result:
    """The counter's clerk calls one waiting or held ticket by its id.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: the counter is closed.
        Forbidden: another clerk holds the counter.
        DomainError: the counter still has a ticket.
        NotFound: ``ticket_id`` is not a live ticket.
        TransitionError: the ticket is neither waiting nor held.
        Forbidden: the counter does not serve the ticket's service.
    """
    check_clerk_counter(state, counter, clerk)
    check_counter_free(state, counter)
    ticket = live_ticket(state, ticket_id)
    if ticket.state not in (TicketState.WAITING, TicketState.HELD):
        raise TransitionError(N_("ticket {number}"), ticket.state.value, TicketState.CALLED.value, number=ticket.number)
    if ticket.state is TicketState.WAITING and not eligible(state, counter, ticket):
        raise Forbidden(
            N_("counter {counter} does not serve ticket {number}"),
            ticket=ticket.id,
            say={"counter": counter, "number": ticket.number},
        )
    return _call(state, counter, clerk, ticket, now, streak=state.line(counter).streak)


def recall(state: QueueState, counter: int, clerk: int, now: datetime) -> Result:
    """Call the current ticket again; past the hall's recall limit it is a no-show.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: the counter is closed.
        Forbidden: another clerk holds the counter.
        DomainError: the counter has no current ticket.
        TransitionError: the current ticket is not called (it is being served).
    """
    check_clerk_counter(state, counter, clerk)
    ticket = current_ticket(state, counter)
    if ticket.state is not TicketState.CALLED:
        raise TransitionError(N_("ticket {number}"), ticket.state.value, "recalled", number=ticket.number)
    if ticket.recalls >= state.rules.recall_limit:
        return no_show(state, counter, clerk, now)
    recalled = replace(ticket, recalls=ticket.recalls + 1)
    state = state.with_ticket(recalled)
    return Decision(
        state,
        (ticket_fact("recalled", recalled, clerk=clerk, recalls=recalled.recalls),),
        {"ticket": recalled.for_staff()},
    )


def start(state: QueueState, counter: int, clerk: int, now: datetime) -> Result:
    """Serving begins for the called ticket.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: the counter is closed.
        Forbidden: another clerk holds the counter.
        DomainError: the counter has no current ticket.
        TransitionError: the current ticket is not called.
    """
    check_clerk_counter(state, counter, clerk)
    ticket = current_ticket(state, counter)
    if ticket.state is not TicketState.CALLED:
        raise TransitionError(
            N_("ticket {number}"), ticket.state.value, TicketState.SERVING.value, number=ticket.number
        )
    serving = ticket.moved(
        now, TicketState.SERVING, Span("serving", now, service=ticket.service, counter=counter, clerk=clerk)
    )
    return Decision(
        state.with_ticket(serving), (ticket_fact("started", serving, clerk=clerk),), {"ticket": serving.for_staff()}
    )


def finish(state: QueueState, counter: int, clerk: int, now: datetime, *, follow_on: str | None = None) -> Result:
    """Done at this counter; with ``follow_on`` the visit goes on, at the front of that service.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: the counter is closed.
        Forbidden: another clerk holds the counter.
        DomainError: the counter has no current ticket.
        TransitionError: the current ticket is not being served.
        NotFound: ``follow_on`` is not a service of this hall.
    """
    check_clerk_counter(state, counter, clerk)
    ticket = current_ticket(state, counter)
    if ticket.state is not TicketState.SERVING:
        raise TransitionError(N_("ticket {number}"), ticket.state.value, TicketState.DONE.value, number=ticket.number)
    next_service = known_service(state, follow_on) if follow_on else None
    done = ticket.moved(now, TicketState.DONE, None)
    seconds = done.spans[-1].seconds() or 0.0
    times = dict(state.service_times)
    times[ticket.service] = (*times.get(ticket.service, ()), seconds)[-RECENT_SERVICE_TIMES:]
    state = replace(release_counter(state, counter), service_times=times)
    state = rateable_after_finish(state, Rateable(ticket.id, ticket.number, ticket.service, counter, clerk, now))
    facts = [ticket_fact("finished", done, clerk=clerk, service_seconds=round(seconds, 1))]
    if next_service is None:
        state = state.with_ticket(done)
        return Decision(state, tuple(facts), {"ticket": done.for_staff()})
    onward = done.moved(
        now,
        TicketState.WAITING,
        Span("waiting", now, service=next_service.code),
        service=next_service.code,
        previous_service=ticket.service,
        counter=None,
        clerk=None,
        boosted=True,
    )
    state = state.with_ticket(onward)
    facts.append(ticket_fact("transferred", onward, clerk=clerk, from_service=ticket.service, follow_on=True))
    return Decision(state, tuple(facts), {"ticket": onward.for_staff()})


def no_show(state: QueueState, counter: int, clerk: int, now: datetime) -> Result:
    """The called resident did not come: the ticket ends and the counter is free.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: the counter is closed.
        Forbidden: another clerk holds the counter.
        DomainError: the counter has no current ticket.
        TransitionError: the current ticket is not called.
    """
    check_clerk_counter(state, counter, clerk)
    ticket = current_ticket(state, counter)
    if ticket.state is not TicketState.CALLED:
        raise TransitionError(
            N_("ticket {number}"), ticket.state.value, TicketState.NO_SHOW.value, number=ticket.number
        )
    missed = ticket.moved(now, TicketState.NO_SHOW, None)
    state = release_counter(state.with_ticket(missed), counter)
    return Decision(
        state, (ticket_fact("no_show", missed, clerk=clerk, recalls=ticket.recalls),), {"ticket": missed.for_staff()}
    )
