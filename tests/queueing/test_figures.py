"""The queue's figures, kept by the writer, and the KPIs read from them, on both backends: a small
day of tickets issued, called, served, transferred, missed and rated at known times, and every
KPI against the value worked out by hand.

The hall is the sample district hall (Asia/Shanghai, UTC+8): 01:00 UTC is 09:00 there. Counter 1
serves social insurance (soc, tickets A…), counter 4 the housing fund (fund, tickets B…); both
services aim at waits of at most 20 minutes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from hall.figures.queue_rebuild import rebuild
from hall.hallfile.plan import plan
from hall.hallfile.store import apply, export
from hall.kernel.events import Command
from hall.storage.database import reading
from hall.storage.queue_tables import queue_figures, queue_figures_daily, queue_figures_hourly
from hall.storage.tables import counters, departments, events
from hall.storage.writer import Writer
from queueing.figures import kpis
from queueing.recount import targets_before
from queueing.statistics import Narrowing, Stats, statistics, ticket_lines
from queueing.store import QueueDomain
from tests.conftest import Database, StepClock
from tests.factories import add_staff
from tests.serverproc import hall_cli
from tests.site import open_all_week

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
DAY = date(2026, 11, 23)


def at(hours: int, minutes: int, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hours, minutes=minutes)


def cmd(hall: int, name: str, **args: Any) -> Command:
    return Command(uuid.uuid4().hex, hall, name, "staff:0", args)


async def play(writer: Writer, clock: StepClock, hall: int, script: list[tuple[datetime, str, dict[str, Any]]]) -> None:
    for when, name, args in script:
        clock.now = when
        outcome = await writer.submit(cmd(hall, name, **args))
        assert outcome.ok, (when, name, outcome.result)


def day_script(alice: int, bob: int) -> list[tuple[datetime, str, dict[str, Any]]]:
    """Monday: A001 waits 10 min, is served 9 min, rated 5; A002 waits 28 min and misses its call;
    B001 waits 36 min, is served 6 min, rated 2; A003 waits 3 min at soc, is sent on to fund,
    waits 8 min there and is served 12 min. Tuesday: A001 waits exactly 5 min, served 9 min."""
    a, b = {"counter": 1, "clerk": alice}, {"counter": 4, "clerk": bob}
    return [
        (at(1, 0), "counter.open", a),
        (at(1, 0), "counter.open", b),
        (at(1, 0), "ticket.issue", {"service": "soc"}),
        (at(1, 2), "ticket.issue", {"service": "soc"}),
        (at(1, 4), "ticket.issue", {"service": "fund"}),
        (at(1, 10), "ticket.call_next", a),
        (at(1, 11), "ticket.start", a),
        (at(1, 20), "ticket.finish", a),
        (at(1, 25), "rating.submit", {"ticket": "20261123-A001", "service": "soc", "level": 5}),
        (at(1, 30), "ticket.call_next", a),
        (at(1, 32), "ticket.recall", a),
        (at(1, 35), "ticket.no_show", a),
        (at(1, 40), "ticket.call_next", b),
        (at(1, 41), "ticket.start", b),
        (at(1, 47), "ticket.finish", b),
        (at(1, 50), "rating.submit", {"ticket": "20261123-B001", "service": "fund", "level": 2}),
        (at(2, 5), "ticket.issue", {"service": "soc"}),
        (at(2, 8), "ticket.call_next", a),
        (at(2, 9), "ticket.start", a),
        (at(2, 12), "ticket.transfer", {**a, "to_service": "fund"}),
        (at(2, 20), "ticket.call_next", b),
        (at(2, 21), "ticket.start", b),
        (at(2, 33), "ticket.finish", b),
        (at(1, 0, day=1), "ticket.issue", {"service": "soc"}),
        (at(1, 5, day=1), "ticket.call_next", a),
        (at(1, 6, day=1), "ticket.start", a),
        (at(1, 15, day=1), "ticket.finish", a),
    ]


@pytest.fixture
async def played(database: Database, halls: dict[str, int]) -> tuple[Database, int, int, int]:
    engine = database.engines[0]
    await open_all_week(engine)
    hall = halls["xh"]
    alice, bob = await add_staff(engine, hall, 2)
    clock = StepClock(MONDAY)
    async with Writer(engine, [QueueDomain()], clock=clock) as writer:
        await play(writer, clock, hall, day_script(alice, bob))
    return database, hall, alice, bob


async def stats(
    database: Database,
    hall: int,
    first: date,
    last: date,
    *,
    by: str = "day",
    group: str,
    narrowing: Narrowing | None = None,
) -> Stats:
    async with reading(database.engines[0]) as conn:
        return await statistics(conn, [hall], first, last, by=by, group=group, narrowing=narrowing)


def kpi(sums: dict[str, int]) -> dict[str, Any]:
    return kpis(sums)


async def test_monday_in_kpis_worked_out_by_hand(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    monday = kpi((await stats(database, hall, DAY, DAY, group="service")).total)
    assert monday["arrived"] == 4
    assert monday["called"] == 5
    assert monday["served"] == 3
    assert monday["no_shows"] == 1
    assert monday["no_show_rate"] == 0.2
    assert monday["transferred"] == 1
    # Waits 10, 28, 36, 3 and 8 minutes: 85 in all, 17 on average; within 20 minutes: 10, 3, 8.
    assert monday["waits"] == 5
    assert monday["wait_mean_minutes"] == 17.0
    assert monday["wait_max_minutes"] == 36.0
    assert monday["service_level"] == 0.6
    assert monday["wait_buckets"] == {
        "wait_0_5": 1,
        "wait_5_10": 1,
        "wait_10_20": 1,
        "wait_20_30": 1,
        "wait_30_60": 1,
        "wait_60": 0,
    }
    # Served 9, 6 and 12 minutes.
    assert monday["service_mean_minutes"] == 9.0
    assert monday["service_max_minutes"] == 12.0
    assert monday["ratings"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert monday["satisfaction"] == 0.5


async def test_each_service_has_its_own_waits_and_service_level(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    found = await stats(database, hall, DAY, DAY, group="service")
    by_service = {line.key: kpi(line.sums) for line in found.groups}
    # The counters' idle and wrap-up time belongs to no service: it stands apart, under "".
    assert set(by_service) == {"soc", "fund", ""}
    assert (by_service[""]["arrived"], by_service[""]["called"]) == (0, 0)
    soc, fund = by_service["soc"], by_service["fund"]
    assert {line.key: line.label for line in found.groups}["soc"] == ("社会保障", "Social security")
    # soc: A001 10 min, A002 28 min, A003 3 min; fund: B001 36 min, A003 (sent on) 8 min.
    assert (soc["arrived"], soc["called"], soc["served"], soc["no_shows"], soc["transferred"]) == (3, 3, 1, 1, 1)
    assert soc["wait_mean_minutes"] == round(41 / 3, 2)
    assert soc["service_level"] == round(2 / 3, 4)
    assert (fund["arrived"], fund["called"], fund["served"], fund["no_shows"], fund["transferred"]) == (1, 2, 2, 0, 0)
    assert fund["wait_mean_minutes"] == 22.0
    assert fund["service_level"] == 0.5
    assert fund["service_mean_minutes"] == 9.0
    assert (soc["satisfaction"], fund["satisfaction"]) == (1.0, 0.0)


async def test_clerks_and_counters_carry_what_they_did_and_arrivals_belong_to_none(
    played: tuple[Database, int, int, int],
) -> None:
    database, hall, alice, bob = played
    by_clerk = {line.key: kpi(line.sums) for line in (await stats(database, hall, DAY, DAY, group="clerk")).groups}
    assert set(by_clerk) == {str(alice), str(bob), "0"}
    mine, his = by_clerk[str(alice)], by_clerk[str(bob)]
    assert (mine["called"], mine["served"], mine["no_shows"], mine["transferred"]) == (3, 1, 1, 1)
    assert (his["called"], his["served"], his["no_shows"], his["rated"]) == (2, 2, 0, 1)
    assert by_clerk["0"]["arrived"] == 4
    assert by_clerk["0"]["called"] == 0
    counters = {line.key: kpi(line.sums) for line in (await stats(database, hall, DAY, DAY, group="counter")).groups}
    assert counters[f"{hall}:1"]["called"] == 3
    assert counters[f"{hall}:4"]["service_mean_minutes"] == 9.0


async def test_a_counters_department_gathers_its_figures(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    async with database.engines[0].begin() as conn:
        await conn.execute(insert(departments).values(hall_id=hall, code="hrss", name="人社局", name_en="HR bureau"))
        await conn.execute(
            update(counters).where(counters.c.hall_id == hall, counters.c.number == 1).values(department="hrss")
        )
    found = await stats(database, hall, DAY, DAY, group="department")
    by_department = {line.key: (line.label, kpi(line.sums)) for line in found.groups}
    assert set(by_department) == {"hrss", ""}
    label, hrss = by_department["hrss"]
    assert label == ("人社局", "HR bureau")
    assert (hrss["called"], hrss["served"], hrss["no_shows"]) == (3, 1, 1)
    # Counter 4 has no department: its figures stand with the arrivals, under no department.
    assert by_department[""][1]["called"] == 2
    assert by_department[""][1]["arrived"] == 4


async def test_hours_are_the_halls_local_hours(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    hours = {line.key: line.sums for line in (await stats(database, hall, DAY, DAY, group="hour")).groups}
    assert set(hours) == {"9", "10"}
    assert (hours["9"]["arrived"], hours["9"]["called"], hours["9"]["served"], hours["9"]["no_shows"]) == (3, 3, 2, 1)
    assert (hours["10"]["arrived"], hours["10"]["called"], hours["10"]["served"], hours["10"]["transferred"]) == (
        1,
        2,
        1,
        1,
    )


async def test_days_weeks_and_months_group_the_same_sums(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    tuesday = DAY + timedelta(days=1)
    days = await stats(database, hall, DAY, tuesday, by="day", group="service")
    assert [line.key for line in days.periods] == ["2026-11-23", "2026-11-24"]
    # Tuesday's one wait is 5 minutes exactly: a bucket holds its lower bound.
    assert kpi(days.periods[1].sums)["wait_buckets"]["wait_5_10"] == 1
    assert kpi(days.periods[1].sums)["served"] == 1
    weeks = await stats(database, hall, DAY, tuesday, by="week", group="service")
    months = await stats(database, hall, DAY, tuesday, by="month", group="service")
    assert [line.key for line in weeks.periods] == ["2026-11-23"]
    assert [line.key for line in months.periods] == ["2026-11-01"]
    assert weeks.periods[0].sums == months.periods[0].sums == days.total
    assert kpi(days.total)["arrived"] == 5
    only_tuesday = await stats(database, hall, tuesday, tuesday, group="service")
    assert kpi(only_tuesday.total)["arrived"] == 1


async def test_counters_idle_and_wrap_up_time_worked_out_by_hand(played: tuple[Database, int, int, int]) -> None:
    """Counter 1 opens at 09:00 and first calls at 09:10: idle 10 min. It finishes A001 at 09:20
    and calls at 09:30 (wrap-up 10 min); A002 misses at 09:35, the next call is at 10:08 (wrap-up
    33 min); A003 leaves by transfer at 10:12 and nothing more is called that day. Counter 4
    opens at 09:00 and first calls at 09:40: idle 40 min; it finishes B001 at 09:47 and calls at
    10:20 (wrap-up 33 min). Tuesday's first call at counter 1 ends a span that began on Monday:
    not counted."""
    database, hall, alice, bob = played
    monday = await stats(database, hall, DAY, DAY, group="counter")
    counters = {line.key: kpi(line.sums) for line in monday.groups}
    one, four = counters[f"{hall}:1"], counters[f"{hall}:4"]
    assert (one["idle_minutes"], one["wrap_ups"], one["wrap_minutes"]) == (10.0, 2, 43.0)
    assert one["wrap_mean_minutes"] == 21.5
    assert (four["idle_minutes"], four["wrap_ups"], four["wrap_minutes"]) == (40.0, 1, 33.0)
    total = kpi(monday.total)
    assert (total["idle_minutes"], total["wrap_ups"], total["wrap_minutes"]) == (50.0, 3, 76.0)
    # Counted in the hour each span ends: 09:10 and 09:40 (idle), 09:30 (wrap), 10:08 and 10:20.
    hours = {line.key: line.sums for line in monday.hours}
    assert (hours["9"]["idle_sum"], hours["9"]["wrap_sum"]) == (3000, 600)
    assert (hours["10"]["idle_sum"], hours["10"]["wrap_sum"]) == (0, 3960)
    tuesday = await stats(database, hall, DAY + timedelta(days=1), DAY + timedelta(days=1), group="counter")
    assert (kpi(tuesday.total)["idle_minutes"], kpi(tuesday.total)["wrap_ups"]) == (0.0, 0)
    by_clerk = {line.key: kpi(line.sums) for line in (await stats(database, hall, DAY, DAY, group="clerk")).groups}
    assert (by_clerk[str(alice)]["wrap_ups"], by_clerk[str(bob)]["idle_minutes"]) == (2, 40.0)


async def test_a_pause_ends_a_free_span_and_a_resume_starts_idle_time(
    database: Database, halls: dict[str, int]
) -> None:
    """Open at 09:00, paused 09:04 (idle 4 min), resumed 09:30, a ticket called 09:36 (idle 6
    min), finished 09:50, paused 09:53 (wrap-up 3 min), resumed and closed 10:00 (idle 0)."""
    engine = database.engines[0]
    await open_all_week(engine)
    hall = halls["xh"]
    (alice,) = await add_staff(engine, hall, 1)
    a = {"counter": 1, "clerk": alice}
    clock = StepClock(MONDAY)
    async with Writer(engine, [QueueDomain()], clock=clock) as writer:
        await play(
            writer,
            clock,
            hall,
            [
                (at(1, 0), "counter.open", a),
                (at(1, 4), "counter.pause", {**a, "reason": "break"}),
                (at(1, 30), "counter.resume", a),
                (at(1, 32), "ticket.issue", {"service": "soc"}),
                (at(1, 36), "ticket.call_next", a),
                (at(1, 37), "ticket.start", a),
                (at(1, 50), "ticket.finish", a),
                (at(1, 53), "counter.pause", {**a, "reason": "break"}),
                (at(2, 0), "counter.resume", a),
                (at(2, 0), "counter.close", a),
            ],
        )
    total = kpi((await stats(database, hall, DAY, DAY, group="counter")).total)
    assert (total["idle_minutes"], total["wrap_ups"], total["wrap_minutes"]) == (10.0, 1, 3.0)


async def test_p90_of_waits_and_service_times_from_their_buckets(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    monday = kpi((await stats(database, hall, DAY, DAY, group="service")).total)
    # Served 9, 6 and 12 minutes: two in 5–10, one in 10–20; the 90th of 3 lies in 10–20 at 1020 s,
    # past the longest service (12 min), so the longest it is.
    assert monday["service_buckets"] == {
        "service_0_5": 0,
        "service_5_10": 2,
        "service_10_20": 1,
        "service_20_30": 0,
        "service_30_60": 0,
        "service_60": 0,
    }
    assert monday["service_p90_minutes"] == 12.0
    assert monday["wait_p90_minutes"] == 36.0


def test_a_percentile_is_interpolated_within_its_bucket() -> None:
    from queueing.figures import percentile

    # 10 waits: 8 in 0–5 min, 2 in 5–10; the 9th of 10 lies halfway into 5–10: 7.5 min.
    assert percentile([8, 2, 0, 0, 0, 0], longest=590) == 450.0
    # All in the open last bucket, the longest 90 min: 60 + 0.9 × 30 = 87 min.
    assert percentile([0, 0, 0, 0, 0, 10], longest=5400) == 5220.0
    assert percentile([0] * 6, longest=0) is None


async def test_a_drill_down_narrows_every_table_and_ends_at_the_tickets(
    played: tuple[Database, int, int, int],
) -> None:
    database, hall, alice, bob = played
    async with database.engines[0].begin() as conn:
        await conn.execute(insert(departments).values(hall_id=hall, code="hrss", name="人社局", name_en="HR bureau"))
        await conn.execute(
            update(counters).where(counters.c.hall_id == hall, counters.c.number == 1).values(department="hrss")
        )
    hrss = await stats(database, hall, DAY, DAY, group="counter", narrowing=Narrowing(department="hrss"))
    assert [line.key for line in hrss.groups] == [f"{hall}:1"]
    # Arrivals belong to no counter: they fall out; counter 1 called A001, A002 and A003.
    assert (hrss.total["arrived"], hrss.total["called"]) == (0, 3)
    assert sum(line.sums["called"] for line in hrss.hours) == 3
    assert sum(cell["called"] for cell in hrss.heat.values()) == 3
    counter = await stats(database, hall, DAY, DAY, group="clerk", narrowing=Narrowing(counter=(hall, 4)))
    assert [line.key for line in counter.groups] == [str(bob)]
    assert counter.total["served"] == 2
    clerk = Narrowing(counter=(hall, 1), clerk=alice)
    found = await stats(database, hall, DAY, DAY, group="clerk", narrowing=clerk)
    assert found.total["called"] == 3
    async with reading(database.engines[0]) as conn:
        lines = await ticket_lines(conn, [hall], DAY, DAY, clerk)
        assert await ticket_lines(conn, [hall], DAY, DAY, Narrowing(department="hrss")) == ()
    # A001 (done at counter 1), A002 (missed, then closed at Tuesday's day end); A003 went on to
    # counter 4 and is listed there.
    assert [(line.number, line.state) for line in lines] == [("A002", "closed"), ("A001", "done")]
    a001 = lines[1]
    assert (a001.wait_seconds, a001.service_seconds) == (600, 540)
    assert a001.called_at == at(1, 10) and a001.finished_at == at(1, 20)


async def test_the_heat_map_is_by_weekday_and_local_hour(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    found = await stats(database, hall, DAY, DAY + timedelta(days=1), group="service")
    # Monday (ISO 1) 09:00 and 10:00; Tuesday (2) 09:00.
    assert {key: cell["arrived"] for key, cell in found.heat.items()} == {(1, 9): 3, (1, 10): 1, (2, 9): 1}


async def _every_figure(database: Database, hall: int) -> dict[str, set[tuple[Any, ...]]]:
    async with reading(database.engines[0]) as conn:
        return {
            table.name: {tuple(row) for row in await conn.execute(select(table).where(table.c.hall_id == hall))}
            for table in (queue_figures, queue_figures_daily, queue_figures_hourly)
        }


async def _wipe(database: Database, hall: int, day: date | None = None) -> None:
    async with database.engines[0].begin() as conn:
        for table in (queue_figures, queue_figures_daily, queue_figures_hourly):
            where = [table.c.hall_id == hall] + ([table.c.day == day] if day else [])
            await conn.execute(delete(table).where(*where))


async def test_a_rebuild_from_the_event_log_equals_the_figures_kept_live(
    played: tuple[Database, int, int, int],
) -> None:
    """The figures wiped, as in a database from before they were kept: ``hall figures rebuild``
    (the command on SQLite, whose file another process opens; its function on PostgreSQL) writes
    every table again as the writer kept it, and a second run changes nothing."""
    database, hall, *_ = played
    kept = await _every_figure(database, hall)
    assert all(kept.values())
    await _wipe(database, hall)
    if database.backend == "sqlite":
        done = await asyncio.to_thread(hall_cli, "figures", "rebuild", "--db", database.url, "--hall", "xh")
        assert done.returncode == 0, done.stderr
        assert "xh 2026-11-23: " in done.stdout and "xh: 2 days rebuilt" in done.stdout
    else:
        await rebuild(database.engines[0], hall, "Asia/Shanghai", until=date.today())
    assert await _every_figure(database, hall) == kept
    await rebuild(database.engines[0], hall, "Asia/Shanghai", until=date.today())
    assert await _every_figure(database, hall) == kept


async def test_a_stopped_rebuild_resumes_after_the_last_day_it_wrote(played: tuple[Database, int, int, int]) -> None:
    database, hall, *_ = played
    kept = await _every_figure(database, hall)
    engine = database.engines[0]
    monday = (await rebuild(engine, hall, "Asia/Shanghai", until=DAY + timedelta(days=1)))[-1]
    assert monday.day == DAY
    # Stopped after Monday: Tuesday's rows are missing (wiped here), Monday's are not touched again.
    await _wipe(database, hall, DAY + timedelta(days=1))
    resumed = await rebuild(engine, hall, "Asia/Shanghai", until=date.today(), after=monday.last_seq)
    assert [day.day for day in resumed] == [DAY + timedelta(days=1)]
    assert await _every_figure(database, hall) == kept


async def test_a_day_whose_events_come_in_two_runs_of_the_log_is_rebuilt_whole(
    played: tuple[Database, int, int, int],
) -> None:
    """The server's clock was set back (corrected by hand) after Tuesday's first tickets: more of
    Monday's come after them in the log. The rebuild replaces Monday's rows with its first run of
    events and adds the second run to them, instead of wiping the first."""
    database, hall, alice, _ = played
    engine = database.engines[0]
    clock = StepClock(at(3, 0, day=1))
    async with Writer(engine, [QueueDomain()], clock=clock) as writer:
        await play(writer, clock, hall, [(at(3, 0, day=1), "ticket.issue", {"service": "soc"})])
        # Back to Monday afternoon: a ticket issued, called and served then.
        a = {"counter": 1, "clerk": alice}
        await play(
            writer,
            clock,
            hall,
            [
                (at(7, 0), "ticket.issue", {"service": "fund"}),
                (at(7, 5), "ticket.call_next", a),
                (at(7, 6), "ticket.start", a),
                (at(7, 15), "ticket.finish", a),
            ],
        )
    kept = await _every_figure(database, hall)
    await _wipe(database, hall)
    await rebuild(engine, hall, "Asia/Shanghai", until=date.today())
    assert await _every_figure(database, hall) == kept


async def _set_target(engine: Any, hall: str, service: str, minutes: int) -> None:
    """An administrator changes a service's target wait in the hall file (``hall apply``)."""
    async with engine.begin() as conn:
        held = await export(conn)
        halls = [
            h.model_copy(
                update={
                    "services": [
                        s.model_copy(update={"target_wait_minutes": minutes}) if s.code == service else s
                        for s in h.services
                    ]
                }
            )
            if h.code == hall
            else h
            for h in held.halls
        ]
        await apply(conn, plan(held, held.model_copy(update={"halls": halls})).changes, at(0, 0, day=2))


