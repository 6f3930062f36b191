"""Storage adapter for the queue: loads a hall's queue state, turns commands into rule calls,
and writes the rows of what the rules changed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.errors import DomainError, Invalid
from hall.kernel.events import Command, Decision, Event
from hall.kernel.i18n import N_
from hall.kernel.zones import DEFAULT_ZONE
from hall.storage.database import accumulate, upsert
from hall.storage.queue_tables import (
    counter_services,
    queue_figures,
    queue_figures_daily,
    queue_figures_hourly,
    queue_rules,
    queue_services,
    tickets,
    work_orders,
)
from hall.storage.queue_tables import ratings as ratings_table
from hall.storage.tables import counters, halls
from queueing import figures, queue, ratings
from queueing.counters import Counter, CounterStatus
from queueing.queue import annotate
from queueing.rating_records import Level, Rateable, Rating, WorkOrder
from queueing.services import Hours, Priority, Service
from queueing.state import RECENT_SERVICE_TIMES, Line, QueueState, Rules
from queueing.tickets import Holder, Span, Ticket, TicketState

_LIVE = [s.value for s in TicketState if s.live]


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
    return queue.tick(state, now)


# Who may grant any priority class: a staff member, a registered device (its MQTT login is its
# own), the server itself. Anyone else is a resident at a public kiosk.
_VOUCHING_ACTORS = ("staff:", "device:", "system:")


def _issue(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
    return queue.issue(
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
    return queue.open_counter(state, counter, clerk)


def _pause(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    reason = command.args.get("reason", "")
    if not isinstance(reason, str):
        raise DomainError(N_("reason must be text"), field="reason")
    return queue.pause_counter(state, counter, clerk, reason=reason, supervisor=_supervisor(command))


def _resume(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return queue.resume_counter(state, counter, clerk, supervisor=_supervisor(command))


def _close(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return queue.close_counter(state, counter, clerk, supervisor=_supervisor(command))


def _call(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return queue.call_ticket(state, counter, clerk, now, ticket_id=_text(command, "ticket", limit=40) or "")


def _finish(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return queue.finish(state, counter, clerk, now, follow_on=_text(command, "follow_on", required=False))


def _transfer(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return queue.transfer(
        state,
        counter,
        clerk,
        now,
        to_service=_text(command, "to_service", required=False, limit=32),
        to_counter=_int(command, "to_counter", required=False),
        front=command.args.get("front") is True,
    )


def _hold(state: QueueState, counter: int, clerk: int, command: Command, now: datetime) -> Decision[QueueState]:
    return queue.hold(state, counter, clerk, now, minutes=_int(command, "minutes", required=False))


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
    "ticket.call_next": _plain(queue.call_next),
    "ticket.call": _call,
    "ticket.recall": _plain(queue.recall),
    "ticket.start": _plain(queue.start),
    "ticket.finish": _finish,
    "ticket.no_show": _plain(queue.no_show),
    "ticket.transfer": _transfer,
    "ticket.transfer_back": _plain(queue.transfer_back),
    "ticket.hold": _hold,
}
# Commands on one ticket by its id, from staff anywhere in the hall: the ticket API offers these.
ON_TICKET: Mapping[str, Handler] = {
    "ticket.requeue": _ticket_step(queue.requeue),
    "ticket.cancel": _ticket_step(queue.cancel),
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


def _decide(state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
    handle = HANDLERS.get(command.name)
    if handle is None:
        raise DomainError(N_("unknown queue command '{command}'"), say={"command": command.name})
    return handle(state, command, now)


class QueueDomain:
    """Counters and tickets of a hall, as one state: calling needs both. ``timezone`` is the
    hall's (HALL_TIMEZONE): its opening hours and its ticket day are read in it."""

    name = "queue"
    commands = COMMANDS

    def __init__(self, timezone: str = DEFAULT_ZONE) -> None:
        self.timezone = timezone

    def decide(self, state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
        decision = annotate(_decide(state, command, now))
        after = decision.state
        changed: list[Any] = list(after.changed)
        # The figures this command adds are stored with its events, in the same transaction: a
        # refused command (raised above) or a batch rolled back adds nothing.
        changed.extend(figures.fold(state, decision.facts, now))
        # The counters' free spans go on with the facts: what they end is idle or wrap-up time,
        # and where they start is kept in the counter's row for the command that ends them.
        spans, ended = figures.clocks(state, decision.facts, now)
        changed.extend(ended)
        if spans:
            kept = dict(after.counters)
            for number, span in spans.items():
                if number in kept:
                    since, wrap = (span.since, span.wrap) if span is not None else (None, False)
                    kept[number] = replace(kept[number], free_since=since, free_wrap=wrap)
            after = replace(after, counters=kept)
        # Rules replace the counters or lines mapping only when they change one: skip the scan
        # for the commands (most of them) that leave both alone.
        if after.counters is not state.counters or after.lines is not state.lines:
            for number in set(after.counters) | set(after.lines):
                if after.counters.get(number) is not state.counters.get(number) or after.lines.get(
                    number
                ) is not state.lines.get(number):
                    changed.append((number, after.counters.get(number), after.line(number)))
        return Decision(replace(after, changed=()), decision.facts, decision.result, tuple(changed))

    async def load(self, conn: AsyncConnection, hall_id: int) -> QueueState:
        rules_row = (await conn.execute(select(queue_rules.c.rules).where(queue_rules.c.hall_id == hall_id))).first()
        # The zone is the server's one setting, whatever an older stored rule set says.
        rules = replace(_rules(rules_row.rules) if rules_row else Rules(), timezone=self.timezone)
        services = {
            row.code: _service(row)
            for row in await conn.execute(
                select(queue_services).where(queue_services.c.hall_id == hall_id).order_by(queue_services.c.position)
            )
        }
        weights: dict[int, list[tuple[str, float]]] = {}
        for row in await conn.execute(
            select(counter_services).where(counter_services.c.hall_id == hall_id).order_by(counter_services.c.service)
        ):
            weights.setdefault(row.counter, []).append((row.service, row.weight))
        known: dict[int, Counter] = {}
        lines: dict[int, Line] = {}
        for row in await conn.execute(select(counters).where(counters.c.hall_id == hall_id)):
            known[row.number] = Counter(
                row.number,
                row.name,
                CounterStatus(row.status),
                row.clerk_id,
                row.pause_reason,
                active=bool(row.active),
                department=row.department,
                free_since=row.free_since,
                free_wrap=bool(row.free_wrap),
            )
            lines[row.number] = Line(tuple(weights.get(row.number, ())), row.current_ticket, row.streak)
        last_day = (
            await conn.execute(select(func.max(tickets.c.day)).where(tickets.c.hall_id == hall_id))
        ).scalar_one_or_none()
        live = select(tickets).where(
            tickets.c.hall_id == hall_id,
            (tickets.c.state.in_(_LIVE))
            | ((tickets.c.state == TicketState.NO_SHOW.value) & (tickets.c.day == last_day)),
        )
        loaded = {row.id: _ticket(row) for row in await conn.execute(live)}
        issued: dict[str, int] = {}
        if last_day is not None:
            # Numbers count per service the ticket was issued for: its first span's service.
            for row in await conn.execute(
                select(tickets.c.n, tickets.c.spans).where(tickets.c.hall_id == hall_id, tickets.c.day == last_day)
            ):
                first = row.spans[0]["service"] if row.spans else ""
                issued[first] = max(issued.get(first, 0), int(row.n))
        next_order = (
            await conn.execute(select(func.max(tickets.c.order_no)).where(tickets.c.hall_id == hall_id))
        ).scalar_one_or_none()
        rules_window = timedelta(minutes=rules.rating_window_minutes)
        rated = await _rated(conn, hall_id, last_day if isinstance(last_day, date) else None)
        hall_row = (await conn.execute(select(halls.c.active).where(halls.c.id == hall_id))).first()
        return QueueState(
            rateable=await _rateable(conn, hall_id, last_day, rules_window, rated),
            rated=rated,
            work_orders={
                row.id: _order(row)
                for row in await conn.execute(
                    select(work_orders).where(work_orders.c.hall_id == hall_id, work_orders.c.state != "resolved")
                )
            },
            rules=rules,
            hall_active=hall_row is None or bool(hall_row.active),
            services=services,
            counters=known,
            lines=lines,
            tickets=loaded,
            day=last_day if isinstance(last_day, date) else None,
            issued=issued,
            service_times=await _recent_service_times(conn, hall_id, list(services)),
            next_order=int(next_order or 0) + 1,
        )

    async def persist(self, conn: AsyncConnection, events: Sequence[Event], changed: Sequence[tuple[int, Any]]) -> None:
        ticket_rows: dict[tuple[int, str], dict[str, Any]] = {}
        counter_rows: dict[tuple[int, int], dict[str, Any]] = {}
        rating_rows: list[dict[str, Any]] = []
        order_rows: dict[tuple[int, str], dict[str, Any]] = {}
        tallies: dict[tuple[int, figures.Key], figures.Tally] = {}
        for hall_id, value in changed:
            if isinstance(value, figures.Tally):
                known = tallies.get((hall_id, value.key))
                tallies[(hall_id, value.key)] = value if known is None else known.plus(value)
            elif isinstance(value, Ticket):
                ticket_rows[(hall_id, value.id)] = _ticket_row(hall_id, value)
            elif isinstance(value, Rating):
                rating_rows.append(_rating_row(hall_id, value))
            elif isinstance(value, WorkOrder):
                order_rows[(hall_id, value.id)] = _order_row(hall_id, value)
            else:
                number, counter, line = value
                counter_rows[(hall_id, number)] = {
                    "h": hall_id,
                    "n": number,
                    "status": counter.status.value,
                    "clerk": counter.clerk_id,
                    "reason": counter.pause_reason,
                    "current": line.current,
                    "streak": line.streak,
                    "free_since": counter.free_since,
                    "free_wrap": counter.free_wrap,
                }
        await upsert(conn, tickets, list(ticket_rows.values()), ("hall_id", "id"))
        if rating_rows:
            await conn.execute(insert(ratings_table), rating_rows)
        await upsert(conn, work_orders, list(order_rows.values()), ("hall_id", "id"))
        await keep_figures(conn, [(hall_id, tally) for (hall_id, _key), tally in sorted(tallies.items())])
        if counter_rows:
            await conn.execute(
                update(counters)
                .where(counters.c.hall_id == bindparam("h"), counters.c.number == bindparam("n"))
                .values(
                    status=bindparam("status"),
                    clerk_id=bindparam("clerk"),
                    pause_reason=bindparam("reason"),
                    current_ticket=bindparam("current"),
                    streak=bindparam("streak"),
                    free_since=bindparam("free_since"),
                    free_wrap=bindparam("free_wrap"),
                ),
                list(counter_rows.values()),
            )


FIGURE_KEY = ("hall_id", "day", "hour", "service", "counter", "clerk")
DAILY_KEY = ("hall_id", "day", "service", "counter", "clerk")
HOURLY_KEY = ("hall_id", "day", "hour", "service")


async def keep_figures(conn: AsyncConnection, tallies: Sequence[tuple[int, figures.Tally]]) -> None:
    """Add tallies to the figures and to their two rollups, in the caller's transaction."""
    if not tallies:
        return
    rows = [_figure_row(hall_id, tally) for hall_id, tally in tallies]
    tables = ((queue_figures, FIGURE_KEY), (queue_figures_daily, DAILY_KEY), (queue_figures_hourly, HOURLY_KEY))
    for table, key in tables:
        await accumulate(conn, table, _rolled(rows, table, key), key, maxima=figures.MAXIMA, kept=_KEPT[table.name])


_KEPT = {
    "queue_figures": ("week", "month"),
    "queue_figures_daily": ("week", "month"),
    "queue_figures_hourly": ("weekday",),
}


def _rolled(rows: list[dict[str, Any]], table: Any, key: Sequence[str]) -> list[dict[str, Any]]:
    """The rows summed by ``key`` with the columns ``table`` has: one row per key, as one
    upsert statement may carry each key once."""
    names = [c.name for c in table.columns]
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        k = tuple(row[name] for name in key)
        known = by_key.get(k)
        if known is None:
            by_key[k] = {name: row[name] for name in names}
            continue
        for name in figures.COUNTS:
            known[name] = max(known[name], row[name]) if name in figures.MAXIMA else known[name] + row[name]
    return [by_key[k] for k in sorted(by_key)]


def _figure_row(hall_id: int, tally: figures.Tally) -> dict[str, Any]:
    key = tally.key
    return {
        "hall_id": hall_id,
        "day": key.day,
        "hour": key.hour,
        "service": key.service,
        "counter": key.counter,
        "clerk": key.clerk,
        "week": key.week,
        "month": key.month,
        "weekday": key.weekday,
        **tally.counts(),
    }


def _rules(stored: dict[str, Any]) -> Rules:
    values = dict(stored)
    for name in ("rating_aspects", "kiosk_priorities"):
        if name in values:
            values[name] = tuple(values[name])
    return Rules(**values)


async def _rated(conn: AsyncConnection, hall_id: int, day: date | None) -> frozenset[str]:
    """The ratings of the last day's tickets (the only ones that may be served again)."""
    if day is None:
        return frozenset()
    rows = await conn.execute(
        select(ratings_table.c.id)
        .join(tickets, (tickets.c.hall_id == ratings_table.c.hall_id) & (tickets.c.id == ratings_table.c.ticket))
        .where(ratings_table.c.hall_id == hall_id, tickets.c.day >= day)
    )
    return frozenset(row.id for row in rows)


async def _rateable(
    conn: AsyncConnection, hall_id: int, day: date | None, window: timedelta, rated: frozenset[str]
) -> dict[str, Rateable]:
    """Services finished within the rating window and not rated yet (from the tickets' spans)."""
    if day is None:
        return {}
    found: dict[str, Rateable] = {}
    rows = await conn.execute(select(tickets).where(tickets.c.hall_id == hall_id, tickets.c.day >= day))
    newest = None
    items = []
    for row in rows:
        for span in (Span.from_json(s) for s in row.spans):
            if span.kind == "serving" and span.end is not None and span.counter is not None:
                items.append(Rateable(row.id, row.number, span.service, span.counter, span.clerk, span.end))
                newest = span.end if newest is None or span.end > newest else newest
    for item in items:
        if newest is not None and newest - item.finished_at <= window and item.key not in rated:
            found[item.key] = item
    return found


async def _recent_service_times(conn: AsyncConnection, hall_id: int, codes: list[str]) -> dict[str, tuple[float, ...]]:
    times: dict[str, tuple[float, ...]] = {}
    for code in codes:
        rows = await conn.execute(
            select(tickets.c.spans)
            .where(tickets.c.hall_id == hall_id, tickets.c.state == TicketState.DONE.value, tickets.c.service == code)
            .order_by(tickets.c.order_no.desc())
            .limit(RECENT_SERVICE_TIMES)
        )
        found = []
        for row in rows:
            spans = [Span.from_json(s) for s in row.spans]
            seconds = [s.seconds() for s in spans if s.kind == "serving" and s.service == code and s.end]
            if seconds and seconds[-1] is not None:
                found.append(seconds[-1])
        times[code] = tuple(reversed(found))
    return times


def _service(row: Any) -> Service:
    week = {int(day): Hours(time.fromisoformat(span[0]), time.fromisoformat(span[1])) for day, span in row.week.items()}
    return Service(
        code=row.code,
        name=row.name,
        name_en=row.name_en,
        prefix=row.prefix,
        width=row.width,
        daily_cap=row.daily_cap,
        week=week,
        open_on_holidays=row.open_on_holidays,
        target_wait_minutes=row.target_wait_minutes,
        default_service_minutes=row.default_service_minutes,
        one_live_ticket_per_id=row.one_live_ticket_per_id,
        active=bool(row.active),
    )


def service_row(hall_id: int, service: Service, position: int) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "code": service.code,
        "name": service.name,
        "name_en": service.name_en,
        "prefix": service.prefix,
        "width": service.width,
        "daily_cap": service.daily_cap,
        "week": {
            str(d): [h.opens.isoformat("minutes"), h.closes.isoformat("minutes")] for d, h in service.week.items()
        },
        "open_on_holidays": service.open_on_holidays,
        "target_wait_minutes": service.target_wait_minutes,
        "default_service_minutes": service.default_service_minutes,
        "one_live_ticket_per_id": service.one_live_ticket_per_id,
        "active": service.active,
        "position": position,
    }


