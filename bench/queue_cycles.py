"""Queue cycles per second through the whole stack, and the error of the wait estimates on a
simulated day — each beside a baseline measured in the same run.

1. Cycles: a resident takes a ticket, a clerk calls it, starts and finishes it (issue, call-next,
   start, finish: four durable commands). Measured twice:
   - through the command path in this process (the writer with the queue rules on a fresh SQLite
     file, WAL, synchronous=FULL), 30 counters with a clerk each and residents taking tickets
     concurrently;
   - over HTTP against ``hall serve`` in a child process: kiosk clients POST tickets, 30 clerk
     clients POST call-next / start / finish. Clients and server share the machine's cores.
   Baseline: raw sqlite3 transactions/s (one 200-byte row each, WAL, synchronous=FULL), printed
   as commands per second so the ratio compares like with like.
2. Estimates: a discrete-event simulation of one day (10,000 tickets, 30 counters, arrivals with a
   morning and an afternoon peak, service times drawn per service) driving the pure queue rules.
   Each ticket's estimate at issue is compared with the wait that followed (mean absolute error,
   minutes). Baseline: the naive estimate "people ahead × the service's nominal minutes ÷ the
   counters serving it", on the same day.

Run from the repository root:

    python -m bench.queue_cycles            # full
    python -m bench.queue_cycles --quick    # shorter
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, update

from hall.kernel.events import Command
from hall.setup import initialise
from hall.storage.database import create_engine
from hall.storage.directory import create_counters
from hall.storage.queue_tables import counter_services, queue_services
from hall.storage.tables import staff
from hall.storage.writer import Writer
from hall.web.passwords import hash_password
from queueing import counter_commands, issuing, serving
from queueing.counters import Counter
from queueing.estimates import capacity, estimate_error
from queueing.services import Hours, Priority, Service
from queueing.state import Line, QueueState, Rules
from queueing.tickets import Ticket

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import csrf_of, machine  # noqa: E402
from tests.serverproc import ServerProcess, login  # noqa: E402

COUNTERS = 30
# Concurrent kiosks taking tickets; with the clerks they are the concurrent callers of the writer.
KIOSKS = 30
PASSWORD = "bench-password-123"
ALWAYS = {str(day): ["00:00", "23:59"] for day in range(7)}


# -- baseline ---------------------------------------------------------------------------------


def raw_sqlite_tps(path: Path, seconds: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    row = os.urandom(200)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t (body) VALUES (?)", (row,))
        conn.execute("COMMIT")
        done += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return done / elapsed


# -- the hall used by the stack benches -------------------------------------------------------


async def prepare(url: str) -> list[tuple[int, int]]:
    """Hall 1 with 30 counters serving every service, a clerk each, open around the clock.
    Returns (counter, clerk id) pairs."""
    engine = create_engine(url)
    try:
        ids, _ = await initialise(engine)
        hall = ids["xh"]
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            # No daily cap (号源) in a throughput bench: it would refuse tickets, not measure them.
            await conn.execute(update(queue_services).values(week=ALWAYS, open_on_holidays=True, daily_cap=None))
            codes = [
                r.code
                for r in await conn.execute(select(queue_services.c.code).where(queue_services.c.hall_id == hall))
            ]
            await create_counters(
                conn, hall, [(n, f"{n}号窗口") for n in range(13, COUNTERS + 1)], actor="bench", now=now
            )
            await conn.execute(
                insert(counter_services),
                [
                    {"hall_id": hall, "counter": n, "service": c, "weight": 1.0}
                    for n in range(13, COUNTERS + 1)
                    for c in codes
                ],
            )
            digest = hash_password(PASSWORD)
            await conn.execute(
                insert(staff),
                [
                    {
                        "username": f"bench{n}",
                        "display_name": f"窗口{n}",
                        "staff_no": f"B{n:03d}",
                        "password_hash": digest,
                        "roles": "clerk",
                        "hall_id": hall,
                        "active": True,
                        "created_at": now,
                    }
                    for n in range(1, COUNTERS + 1)
                ],
            )
            rows = await conn.execute(select(staff.c.id, staff.c.username).where(staff.c.username.like("bench%")))
            by_name = {r.username: r.id for r in rows}
        return [(n, by_name[f"bench{n}"]) for n in range(1, COUNTERS + 1)]
    finally:
        await engine.dispose()


def _cmd(name: str, actor: str, **args: Any) -> Command:
    return Command(uuid.uuid4().hex, 1, name, actor, args)


async def cycles_in_process(url: str, pairs: list[tuple[int, int]], cycles: int, residents: int) -> tuple[float, float]:
    """(cycles per second, commands per second) through the writer with the queue rules."""
    from hall.runtime import core_domains

    engine = create_engine(url)
    writer = Writer(engine, core_domains())
    await writer.start()
    try:
        for counter, clerk in pairs:
            outcome = await writer.submit(_cmd("counter.open", f"staff:{clerk}", counter=counter, clerk=clerk))
            assert outcome.ok, outcome.result
        issued = 0
        finished = 0
        services = ["soc", "fund", "hukou", "civil", "disab", "info"]

        async def resident() -> None:
            nonlocal issued
            while issued < cycles:
                issued += 1
                outcome = await writer.submit(_cmd("ticket.issue", "kiosk:bench", service=random.choice(services)))
                assert outcome.ok, outcome.result

        async def clerk_loop(counter: int, clerk: int) -> None:
            nonlocal finished
            actor = f"staff:{clerk}"
            while finished < cycles:
                called = await writer.submit(_cmd("ticket.call_next", actor, counter=counter, clerk=clerk))
                if not called.ok:
                    if issued >= cycles:
                        return
                    await asyncio.sleep(0.001)
                    continue
                for name in ("ticket.start", "ticket.finish"):
                    outcome = await writer.submit(_cmd(name, actor, counter=counter, clerk=clerk))
                    assert outcome.ok, outcome.result
                finished += 1

        start = time.perf_counter()
        await asyncio.gather(*(resident() for _ in range(residents)), *(clerk_loop(c, k) for c, k in pairs))
        elapsed = time.perf_counter() - start
    finally:
        await writer.stop()
        await engine.dispose()
    return finished / elapsed, writer.committed / elapsed


async def cycles_over_http(server: ServerProcess, pairs: list[tuple[int, int]], cycles: int) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=4)
    kiosk = httpx.AsyncClient(base_url=server.url, limits=limits)
    kiosk_token = csrf_of((await kiosk.get("/login")).text)
    clerks = []
    for counter, _ in pairs:
        sync = httpx.Client(base_url=server.url)
        token = login(sync, f"bench{counter}", PASSWORD)
        clerks.append((counter, httpx.AsyncClient(base_url=server.url, cookies=dict(sync.cookies)), token))
        sync.close()
    commands = 0
    issued = 0
    finished = 0
    services = ["soc", "fund", "hukou", "civil", "disab", "info"]

    async def post(client: httpx.AsyncClient, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
        nonlocal commands
        answer = await client.post(path, json=body, headers={"X-CSRF-Token": token})
        commands += 1
        return answer

    async def resident() -> None:
        nonlocal issued
        while issued < cycles:
            issued += 1
            answer = await post(kiosk, "/api/v1/halls/1/tickets", kiosk_token, {"service": random.choice(services)})
            assert answer.status_code in (200, 429), answer.text

    async def clerk_loop(counter: int, client: httpx.AsyncClient, token: str) -> None:
        nonlocal finished
        base = f"/api/v1/halls/1/counters/{counter}"
        await post(client, f"{base}/open", token, {})
        while finished < cycles:
            called = await post(client, f"{base}/call-next", token, {})
            if called.status_code != 200:
                if issued >= cycles:
                    return
                await asyncio.sleep(0.01)
                continue
            for action in ("start", "finish"):
                answer = await post(client, f"{base}/{action}", token, {})
                assert answer.status_code == 200, answer.text
            finished += 1

    start = time.perf_counter()
    try:
        await asyncio.gather(*(resident() for _ in range(KIOSKS)), *(clerk_loop(c, cl, t) for c, cl, t in clerks))
    finally:
        elapsed = time.perf_counter() - start
        await kiosk.aclose()
        for _, client, _ in clerks:
            await client.aclose()
    return finished / elapsed, commands / elapsed


# -- the simulated day ------------------------------------------------------------------------

DAY = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Beijing
SIM_SERVICES = {
    # code: (share of arrivals, mean service minutes)
    "soc": (0.30, 1.4),
    "fund": (0.20, 1.6),
    "hukou": (0.15, 1.9),
    "civil": (0.15, 1.3),
    "disab": (0.05, 1.8),
    "info": (0.15, 0.7),
}


def sim_state(scale: float = 1.0) -> QueueState:
    week = {d: Hours(datetime.min.time(), datetime.max.time().replace(microsecond=0)) for d in range(7)}
    services = {
        code: Service(
            code,
            code,
            prefix=chr(ord("A") + i),
            width=4,
            week=week,
            open_on_holidays=True,
            # The nominal time is the simulated mean: ``simulate_day`` draws service times around
            # ``minutes × scale``. It used to be ``minutes`` whatever the scale, so a shorter day
            # (--quick, --tickets) gave the baseline, and the hall before it has history, means
            # 1/scale of the true ones: the baseline no longer knew the true means it is said to.
            default_service_minutes=minutes * scale,
        )
        for i, (code, (_, minutes)) in enumerate(SIM_SERVICES.items())
    }
    codes = list(services)
    lines = {}
    for n in range(1, COUNTERS + 1):
        if n <= 24:  # specialised counters, four per service
            lines[n] = Line(((codes[(n - 1) // 4], 1.0),))
        else:  # 综合窗口 take everything
            lines[n] = Line(tuple((c, 1.0) for c in codes))
    counters = {n: Counter(n) for n in lines}
    return QueueState(rules=Rules(timezone="Asia/Shanghai"), services=services, counters=counters, lines=lines)


def arrival_times(count: int, rng: random.Random) -> list[datetime]:
    """A day's arrivals over 8 hours with peaks at 10:00 and 14:30 (a mixture, sorted)."""
    minutes = []
    while len(minutes) < count:
        pick = rng.random()
        if pick < 0.45:
            m = rng.gauss(60, 50)
        elif pick < 0.85:
            m = rng.gauss(330, 60)
        else:
            m = rng.uniform(0, 480)
        if 0 <= m < 480:
            minutes.append(m)
    return sorted(DAY + timedelta(minutes=m) for m in minutes)


