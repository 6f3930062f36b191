"""Durable commands per second through the whole command path, beside a raw SQLite baseline.

What is measured, all in one run on a fresh temporary SQLite file (WAL, synchronous=FULL):

1. raw baseline: Python's sqlite3, one 200-byte row per transaction -> transactions/s;
2. the writer: ``hall.storage.writer.Writer`` with the server's domains, N concurrent callers (1, 10, 50, 200),
   each awaiting its answer before sending the next. Every command opens or closes the caller's own
   counter as its own clerk, so every command passes the rules, logs one event, changes one state
   row, stores its command id, and is answered only after the commit. Printed: durable commands/s
   (median of the rounds), the ratio to the raw baseline, the mean batch size and latency;
3. the same over HTTP: ``hall serve`` in a child process and N concurrent ``httpx.AsyncClient``
   clients (1, 10, 50) in this process, each logged in as its own clerk, POSTing
   ``/api/v1/halls/1/counters/{n}/open`` and ``/close`` alternately. Clients and server share the
   machine's cores; the CPU each side used is printed.

After the writer's levels, the busiest one runs again while commands that cannot be stored arrive
beside the good ones (``--poison``, per second): each must fail alone, and the figure beside the
clean one is what isolating them costs.

At the end of each part the event log is checked: events logged == commands answered, and the
hall's sequence numbers are gapless.

Run from the repository root:

    python -m bench.ops            # full run, about a minute and a half
    python -m bench.ops --quick    # short run, about half a minute
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.events import Command
from hall.runtime import core_domains
from hall.sample import load_sample
from hall.storage.database import create_engine
from hall.storage.directory import create_counters
from hall.storage.migrate import upgrade
from hall.storage.tables import commands, events, hall_heads, staff
from hall.storage.writer import Writer
from hall.web.passwords import hash_password

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import CSRF_META, machine  # noqa: E402

HALL = 1  # the sample district hall "xh"
SAMPLE_COUNTERS = 12
PASSWORD = "bench-clerk-password"  # throwaway accounts in a temporary database


# ---------------------------------------------------------------- machine and helpers


def filesystem_of(path: Path) -> str:
    """The mount type holding ``path`` (an fsync on tmpfs costs nothing, so say where the file is)."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return f"{kind} ({best or '?'})"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    """The 1-minute load average: other work on a shared machine shows up here and in the CPU shares."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def fmt(value: float) -> str:
    return f"{value:,.0f}"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


# ---------------------------------------------------------------- raw sqlite3 baseline


def raw_sqlite(path: Path, seconds: float) -> float:
    """Transactions/s: one 200-byte row per transaction, WAL, synchronous=FULL (as BENCHMARKS.md)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        payload = os.urandom(200)
        done = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO raw (payload) VALUES (?)", (payload,))
            conn.execute("COMMIT")
            done += 1
            if done % 50 == 0 and time.perf_counter() >= deadline:
                break
        return done / (time.perf_counter() - start)
    finally:
        conn.close()


# ---------------------------------------------------------------- database set-up


async def prepare_database(engine: AsyncEngine, clerks: int, password_hash: str) -> list[int]:
    """Schema, the sample halls, counters 1..clerks in hall 1 and one clerk account per counter.

    Staff rows are inserted directly with one precomputed hash (argon2 costs ~50 ms a hash).
    Returns the clerks' staff ids, clerk i holding counter i + 1.
    """
    await upgrade(engine)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await load_sample(conn, now)
        if clerks > SAMPLE_COUNTERS:
            extra = [(n, f"{n}号窗口") for n in range(SAMPLE_COUNTERS + 1, clerks + 1)]
            await create_counters(conn, HALL, extra, actor="bench", now=now)
        await conn.execute(
            insert(staff),
            [
                {
                    "username": f"bench{i:04d}",
                    "display_name": f"bench clerk {i}",
                    "staff_no": "",
                    "password_hash": password_hash,
                    "roles": "clerk",
                    "hall_id": HALL,
                    "active": True,
                    "created_at": now,
                }
                for i in range(1, clerks + 1)
            ],
        )
        rows = await conn.execute(select(staff.c.id).where(staff.c.username.like("bench%")).order_by(staff.c.username))
        return [int(r.id) for r in rows]


async def log_marks(engine: AsyncEngine) -> tuple[int, int]:
    """Hall 1's last sequence number and the number of stored command ids, before a part starts."""
    async with engine.connect() as conn:
        head = (await conn.execute(select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == HALL))).scalar_one()
        stored = (await conn.execute(select(func.count()).select_from(commands))).scalar_one()
        return int(head), int(stored)