def _ticket(row: Any) -> Ticket:
    applicant = (
        Holder(row.applicant_name or "", row.applicant_id_number) if row.applicant_id_number is not None else None
    )
    return Ticket(
        id=row.id,
        day=row.day,
        n=row.n,
        number=row.number,
        service=row.service,
        priority=Priority(row.priority),
        state=TicketState(row.state),
        issued_at=row.issued_at,
        queued_at=row.queued_at,
        order=row.order_no,
        boosted=row.boosted,
        counter=row.counter,
        clerk=row.clerk,
        target_counter=row.target_counter,
        previous_service=row.previous_service,
        recalls=row.recalls,
        hold_until=row.hold_until,
        applicant=applicant,
        estimate_minutes=row.estimate_minutes,
        spans=tuple(Span.from_json(s) for s in row.spans),
    )


def _ticket_row(hall_id: int, ticket: Ticket) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "id": ticket.id,
        "day": ticket.day,
        "n": ticket.n,
        "number": ticket.number,
        "service": ticket.service,
        "priority": ticket.priority.value,
        "state": ticket.state.value,
        "issued_at": ticket.issued_at,
        "queued_at": ticket.queued_at,
        "order_no": ticket.order,
        "boosted": ticket.boosted,
        "counter": ticket.counter,
        "clerk": ticket.clerk,
        "target_counter": ticket.target_counter,
        "previous_service": ticket.previous_service,
        "recalls": ticket.recalls,
        "hold_until": ticket.hold_until,
        "applicant_name": ticket.applicant.name if ticket.applicant else None,
        "applicant_id_number": ticket.applicant.id_number if ticket.applicant else None,
        "estimate_minutes": ticket.estimate_minutes,
        "spans": [s.as_json() for s in ticket.spans],
    }


