"""What a hall's live work forbids an administrator to change: a counter in service cannot be
taken out of use, a hall with counters in service or tickets in hand cannot be closed, and a
service's ticket numbers cannot change while they are being called.

Services and counters are never deleted: tickets, ratings and cases name them. Taking one out of
use (deactivating it) is the deletion an administrator gets; a deactivated service takes no new
tickets, and those already waiting are still called and served.
"""

from __future__ import annotations

from hall.kernel.errors import DomainError
from hall.kernel.i18n import N_
from queueing.counters import CounterStatus
from queueing.state import QueueState


class InService(DomainError):
    """The change would break work under way; finish that work first."""

    code = "in_service"


def counter_may_retire(state: QueueState, number: int) -> None:
    """A counter may be deactivated only when it is closed and holds no ticket."""
    counter = state.counters.get(number)
    if counter is None:
        return
    if counter.status is not CounterStatus.CLOSED or state.line(number).current is not None:
        raise InService(
            N_("counter {counter} is in service: its clerk must close it before it is deactivated"),
            counter=number,
            field="active",
        )


def hall_may_retire(state: QueueState) -> None:
    """A hall may be deactivated only when all its counters are closed and no ticket is live."""
    open_counters = sorted(n for n, c in state.counters.items() if c.status is not CounterStatus.CLOSED)
    if open_counters:
        raise InService(
            N_("the hall is in service: counter {counter} is open; close every counter first"),
            counter=open_counters[0],
            field="active",
        )
    live = sum(1 for t in state.tickets.values() if t.state.live)
    if live:
        raise InService(
            N_("the hall is in service: {count} tickets are still waiting or being served"),
            count=live,
            field="active",
        )


def numbering_may_change(state: QueueState, service: str, prefix: str) -> None:
    """A service's prefix or width may change only while none of its tickets is live, and only to a
    prefix no other service's live ticket carries: two tickets called by one number would send two
    residents to one counter."""
    if any(t.state.live and t.service == service for t in state.tickets.values()):
        raise InService(
            N_("tickets of {service} are waiting or being served: change its numbering after they are done"),
            service=service,
            field="prefix",
        )
    for ticket in state.tickets.values():
        if ticket.state.live and ticket.service != service and _prefix(ticket.number) == prefix:
            raise InService(
                N_("ticket {number} of another service still carries the prefix {prefix}"),
                number=ticket.number,
                field="prefix",
                say={"prefix": prefix},
            )


def waiting_for(state: QueueState, service: str) -> int:
    """Tickets of ``service`` still waiting: a deactivated service serves them all the same."""
    return state.waiting_counts().get(service, 0)


def _prefix(number: str) -> str:
    return number.rstrip("0123456789")