def simulate_day(count: int, seed: int) -> tuple[list[Ticket], list[tuple[float, float]]]:
    """Returns the tickets as served, and (naive estimate, real wait) pairs for the baseline.
    Service times scale with the day's size, so a shorter day is as busy as the full one."""
    scale = 10_000 / count
    rng = random.Random(seed)
    state = sim_state(scale)
    for n in state.counters:
        state = counter_commands.open_counter(state, n, 1000 + n).state
    shares = [share for share, _ in SIM_SERVICES.values()]
    codes = list(SIM_SERVICES)
    events: list[tuple[datetime, int, str, int]] = []
    order = 0
    for at in arrival_times(count, rng):
        order += 1
        heapq.heappush(events, (at, order, "arrive", 0))
    idle = set(state.counters)
    served: list[Ticket] = []
    naive: dict[str, float] = {}
    pairs: list[tuple[float, float]] = []

    def try_call(now: datetime) -> None:
        nonlocal state, order
        for counter in sorted(idle):
            try:
                decision = serving.call_next(state, counter, 1000 + counter, now)
            except serving.NothingWaiting:
                continue
            state = decision.state
            idle.discard(counter)
            ticket_id = decision.result["ticket"]["id"]
            state = serving.start(state, counter, 1000 + counter, now).state
            service = state.tickets[ticket_id].service
            minutes = rng.lognormvariate(0, 0.5) * SIM_SERVICES[service][1] * scale / 1.13
            order += 1
            heapq.heappush(events, (now + timedelta(minutes=minutes), order, "done", counter))

    while events:
        now, _, kind, counter = heapq.heappop(events)
        if kind == "arrive":
            code = rng.choices(codes, shares)[0]
            decision = issuing.issue(state, code, now, priority=Priority.NORMAL)
            state = decision.state
            ticket_id = decision.result["ticket"]["id"]
            ahead = decision.result["ahead"]
            share = capacity(state, code)
            naive[ticket_id] = ahead * state.services[code].default_service_minutes / share if share else 0.0
        else:
            current = state.line(counter).current
            assert current is not None
            before = state.tickets[current]
            state = serving.finish(state, counter, 1000 + counter, now).state
            served.append(before)
            idle.add(counter)
        try_call(now)
    for ticket in served:
        waited = ticket.first_wait_seconds()
        if waited is not None and ticket.id in naive:
            pairs.append((naive[ticket.id], waited / 60))
    return served, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run")
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets in the simulated day")
    args = parser.parse_args()
    cycles = 300 if args.quick else 1500
    print(f"bench/queue_cycles.py · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()}")
    workdir = Path(tempfile.mkdtemp(prefix="hall-bench-queue-"))
    try:
        raw = raw_sqlite_tps(workdir / "raw.db", 3.0)
        print(f"baseline  raw sqlite3, one row per fsync'd transaction: {raw:,.0f} transactions/s")

        url = f"sqlite+aiosqlite:///{workdir / 'stack.db'}"
        pairs = asyncio.run(prepare(url))
        per_s, cmds = asyncio.run(cycles_in_process(url, pairs, cycles, residents=KIOSKS))
        print(
            f"in process  {cycles} cycles (issue, call-next, start, finish), {COUNTERS} clerks + {KIOSKS} kiosks: "
            f"{per_s:,.0f} cycles/s = {cmds:,.0f} durable commands/s ({cmds / raw:.2f}× the raw baseline)"
        )

        server = ServerProcess(workdir / "http")
        # All bench kiosks share one address; the per-kiosk ticket limit would measure itself.
        server.env["HALL_ISSUE_PER_MINUTE"] = "1000000"
        (workdir / "http").mkdir()
        server.db_url = f"sqlite+aiosqlite:///{workdir / 'http' / 'hall.db'}"
        asyncio.run(prepare(server.db_url))
        server.start()
        try:
            per_s, cmds = asyncio.run(cycles_over_http(server, pairs, cycles // 3))
        finally:
            server.stop()
        print(
            f"over HTTP   {cycles // 3} cycles, {COUNTERS} clerk + 4 kiosk clients (sharing the server's cores): "
            f"{per_s:,.0f} cycles/s = {cmds:,.0f} requests/s ({cmds / raw:.2f}× the raw baseline)"
        )

        count = 2000 if args.quick else args.tickets
        started = time.perf_counter()
        served, naive_pairs = simulate_day(count, seed=20261124)
        took = time.perf_counter() - started
        ours = estimate_error(served)
        naive = statistics.fmean(abs(estimate - waited) for estimate, waited in naive_pairs)
        waits = [t.first_wait_seconds() or 0.0 for t in served]
        print(
            f"estimates   simulated day: {len(served):,} tickets, {COUNTERS} counters, mean wait "
            f"{statistics.fmean(waits) / 60:.1f} min, max {max(waits) / 60:.1f} min (simulated in {took:.1f} s)"
        )
        print(f"            hall's estimate (calling rules played forward): MAE {ours.mean_absolute_minutes:.2f} min")
        print(
            f"            baseline (nominal minutes per service): MAE {naive:.2f} min "
            f"→ hall's error is {ours.mean_absolute_minutes / naive:.2f}× the baseline's"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
