"""Issuing a ticket: the checks a new ticket passes (the hall and the service taking tickets,
the daily cap, the priority class and its proof, the appointment's check-in window, one live
ticket per ID card, an open counter) and the refusals each raises.

Apart from the commands on tickets already issued (``queueing.serving``, ``queueing.ticket_moves``)
because it is the one command that makes a ticket, and the one with checks of its own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hall.kernel.errors import DomainError, Invalid
from hall.kernel.events import Decision
from hall.kernel.i18n import N_, Text
from queueing.estimates import ahead_of_new, estimate_minutes
from queueing.queue import HallClosed, Result, known_service, roll_day, then, ticket_fact
from queueing.services import Priority
from queueing.state import QueueState
from queueing.tickets import Holder, Span, Ticket, TicketState


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
    service = known_service(state, service_code)
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
    fact = ticket_fact("issued", ticket, ahead=ahead, estimate_minutes=estimate)
    result = {
        "ticket": ticket.for_staff(),
        "ahead": ahead,
        "estimate_minutes": estimate,
        "no_counter": estimate is None,
    }
    return then(rolled, Decision(state, (fact,), result))
