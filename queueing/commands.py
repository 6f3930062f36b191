"""The queue's commands as its rules take them: each command's arguments read and checked (whole
numbers, text of bounded length, ISO times with their zone, a priority class, an applicant), one
handler per command name that calls its rule, and the tables the counter and ticket APIs offer
(``AT_COUNTER``, ``ON_TICKET``).

Apart from the store (``queueing.store``), which loads the state and writes its rows, because this
part is pure: the handler table is the one list of the queue's command names, and the APIs and the
keypads are derived from it or checked against it without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from hall.kernel.errors import DomainError, Invalid
from hall.kernel.events import Command, Decision
from hall.kernel.i18n import N_
from queueing import counter_commands, issuing, ratings, serving, ticket_moves
from queueing.services import Priority
from queueing.state import QueueState
from queueing.tickets import Holder

# -- reading commands ------------------------------------------------------------------------


def _int(command: Command, name: str, *, required: bool = True) -> int | None:
    value = command.args.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(N_("{field} must be a whole number"), field=name)
    return value


def _text(command: Command, name: str, *, required: bool = True, limit: int = 100) -> str | None:
    value = command.args.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Invalid(N_("{field} must be text of 1 to {limit} characters"), field=name, say={"limit": limit})
    return value.strip()


def _when(command: Command, name: str) -> datetime | None:
    value = command.args.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise Invalid(N_("{field} must be an ISO 8601 time"), field=name) from None
    if moment.tzinfo is None:
        raise Invalid(N_("{field} must carry its time zone"), field=name)
    return moment


def _priority(command: Command) -> Priority:
    value = command.args.get("priority", "normal")
    try:
        return Priority(value)
    except ValueError:
        names = ", ".join(p.value for p in Priority)
        raise Invalid(N_("priority must be one of {names}"), field="priority", say={"names": names}) from None


def _applicant(command: Command) -> Holder | None:
    raw = command.args.get("applicant")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("id_number"), str):
        raise DomainError(N_("applicant needs a name and an id_number"), field="applicant")
    return Holder(raw["name"][:50], raw["id_number"][:32])


# -- one handler per command: it reads the command's arguments and calls its rule ---------------

Handler = Callable[[QueueState, Command, datetime], Decision[QueueState]]
# A command addressed to a counter: the counter and its clerk are read first, for every one of them.
AtCounter = Callable[[QueueState, int, int, Command, datetime], Decision[QueueState]]


def _tick(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
    return ticket_moves.tick(state, now)


# Who may grant any priority class: a staff member, a registered device (its MQTT login is its
# own), the server itself. Anyone else is a resident at a public kiosk.
_VOUCHING_ACTORS = ("staff:", "device:", "system:")


def _issue(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
    return issuing.issue(
        state,
        _text(command, "service", limit=32) or "",
        now,
        priority=_priority(command),
        applicant=_applicant(command),
        appointment_at=_when(command, "appointment_at"),
        vouched=command.actor.startswith(_VOUCHING_ACTORS),
    )


def _rate(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
    level = _int(command, "level") or 0
    aspects = command.args.get("aspects") or {}
    if not isinstance(aspects, dict):
        raise DomainError(N_("aspects must map names to scores"), field="aspects")
    ticket = _text(command, "ticket", limit=40) or ""
    service = _text(command, "service", limit=32) or ""
    return ratings.rate(
        state,
        ticket,
        now,
        service=service,
        level=level,
        aspects=aspects,
        comment=str(command.args.get("comment") or ""),
        source=_text(command, "source", required=False, limit=32) or "citizen_screen",
        served_by=_int(command, "served_by", required=False),
    )


def _order_step(step: Callable[..., Decision[QueueState]]) -> Handler:
    def handle(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
        order = _text(command, "order", limit=90) or ""
        note = str(command.args.get("note") or "")
        by = _int(command, "by") or 0
        return step(state, order, by, now, note=note)

    return handle


def _ticket_step(step: Callable[[QueueState, str, datetime], Decision[QueueState]]) -> Handler:
    def handle(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
        return step(state, _text(command, "ticket", limit=40) or "", now)

    return handle


def _open(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return counter_commands.open_counter(state, counter, clerk)


def _pause(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    reason = command.args.get("reason", "")
    if not isinstance(reason, str):
        raise DomainError(N_("reason must be text"), field="reason")
    return counter_commands.pause_counter(state, counter, clerk, reason=reason, supervisor=_supervisor(command))


def _resume(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return counter_commands.resume_counter(state, counter, clerk, supervisor=_supervisor(command))


def _close(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return counter_commands.close_counter(state, counter, clerk, supervisor=_supervisor(command))


def _call(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return serving.call_ticket(state, counter, clerk, now, ticket_id=_text(command, "ticket", limit=40) or "")


def _finish(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return serving.finish(state, counter, clerk, now, follow_on=_text(command, "follow_on", required=False))


def _transfer(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return ticket_moves.transfer(
        state,
        counter,
        clerk,
        now,
        to_service=_text(command, "to_service", required=False, limit=32),
        to_counter=_int(command, "to_counter", required=False),
        front=command.args.get("front") is True,
    )


def _hold(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return ticket_moves.hold(state, counter, clerk, now, minutes=_int(command, "minutes", required=False))


def _plain(step: Callable[[QueueState, int, int, datetime], Decision[QueueState]]) -> AtCounter:
    """A counter command with no arguments but the counter and its clerk."""

    def handle(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
        return step(state, counter, clerk, now)

    return handle


def _supervisor(command: Command) -> bool:
    return command.args.get("supervisor") is True


def _at_counter(handle: AtCounter) -> Handler:
    def read(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
        counter = _int(command, "counter") or 0
        clerk = _int(command, "clerk") or 0
        return handle(state, counter, clerk, command, now)

    return read


# The commands a counter's console sends (its clerk at its counter): the counter API offers these.
AT_COUNTER: Mapping[str, AtCounter] = {
    "counter.open": _open,
    "counter.pause": _pause,
    "counter.resume": _resume,
    "counter.close": _close,
    "ticket.call_next": _plain(serving.call_next),
    "ticket.call": _call,
    "ticket.recall": _plain(serving.recall),
    "ticket.start": _plain(serving.start),
    "ticket.finish": _finish,
    "ticket.no_show": _plain(serving.no_show),
    "ticket.transfer": _transfer,
    "ticket.transfer_back": _plain(ticket_moves.transfer_back),
    "ticket.hold": _hold,
}
# Commands on one ticket by its id, from staff anywhere in the hall: the ticket API offers these.
ON_TICKET: Mapping[str, Handler] = {
    "ticket.requeue": _ticket_step(ticket_moves.requeue),
    "ticket.cancel": _ticket_step(ticket_moves.cancel),
}
HANDLERS: Mapping[str, Handler] = {
    "queue.tick": _tick,
    "ticket.issue": _issue,
    "rating.submit": _rate,
    "workorder.callback": _order_step(ratings.record_callback),
    "workorder.resolve": _order_step(ratings.resolve),
    **ON_TICKET,
    **{name: _at_counter(handle) for name, handle in AT_COUNTER.items()},
}
COMMANDS = frozenset(HANDLERS)


def dispatch(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
    """The decision of the rule the command names."""
    handle = HANDLERS.get(command.name)
    if handle is None:
        raise DomainError(N_("unknown queue command '{command}'"), say={"command": command.name})
    return handle(state, command, now)