@dataclass
class LogCheck:
    expected: int
    events: int
    command_rows: int
    gapless: bool
    first: int
    last: int

    @property
    def ok(self) -> bool:
        return self.events == self.expected and self.command_rows == self.expected and self.gapless

    def line(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        return (
            f"log check {verdict}: commands answered {fmt(self.expected)}, events logged {fmt(self.events)}, "
            f"command ids stored {fmt(self.command_rows)}; hall {HALL} seq {self.first}..{self.last} "
            f"{'gapless' if self.gapless else 'HAS GAPS'}"
        )


async def check_log(engine: AsyncEngine, marks: tuple[int, int], expected: int) -> LogCheck:
    """Events and command ids stored since ``marks`` == commands answered, and hall 1's whole log
    is 1..last without gaps."""
    since_seq, since_stored = marks
    async with engine.connect() as conn:
        logged = (
            await conn.execute(select(func.count()).where(events.c.hall_id == HALL, events.c.seq > since_seq))
        ).scalar_one()
        stored = (await conn.execute(select(func.count()).select_from(commands))).scalar_one()
        total, lo, hi = (
            await conn.execute(
                select(func.count(), func.min(events.c.seq), func.max(events.c.seq)).where(events.c.hall_id == HALL)
            )
        ).one()
        head = (await conn.execute(select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == HALL))).scalar_one()
    # (hall_id, seq) is the primary key, so count == max and min == 1 means exactly 1..max.
    gapless = lo == 1 and total == hi == head
    return LogCheck(expected, int(logged), int(stored) - since_stored, gapless, int(lo), int(hi))


# ---------------------------------------------------------------- timed rounds


Caller = Callable[[int, float], Awaitable[int]]


async def timed_round(callers: int, seconds: float, caller: Caller) -> tuple[float, int]:
    """Run ``callers`` concurrent callers until the deadline; returns (commands/s, commands)."""
    start = time.perf_counter()
    deadline = start + seconds
    counts = await asyncio.gather(*(caller(i, deadline) for i in range(callers)))
    elapsed = time.perf_counter() - start
    return sum(counts) / elapsed, sum(counts)


@dataclass
class Level:
    callers: int
    rates: list[float]
    batch: float = 0.0  # mean commands per commit
    cpu: float = 0.0  # this process's CPU over the rounds, as a share of one core
    server_cpu: float = 0.0  # the server process's, over HTTP

    @property
    def rate(self) -> float:
        return median(self.rates)

    @property
    def latency_ms(self) -> float:
        """Mean time from sending a command to its answer (closed loop: callers / rate)."""
        return 1000 * self.callers / self.rate

    def spread(self) -> str:
        return f"  rounds {', '.join(fmt(r) for r in self.rates)}" if len(self.rates) > 1 else ""


async def measure(
    callers: int, rounds: int, seconds: float, warmup: float, caller: Caller, server_pid: int | None = None
) -> tuple[Level, int]:
    """A warm-up round, then timed rounds; returns the level and every command answered."""
    sent = (await timed_round(callers, warmup, caller))[1] if warmup > 0 else 0
    wall, cpu = time.perf_counter(), time.process_time()
    server = process_cpu_seconds(server_pid) if server_pid else 0.0
    rates = []
    for _ in range(rounds):
        rate, count = await timed_round(callers, seconds, caller)
        rates.append(rate)
        sent += count
    wall = time.perf_counter() - wall
    level = Level(callers, rates, cpu=(time.process_time() - cpu) / wall)
    if server_pid:
        level.server_cpu = (process_cpu_seconds(server_pid) - server) / wall
    return level, sent


