"""The queue's topics on the realtime hub: what the public queue view, a counter's console and the
wallboard carry, and their snapshots.

Public views never carry personal data: the queue view shows counters by number and state and
tickets by number, not who staffs a counter, why it paused, or who holds a ticket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.events import Event
from hall.kernel.roles import Access, Role, within
from hall.kernel.zones import DEFAULT_ZONE
from hall.storage.case_tables import case_figures_daily
from hall.storage.directory import hall_summary, hall_tree
from hall.storage.queue_tables import queue_figures
from hall.storage.tables import events, staff
from queueing.alarm_store import AlarmsDomain, counter_since
from queueing.alarms import AlarmBook
from queueing.figures import SERVICE_BUCKET_NAMES
from queueing.state import QueueState
from queueing.statistics import day_sums
from queueing.store import QueueDomain
from queueing.tickets import TicketState
from queueing.views import counter_view, open_work_orders, public_view
from realtime.topics import Topic, TopicKind

_PUBLIC_TICKET_FIELDS = ("ticket", "number", "service", "priority", "counter", "waiting", "ahead", "estimate_minutes")
_CALLS = ("ticket.called", "ticket.recalled")
RECENT_CALLS = 10
# The events the wallboard follows, each written there as a sentence (static/js/wallboardview.js;
# tests/queueing/test_wallboard.py keeps this list, the rules' events and the sentences in step).
WALLBOARD_EVENTS = frozenset(
    {
        *(f"counter.{k}" for k in ("opened", "paused", "resumed", "closed")),
        *(
            f"ticket.{k}"
            for k in (
                "issued",
                "called",
                "recalled",
                "started",
                "finished",
                "transferred",
                "no_show",
                "requeued",
                "held",
                "released",
                "cancelled",
                "closed",
            )
        ),
        "rating.given",
        "rating.alarm",
        *(f"workorder.{k}" for k in ("called_back", "resolved", "overdue")),
        *(
            f"case.{k}"
            for k in (
                "accepted",
                "reviewed",
                "approved",
                "completed",
                "collected",
                "refused",
                "supplement_requested",
                "supplement_received",
                "returned",
                "assigned",
                "light",
                "midway",
                "rated",
            )
        ),
        *(f"supervision.{k}" for k in ("opened", "answered", "reminder", "yellow_card", "red_card")),
        "alarm.raised",
        "alarm.acknowledged",
        "alarm.cleared",
    }
)
# The latest events a wallboard's snapshot carries, so its 最新动态 list survives a reload.
RECENT_EVENTS = 30
# Acknowledged alarms the wallboard keeps listing (with who and when) below the open ones.
ACKNOWLEDGED_SHOWN = 10


async def _state(conn: AsyncConnection, hall_id: int, timezone: str) -> QueueState:
    return await QueueDomain(timezone).load(conn, hall_id)


async def _recent_calls(conn: AsyncConnection, hall_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(events.c.seq, events.c.data, events.c.at)
        .where(events.c.hall_id == hall_id, events.c.type.in_(_CALLS))
        .order_by(events.c.seq.desc())
        .limit(RECENT_CALLS)
    )
    return [
        {"seq": r.seq, "number": r.data.get("number"), "counter": r.data.get("counter"), "at": r.at.isoformat()}
        for r in rows
    ]


async def _recent_events(conn: AsyncConnection, hall_id: int) -> list[dict[str, Any]]:
    """The hall's latest wallboard events, oldest first, as the topic delivers them live."""
    rows = await conn.execute(
        select(events.c.seq, events.c.type, events.c.data, events.c.at)
        .where(events.c.hall_id == hall_id, events.c.type.in_(sorted(WALLBOARD_EVENTS)))
        .order_by(events.c.seq.desc())
        .limit(RECENT_EVENTS)
    )
    return [{"seq": r.seq, "type": r.type, "data": r.data, "at": r.at.isoformat()} for r in reversed(list(rows))]