async def test_a_wait_counts_against_the_target_of_its_day_live_and_in_a_rebuild(
    played: tuple[Database, int, int, int],
) -> None:
    """Before Wednesday soc's target is cut from 20 to 5 minutes: a wait of 8 minutes is over it
    that day, while Monday's waits of 10 and 3 minutes stay within the 20 of Monday. The rebuild reads each target
    from the log where it was set, so it writes the very rows kept live."""
    database, hall, alice, _ = played
    engine = database.engines[0]
    await _set_target(engine, "xh", "soc", 5)
    a = {"counter": 1, "clerk": alice}
    clock = StepClock(at(1, 0, day=2))
    async with Writer(engine, [QueueDomain()], clock=clock) as writer:
        await play(
            writer,
            clock,
            hall,
            [
                (at(1, 0, day=2), "ticket.issue", {"service": "soc"}),
                (at(1, 8, day=2), "ticket.call_next", a),
            ],
        )
    wednesday = DAY + timedelta(days=2)
    soc = {
        day: next(
            line.sums for line in (await stats(database, hall, day, day, group="service")).groups if line.key == "soc"
        )
        for day in (DAY, wednesday)
    }
    # Monday: 10, 28 and 3 minutes against 20; Wednesday: 8 minutes against 5.
    assert (soc[DAY]["wait_count"], soc[DAY]["wait_in_target"]) == (3, 2)
    assert (soc[wednesday]["wait_count"], soc[wednesday]["wait_in_target"]) == (1, 0)
    kept = await _every_figure(database, hall)
    await _wipe(database, hall)
    await rebuild(engine, hall, "Asia/Shanghai", until=date.today())
    assert await _every_figure(database, hall) == kept
    # A hall set up before the log kept its services' settings has no service.added: the change
    # says which target it replaced.
    async with engine.begin() as conn:
        await conn.execute(delete(events).where(events.c.hall_id == hall, events.c.type == "service.added"))
    await _wipe(database, hall)
    await rebuild(engine, hall, "Asia/Shanghai", until=date.today())
    assert await _every_figure(database, hall) == kept