def _rating_row(hall_id: int, rating: Rating) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "id": rating.id,
        "ticket": rating.ticket,
        "number": rating.number,
        "service": rating.service,
        "counter": rating.counter,
        "clerk": rating.clerk,
        "level": int(rating.level),
        "aspects": dict(rating.aspects),
        "comment": rating.comment,
        "source": rating.source,
        "at": rating.at,
    }


def _order_row(hall_id: int, order: WorkOrder) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "id": order.id,
        "rating": order.rating,
        "ticket": order.ticket,
        "number": order.number,
        "counter": order.counter,
        "clerk": order.clerk,
        "level": int(order.level),
        "state": order.state,
        "due": order.due,
        "created_at": order.created_at,
        "callback_note": order.callback_note,
        "callback_at": order.callback_at,
        "callback_by": order.callback_by,
        "resolution": order.resolution,
        "resolved_at": order.resolved_at,
        "resolved_by": order.resolved_by,
        "escalated_at": order.escalated_at,
    }


def _order(row: Any) -> WorkOrder:
    return WorkOrder(
        id=row.id,
        rating=row.rating,
        ticket=row.ticket,
        number=row.number,
        counter=row.counter,
        clerk=row.clerk,
        level=Level(row.level),
        state=row.state,
        due=row.due,
        created_at=row.created_at,
        callback_note=row.callback_note,
        callback_at=row.callback_at,
        callback_by=row.callback_by,
        resolution=row.resolution,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        escalated_at=row.escalated_at,
    )


def tick_command(hall_id: int) -> Command:
    """Time alone changes the queue (held tickets return, a new day starts): the clock's command."""
    return Command(f"tick:{uuid.uuid4().hex}", hall_id, "queue.tick", "system:clock", {}, record=False)
