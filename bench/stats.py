"""The statistics views over a year of a busy hall, beside a plain GROUP BY over raw rows in the
same run.

A generated year (365 days) of a 30-counter hall taking about 10,000 tickets a day, open 08:00 to
18:00, six services, each counter serving one or two of them:

- the figures the writer would have kept (``queue_figures``: one row per day, hour, service,
  counter and clerk, and its two rollups: by day without the hour, by day and hour without the
  counter and clerk), read through ``queueing.statistics.statistics`` as the API does (aiosqlite,
  the same engine settings as the server);
- the baseline: the same tickets as raw rows, one a ticket (day, hour, service, counter, clerk,
  wait, service time, no-show), indexed by hall and day, and the same sums as one plain GROUP BY
  in Python's sqlite3 — cheaper than what a view over the event log would really cost (no JSON
  spans to read, no events to pair), so the ratio is a floor.

Each view runs ``--runs`` times after one untimed run, over the last 30 days (month) and over the
whole period (year); p95 and median are printed:

    month <view>: p95 N ms (raw GROUP BY M ms)

The views: three groupings of the whole hall; a drill-down (narrowed to counter 7, by clerk: its
hours come from the full figures); an export (the XLSX workbook of the month or year by
service, against the raw GROUP BY written out as CSV).

Run from the repository root (SQLite only):

    python -m bench.stats            # a year, 20 runs per view
    python -m bench.stats --days 60  # shorter
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import sqlite3
import statistics as stats
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hall.storage.database import create_engine, reading
from hall.storage.migrate import upgrade
from queueing.figures import BUCKET_NAMES, BUCKETS, COUNTS, MAXIMA, SERVICE_BUCKET_NAMES, Key, bucket
from queueing.statistics import Narrowing, statistics
from queueing.stats_export import stats_xlsx

SERVICES = ("soc", "fund", "hukou", "civil", "disab", "info")
TARGET = 20 * 60
COUNTERS = 30
FIRST = date(2025, 12, 1)


def _serves(counter: int) -> tuple[str, ...]:
    first = SERVICES[counter % len(SERVICES)]
    return (first,) if counter % 3 else (first, SERVICES[(counter + 1) % len(SERVICES)])


def generate(path: Path, days: int, seed: int = 7) -> int:
    """Fill the figures and the raw rows for ``days`` days; returns the number of raw rows."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE raw_tickets (hall_id INT, day DATE, hour INT, service TEXT, counter INT, clerk INT, "
        "wait_s INT, service_s INT, no_show INT)"
    )
    conn.execute("CREATE INDEX ix_raw_day ON raw_tickets (hall_id, day)")
    # The same index as the figures' for a counter's drill-down, so the baseline is not starved.
    conn.execute("CREATE INDEX ix_raw_counter ON raw_tickets (hall_id, counter, day)")
    raw = 0
    for offset in range(days):
        day = FIRST + timedelta(days=offset)
        figures: dict[Key, dict[str, int]] = {}
        rows = []
        for hour in range(8, 18):
            for counter in range(1, COUNTERS + 1):
                for _ in range(rng.randint(28, 38)):
                    service = rng.choice(_serves(counter))
                    wait = int(rng.expovariate(1 / 900))
                    served = int(rng.uniform(180, 900))
                    missed = int(rng.random() < 0.05)
                    rows.append((1, day.isoformat(), hour, service, counter, 100 + counter, wait, served, missed))
                    _fold(figures, Key(day, hour, service), arrived=1)
                    at = _fold(figures, Key(day, hour, service, counter, 100 + counter), called=1, no_shows=missed)
                    _wait(at, wait)
                    if not missed:
                        _fold(figures, Key(day, hour, service, counter, 100 + counter), served=1, service_count=1)
                        at["service_sum"] += served
                        at["service_max"] = max(at["service_max"], served)
                        at[bucket(served, SERVICE_BUCKET_NAMES)] += 1
        conn.executemany("INSERT INTO raw_tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        raw += len(rows)
        columns = ["hall_id", "day", "hour", "service", "counter", "clerk", "week", "month", *COUNTS]
        conn.executemany(
            f"INSERT INTO queue_figures ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [(1, *_where(k), *(v[name] for name in COUNTS)) for k, v in figures.items()],
        )
        _roll_up(conn, figures)
    conn.commit()
    conn.close()
    return raw


def _roll_up(conn: sqlite3.Connection, figures: dict[Key, dict[str, int]]) -> None:
    """The day's rows of the two rollups, as the writer keeps them beside the figures."""
    daily: dict[tuple[object, ...], dict[str, int]] = {}
    hourly: dict[tuple[object, ...], dict[str, int]] = {}
    for k, sums in figures.items():
        day = k.day.isoformat()
        for into, key in ((daily, (day, k.service, k.counter, k.clerk)), (hourly, (day, k.hour, k.service))):
            cell = into.setdefault(key, dict.fromkeys(COUNTS, 0))
            for name in COUNTS:
                cell[name] = max(cell[name], sums[name]) if name in MAXIMA else cell[name] + sums[name]
    for table, key_names, rows in (
        ("queue_figures_daily", ("day", "service", "counter", "clerk"), daily),
        ("queue_figures_hourly", ("day", "hour", "service"), hourly),
    ):
        extra = ("week", "month") if table == "queue_figures_daily" else ("weekday",)
        names = ("hall_id", *key_names, *extra, *COUNTS)
        statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        conn.executemany(statement, [(1, *k, *_periods(k[0], extra), *(v[n] for n in COUNTS)) for k, v in rows.items()])


def _periods(day: object, extra: tuple[str, ...]) -> tuple[object, ...]:
    k = Key(date.fromisoformat(str(day)), 0, "")
    return (k.weekday,) if extra == ("weekday",) else (k.week.isoformat(), k.month.isoformat())


def _where(k: Key) -> tuple[object, ...]:
    return (k.day.isoformat(), k.hour, k.service, k.counter, k.clerk, k.week.isoformat(), k.month.isoformat())


def _fold(figures: dict[Key, dict[str, int]], key: Key, **counts: int) -> dict[str, int]:
    cell = figures.setdefault(key, dict.fromkeys(COUNTS, 0))
    for name, value in counts.items():
        cell[name] += value
    return cell


def _wait(cell: dict[str, int], seconds: int) -> None:
    cell["wait_count"] += 1
    cell["wait_sum"] += seconds
    cell["wait_max"] = max(cell["wait_max"], seconds)
    cell["wait_in_target"] += int(seconds <= TARGET)
    name = next((n for n, top in zip(BUCKET_NAMES, BUCKETS, strict=False) if seconds < top * 60), BUCKET_NAMES[-1])
    cell[name] += 1


RAW_SUMS = (
    "count(*), sum(1 - no_show), sum(no_show), sum(wait_s), max(wait_s), sum(wait_s <= ?), "
    "sum(CASE WHEN no_show = 0 THEN service_s END), max(CASE WHEN no_show = 0 THEN service_s END)"
)
DRILLED = 7


@dataclass(frozen=True)
class View:
    by: str
    group: str
    raw_columns: str  # the raw GROUP BY's columns
    narrowing: Narrowing | None = None
    raw_where: str = ""  # and the raw rows' narrowing
    export: bool = False


VIEWS = {
    "by day and service": View("day", "service", "day, service"),
    "by month and clerk": View("month", "clerk", "strftime('%Y-%m', day), clerk"),
    "by week and hour": View("week", "hour", "date(day, 'weekday 0', '-6 days'), hour"),
    f"drill-down to counter {DRILLED} by clerk": View(
        "month", "clerk", "strftime('%Y-%m', day), clerk", Narrowing(counter=(1, DRILLED)), f"AND counter = {DRILLED}"
    ),
    "export by service (xlsx)": View("month", "service", "service", export=True),
}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure(path: Path, days: int, runs: int) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    last = FIRST + timedelta(days=days - 1)
    spans = {"month": (last - timedelta(days=29), last), "year": (FIRST, last)}
    raw = sqlite3.connect(path)
    try:
        for span, (first, end) in spans.items():
            for name, view in VIEWS.items():
                ours, theirs = [], []
                # One untimed run of each first: the first workbook of a process pays openpyxl's
                # one-time setup, which a server pays once, not per view.
                for run in range(runs + 1):
                    began = time.perf_counter()
                    async with reading(engine) as conn:
                        found = await statistics(
                            conn, [1], first, end, by=view.by, group=view.group, narrowing=view.narrowing
                        )
                    if view.export:
                        stats_xlsx(found)
                    ours.append((time.perf_counter() - began) * 1000)
                    began = time.perf_counter()
                    rows = raw.execute(
                        f"SELECT {view.raw_columns}, {RAW_SUMS} FROM raw_tickets "
                        f"WHERE hall_id = 1 AND day BETWEEN ? AND ? {view.raw_where} GROUP BY {view.raw_columns}",
                        (TARGET, first.isoformat(), end.isoformat()),
                    ).fetchall()
                    if view.export:
                        csv.writer(io.StringIO()).writerows(rows)
                    theirs.append((time.perf_counter() - began) * 1000)
                    if run == 0:
                        ours.clear()
                        theirs.clear()
                print(
                    f"{span} {name}: p95 {p95(ours):.1f} ms, median {stats.median(ours):.1f} ms "
                    f"(raw GROUP BY p95 {p95(theirs):.1f} ms, median {stats.median(theirs):.1f} ms)",
                    flush=True,
                )
    finally:
        raw.close()
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stats.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()
        began = time.perf_counter()
        rows = generate(path, args.days)
        with sqlite3.connect(path) as conn:
            kept = [
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("queue_figures", "queue_figures_daily", "queue_figures_hourly")
            ]
        took = time.perf_counter() - began
        print(
            f"{args.days} days: {rows:,} tickets as raw rows; figure rows {kept[0]:,}, "
            f"daily {kept[1]:,}, hourly {kept[2]:,} ({took:.0f} s)",
            flush=True,
        )
        await measure(path, args.days, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
