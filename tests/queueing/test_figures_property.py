"""The figures the writer keeps are the figures of the event log: after any run of commands, with
refusals, holds, transfers, follow-ons, re-queues, ratings, pauses, day ends and restarts of the
writer among them, the table holds what a recount of the events (written here afresh, from the
events alone) says it should, its two rollups hold its sums, and ``hall figures rebuild``
(hall/figures/queue_rebuild.py) writes the same rows again."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hall.figures.queue_rebuild import rebuild
from hall.kernel.events import Command
from hall.kernel.zones import zone
from hall.storage.database import reading
from hall.storage.queue_tables import queue_figures, queue_figures_daily, queue_figures_hourly, queue_services
from hall.storage.tables import events
from hall.storage.writer import Writer
from queueing.figures import COUNTS, MAXIMA
from queueing.store import QueueDomain
from tests.conftest import Database, StepClock
from tests.factories import add_staff
from tests.site import open_all_week

# What a step does: one of the counters acts (what it does depends on the ticket in its hand), a
# resident takes a ticket, or something else happens in the hall.
KINDS = ("counter", "counter", "counter", "issue", "issue", "other")
AT_COUNTER = {
    None: ("call", "call", "call"),
    "called": ("start", "start", "recall", "no_show", "hold", "transfer"),
    "serving": ("finish", "finish", "follow_on", "transfer", "hold"),
}
OTHERS = ("tick", "rate", "rate", "requeue", "cancel", "restart", "pause", "resume")
SERVICES = ("soc", "fund")
# Counter 1 serves soc only; counter 11 takes every service.
COUNTERS = (1, 11)
Row = tuple[Any, ...]


def _bucket(seconds: int, prefix: str) -> str:
    for name, upper in (("0_5", 5), ("5_10", 10), ("10_20", 20), ("20_30", 30), ("30_60", 60)):
        if seconds < upper * 60:
            return f"{prefix}_{name}"
    return f"{prefix}_60"


def recount(rows: list[Any], targets: dict[str, int]) -> dict[Row, dict[str, int]]:
    """The figures of an event log, from the events alone: a wait runs from a ticket's issue,
    transfer, follow-on or re-queue to its next call (none after a hold); a service time from a
    start to its finish. A counter open, not paused and with no ticket in hand is free from its
    opening or resuming (idle) or from its ticket leaving (wrap-up) to its next call, pause or
    close, counted at that end unless the span crossed the local midnight."""
    shanghai = zone("Asia/Shanghai")
    figures: dict[Row, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    wait_from: dict[str, datetime | None] = {}
    serving_since: dict[str, datetime] = {}
    free: dict[int, tuple[datetime, bool]] = {}
    open_counters: set[int] = set()
    in_hand: dict[int, str] = {}

    def add(at: datetime, service: str, counter: Any, clerk: Any, **counts: int) -> None:
        local = at.astimezone(shanghai)
        cell = figures[(local.date(), local.hour, service, counter or 0, clerk or 0)]
        for name, value in counts.items():
            cell[name] = max(cell[name], value) if name in MAXIMA else cell[name] + value

    def end_free(at: datetime, counter: int, clerk: Any) -> None:
        span = free.pop(counter, None)
        if span is None or span[0].astimezone(shanghai).date() != at.astimezone(shanghai).date():
            return
        seconds = round((at - span[0]).total_seconds())
        if span[1]:
            add(at, "", counter, clerk, wrap_count=1, wrap_sum=seconds)
        else:
            add(at, "", counter, clerk, idle_sum=seconds)

    for row in rows:
        data, at, ticket = row.data, row.at, row.data.get("ticket")
        service, counter, clerk = data.get("service"), data.get("counter"), data.get("clerk")
        if row.type in ("counter.opened", "counter.resumed"):
            open_counters.add(counter)
            if counter not in in_hand:
                free[counter] = (at, False)
        elif row.type in ("counter.paused", "counter.closed"):
            open_counters.discard(counter)
            end_free(at, counter, clerk)
        elif row.type == "ticket.called":
            end_free(at, counter, clerk)
            in_hand[counter] = ticket
        left = data.get("from_counter") if row.type == "ticket.transferred" else counter
        leaving = ("ticket.finished", "ticket.no_show", "ticket.held", "ticket.closed", "ticket.transferred")
        if row.type in leaving and in_hand.get(left) == ticket and not data.get("follow_on"):
            del in_hand[left]
            if left in open_counters:
                free[left] = (at, True)
        if row.type == "ticket.issued":
            wait_from[ticket] = at
            add(at, service, 0, 0, arrived=1)
        elif row.type == "ticket.called":
            began = wait_from.get(ticket)
            wait_from[ticket] = None
            if began is None:
                add(at, service, counter, clerk, called=1)
                continue
            seconds = round((at - began).total_seconds())
            bucket = next(
                (
                    name
                    for name, upper in (
                        ("wait_0_5", 5),
                        ("wait_5_10", 10),
                        ("wait_10_20", 20),
                        ("wait_20_30", 30),
                        ("wait_30_60", 60),
                    )
                    if seconds < upper * 60
                ),
                "wait_60",
            )
            within = int(seconds <= targets[service] * 60)
            add(
                at,
                service,
                counter,
                clerk,
                called=1,
                wait_count=1,
                wait_sum=seconds,
                wait_max=seconds,
                wait_in_target=within,
                **{bucket: 1},
            )
        elif row.type in ("ticket.transferred", "ticket.requeued"):
            wait_from[ticket] = at
            if row.type == "ticket.transferred" and not data.get("follow_on"):
                add(at, data["from_service"], data.get("from_counter"), clerk, transferred=1)
        elif row.type == "ticket.started":
            serving_since[ticket] = at
        elif row.type == "ticket.finished":
            seconds = round((at - serving_since.pop(ticket)).total_seconds())
            add(
                at,
                service,
                counter,
                clerk,
                served=1,
                service_count=1,
                service_sum=seconds,
                service_max=seconds,
                **{_bucket(seconds, "service"): 1},
            )
        elif row.type == "ticket.no_show":
            add(at, service, counter, clerk, no_shows=1)
        elif row.type == "rating.given":
            add(at, service, counter, clerk, **{f"rated_{data['level']}": 1})
    return dict(figures)


async def stored(database: Database, hall: int) -> dict[Row, dict[str, int]]:
    async with reading(database.engines[0]) as conn:
        t = queue_figures.c
        rows = await conn.execute(select(queue_figures).where(t.hall_id == hall))
        return {(r.day, r.hour, r.service, r.counter, r.clerk): {n: int(getattr(r, n)) for n in COUNTS} for r in rows}


def _add(into: dict[str, int], sums: dict[str, int]) -> None:
    for name in COUNTS:
        into[name] = max(into[name], sums[name]) if name in MAXIMA else into[name] + sums[name]


def rollups_of(figures: dict[Row, dict[str, int]]) -> tuple[dict[Row, dict[str, int]], dict[Row, dict[str, int]]]:
    """The daily (no hour) and hourly (no counter or clerk) sums of the figures."""
    daily: dict[Row, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    hourly: dict[Row, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for (day, hour, service, counter, clerk), sums in figures.items():
        _add(daily[(day, service, counter, clerk)], sums)
        _add(hourly[(day, hour, service)], sums)
    return dict(daily), dict(hourly)


async def rolled_up(database: Database, hall: int) -> tuple[dict[Row, dict[str, int]], dict[Row, dict[str, int]]]:
    async with reading(database.engines[0]) as conn:
        d, h = queue_figures_daily, queue_figures_hourly
        daily = {
            (r.day, r.service, r.counter, r.clerk): {n: int(getattr(r, n)) for n in COUNTS}
            for r in await conn.execute(select(d).where(d.c.hall_id == hall))
        }
        hourly = {
            (r.day, r.hour, r.service): {n: int(getattr(r, n)) for n in COUNTS}
            for r in await conn.execute(select(h).where(h.c.hall_id == hall))
        }
        return daily, hourly


async def recounted(database: Database, hall: int) -> dict[Row, dict[str, int]]:
    async with reading(database.engines[0]) as conn:
        targets = {
            r.code: r.target_wait_minutes
            for r in await conn.execute(select(queue_services).where(queue_services.c.hall_id == hall))
        }
        rows = list(await conn.execute(select(events).where(events.c.hall_id == hall).order_by(events.c.seq)))
    return recount(rows, targets)


class Hall:
    """The test's hall across examples: its clock only moves on, its clerks stay."""

    def __init__(self) -> None:
        self.clock = StepClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
        self.clerks: list[int] = []
        self.missed: list[str] = []
        self.finished: list[tuple[str, str]] = []
        self.rated: set[tuple[str, str]] = set()
        self.waiting: list[str] = []


