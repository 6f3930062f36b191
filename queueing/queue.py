"""The queue's commands: issue, call, recall, start, finish, no-show, re-queue, transfer, hold,
cancel and the end of the day. Each takes the state and ``now`` and returns a ``Decision``; none
changes what it is given, and a refused command raises a ``DomainError`` naming why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from hall.kernel.errors import DomainError, Forbidden, Invalid, NotFound, TransitionError
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_, Text
from queueing import counters as counter_rules
from queueing.calling import choose, eligible
from queueing.counters import CounterInactive, CounterStatus
from queueing.estimates import ahead_of_new, estimate_minutes
from queueing.rating_records import Rateable
from queueing.ratings import escalate_overdue, forget_expired_ratings, rateable_after_finish
from queueing.services import Priority, Service
from queueing.state import RECENT_SERVICE_TIMES, QueueState
from queueing.tickets import Holder, Span, Ticket, TicketState


class NothingWaiting(DomainError):
    code = "nothing_waiting"


class HallClosed(DomainError):
    code = "closed"


class SoldOut(DomainError):
    code = "sold_out"


class PriorityNotOffered(DomainError):
    """A priority class that needs proof, asked for by someone who cannot give it."""

    code = "priority_not_offered"


class LiveTicketHeld(DomainError):
    """One live ticket per ID card for this service, and this card holds one."""

    code = "live_ticket_held"


class OutsideCheckIn(DomainError):
    """An appointment ticket asked for outside its check-in window."""

    code = "outside_check_in"


class NoCounterOpen(DomainError):
    """No open counter serves the service, and the hall takes no tickets then."""

    code = "no_counter"


Result = Decision[QueueState]


def _fact(kind: str, ticket: Ticket, **extra: Any) -> Fact:
    data: dict[str, Any] = {
        "ticket": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "priority": ticket.priority.value,
        "counter": ticket.counter,
    }
    data.update(extra)
    return Fact(f"ticket.{kind}", data)


def _service(state: QueueState, code: str) -> Service:
    try:
        return state.services[code]
    except KeyError:
        raise NotFound(N_("no service '{service}' in this hall"), service=code) from None


def _ticket(state: QueueState, ticket_id: str) -> Ticket:
    try:
        return state.tickets[ticket_id]
    except KeyError:
        raise NotFound(N_("no live ticket '{ticket}'"), ticket=ticket_id) from None


def _clerk_counter(state: QueueState, counter: int, clerk: int, *, supervisor: bool = False) -> None:
    """The counter must exist, be open or paused, and be held by this clerk."""
    known = state.counters.get(counter)
    if known is None:
        raise NotFound(N_("no counter number {counter} in this hall"), counter=counter)
    if known.status is CounterStatus.CLOSED:
        raise DomainError(N_("counter {counter} is closed; open it first"), counter=counter)
    if known.clerk_id != clerk and not supervisor:
        raise Forbidden(N_("counter {counter} is held by another clerk"), counter=counter)


def _current(state: QueueState, counter: int) -> Ticket:
    current = state.line(counter).current
    if current is None or current not in state.tickets:
        raise DomainError(N_("counter {counter} has no current ticket"), counter=counter)
    return state.tickets[current]


def _release_counter(state: QueueState, counter: int | None) -> QueueState:
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
                state = _release_counter(state.with_ticket(closed), ticket.counter)
                facts.append(_fact("closed", closed, reason="day_end"))
    elif state.day is not None:
        # Kept across the night: only no-shows of the old day are dropped.
        keep = {k: t for k, t in state.tickets.items() if t.state is not TicketState.NO_SHOW or t.day == today}
        state = replace(state, tickets=keep, counts=None, in_line=None)
    # The day's ratings are kept only for the tickets still here (one may be served again).
    rated = frozenset(k for k in state.rated if k.split(":", 1)[0] in state.tickets)
    state = replace(state, day=today, issued={}, rated=rated)
    return Decision(state, tuple(facts))


def _then(first: Result, second: Result) -> Result:
    return Decision(second.state, first.facts + second.facts, second.result)


# -- issue -----------------------------------------------------------------------------------


def issue(
    state: QueueState,
    service_code: str,
    now: datetime,
    *,
    priority: Priority = Priority.NORMAL,
    applicant: Holder | None = None,
    appointment_at: datetime | None = None,
    vouched: bool = False,
) -> Result:
    """A ticket for ``service_code``, numbered in that service's day, placed in its line by
    ``priority`` (an appointment waits for its time).

    ``vouched`` says the command comes from someone who can prove a priority class (a staff
    member, a registered device); without it only the classes the hall lets a public kiosk offer
    are granted (``Rules.kiosk_priorities``), and never an appointment. When no open counter
    serves the service the hall's ``Rules.no_counter`` decides: the ticket says so, or none is
    taken.

    Raises:
        NotFound: ``service_code`` is not a service of this hall.
        HallClosed: the service is not taking tickets at ``now``, or no longer at all (deactivated, or the
            hall is).
        SoldOut: the service's daily tickets are all taken.
        PriorityNotOffered: ``priority`` needs proof the command does not carry.
        NoCounterOpen: no open counter serves the service and the hall refuses tickets then.
        DomainError: an appointment ticket without its time, or outside its check-in window around
            ``now``; the applicant's ID card already holds a live ticket for the service.
    """
    rolled = roll_day(state, now)
    state = rolled.state
    service = _service(state, service_code)
    if not state.hall_active:
        raise HallClosed(N_("this hall is not taking tickets: it is out of service"), service=service.code)
    if not service.active:
        raise HallClosed(
            N_("{name} is no longer offered at this hall"), service=service.code, say={"name": service.name}
        )
    local = state.rules.local(now)
    if not service.is_open(local):
        hours = service.hours(local.date())
        when = f"{hours.opens:%H:%M}–{hours.closes:%H:%M}" if hours else Text(N_("not today"))
        raise HallClosed(
            N_("{name} is not taking tickets now (hours: {hours})"),
            service=service.code,
            say={"name": service.name, "hours": when},
        )
    issued_today = state.issued.get(service.code, 0)
    if service.daily_cap is not None and issued_today >= service.daily_cap:
        raise SoldOut(
            N_("today's {cap} tickets for {name} are all taken"),
            service=service.code,
            say={"cap": service.daily_cap, "name": service.name},
        )
    if not vouched and not state.rules.kiosk_offers(priority):
        if priority is Priority.APPOINTMENT:
            raise PriorityNotOffered(
                N_("an appointment ticket comes from the booking's check-in at the counter or a registered device"),
                field="priority",
            )
        raise PriorityNotOffered(
            N_("this hall's kiosks do not offer the {priority} class: please ask the staff"),
            field="priority",
            say={"priority": priority.value},
        )
    if priority is Priority.APPOINTMENT:
        if appointment_at is None:
            raise Invalid(N_("an appointment ticket needs the appointment's time"), field="appointment_at")
        early = appointment_at - timedelta(minutes=state.rules.appointment_early_minutes)
        late = appointment_at + timedelta(minutes=state.rules.appointment_late_minutes)
        if not early <= now <= late:
            raise OutsideCheckIn(
                N_("check-in is open from {start} to {end} for this appointment"),
                field="appointment_at",
                say={"start": f"{state.rules.local(early):%H:%M}", "end": f"{state.rules.local(late):%H:%M}"},
            )
    if applicant is not None and service.one_live_ticket_per_id:
        for other in state.tickets.values():
            if (
                other.state.live
                and other.service == service.code
                and other.applicant is not None
                and other.applicant.id_number == applicant.id_number
            ):
                raise LiveTicketHeld(
                    N_("this ID card already holds ticket {number} for {name}"),
                    say={"number": other.number, "name": service.name},
                )
    n = issued_today + 1
    number = service.number(n)
    ahead = ahead_of_new(state, service.code, priority)
    estimate = estimate_minutes(state, service.code, now, priority=priority)
    # No estimate is no open counter that would call the ticket.
    if estimate is None and state.rules.no_counter == "refuse":
        raise NoCounterOpen(N_("no open counter serves {name} now"), service=service.code, say={"name": service.name})
    day = local.date()
    ticket = Ticket(
        id=f"{day:%Y%m%d}-{number}",
        day=day,
        n=n,
        number=number,
        service=service.code,
        priority=priority,
        state=TicketState.WAITING,
        issued_at=now,
        queued_at=now,
        order=state.next_order,
        applicant=applicant,
        estimate_minutes=estimate,
        spans=(Span("waiting", now, service=service.code),),
    )
    issued = dict(state.issued)
    issued[service.code] = n
    state = replace(state.with_ticket(ticket), issued=issued, next_order=state.next_order + 1)
    fact = _fact("issued", ticket, ahead=ahead, estimate_minutes=estimate)
    result = {
        "ticket": ticket.for_staff(),
        "ahead": ahead,
        "estimate_minutes": estimate,
        "no_counter": estimate is None,
    }
    return _then(rolled, Decision(state, (fact,), result))


# -- calling ---------------------------------------------------------------------------------


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
    return Decision(state, (_fact("called", called, clerk=clerk),), {"ticket": called.for_staff()})


def _free(state: QueueState, counter: int) -> None:
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
    _clerk_counter(state, counter, clerk)
    if state.counters[counter].status is not CounterStatus.OPEN:
        raise DomainError(N_("counter {counter} is paused; resume it to call"), counter=counter)
    _free(state, counter)
    ticket = choose(state, counter, now)
    if ticket is None:
        raise NothingWaiting(N_("no one is waiting for counter {counter}"), counter=counter)
    streak = state.line(counter).streak
    if ticket.target_counter != counter:
        # A ticket handed to this counter by name (transferred, or back from hold) is not a choice
        # between the lines, so it neither counts towards nor resets the priority run.
        streak = streak + 1 if ticket.priority.is_priority else 0
    return _then(rolled, _call(state, counter, clerk, ticket, now, streak=streak))


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
    _clerk_counter(state, counter, clerk)
    _free(state, counter)
    ticket = _ticket(state, ticket_id)
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
    _clerk_counter(state, counter, clerk)
    ticket = _current(state, counter)
    if ticket.state is not TicketState.CALLED:
        raise TransitionError(N_("ticket {number}"), ticket.state.value, "recalled", number=ticket.number)
    if ticket.recalls >= state.rules.recall_limit:
        return no_show(state, counter, clerk, now)
    recalled = replace(ticket, recalls=ticket.recalls + 1)
    state = state.with_ticket(recalled)
    return Decision(
        state,
        (_fact("recalled", recalled, clerk=clerk, recalls=recalled.recalls),),
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
    _clerk_counter(state, counter, clerk)
    ticket = _current(state, counter)
    if ticket.state is not TicketState.CALLED:
        raise TransitionError(
            N_("ticket {number}"), ticket.state.value, TicketState.SERVING.value, number=ticket.number
        )
    serving = ticket.moved(
        now, TicketState.SERVING, Span("serving", now, service=ticket.service, counter=counter, clerk=clerk)
    )
    return Decision(
        state.with_ticket(serving), (_fact("started", serving, clerk=clerk),), {"ticket": serving.for_staff()}
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
    _clerk_counter(state, counter, clerk)
    ticket = _current(state, counter)
    if ticket.state is not TicketState.SERVING:
        raise TransitionError(N_("ticket {number}"), ticket.state.value, TicketState.DONE.value, number=ticket.number)
    next_service = _service(state, follow_on) if follow_on else None
    done = ticket.moved(now, TicketState.DONE, None)
    seconds = done.spans[-1].seconds() or 0.0
    times = dict(state.service_times)
    times[ticket.service] = (*times.get(ticket.service, ()), seconds)[-RECENT_SERVICE_TIMES:]
    state = replace(_release_counter(state, counter), service_times=times)
    state = rateable_after_finish(state, Rateable(ticket.id, ticket.number, ticket.service, counter, clerk, now))
    facts = [_fact("finished", done, clerk=clerk, service_seconds=round(seconds, 1))]
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
    facts.append(_fact("transferred", onward, clerk=clerk, from_service=ticket.service, follow_on=True))
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
    _clerk_counter(state, counter, clerk)
    ticket = _current(state, counter)
    if ticket.state is not TicketState.CALLED:
        raise TransitionError(
            N_("ticket {number}"), ticket.state.value, TicketState.NO_SHOW.value, number=ticket.number
        )
    missed = ticket.moved(now, TicketState.NO_SHOW, None)
    state = _release_counter(state.with_ticket(missed), counter)
    return Decision(
        state, (_fact("no_show", missed, clerk=clerk, recalls=ticket.recalls),), {"ticket": missed.for_staff()}
    )


def requeue(state: QueueState, ticket_id: str, now: datetime) -> Result:
    """A late resident whose ticket was marked no-show joins the line again, at its end."""
    ticket = _ticket(state, ticket_id)
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
    return Decision(state, (_fact("requeued", back),), {"ticket": back.for_staff()})


# -- moving tickets --------------------------------------------------------------------------


def transfer(
    state: QueueState,
    counter: int,
    clerk: int,
    now: datetime,
    *,
    to_service: str | None = None,
    to_counter: int | None = None,
    front: bool = False,
) -> Result:
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
    _clerk_counter(state, counter, clerk)
    ticket = _current(state, counter)
    if ticket.state not in (TicketState.CALLED, TicketState.SERVING):
        raise TransitionError(N_("ticket {number}"), ticket.state.value, "transferred", number=ticket.number)
    if (to_service is None) == (to_counter is None):
        raise DomainError(N_("transfer to either a service or a counter"), field="to")
    service = _service(state, to_service) if to_service else _service(state, ticket.service)
    if to_service and not service.active:
        raise HallClosed(
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
    state = _release_counter(state.with_ticket(moved), counter)
    fact = _fact(
        "transferred",
        moved,
        clerk=clerk,
        from_service=ticket.service,
        from_counter=counter,
        to_counter=to_counter,
        front=front,
    )
    return Decision(state, (fact,), {"ticket": moved.for_staff()})


def transfer_back(state: QueueState, counter: int, clerk: int, now: datetime) -> Result:
    """Return the current ticket to the service it came from, at the front."""
    ticket = _current(state, counter)
    if ticket.previous_service is None:
        raise DomainError(N_("ticket {number} was not transferred here"), say={"number": ticket.number})
    return transfer(state, counter, clerk, now, to_service=ticket.previous_service, front=True)


def hold(state: QueueState, counter: int, clerk: int, now: datetime, *, minutes: int | None = None) -> Result:
    """Park the current ticket (the resident fetches a document); it comes back by itself."""
    _clerk_counter(state, counter, clerk)
    ticket = _current(state, counter)
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
    state = _release_counter(state.with_ticket(held), counter)
    return Decision(state, (_fact("held", held, clerk=clerk, until=until.isoformat()),), {"ticket": held.for_staff()})


def release_due(state: QueueState, now: datetime) -> Result:
    """Held tickets whose time is up go back to the line, at the front of the counter that held them."""
    facts: list[Fact] = []
    for ticket in sorted(state.tickets.values(), key=lambda t: t.order):
        if ticket.state is TicketState.HELD and ticket.hold_until is not None and ticket.hold_until <= now:
            back = ticket.moved(
                now, TicketState.WAITING, Span("waiting", now, service=ticket.service), boosted=True, hold_until=None
            )
            state = state.with_ticket(back)
            facts.append(_fact("released", back, to_counter=back.target_counter))
    return Decision(state, tuple(facts), {"released": len(facts)})


def cancel(state: QueueState, ticket_id: str, now: datetime) -> Result:
    ticket = _ticket(state, ticket_id)
    if ticket.state not in (TicketState.WAITING, TicketState.HELD):
        raise TransitionError(
            N_("ticket {number}"), ticket.state.value, TicketState.CANCELLED.value, number=ticket.number
        )
    gone = ticket.moved(now, TicketState.CANCELLED, None)
    return Decision(state.with_ticket(gone), (_fact("cancelled", gone),), {"ticket": gone.for_staff()})


def tick(state: QueueState, now: datetime) -> Result:
    """What time alone changes: a new day, held tickets coming back, ratings no longer possible,
    work orders past their due day escalated."""
    rolled = roll_day(state, now)
    released = _then(rolled, release_due(forget_expired_ratings(rolled.state, now), now))
    escalated = escalate_overdue(released.state, now)
    return Decision(escalated.state, released.facts + escalated.facts, released.result)


# -- counters --------------------------------------------------------------------------------


def open_counter(state: QueueState, counter: int, clerk: int) -> Result:
    """The clerk takes a closed counter.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        TransitionError: the counter is not closed.
        DomainError: the clerk already holds another counter.
    """
    return _counters(state, counter_rules.open_counter(state.counters, counter, clerk))


def pause_counter(state: QueueState, counter: int, clerk: int, *, reason: str, supervisor: bool = False) -> Result:
    """The counter stops calling, for ``reason``.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: ``reason`` is blank or longer than 200 characters.
        TransitionError: the counter is not open.
        Forbidden: another clerk holds the counter, and this is not a supervisor.
    """
    return _counters(
        state, counter_rules.pause_counter(state.counters, counter, clerk, reason=reason, supervisor=supervisor)
    )


def resume_counter(state: QueueState, counter: int, clerk: int, *, supervisor: bool = False) -> Result:
    """A paused counter calls again.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        TransitionError: the counter is not paused.
        Forbidden: another clerk holds the counter, and this is not a supervisor.
    """
    return _counters(state, counter_rules.resume_counter(state.counters, counter, clerk, supervisor=supervisor))


def close_counter(state: QueueState, counter: int, clerk: int, *, supervisor: bool = False) -> Result:
    """The clerk leaves the counter.

    Raises:
        DomainError: the counter still has a ticket.
        NotFound: ``counter`` is not a counter of this hall.
        TransitionError: the counter is closed already.
        Forbidden: another clerk holds the counter, and this is not a supervisor.
    """
    _free(state, counter)
    return _counters(state, counter_rules.close_counter(state.counters, counter, clerk, supervisor=supervisor))


def _counters(state: QueueState, decision: Decision[Any]) -> Result:
    return Decision(replace(state, counters=decision.state), decision.facts, decision.result)