def test_a_services_target_before_the_logs_first_word_on_it() -> None:
    added = ("service.added", {"service": "soc", "target_wait_minutes": 20})
    cut = ("service.changed", {"service": "fund", "target_wait_minutes": 5, "was": {"target_wait_minutes": 30}})
    renamed = ("service.changed", {"service": "id", "name": "户籍", "was": {"name": "户政"}})
    older = ("service.changed", {"service": "civ", "target_wait_minutes": 8})  # logged before ``was`` was
    today = {"soc": 15, "fund": 5, "id": 10, "civ": 8, "new": 25}
    found = targets_before([added, cut, renamed, older, ("service.changed", {**cut[1], "was": {}})], today)
    assert found == {"soc": 15, "fund": 30, "id": 10, "civ": 8, "new": 25}


async def test_a_refused_command_adds_nothing(played: tuple[Database, int, int, int]) -> None:
    database, hall, alice, _ = played
    engine = database.engines[0]
    before = await _rows(database)
    clock = StepClock(at(3, 0, day=1))
    async with Writer(engine, [QueueDomain()], clock=clock) as writer:
        refused = await writer.submit(cmd(hall, "ticket.call_next", counter=1, clerk=alice))
        assert not refused.ok and refused.result["code"] == "nothing_waiting"
        refused = await writer.submit(cmd(hall, "ticket.issue", service="nope"))
        assert not refused.ok
    assert await _rows(database) == before


