"""The cases at the end of the statistics' drill-down (``cases.case_lists.drill_cases``, what the
page /stats/{hall} and its API twin read) over a busy district, beside the ledgers' comprehensive
query (``cases.case_lists.query_cases``, the same 200 lines by the acceptance index) in the same run.

A generated ``--days`` of a district centre and two halls below it accepting about 1,500 cases a
day over 40 service items of 8 departments, each case accepted at a counter by one of 30 clerks of
its hall and reviewed, approved and completed by clerks of the district within three days: four
steps a case. Each view asks for a month (the last 30 days) and takes the newest 200:

- the district as a whole (every case with a step in the month);
- one department;
- one counter;
- one clerk (the cases the clerk took a step on, with those steps).

Each runs ``--runs`` times; p95 and median are printed. Run from the repository root:

    python -m bench.drill_cases            # 60 days, 20 runs per view
    python -m bench.drill_cases --days 365 # a year
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics as stats
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

from cases.case_lists import drill_cases, query_cases
from cases.catalog_io import sample_catalog
from cases.ledgers import CaseFilter, Period
from hall.storage.database import create_engine, reading
from hall.storage.migrate import upgrade
from hall.storage.tables import halls, staff

ZONE = ZoneInfo("Asia/Shanghai")
FIRST = date(2025, 12, 1)
HALLS = (1, 2, 3)
ITEMS = tuple(f"I{n:03d}" for n in range(1, 41))
CLERKS = 30  # per hall: staff ids hall * 100 + 1 … + 30
LIMIT = 200


def _at(day: date, minutes: int) -> str:
    moment = datetime.combine(day, clock(9), ZONE) + timedelta(minutes=minutes)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def generate(path: Path, days: int, seed: int = 7) -> tuple[int, int]:
    """Fill ``cases`` and ``case_steps``; returns how many of each."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    record = json.dumps({"applicant": {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"}})
    n_cases = n_steps = 0
    for offset in range(days):
        day = FIRST + timedelta(days=offset)
        rows, steps = [], []
        for n in range(1500 + rng.randrange(-100, 100)):
            hall = HALLS[n % 3]
            item = ITEMS[rng.randrange(len(ITEMS))]
            number = f"{day:%Y%m%d}{hall}{n:06d}"
            accepted = rng.randrange(0, 480)
            counter = rng.randrange(1, 11)
            clerk = hall * 100 + counter
            due = _at(day + timedelta(days=10), 0)
            done = _at(day + timedelta(days=3), rng.randrange(0, 480))
            rows.append(
                (
                    number,
                    1,
                    hall,
                    1,
                    counter,
                    item,
                    f"D{int(item[1:]) % 8}",
                    "promised",
                    "window",
                    "completed",
                    clerk,
                    _at(day, accepted),
                    due,
                    done,
                    "green",
                    "8000",
                    record,
                )
            )
            actors = (clerk, 100 + rng.randrange(11, 31), 100 + rng.randrange(11, 31), 100 + rng.randrange(11, 31))
            for idx, (action, actor) in enumerate(
                zip(("accepted", "reviewed", "approved", "completed"), actors, strict=True)
            ):
                at = _at(day, accepted) if idx == 0 else _at(day + timedelta(days=idx), rng.randrange(0, 480))
                steps.append((number, idx, action, actor, hall if idx == 0 else 1, at))
        conn.executemany(
            "INSERT INTO cases (number, register_hall, accepted_hall, deciding_hall, counter, item, department, "
            "kind, channel, stage, registered_by, accepted_at, due_at, completed_at, light, phone_tail, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO case_steps (number, idx, action, stage_to, actor, hall_id, at) "
            "VALUES (?, ?, ?, 'completed', ?, ?, ?)",
            steps,
        )
        n_cases += len(rows)
        n_steps += len(steps)
    conn.commit()
    conn.close()
    return n_cases, n_steps


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure(path: Path, days: int, runs: int) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    catalog = sample_catalog()
    last = FIRST + timedelta(days=days - 1)
    month = Period(last - timedelta(days=29), last, ZONE)
    now = datetime.combine(last + timedelta(days=1), clock(0), ZONE)
    scope = frozenset(HALLS)
    views = {
        "district": {},
        "department": {"departments": frozenset({"D3"})},
        "counter": {"counter": (2, 7)},
        "clerk": {"clerk": 207},
        "clerk of the district (reviews)": {"clerk": 115},
    }
    try:
        baseline: list[float] = []
        for _ in range(runs):
            began = time.perf_counter()
            async with reading(engine) as conn:
                await query_cases(conn, CaseFilter(halls=scope, period=month), now, catalog, limit=LIMIT)
            baseline.append((time.perf_counter() - began) * 1000)
        print(
            f"baseline, the ledgers' query of the month (200 lines): p95 {p95(baseline):.1f} ms, "
            f"median {stats.median(baseline):.1f} ms"
        )
        for name, narrowing in views.items():
            ours: list[float] = []
            total = 0
            for _ in range(runs):
                began = time.perf_counter()
                async with reading(engine) as conn:
                    page = await drill_cases(conn, scope, month, now, catalog, limit=LIMIT, **narrowing)  # type: ignore[arg-type]
                ours.append((time.perf_counter() - began) * 1000)
                total = page.total
            print(f"{name} ({total:,} cases): p95 {p95(ours):.1f} ms, median {stats.median(ours):.1f} ms")
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "drill_cases.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.begin() as conn:
            made = datetime.now(UTC)
            await conn.execute(
                halls.insert(),
                [
                    {"id": h, "code": f"h{h}", "name": f"hall {h}", "level": "district", "created_at": made}
                    for h in HALLS
                ],
            )
            await conn.execute(
                staff.insert(),
                [
                    {
                        "id": h * 100 + n,
                        "username": f"s{h}{n}",
                        "display_name": f"clerk {h}-{n}",
                        "password_hash": "x",
                        "roles": "clerk",
                        "hall_id": h,
                        "created_at": made,
                    }
                    for h in HALLS
                    for n in range(1, CLERKS + 1)
                ],
            )
        await engine.dispose()
        began = time.perf_counter()
        cases, steps = generate(path, args.days)
        print(f"{args.days} days: {cases:,} cases, {steps:,} steps ({time.perf_counter() - began:.0f} s)")
        await measure(path, args.days, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