# ---------------------------------------------------------------- the writer, in process


async def bench_writer(
    workdir: Path, levels: Sequence[int], rounds: int, seconds: float, warmup: float, poison_per_second: float = 0.0
) -> tuple[list[Level], LogCheck]:
    engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'writer.db'}", synchronous="FULL")
    try:
        clerks = await prepare_database(engine, max(levels), hash_password(PASSWORD))
        marks = await log_marks(engine)
        writer = Writer(engine, core_domains())  # the domains `hall serve` runs
        await writer.start()
        sent = 0

        async def caller(i: int, deadline: float) -> int:
            counter, clerk = i + 1, clerks[i]
            done = 0
            while time.perf_counter() < deadline:
                for name in ("counter.open", "counter.close"):  # ends closed: ready for the next round
                    args = {"counter": counter, "clerk": clerk}
                    outcome = await writer.submit(Command(uuid.uuid4().hex, HALL, name, f"staff:{clerk}", args))
                    if not outcome.ok or len(outcome.events) != 1:
                        raise RuntimeError(f"caller {i}: {name} was refused: {dict(outcome.result)}")
                    done += 1
            return done

        results: list[Level] = []
        try:
            for n in levels:
                batches, committed = writer.batches, writer.committed
                level, count = await measure(n, rounds, seconds, warmup, caller)
                sent += count
                level.batch = (writer.committed - committed) / max(1, writer.batches - batches)
                results.append(level)
                print(
                    f"  {n:>4} callers: {fmt(level.rate):>8} commands/s  (batch {level.batch:.1f}, "
                    f"latency {level.latency_ms:.1f} ms, CPU {level.cpu:.0%}){level.spread()}"
                )
            if poison_per_second > 0:
                sent += await poisoned_level(writer, results, rounds, seconds, warmup, caller, poison_per_second)
        finally:
            await writer.stop()
        return results, await check_log(engine, marks, sent)
    finally:
        await engine.dispose()


async def poisoned_level(
    writer: Writer,
    clean: Sequence[Level],
    rounds: int,
    seconds: float,
    warmup: float,
    caller: Caller,
    per_second: float,
) -> int:
    """The cost of fault isolation: the busiest clean level again, while commands that cannot be
    stored (a hall id beyond 64 bits: the database refuses the whole transaction) arrive at up
    to ``per_second`` (one sender, each awaiting its failure). Each fails alone and its batch is
    committed again in halves; printed beside the clean figure of the same level, in the same run."""
    base = max(clean, key=lambda lv: lv.callers)
    stop = asyncio.Event()
    failed = 0

    async def poison() -> None:
        nonlocal failed
        while not stop.is_set():
            bad = Command(uuid.uuid4().hex, 2**70, "counter.open", "staff:1", {"counter": 1, "clerk": 1})
            try:
                await writer.submit(bad)
            except Exception:
                failed += 1
            await asyncio.sleep(1 / per_second)

    splits = writer.split_batches
    # Each poisoned command is logged with its traceback, as a server should; not on the bench's screen.
    writer_log = logging.getLogger("hall.storage.writer")
    writer_log.disabled = True
    task = asyncio.create_task(poison())
    try:
        level, count = await measure(base.callers, rounds, seconds, warmup, caller)
    finally:
        stop.set()
        await task
        writer_log.disabled = False
    print(
        f"  {base.callers:>4} callers with {per_second:g} poisoned commands/s: {fmt(level.rate):>8} commands/s "
        f"({level.rate / base.rate:.2f}x the clean {fmt(base.rate)}; {failed} poisoned commands failed alone, "
        f"{writer.split_batches - splits} batches committed again in parts){level.spread()}"
    )
    return count


# ---------------------------------------------------------------- over HTTP


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    """Log a client in through the login form; returns the CSRF token for later unsafe calls."""
    page = await client.get("/login")
    token = CSRF_META.search(page.text)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    done = await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/"},
    )
    if done.status_code != 303:
        raise RuntimeError(f"login of {username} failed: {done.status_code} {done.text[:200]}")
    return token.group(1)


