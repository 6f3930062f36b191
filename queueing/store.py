"""Storage adapter for the queue: loads a hall's queue state, turns commands into rule calls,
and writes the rows of what the rules changed.

What it leans on is apart: each command's arguments are read and its rule called in
``queueing.commands`` (pure), the records are mapped to rows and back in ``queueing.rows`` (pure),
and the figures are added to their tables in ``queueing.figure_store``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.events import Command, Decision, Event
from hall.kernel.zones import DEFAULT_ZONE
from hall.storage.database import upsert
from hall.storage.queue_tables import counter_services, queue_rules, queue_services, tickets, work_orders
from hall.storage.queue_tables import ratings as ratings_table
from hall.storage.tables import counters, halls
from queueing import figures
from queueing.commands import COMMANDS, dispatch
from queueing.counters import Counter, CounterStatus
from queueing.figure_store import keep_figures
from queueing.queue import annotate
from queueing.rating_records import Rateable, Rating, WorkOrder
from queueing.rows import (
    order_from_row,
    order_row,
    rating_row,
    rules_from_stored,
    service_from_row,
    ticket_from_row,
    ticket_row,
)
from queueing.state import RECENT_SERVICE_TIMES, Line, QueueState, Rules
from queueing.tickets import Span, Ticket, TicketState

_LIVE = [s.value for s in TicketState if s.live]


class QueueDomain:
    """Counters and tickets of a hall, as one state: calling needs both. ``timezone`` is the
    hall's (HALL_TIMEZONE): its opening hours and its ticket day are read in it."""

    name = "queue"
    commands = COMMANDS

    def __init__(self, timezone: str = DEFAULT_ZONE) -> None:
        self.timezone = timezone

    def decide(self, state: QueueState, command: Command, now: datetime) -> Decision[QueueState]:
        decision = annotate(dispatch(state, command, now))
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
        rules = replace(rules_from_stored(rules_row.rules) if rules_row else Rules(), timezone=self.timezone)
        services = {
            row.code: service_from_row(row)
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
        loaded = {row.id: ticket_from_row(row) for row in await conn.execute(live)}
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
                row.id: order_from_row(row)
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
                ticket_rows[(hall_id, value.id)] = ticket_row(hall_id, value)
            elif isinstance(value, Rating):
                rating_rows.append(rating_row(hall_id, value))
            elif isinstance(value, WorkOrder):
                order_rows[(hall_id, value.id)] = order_row(hall_id, value)
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


def tick_command(hall_id: int) -> Command:
    """Time alone changes the queue (held tickets return, a new day starts): the clock's command."""
    return Command(f"tick:{uuid.uuid4().hex}", hall_id, "queue.tick", "system:clock", {}, record=False)