_halls: dict[str, Hall] = {}

steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.sampled_from(range(len(COUNTERS))),
        st.integers(0, 5),
        st.integers(0, 30),
        st.booleans(),
    ),
    min_size=10,
    max_size=60,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps)
async def test_the_figures_are_a_recount_of_the_events(
    database: Database, halls: dict[str, int], script: list[tuple[str, int, int, int, bool]]
) -> None:
    engine = database.engines[0]
    hall_id = halls["xh"]
    hall = _halls.get(f"{database.url}#{database.schema}")
    if hall is None:
        hall = _halls[f"{database.url}#{database.schema}"] = Hall()
        await open_all_week(engine)
        hall.clerks = await add_staff(engine, hall_id, len(COUNTERS))
    # Each example starts a few hours after the last one ended: some of them on a new day.
    hall.clock.now += timedelta(hours=5)
    writer = Writer(engine, [QueueDomain()], clock=hall.clock)
    await writer.start()
    try:
        for number, clerk in zip(COUNTERS, hall.clerks, strict=True):
            await writer.submit(_command(hall_id, "counter.open", counter=number, clerk=clerk))
        for kind, which, choice, minutes, flag in script:
            hall.clock.now += timedelta(minutes=minutes, seconds=flag * 29)
            number = COUNTERS[which]
            if kind == "counter":
                options = AT_COUNTER[_in_hand(writer, hall_id, number)]
                action = options[choice % len(options)]
            else:
                action = "issue" if kind == "issue" else OTHERS[choice % len(OTHERS)]
            if action == "restart":
                await writer.stop()
                writer = Writer(engine, [QueueDomain()], clock=hall.clock)
                await writer.start()
                continue
            await _act(writer, hall, hall_id, action, COUNTERS[which], hall.clerks[which], flag)
    finally:
        await writer.stop()
    kept, recount = await stored(database, hall_id), await recounted(database, hall_id)
    differ = {k: (kept.get(k), recount.get(k)) for k in set(kept) | set(recount) if kept.get(k) != recount.get(k)}
    assert not differ, differ
    assert await rolled_up(database, hall_id) == rollups_of(kept)
    await rebuild(engine, hall_id, "Asia/Shanghai", until=date(2100, 1, 1))
    assert await stored(database, hall_id) == kept
    assert await rolled_up(database, hall_id) == rollups_of(kept)


