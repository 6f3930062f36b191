"""The case statistics views over a year of a busy district, beside a plain GROUP BY over raw step
rows in the same run.

A generated year (365 days) of a district centre and two halls below it accepting about 1,500
cases a day over 40 service items of 8 departments; each case is reviewed, approved and completed
(a tenth late) within days, most collected, a few refused:

- the figures the writer would have kept (``case_figures``: one row per hall, day, item,
  department and stage, and its two rollups by hall and day and by hall, month, item, department
  and stage, filled here by summing the figures, which is what the writer keeps them equal to:
  tests/cases/test_figures_property.py), read through ``cases.statistics.case_statistics`` as the
  API does (aiosqlite, the same engine settings as the server);
- the baseline: the same steps as raw rows, one a step (hall, day, item, department, stage,
  on time, late, speed-up in basis points, working seconds), indexed by day, and the same sums as
  one plain GROUP BY in Python's sqlite3 — cheaper than a view over the event log would be (no
  JSON to read), so the ratio is a floor.

Each view runs ``--runs`` times; p95 and median are printed. Run from the repository root:

    python -m bench.case_stats            # a year, 20 runs per view
    python -m bench.case_stats --days 60  # shorter
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics as stats
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cases.figures import COUNTS, Key
from cases.statistics import case_statistics
from hall.storage.database import create_engine, reading
from hall.storage.migrate import upgrade
from hall.storage.tables import halls

FIRST = date(2025, 12, 1)
ITEMS = tuple(f"I{n:03d}" for n in range(1, 41))
HALLS = (1, 2, 3)


def _department(item: str) -> str:
    return f"D{int(item[1:]) % 8}"


def generate(path: Path, days: int, seed: int = 7) -> int:
    """Fill the figures and the raw step rows for ``days`` days; returns the number of raw rows."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE raw_steps (hall_id INT, day DATE, item TEXT, department TEXT, stage TEXT, "
        "on_time INT, late INT, speed_bp INT, speed INT, work_s INT)"
    )
    conn.execute("CREATE INDEX ix_raw_day ON raw_steps (day, hall_id)")
    figures: dict[Key, dict[str, int]] = {}
    raw = 0
    for offset in range(days):
        day = FIRST + timedelta(days=offset)
        rows = []
        for _ in range(rng.randint(1300, 1700)):
            item = rng.choice(ITEMS)
            department, accepted_at = _department(item), rng.choice(HALLS)
            steps = [(accepted_at, day, "accepted")]
            later = day + timedelta(days=rng.randint(0, 6))
            if rng.random() < 0.05:
                steps.append((1, day, "refused"))
            else:
                steps += [(1, day, "review"), (1, later, "approval"), (1, later, "completed")]
                if rng.random() < 0.8:
                    steps.append((accepted_at, later + timedelta(days=1), "collected"))
            for hall, when, stage in steps:
                if when >= FIRST + timedelta(days=days):
                    continue
                late = int(stage == "completed" and rng.random() < 0.1)
                done = stage == "completed"
                speed = rng.randint(-2000, 9500) if done else 0
                work = rng.randint(3600, 30 * 3600) if done else 0
                rows.append(
                    (
                        hall,
                        when.isoformat(),
                        item,
                        department,
                        stage,
                        int(done and not late),
                        late,
                        speed,
                        int(done),
                        work,
                    )
                )
                cell = figures.setdefault(Key(when, hall, item, department, stage), dict.fromkeys(COUNTS, 0))
                cell["entered"] += 1
                cell["accepted"] += int(stage == "accepted")
                cell["refused"] += int(stage == "refused")
                cell["collected"] += int(stage == "collected")
                if done:
                    cell["completed"] += 1
                    cell["on_time"] += 1 - late
                    cell["late"] += late
                    cell["speed_count"] += 1
                    cell["speed_sum"] += speed
                    cell["work_sum"] += work
        conn.executemany("INSERT INTO raw_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        raw += len(rows)
    columns = ["hall_id", "day", "item", "department", "stage", "week", "month", *COUNTS]
    conn.executemany(
        f"INSERT INTO case_figures ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [
            (
                k.hall,
                k.day.isoformat(),
                k.item,
                k.department,
                k.stage,
                k.week.isoformat(),
                k.month.isoformat(),
                *(v[name] for name in COUNTS),
            )
            for k, v in figures.items()
        ],
    )
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    names = ", ".join(COUNTS)
    conn.execute(
        f"INSERT INTO case_figures_daily (hall_id, day, week, month, {names}) "
        f"SELECT hall_id, day, min(week), min(month), {sums} FROM case_figures GROUP BY hall_id, day"
    )
    conn.execute(
        f"INSERT INTO case_figures_monthly (hall_id, month, item, department, stage, {names}) "
        f"SELECT hall_id, month, item, department, stage, {sums} FROM case_figures "
        "GROUP BY hall_id, month, item, department, stage"
    )
    conn.commit()
    conn.close()
    return raw


RAW_SUMS = (
    "sum(stage = 'accepted'), count(*), sum(stage = 'completed'), sum(on_time), sum(late), sum(work_s), "
    "sum(speed), sum(speed_bp), sum(stage = 'refused'), sum(stage = 'collected')"
)
# view name → (by, group, raw GROUP BY column expression)
VIEWS = {
    "by day and item": ("day", "item", "day, item"),
    "by month and department": ("month", "department", "strftime('%Y-%m', day), department"),
    "by week and stage": ("week", "stage", "date(day, 'weekday 0', '-6 days'), stage"),
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
            for name, (by, group, columns) in VIEWS.items():
                ours, theirs = [], []
                for _ in range(runs):
                    began = time.perf_counter()
                    async with reading(engine) as conn:
                        await case_statistics(conn, list(HALLS), first, end, by=by, group=group)
                    ours.append((time.perf_counter() - began) * 1000)
                    began = time.perf_counter()
                    raw.execute(
                        f"SELECT {columns}, {RAW_SUMS} FROM raw_steps WHERE day BETWEEN ? AND ? "
                        f"AND hall_id IN (1, 2, 3) GROUP BY {columns}",
                        (first.isoformat(), end.isoformat()),
                    ).fetchall()
                    theirs.append((time.perf_counter() - began) * 1000)
                print(
                    f"{span} {name}: p95 {p95(ours):.1f} ms, median {stats.median(ours):.1f} ms "
                    f"(raw GROUP BY p95 {p95(theirs):.1f} ms, median {stats.median(theirs):.1f} ms)"
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
        path = Path(folder) / "case_stats.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                halls.insert(),
                [
                    {
                        "id": h,
                        "code": f"h{h}",
                        "name": f"hall {h}",
                        "level": "district",
                        "created_at": datetime.now(UTC),
                    }
                    for h in HALLS
                ],
            )
        await engine.dispose()
        began = time.perf_counter()
        rows = generate(path, args.days)
        with sqlite3.connect(path) as conn:
            figures = conn.execute("SELECT count(*) FROM case_figures").fetchone()[0]
        took = time.perf_counter() - began
        print(f"{args.days} days: {rows:,} steps as raw rows, {figures:,} figure rows ({took:.0f} s)")
        await measure(path, args.days, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