async def _staff_names(conn: AsyncConnection, hall_id: int, *, above: bool = False) -> dict[str, dict[str, str]]:
    """The hall's staff by id; with ``above``, those of the halls above it too (a district's
    supervisor acknowledges a street hall's alarms, and its board names them)."""
    halls = [hall_id]
    if above:
        parents = await hall_tree(conn)
        while (parent := parents.get(halls[-1])) is not None and parent not in halls:
            halls.append(parent)
    people = await conn.execute(
        select(staff.c.id, staff.c.display_name, staff.c.staff_no).where(staff.c.hall_id.in_(halls))
    )
    return {str(p.id): {"name": p.display_name, "staff_no": p.staff_no} for p in people}


async def _queue_snapshot(conn: AsyncConnection, topic: Topic, timezone: str) -> Mapping[str, Any]:
    view = public_view(await _state(conn, topic.hall_id, timezone), datetime.now(UTC))
    return {"hall": await hall_summary(conn, topic.hall_id), **view, "calls": await _recent_calls(conn, topic.hall_id)}


def _open_spans(state: QueueState) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The waits and services under way, by ticket: when each began, so the board can count the
    wait a call ends and the time a finish ends as ``queueing.figures.fold`` does. A wait back from
    a hold counts nothing (it was counted at its first call)."""
    waits: dict[str, dict[str, Any]] = {}
    serving: dict[str, str] = {}
    for ticket in state.tickets.values():
        last = ticket.spans[-1] if ticket.spans else None
        if last is None:
            continue
        if ticket.state is TicketState.WAITING and last.kind == "waiting":
            counts = not (len(ticket.spans) > 1 and ticket.spans[-2].kind == "held")
            waits[ticket.id] = {"since": last.start.isoformat(), "counts": counts, "service": ticket.service}
        elif last.kind == "serving":
            serving[ticket.id] = last.start.isoformat()
    return waits, serving


_NOT_ON_BOARD = frozenset((*SERVICE_BUCKET_NAMES, "idle_sum", "wrap_count", "wrap_sum"))


async def _figures(conn: AsyncConnection, state: QueueState, hall_id: int, now: datetime) -> dict[str, Any]:
    """Today's kept figures (the hall's local day) and what the live events need to go on from
    them: the board's KPI tiles are these, folded forward by static/js/wallboardview.js."""
    day = state.rules.local(now).date()
    waits, serving = _open_spans(state)
    return {
        "day": day.isoformat(),
        "timezone": state.rules.timezone,
        # The counts the board folds from ticket and rating events: not the service-time buckets
        # nor the counters' idle and wrap-up time, which its tiles do not show.
        "sums": {k: v for k, v in (await day_sums(conn, hall_id, day)).items() if k not in _NOT_ON_BOARD},
        "waits": waits,
        "serving": serving,
        **(await _day_parts(conn, hall_id, day)),
    }


async def _day_parts(conn: AsyncConnection, hall_id: int, day: date) -> dict[str, Any]:
    """Today's figures by service (waits within target, for each line's service level) and by
    counter (served, for each counter's row)."""
    t = queue_figures.c
    today = and_(t.hall_id == hall_id, t.day == day)
    by_service = {
        row.service: {"wait_count": int(row.wait_count or 0), "wait_in_target": int(row.wait_in_target or 0)}
        for row in await conn.execute(
            select(
                t.service,
                func.sum(t.wait_count).label("wait_count"),
                func.sum(t.wait_in_target).label("wait_in_target"),
            )
            # A counter's idle and wrap-up time is kept under no service (""): it has no waits.
            .where(today, t.service != "")
            .group_by(t.service)
        )
    }
    served = {
        str(row.counter): int(row.served or 0)
        for row in await conn.execute(
            select(t.counter, func.sum(t.served).label("served")).where(today, t.counter != 0).group_by(t.counter)
        )
    }
    return {"by_service": by_service, "served_by_counter": served}


async def _case_day(conn: AsyncConnection, hall_id: int, day: date) -> dict[str, Any]:
    """Today's cases of the hall and the halls below it, as the statistics count them (the case
    figures, ``cases.figures``): accepted where they were accepted, completed and completed before
    their due time where they were decided. ``halls`` is that scope, so the board's live fold
    counts the day's events the same way."""
    parents = await hall_tree(conn)
    scope = sorted(h for h in parents if within(h, hall_id, parents))
    t = case_figures_daily.c
    row = (
        await conn.execute(
            select(func.sum(t.accepted), func.sum(t.completed), func.sum(t.on_time)).where(
                t.hall_id.in_(scope), t.day == day
            )
        )
    ).one()
    accepted, completed, on_time = (int(value or 0) for value in row)
    return {"day": day.isoformat(), "accepted": accepted, "completed": completed, "on_time": on_time, "halls": scope}