async def _act(writer: Writer, hall: Hall, hall_id: int, action: str, counter: int, clerk: int, flag: bool) -> None:
    at = {"counter": counter, "clerk": clerk}
    if action == "issue":
        name, args = "ticket.issue", {"service": SERVICES[flag]}
    elif action == "call":
        name, args = "ticket.call_next", at
    elif action in ("recall", "start", "no_show", "hold"):
        name, args = f"ticket.{action}", at
    elif action in ("finish", "follow_on"):
        name, args = "ticket.finish", {**at, "follow_on": "fund"} if action == "follow_on" else at
    elif action == "transfer":
        name, args = (
            "ticket.transfer",
            {**at, "to_service": SERVICES[flag]} if counter == 1 else {**at, "to_counter": 1},
        )
    elif action in ("pause", "resume"):
        name, args = f"counter.{action}", {**at, "reason": "break"} if action == "pause" else at
    elif action == "requeue" and hall.missed:
        name, args = "ticket.requeue", {"ticket": hall.missed[-1]}
    elif action == "cancel" and hall.waiting:
        name, args = "ticket.cancel", {"ticket": hall.waiting[0]}
    elif action == "rate" and hall.finished:
        # A service rated already (the ticket sent back to it and served again) is refused by the
        # rules, and the refusal adds nothing to the figures.
        ticket, service = hall.finished.pop()
        hall.rated.add((ticket, service))
        name, args = "rating.submit", {"ticket": ticket, "service": service, "level": 1 + (len(ticket) + flag) % 5}
    else:
        name, args = "queue.tick", {}
    outcome = await writer.submit(_command(hall_id, name, **args))
    ticket = outcome.result.get("ticket") if outcome.ok else None
    if not isinstance(ticket, dict):
        return
    if ticket["state"] == "no_show":
        hall.missed.append(ticket["id"])
    elif ticket["state"] == "waiting" and name == "ticket.issue":
        hall.waiting.append(ticket["id"])
    elif name == "ticket.finish":
        # After a follow-on the answer is the ticket in its next service's line.
        done = ticket["previous_service"] if "follow_on" in args else ticket["service"]
        hall.finished.append((ticket["id"], done))


def _in_hand(writer: Writer, hall_id: int, counter: int) -> str | None:
    """The state of the ticket at ``counter`` (called or serving), as the writer has it now."""
    state = writer.cached_state(hall_id, "queue")
    current = state.line(counter).current if state is not None else None
    ticket = state.tickets.get(current) if state is not None and current else None
    return ticket.state.value if ticket is not None else None


def _command(hall_id: int, name: str, **args: Any) -> Command:
    return Command(uuid.uuid4().hex, hall_id, name, "staff:0", args)