def sqlite_head(path: Path) -> int:
    """Hall 1's last sequence number, read beside the running server (WAL readers never block)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT last_seq FROM hall_heads WHERE hall_id = ?", (HALL,)).fetchone()[0])
    finally:
        conn.close()


def mean_batch(path: Path, first: int, last: int) -> float:
    """Events per commit in a range of the log: the writer stamps all events of a batch with one time."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        logged, commits = conn.execute(
            "SELECT count(*), count(DISTINCT at) FROM events WHERE hall_id = ? AND seq > ? AND seq <= ?",
            (HALL, first, last),
        ).fetchone()
        return float(logged) / max(1, int(commits))
    finally:
        conn.close()


async def bench_http(
    workdir: Path, levels: Sequence[int], rounds: int, seconds: float, warmup: float
) -> tuple[list[Level], LogCheck]:
    from tests.serverproc import ServerProcess

    db_path = workdir / "http.db"
    db_url = f"sqlite+aiosqlite:///{db_path}"
    engine = create_engine(db_url, synchronous="FULL")
    try:
        await prepare_database(engine, max(levels), hash_password(PASSWORD))
        marks = await log_marks(engine)
    finally:
        await engine.dispose()

    server = ServerProcess(workdir, db_url)  # 127.0.0.1 on a free port; `hall serve` as shipped
    clients: list[httpx.AsyncClient] = []
    results: list[Level] = []
    sent = 0
    try:
        server.start()
        assert server.proc is not None
        pid = server.proc.pid
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        tokens: list[str] = []
        for i in range(max(levels)):
            clients.append(httpx.AsyncClient(base_url=server.url, limits=limits, timeout=httpx.Timeout(30.0)))
            tokens.append(await login(clients[i], f"bench{i + 1:04d}", PASSWORD))

        async def post(i: int, action: str, command_id: str) -> httpx.Response:
            return await clients[i].post(
                f"/api/v1/halls/{HALL}/counters/{i + 1}/{action}",
                json={"command_id": command_id},
                headers={"X-CSRF-Token": tokens[i]},
            )

        async def caller(i: int, deadline: float) -> int:
            done = 0
            while time.perf_counter() < deadline:
                for action in ("open", "close"):
                    command_id = uuid.uuid4().hex
                    try:
                        response = await post(i, action, command_id)
                    except httpx.TransportError:
                        # A keep-alive connection the server closed while this client sat idle: send the
                        # same command id again; a command that did commit answers as a duplicate.
                        response = await post(i, action, command_id)
                    if response.status_code != 200 or not ("seq" in response.json() or response.json()["duplicate"]):
                        raise RuntimeError(f"client {i}: {action} -> {response.status_code} {response.text[:200]}")
                    done += 1
            return done

        for n in levels:
            before = sqlite_head(db_path)
            level, count = await measure(n, rounds, seconds, warmup, caller, server_pid=pid)
            sent += count
            level.batch = mean_batch(db_path, before, sqlite_head(db_path))
            results.append(level)
            print(
                f"  {n:>4} clients: {fmt(level.rate):>8} commands/s  (batch {level.batch:.1f}, "
                f"latency {level.latency_ms:.1f} ms, CPU: server {level.server_cpu:.0%}, "
                f"clients {level.cpu:.0%}){level.spread()}"
            )
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()
        server.stop()

    engine = create_engine(db_url, synchronous="FULL")
    try:
        return results, await check_log(engine, marks, sent)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ops", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round per level (about half a minute)")
    parser.add_argument("--levels", default="1,10,50,200", help="concurrent callers of the writer; empty to skip")
    parser.add_argument("--http-levels", default="1,10,50", help="concurrent HTTP clients; empty to skip")
    parser.add_argument("--rounds", type=int, help="rounds per level (median reported); default 3, quick 1")
    parser.add_argument("--seconds", type=float, help="seconds per round; default 3, quick 1.5")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop of the bench")
    parser.add_argument("--dir", type=Path, help="where the temporary database files go; default the system temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the database files and the server log")
    parser.add_argument("--target", type=float, default=5000.0, help="target durable commands/s")
    parser.add_argument(
        "--poison", type=float, default=20.0, help="poisoned commands/s for the fault-isolation level; 0 to skip"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    return parser.parse_args(argv)


def levels_of(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def table(levels: Sequence[Level], raw: float, *, http: bool) -> None:
    if http:
        print(
            "| HTTP clients | commands/s | × raw sqlite3 txn/s | mean batch | mean latency | server CPU | client CPU |"
        )
        print("|---|---|---|---|---|---|---|")
    else:
        print("| callers | durable commands/s | × raw sqlite3 txn/s | mean batch | mean latency | process CPU |")
        print("|---|---|---|---|---|---|")
    for lv in levels:
        row = f"| {lv.callers} | {fmt(lv.rate)} | {lv.rate / raw:.2f} | {lv.batch:.1f} | {lv.latency_ms:.1f} ms |"
        print(row + (f" {lv.server_cpu:.0%} | {lv.cpu:.0%} |" if http else f" {lv.cpu:.0%} |"))


async def run(args: argparse.Namespace) -> int:
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (1.5 if args.quick else 3.0)
    warmup = 0.3 if args.quick else 0.5
    levels = levels_of(args.levels)
    http_levels = levels_of(args.http_levels)
    workdir = Path(tempfile.mkdtemp(prefix="hall-bench-ops-", dir=args.dir))
    failed = False
    try:
        print(f"machine: {machine(libraries=True)}; event loop: {args.loop}; load average at start {load_average()}")
        print(f"database files: {workdir} on {filesystem_of(workdir)}; SQLite WAL, synchronous=FULL")
        print(f"{rounds} round(s) of {seconds:g} s per level after a {warmup:g} s warm-up; medians reported")
        print("CPU figures are shares of one core (a process with busy threads can pass 100%)")
        print()

        raw_seconds = min(seconds, 2.0)
        raws = [raw_sqlite(workdir / "raw.db", raw_seconds) for _ in range(rounds)]
        print(f"raw sqlite3, one 200-byte row per transaction: {fmt(median(raws))} transactions/s")
        print()

        writer_levels: list[Level] = []
        http_results: list[Level] = []
        if levels:
            print("durable commands/s through hall.writer.Writer (rules, event, state, command id; one commit a batch)")
            writer_levels, check = await bench_writer(workdir, levels, rounds, seconds, warmup, args.poison)
            print(check.line())
            failed |= not check.ok
            print()
        if http_levels:
            print(
                f"over HTTP: `hall serve` in a child process, httpx clients in this process; server and clients "
                f"share the {os.cpu_count()} cores"
            )
            http_results, http_check = await bench_http(workdir, http_levels, rounds, seconds, warmup)
            print(http_check.line())
            failed |= not http_check.ok
            print()

        # The disk is shared and noisy: take the baseline again after the runs and use all of it.
        raws += [raw_sqlite(workdir / "raw.db", raw_seconds) for _ in range(rounds)]
        raw = median(raws)
        print(f"load average at the end {load_average()}")
        print(
            f"raw sqlite3 baseline (before and after): {fmt(raw)} transactions/s median "
            f"(min {fmt(min(raws))}, max {fmt(max(raws))})"
        )
        print()
        if writer_levels:
            table(writer_levels, raw, http=False)
            reached = [lv.callers for lv in writer_levels if lv.rate >= args.target]
            print(
                f"target {fmt(args.target)} durable commands/s: "
                + (f"reached from {reached[0]} concurrent callers" if reached else "NOT reached at any level")
            )
            print()
        if http_results:
            table(http_results, raw, http=True)
            print(f"(clients and server share the {os.cpu_count()} cores of this machine)")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    async def bounded() -> int:
        async with asyncio.timeout(args.timeout):
            return await run(args)

    if args.loop == "uvloop":
        import uvloop

        return uvloop.run(bounded())
    return asyncio.run(bounded())


if __name__ == "__main__":
    sys.exit(main())