def _alarms(book: AlarmBook) -> list[dict[str, Any]]:
    """The open alarms, newest first, then the latest acknowledged ones (who and when)."""
    return [a.as_json() for a in (*book.open(), *book.handled()[:ACKNOWLEDGED_SHOWN])]


async def _wallboard_snapshot(conn: AsyncConnection, topic: Topic, timezone: str) -> Mapping[str, Any]:
    state = await _state(conn, topic.hall_id, timezone)
    now = datetime.now(UTC)
    view = public_view(state, now)
    since = await counter_since(conn, topic.hall_id, now)
    for item in view["counters"]:
        counter = state.counters[item["number"]]
        at = since.get(item["number"])
        item.update(clerk=counter.clerk_id, pause_reason=counter.pause_reason, since=at.isoformat() if at else None)
    # Names of the hall's staff, so a counter opened later shows who opened it.
    names = await _staff_names(conn, topic.hall_id, above=True)
    for item in view["counters"]:
        person = names.get(str(item["clerk"])) if item["clerk"] else None
        item.update(clerk_name=person["name"] if person else None, staff_no=person["staff_no"] if person else None)
    return {
        "hall": await hall_summary(conn, topic.hall_id),
        **view,
        "staff": names,
        "calls": await _recent_calls(conn, topic.hall_id),
        "work_orders": open_work_orders(state),
        "events": await _recent_events(conn, topic.hall_id),
        "figures": await _figures(conn, state, topic.hall_id, now),
        "cases_today": await _case_day(conn, topic.hall_id, state.rules.local(now).date()),
        "alarms": _alarms(await AlarmsDomain().load(conn, topic.hall_id)),
    }


async def _counter_snapshot(conn: AsyncConnection, topic: Topic, timezone: str) -> Mapping[str, Any]:
    assert topic.arg is not None
    view = counter_view(await _state(conn, topic.hall_id, timezone), topic.arg, datetime.now(UTC))
    return {"hall": await hall_summary(conn, topic.hall_id), **view, "staff": await _staff_names(conn, topic.hall_id)}


# An administrator's change to what a hall offers: screens fetch the view afresh on it.
_SETUP = ("service.", "rules.", "hall.changed")


def _queue_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    if event.type.startswith("counter."):
        return {"counter": event.data.get("counter")}
    if event.type.startswith(_SETUP):
        return {"service": event.data.get("service")} if event.type.startswith("service.") else {}
    if event.type.startswith("ticket."):
        return {k: event.data[k] for k in _PUBLIC_TICKET_FIELDS if k in event.data}
    return None


def _counter_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    # The console keeps its waiting list from every ticket event; counter events of its own only.
    if event.type.startswith("ticket."):
        return event.data
    if event.type.startswith(_SETUP):
        return {"service": event.data.get("service")} if event.type.startswith("service.") else {}
    return event.data if event.data.get("counter") == topic.arg else None


def _wallboard_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    return event.data if event.type in WALLBOARD_EVENTS else None


Snapshot = Callable[[AsyncConnection, Topic, str], Awaitable[Mapping[str, Any]]]


def _in(timezone: str, snapshot: Snapshot) -> Callable[[AsyncConnection, Topic], Awaitable[Mapping[str, Any]]]:
    return lambda conn, topic: snapshot(conn, topic, timezone)


def topics(timezone: str = DEFAULT_ZONE) -> tuple[TopicKind, ...]:
    """The queue's topics, their snapshots read in the hall's zone (opening hours, today's tickets)."""
    return (
        TopicKind("queue", Access.anyone(), _queue_select, _in(timezone, _queue_snapshot)),
        TopicKind(
            "counter",
            Access.staff(Role.CLERK, Role.SUPERVISOR),
            _counter_select,
            _in(timezone, _counter_snapshot),
            True,
        ),
        TopicKind("wallboard", Access.staff(Role.SUPERVISOR), _wallboard_select, _in(timezone, _wallboard_snapshot)),
    )


TOPICS = topics()