async def test_a_batch_that_fails_to_store_adds_nothing(database: Database, halls: dict[str, int]) -> None:
    engine = database.engines[0]
    await open_all_week(engine)
    hall = halls["xh"]

    class Failing(QueueDomain):
        """Stores everything, figures too, and then fails: the transaction is rolled back."""

        async def persist(self, conn: Any, events: Any, changed: Any) -> None:
            await super().persist(conn, events, changed)
            raise RuntimeError("the disk is full")

    clock = StepClock(at(1, 0))
    async with Writer(engine, [Failing()], clock=clock) as writer:
        with pytest.raises(RuntimeError):
            await writer.submit(cmd(hall, "ticket.issue", service="soc"))
    assert await _rows(database) == []
    async with Writer(engine, [QueueDomain()], clock=clock) as writer:
        assert (await writer.submit(cmd(hall, "ticket.issue", service="soc"))).ok
    assert [row[:2] for row in await _rows(database)] == [(DAY, 9)]


async def _rows(database: Database) -> list[tuple[Any, ...]]:
    async with reading(database.engines[0]) as conn:
        rows = await conn.execute(
            select(queue_figures.c.day, queue_figures.c.hour, queue_figures.c.arrived, queue_figures.c.called).order_by(
                queue_figures.c.day, queue_figures.c.hour, queue_figures.c.service
            )
        )
        return [tuple(row) for row in rows]
