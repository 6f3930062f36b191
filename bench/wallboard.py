"""The wallboard's snapshot after a busy day: what its parts cost beside the public queue snapshot.

A hall's day is played through the writer (SQLite): ``--tickets`` residents over ten counters, each
called, served and finished, one in ten rating it unsatisfied (an alarm each), every counter paused
and resumed now and then. Then the wallboard topic's snapshot is built ``--runs`` times beside the
public queue topic's (the baseline: the same queue state and view, without the board's parts), and
each part the board added is timed alone: the counters' times in state (the day's ``counter.*``
events), today's figures by service and counter, today's cases, the alarm book.

    python -m bench.wallboard [--tickets 1500] [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics as stats
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bench.common import machine
from hall.kernel.events import Command
from hall.kernel.zones import zone
from hall.runtime import core_domains
from hall.setup import initialise
from hall.storage.database import create_engine, reading
from hall.storage.queue_tables import queue_services
from hall.storage.writer import Writer
from queueing import live
from queueing.alarm_store import AlarmsDomain, AlarmWatch, counter_since
from realtime.topics import Topic
from tests.factories import add_staff
from tests.site import open_all_week

COUNTERS = range(1, 11)


def _command(hall: int, name: str, **args: Any) -> Command:
    return Command(uuid.uuid4().hex, hall, name, "staff:1", args)


async def play(writer: Writer, hall: int, tickets: int, clerks: list[int]) -> int:
    """A busy day; returns the events it logged."""
    logged = 0

    async def run(name: str, **args: Any) -> Any:
        nonlocal logged
        outcome = await writer.submit(_command(hall, name, **args))
        assert outcome.ok, (name, outcome.result)
        logged += len(outcome.events)
        return outcome.result

    clerk = dict(zip(COUNTERS, clerks, strict=True))
    found = await writer.read_state(hall, "queue")
    assert found is not None
    # Each counter's first service, so its call always finds the ticket just taken.
    service = {counter: found[1].line(counter).services[0][0] for counter in COUNTERS}
    for counter in COUNTERS:
        await run("counter.open", counter=counter, clerk=clerk[counter])
    for n in range(tickets):
        counter = COUNTERS[n % len(COUNTERS)]
        issued = await run("ticket.issue", service=service[counter], priority="normal")
        await run("ticket.call_next", counter=counter, clerk=clerk[counter])
        await run("ticket.start", counter=counter, clerk=clerk[counter])
        await run("ticket.finish", counter=counter, clerk=clerk[counter])
        if n % 10 == 0:
            ticket = issued["ticket"]["id"]
            await run("rating.submit", ticket=ticket, service=service[counter], level=2, served_by=clerk[counter])
        if n % 50 == 0:
            await run("counter.pause", counter=counter, clerk=clerk[counter], reason="休息")
            await run("counter.resume", counter=counter, clerk=clerk[counter])
    return logged


async def _timed(runs: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        await work()
        took.append((time.perf_counter() - began) * 1000)
    return took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(machine(libraries=True))
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'hall.db'}")
        ids, _ = await initialise(engine)
        await open_all_week(engine)
        async with engine.begin() as conn:
            # No 号源 cap: the day is as busy as asked.
            await conn.execute(update(queue_services).values(daily_cap=None))
        hall = ids["xh"]
        clerks = await add_staff(engine, hall, len(COUNTERS))
        writer = Writer(engine, core_domains())
        # The watch raises an alarm for each unsatisfied rating, as in a server.
        watch = AlarmWatch(writer)
        writer.add_listener(watch.offer)
        await writer.start()
        watching = asyncio.create_task(watch.run())
        began = time.perf_counter()
        try:
            logged = await play(writer, hall, args.tickets, clerks)
            await asyncio.sleep(0.5)
        finally:
            watching.cancel()
            await writer.stop()
        print(f"{args.tickets} tickets, {logged:,} events played in {time.perf_counter() - began:.0f} s")
        kinds = {kind.name: kind for kind in live.topics()}
        now = datetime.now(UTC)

        async def snapshot(name: str) -> None:
            async with reading(engine) as conn:
                await kinds[name].snapshot(conn, Topic(hall, name))

        async def part(read: Callable[[Any], Awaitable[object]]) -> None:
            async with reading(engine) as conn:
                await read(conn)

        day = now.astimezone(zone("Asia/Shanghai")).date()
        measured = {
            "queue snapshot (baseline)": lambda: snapshot("queue"),
            "wallboard snapshot": lambda: snapshot("wallboard"),
            "  times in state (counter_since)": lambda: part(lambda c: counter_since(c, hall, now)),
            "  figures by service and counter": lambda: part(lambda c: live._day_parts(c, hall, day)),
            "  today's cases": lambda: part(lambda c: live._case_day(c, hall, day, "Asia/Shanghai")),
            "  alarm book": lambda: part(lambda c: AlarmsDomain().load(c, hall)),
        }
        medians: dict[str, float] = {}
        for name, work in measured.items():
            took = await _timed(args.runs, work)
            medians[name] = stats.median(took)
            print(f"{name}: median {medians[name]:.1f} ms, max {max(took):.1f} ms")
        ratio = medians["wallboard snapshot"] / medians["queue snapshot (baseline)"]
        print(f"wallboard / queue snapshot: {ratio:.2f}×")
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
