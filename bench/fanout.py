"""Websocket fan-out: hall's hub beside a bare ``websockets`` broadcast, measured in the same run.

For each client count (default 1,000 and 5,000) two servers run at once, each in its own process:

* hall: ``hall init`` on a fresh SQLite file, then ``hall serve`` (uvicorn, its websockets-sansio
  protocol lending each transport to ``/ws``: ``realtime/uvicorn_wire.py``).
  Every client subscribes to the public topic ``hall/1/queue``. One event = one counter command
  (open, then close, ...) POSTed by the logged-in admin; each commits one event that the hub fans out.
* baseline: a bare ``websockets`` server (``websockets.asyncio.server.serve``, compression off)
  calling ``websockets.asyncio.server.broadcast`` with a frame of the same shape and size as
  hall's event frame (it carries its own ``at`` time); it broadcasts when told to over a separate
  control connection, and times the ``broadcast()`` call.

All clients of both servers live in ONE separate Python process (asyncio + ``websockets`` client,
compression off), connected in batches, N to hall then N to the baseline. Events alternate between
the two servers (hall, baseline, baseline, hall, ...); the next event is sent only when every
client of the previous one has it (or a timeout passed), plus a short gap. Interleaving puts both
under the same machine load, which on a shared machine matters more than anything else. The client
process turns its garbage collector off once connected, so its pauses do not land on one server's
events (it holds few reference cycles, and a run is short).

Figures, per server:

* server-side hand-off: the time to hand one event's frame to every subscriber socket, measured
  inside the server. hall: ``Hub.publish`` (``handoff_ms`` of ``GET /api/v1/hub``); baseline: the
  ``broadcast()`` call. Median and p99 over the measured events (p99 of 20 values is their max).
  Also in the server thread's CPU time (``time.thread_time``: the socket writes' system time
  included, time the process waited for a core left out), which a busy machine disturbs far less.
* end-to-end at the clients: receive time in the client process (``time.time()`` when ``recv``
  returns) minus the frame's ``at`` timestamp, over every (client, event) pair. For hall ``at``
  is the writer's clock when it started the commit batch of that event, so it also includes the
  SQLite commit (synchronous=FULL) before the hub runs; for the baseline ``at`` is taken just
  before ``broadcast()``. Same machine, same wall clock.
* first client: per event, the smallest end-to-end latency (median over events); it shows the
  fixed cost before fan-out starts (hall: the commit; baseline: nothing).
* after the event's first client: each client's latency minus that event's first-client latency,
  p50/p99 over every (client, event) pair. It takes the commit out of hall's figure and compares
  the fan-out itself (server sockets plus the client process draining them) on equal terms.

It also prints how much CPU other processes used while the events ran (from /proc).

Run ``python -m bench.fanout --help`` from the repository root (``python bench/fanout.py`` restarts
itself that way). It stops by itself (every wait has a timeout, and a watchdog ends the run after
``--max-seconds``) and stops the processes it started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import math
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOPIC = "hall/1/queue"
EVENT_PREFIX = '{"type":"event"'
HALL_COUNTERS = 12
_ACCOUNT = re.compile(r"^\s+(\S+)\s+(\S+)\s+\(", re.MULTILINE)


# -- shared helpers ---------------------------------------------------------------------------------


def raise_fd_limit(wanted: int = 20_000) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); p99 of 20 values is the largest."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def use_loop(kind: str) -> str:
    if kind == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return "uvloop"
    return "asyncio"


def uvloop_available() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def event_frame(seq: int, counter: int, opened: bool) -> str:
    """A frame of the same shape as hall's queue event (``realtime.protocol.event_frame``)."""
    event = {
        "type": "counter.opened" if opened else "counter.closed",
        "data": {"counter": counter},
        "at": datetime.now(UTC).isoformat(),
    }
    return json.dumps(
        {"type": "event", "topic": TOPIC, "seq": seq, "event": event}, ensure_ascii=False, separators=(",", ":")
    )


# -- the client process ----------------------------------------------------------------------------


@dataclass
class Group:
    """The clients of one server, inside the client process."""

    sockets: list[Any] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    count: int = 0
    target: int = 0
    waiter: asyncio.Future[None] | None = None
    closed: int = 0


async def _reader(ws: Any, group: Group) -> None:
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            raw = await ws.recv()
            now = time.time()
            if isinstance(raw, str) and raw.startswith(EVENT_PREFIX):
                group.times.append(now)
                group.frames.append(raw)
                group.count += 1
                if group.waiter is not None and group.count >= group.target and not group.waiter.done():
                    group.waiter.set_result(None)
    except ConnectionClosed:
        group.closed += 1


async def _open_client(url: str, hall: bool, timeout: float) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(url, compression=None, ping_interval=None, open_timeout=timeout, close_timeout=2)
    try:
        async with asyncio.timeout(timeout):
            if hall:
                await ws.send(json.dumps({"type": "subscribe", "topic": TOPIC}))
            while True:
                raw = await ws.recv()
                if isinstance(raw, str) and raw.startswith('{"type":"subscribed"'):
                    return ws
                if isinstance(raw, str) and raw.startswith('{"type":"error"'):
                    raise RuntimeError(raw)
    except BaseException:
        await ws.close()
        raise


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def _connect_group(group: Group, url: str, count: int, hall: bool, batch: int, timeout: float) -> dict[str, Any]:
    errors: dict[str, int] = {}
    started = time.monotonic()
    for first in range(0, count, batch):
        size = min(batch, count - first)
        done = await asyncio.gather(*(_open_client(url, hall, timeout) for _ in range(size)), return_exceptions=True)
        for result in done:
            if isinstance(result, BaseException):
                name = type(result).__name__
                errors[name] = errors.get(name, 0) + 1
            else:
                group.sockets.append(result)
                group.readers.append(asyncio.create_task(_reader(result, group)))
    return {"ready": len(group.sockets), "errors": errors, "connect_s": round(time.monotonic() - started, 2)}


async def client_process(specs: Sequence[Sequence[str]], batch: int, connect_timeout: float) -> None:
    """Connect each group (name, url, count, "hall" | "plain") in turn, then obey stdin commands."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    groups: dict[str, Group] = {}
    for name, url, count, mode in specs:
        groups[name] = Group()
        ready = await _connect_group(groups[name], url, int(count), mode == "hall", batch, connect_timeout)
        _say({"group": name, **ready})
    # This process is the measuring instrument: keep its collector's pauses (a full collection over
    # thousands of connections takes tens of ms) from landing on one server's events.
    gc.collect()
    gc.freeze()
    gc.disable()

    while True:
        line = await stdin.readline()
        if not line:
            break  # the bench went away
        command = json.loads(line)
        if command["cmd"] == "close":
            break
        group = groups[command["group"]]
        if command["cmd"] == "wait":
            group.target = command["count"]
            group.waiter = loop.create_future()
            if group.count < group.target:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(group.waiter), command["timeout"])
            group.waiter = None
            _say({"count": group.count, "closed": group.closed})
        elif command["cmd"] == "report":
            per_seq: dict[int, list[float]] = {}
            for received, raw in zip(group.times, group.frames, strict=True):
                frame = json.loads(raw)
                at = datetime.fromisoformat(frame["event"]["at"]).timestamp()
                per_seq.setdefault(frame["seq"], []).append(round((received - at) * 1000, 3))
            _say({"per_seq": per_seq, "closed": group.closed, "connected": len(group.sockets)})
    for group in groups.values():
        for task in group.readers:
            task.cancel()
        for first in range(0, len(group.sockets), batch):
            chunk = group.sockets[first : first + batch]
            await asyncio.gather(*(ws.close() for ws in chunk), return_exceptions=True)


# -- the baseline server process -------------------------------------------------------------------


async def baseline_process(port: int, backlog: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    loop = asyncio.get_running_loop()
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/control":
            async for message in ws:
                command = json.loads(message)
                frame = event_frame(command["seq"], command["counter"], command["opened"])
                started, cpu = time.perf_counter(), time.thread_time()
                broadcast(clients, frame)
                took, cpu = time.perf_counter() - started, time.thread_time() - cpu
                answer = {"seq": command["seq"], "handoff_ms": took * 1000, "handoff_cpu_ms": cpu * 1000}
                await ws.send(json.dumps({**answer, "clients": len(clients)}))
            return
        clients.add(ws)
        try:
            await ws.send('{"type":"subscribed","topic":"' + TOPIC + '"}')
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=backlog):
        print(json.dumps({"listening": port}), flush=True)
        while await stdin.readline():
            pass  # runs until the bench closes our stdin (or goes away)


# -- the bench (orchestrator) ----------------------------------------------------------------------

_children: list[subprocess.Popen[Any]] = []


def _pythonpath() -> str:
    return os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(
    args: list[str], *, env: dict[str, str] | None = None, stdout: Any = subprocess.PIPE
) -> subprocess.Popen[Any]:
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=None if stdout is subprocess.PIPE else subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": _pythonpath(), **(env or {})},
        cwd=ROOT,
        text=True,
        bufsize=1,
        preexec_fn=_die_with_parent,
    )
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen[Any] | None, grace: float = 15, *, reads_stdin: bool = True) -> None:
    """Close the child's stdin (our children end on EOF), then terminate it, then kill it."""
    if proc is None:
        return
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    if proc.poll() is None:
        try:
            proc.wait(timeout=grace / 3 if reads_stdin else 0.01)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if proc in _children:
        _children.remove(proc)


def stop_all() -> None:
    for proc in list(_children):
        with contextlib.suppress(Exception):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


class Lines:
    """Reads a child's stdout lines in a thread so each wait can have a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self._lines: deque[str | None] = deque()
        self._ready = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._put(line)
        self._put(None)

    def _put(self, line: str | None) -> None:
        with self._ready:
            self._lines.append(line)
            self._ready.notify()

    def json(self, timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self._ready:
                if not self._ready.wait_for(lambda: self._lines, timeout=max(0, deadline - time.monotonic())):
                    raise TimeoutError(f"no answer within {timeout:.0f}s while {what}")
                line = self._lines.popleft()
            if line is None:
                raise RuntimeError(f"the process ended while {what} (exit {self.proc.wait()})")
            line = line.strip()
            if line.startswith("{"):
                return dict(json.loads(line))


class Clients:
    """The one client process, holding the clients of every server, driven over its stdin/stdout."""

    def __init__(self, args: argparse.Namespace, groups: Sequence[tuple[str, str, int, bool]]) -> None:
        command = [sys.executable, "-m", "bench.fanout", "_clients"]
        command += ["--batch", str(args.batch), "--loop", args.client_loop]
        command += ["--connect-timeout", str(args.connect_timeout)]
        for name, url, count, hall in groups:
            command += ["--group", name, url, str(count), "hall" if hall else "plain"]
        self.proc = spawn(command)
        self.lines = Lines(self.proc)
        self.ready: dict[str, dict[str, Any]] = {}
        for name, _url, count, _hall in groups:
            timeout = 60 + count * args.connect_seconds_per_client
            answer = self.lines.json(timeout, f"connecting {count} clients to {name}")
            self.ready[answer["group"]] = answer

    def ask(self, command: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self.lines.json(timeout, what)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.write('{"cmd":"close"}\n')
            self.proc.stdin.flush()
        stop(self.proc, grace=60)


@dataclass
class Run:
    server: str
    clients: int
    connected: int = 0
    connect_errors: dict[str, int] = field(default_factory=dict)
    connect_s: float = 0.0
    handoff_ms: list[float] = field(default_factory=list)
    handoff_cpu_ms: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    spread_ms: list[float] = field(default_factory=list)
    delivered: int = 0
    expected: int = 0
    incomplete_events: int = 0
    closed: int = 0
    notes: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {
            "handoff_p50": statistics.median(self.handoff_ms) if self.handoff_ms else math.nan,
            "handoff_p99": percentile(self.handoff_ms, 99),
            "handoff_cpu_p50": statistics.median(self.handoff_cpu_ms) if self.handoff_cpu_ms else math.nan,
            "e2e_p50": percentile(self.latencies_ms, 50),
            "e2e_p99": percentile(self.latencies_ms, 99),
            "first_p50": statistics.median(self.first_ms) if self.first_ms else math.nan,
            "spread_p50": percentile(self.spread_ms, 50),
            "spread_p99": percentile(self.spread_ms, 99),
        }


class Side:
    """One server under test and its group of clients: start, fire one event, wait, collect."""

    name = ""
    hall = False

    def __init__(self, args: argparse.Namespace, count: int) -> None:
        self.args = args
        self.run = Run(self.name, count)
        self.clients: Clients | None = None
        self.server: subprocess.Popen[Any] | None = None
        self.url = ""

    def attach(self, clients: Clients) -> None:
        self.clients = clients
        ready = clients.ready[self.name]
        self.run.connected = int(ready["ready"])
        self.run.connect_errors = ready["errors"]
        self.run.connect_s = float(ready["connect_s"])

    def fire(self, index: int) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def wait_delivery(self, index: int) -> None:
        """Wait until every client has event number ``index`` (0-based, warm-up included), then the gap."""
        assert self.clients is not None
        target = (index + 1) * self.run.connected
        answer = self.clients.ask(
            {"cmd": "wait", "group": self.name, "count": target, "timeout": self.args.event_timeout},
            self.args.event_timeout + 30,
            f"waiting for a {self.name} event to reach the clients",
        )
        if answer["count"] < target:
            self.run.incomplete_events += 1
        time.sleep(self.args.gap)

    def collect(self, seqs: Sequence[int]) -> None:
        assert self.clients is not None
        report = self.clients.ask({"cmd": "report", "group": self.name}, 120, "collecting latencies")
        per_seq = {int(k): v for k, v in report["per_seq"].items()}
        self.run.closed = int(report["closed"])
        for seq in seqs:
            values = per_seq.get(seq, [])
            self.run.latencies_ms.extend(values)
            if values:
                first = min(values)
                self.run.first_ms.append(first)
                self.run.spread_ms.extend(v - first for v in values)
            self.run.delivered += len(values)
        self.run.expected = self.run.connected * len(seqs)

    def close(self) -> None:
        stop(self.server)


class HallSide(Side):
    """``hall init`` + ``hall serve``; events are counter commands POSTed by the admin."""

    name = "hall"
    hall = True

    def __init__(self, args: argparse.Namespace, count: int, workdir: Path) -> None:
        import httpx

        from tests.serverproc import free_port, login

        super().__init__(args, count)
        self.workdir = workdir
        self.seqs: list[int] = []
        env = {"HALL_SECRET_FILE": str(workdir / "secret")}
        db_url = f"sqlite+aiosqlite:///{workdir / 'hall.db'}"
        init = subprocess.run(
            [sys.executable, "-m", "hall.cli", "init", "--db", db_url],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=120,
            check=False,
        )
        if init.returncode != 0:
            raise RuntimeError(f"hall init failed:\n{init.stderr}")
        password = dict(_ACCOUNT.findall(init.stdout))["admin"]
        port = free_port()
        self.log = (workdir / "server.log").open("a")
        self.server = spawn(
            [sys.executable, "-m", "hall.cli", "serve", "--db", db_url, "--port", str(port)], env=env, stdout=self.log
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        deadline = time.monotonic() + 30
        while True:
            if self.server.poll() is not None:
                raise RuntimeError(f"hall serve exited early; see {workdir / 'server.log'}")
            try:
                if self.http.get("/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("hall serve did not answer /healthz within 30s")
            time.sleep(0.1)
        self.csrf = login(self.http, "admin", password)
        self.url = f"ws://127.0.0.1:{port}/ws"

    def attach(self, clients: Clients) -> None:
        super().attach(clients)
        self.before = self.http.get("/api/v1/hub").json()
        if self.before["subscribers"] != self.run.connected:
            subscribers = self.before["subscribers"]
            self.run.notes.append(f"hub reports {subscribers} subscribers, clients hold {self.run.connected}")

    def fire(self, index: int) -> None:
        counter = (index // 2) % HALL_COUNTERS + 1
        action = "open" if index % 2 == 0 else "close"
        answer = self.http.post(
            f"/api/v1/halls/1/counters/{counter}/{action}", json={}, headers={"X-CSRF-Token": self.csrf}
        )
        if answer.status_code != 200:
            raise RuntimeError(f"POST {action} counter {counter}: {answer.status_code} {answer.text}")
        self.seqs.append(int(answer.json()["seq"]))

    def finish(self) -> None:
        total = len(self.seqs)
        after = self.http.get("/api/v1/hub").json()
        published = after["published"] - self.before["published"]
        if published != total:
            self.run.notes.append(f"the hub published {published} events for {total} commands")
        self.run.handoff_ms = [float(x) for x in after["handoff_ms"][-total:][self.args.warmup :]]
        cpu = after.get("handoff_cpu_ms", [])  # absent from a hall without the CPU timing
        self.run.handoff_cpu_ms = [float(x) for x in cpu[-total:][self.args.warmup :]]
        self.collect(self.seqs[self.args.warmup :])

    def close(self) -> None:
        stop(self.server, reads_stdin=False)
        self.http.close()
        self.log.close()


class BaselineSide(Side):
    """A bare ``websockets`` server; events are broadcast on request over a control connection."""

    name = "baseline"

    def __init__(self, args: argparse.Namespace, count: int) -> None:
        from websockets.sync.client import connect

        from tests.serverproc import free_port

        super().__init__(args, count)
        port = free_port()
        self.server = spawn(
            [sys.executable, "-m", "bench.fanout", "_baseline", str(port), "--loop", args.baseline_loop]
        )
        Lines(self.server).json(30, "starting the baseline server")
        self.url = f"ws://127.0.0.1:{port}/"
        self._stack = contextlib.ExitStack()
        self.control = self._stack.enter_context(
            connect(f"ws://127.0.0.1:{port}/control", compression=None, open_timeout=30)
        )
        self.fired = 0

    def fire(self, index: int) -> None:
        counter = (index // 2) % HALL_COUNTERS + 1
        self.control.send(json.dumps({"seq": index + 1, "counter": counter, "opened": index % 2 == 0}))
        answer = json.loads(self.control.recv(timeout=60))
        if answer["clients"] != self.run.connected:
            self.run.notes.append(f"event {index + 1}: broadcast to {answer['clients']} of {self.run.connected}")
        if index >= self.args.warmup:
            self.run.handoff_ms.append(float(answer["handoff_ms"]))
            self.run.handoff_cpu_ms.append(float(answer["handoff_cpu_ms"]))
        self.fired = index + 1

    def finish(self) -> None:
        self.collect(list(range(self.args.warmup + 1, self.fired + 1)))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
        super().close()


def _cpu_ticks(pids: Sequence[int]) -> tuple[int, int]:
    """(ticks all CPUs spent in user+nice+system, ticks the given processes spent) from /proc."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    busy = fields[0] + fields[1] + fields[2]
    ours = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/stat") as stat:
            rest = stat.read().rsplit(")", 1)[1].split()
            ours += int(rest[11]) + int(rest[12])  # utime, stime
    return busy, ours


def other_cpu(pids: Sequence[int], seconds: float) -> float:
    """Cores used by processes other than ``pids`` over the next ``seconds``."""
    busy0, ours0 = _cpu_ticks(pids)
    time.sleep(seconds)
    busy1, ours1 = _cpu_ticks(pids)
    return max(0, (busy1 - busy0) - (ours1 - ours0)) / os.sysconf("SC_CLK_TCK") / seconds


def wait_for_quiet(pids: Sequence[int], patience: float, threshold: float = 0.2) -> None:
    """On a shared machine, wait (at most ``patience`` seconds) until other processes are idle."""
    deadline = time.monotonic() + patience
    used = other_cpu(pids, 2)
    while used > threshold and time.monotonic() < deadline:
        print(f"   other processes use {used:.2f} cores; waiting for a quieter machine ...", flush=True)
        used = other_cpu(pids, 5)
    if used > threshold:
        print(f"   still {used:.2f} cores used by others after {patience:.0f}s; measuring anyway", flush=True)


def measure(args: argparse.Namespace, count: int, workdir: Path) -> tuple[Run, Run, float]:
    """Both servers up at once, all clients in one process, events interleaved: same machine state."""
    sides: list[Side] = []
    clients: Clients | None = None
    try:
        sides.append(HallSide(args, count, workdir))
        sides.append(BaselineSide(args, count))
        clients = Clients(args, [(side.name, side.url, count, side.hall) for side in sides])
        for side in sides:
            side.attach(clients)
        pids = [os.getpid(), clients.proc.pid] + [side.server.pid for side in sides if side.server is not None]
        wait_for_quiet(pids, args.quiet_wait)
        started = time.monotonic()
        busy0, ours0 = _cpu_ticks(pids)
        for index in range(args.warmup + args.events):
            for side in sides if index % 2 == 0 else sides[::-1]:
                side.fire(index)
                side.wait_delivery(index)
        busy1, ours1 = _cpu_ticks(pids)
        elapsed = time.monotonic() - started
        other_cores = max(0, (busy1 - busy0) - (ours1 - ours0)) / os.sysconf("SC_CLK_TCK") / elapsed
        for side in sides:
            side.finish()
        return sides[0].run, sides[1].run, other_cores
    finally:
        if clients is not None:
            clients.close()
        for side in sides:
            side.close()


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}"


def _ratio(baseline: float, hall: float) -> str:
    if math.isnan(baseline) or math.isnan(hall) or hall <= 0:
        return "n/a"
    return f"{baseline / hall:.2f}"


ROWS = (
    ("handoff_p50", "server hand-off, median (ms)"),
    ("handoff_p99", "server hand-off, p99 = max of events (ms)"),
    ("handoff_cpu_p50", "server hand-off, CPU time, median (ms)"),
    ("e2e_p50", "end-to-end at clients, p50 (ms)"),
    ("e2e_p99", "end-to-end at clients, p99 (ms)"),
    ("first_p50", "first client to receive, median (ms)"),
    ("spread_p50", "after the event's first client, p50 (ms)"),
    ("spread_p99", "after the event's first client, p99 (ms)"),
)


def report(hall: Run, baseline: Run, other_cores: float, args: argparse.Namespace) -> str:
    out: list[str] = []
    out.append(f"== {hall.clients:,} clients, {args.events} events each (after {args.warmup} warm-up) ==")
    for run in (hall, baseline):
        delivered = f"{run.delivered}/{run.expected} frames delivered"
        errors = f", connect errors {run.connect_errors}" if run.connect_errors else ""
        out.append(
            f"  {run.server:8} {run.connected}/{run.clients} connected in {run.connect_s:.1f}s{errors}; "
            f"{delivered}; events not complete before timeout: {run.incomplete_events}; "
            f"connections closed by server: {run.closed}"
        )
        out.extend(f"  {run.server:8} note: {note}" for note in run.notes)
    busy = "  (the machine was busy: figures are noisy)" if other_cores > 0.3 else ""
    out.append(f"  CPU used by other processes while events ran: {other_cores:.2f} cores{busy}")
    h, b = hall.figures(), baseline.figures()
    out.append(f"  {'figure':44} {'hall':>9} {'baseline':>9} {'baseline/hall':>14}")
    for key, label in ROWS:
        out.append(f"  {label:44} {_fmt(h[key]):>9} {_fmt(b[key]):>9} {_ratio(b[key], h[key]):>14}")
    verdicts = []
    for key in ("handoff_p50", "handoff_p99", "handoff_cpu_p50", "e2e_p50", "e2e_p99"):
        if not (math.isnan(h[key]) or math.isnan(b[key])) and h[key] > 0:
            verdicts.append(f"{key} {'ok' if b[key] / h[key] >= 0.8 else 'BELOW'}")
    out.append(f"  target ratio >= 0.8: {', '.join(verdicts)}")
    if hall.clients >= 5000:
        verdict = "met" if h["handoff_p99"] < 100 else "NOT met"
        out.append(f"  target hall hand-off p99 < 100 ms at 5,000: {verdict} ({_fmt(h['handoff_p99'])} ms)")
    return "\n".join(out)


def describe(args: argparse.Namespace) -> str:
    from importlib.metadata import version

    hall_loop = "uvloop" if uvloop_available() else "asyncio"
    return "\n".join(
        [
            f"date {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; {platform.machine()}, {os.cpu_count()} cores; "
            f"Python {platform.python_version()}, websockets {version('websockets')}, uvicorn {version('uvicorn')}",
            f"hall: `hall serve` (uvicorn loop=auto -> {hall_loop}, ws=realtime.uvicorn_wire.WireProtocol "
            "(websockets-sansio, frames written to the transport), backlog 2048, "
            "no --limit-concurrency, ws ping 20 s, hub heartbeat 15 s)",
            f"baseline: websockets.asyncio.server.serve + broadcast(), compression=None, loop {args.baseline_loop}, "
            "backlog 2048, ping 20 s",
            f"clients: one process for both servers, loop {args.client_loop}, websockets client, compression=None, "
            f"no client pings, garbage collector off once connected, connected {args.batch} at a time; "
            "events alternate between the servers, "
            f"{args.gap}s gap after every client has one",
            "end-to-end = client receive time - frame 'at' (hall: writer clock at the start of the commit batch, "
            "so it includes the SQLite commit; baseline: clock just before broadcast())",
        ]
    )


def bench(args: argparse.Namespace) -> int:
    raise_fd_limit()
    counts = [args.quick_clients] if args.quick else args.clients
    print(describe(args), flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hall-fanout-") as tmp:
        for count in counts:
            workdir = Path(tmp) / f"hall-{count}"
            workdir.mkdir()
            print(f"-- {count:,} clients: connecting, then {args.warmup + args.events} events each ...", flush=True)
            hall, baseline, other_cores = measure(args, count, workdir)
            print(report(hall, baseline, other_cores, args), flush=True)
            results.append(
                {
                    "clients": count,
                    "hall": hall.figures(),
                    "baseline": baseline.figures(),
                    "other_cores": other_cores,
                }
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    default_loop = "uvloop" if uvloop_available() else "asyncio"
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000], help="client counts (1000 5000)")
    parser.add_argument("--quick", action="store_true", help="one small run instead (--quick-clients)")
    parser.add_argument("--quick-clients", type=int, default=200)
    parser.add_argument("--events", type=int, default=20, help="measured events per run (20)")
    parser.add_argument("--warmup", type=int, default=2, help="events sent first and not counted (2)")
    parser.add_argument("--batch", type=int, default=100, help="clients connected at a time (100)")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between delivered events (0.3)")
    parser.add_argument("--event-timeout", type=float, default=30, help="seconds for one event to reach all")
    parser.add_argument("--connect-timeout", type=float, default=30, help="seconds for one client to subscribe")
    parser.add_argument("--connect-seconds-per-client", type=float, default=0.05, help=argparse.SUPPRESS)
    parser.add_argument(
        "--baseline-loop",
        choices=["asyncio", "uvloop"],
        default=default_loop,
        help=f"event loop of the baseline server; default {default_loop}, the loop uvicorn picks for hall",
    )
    parser.add_argument("--client-loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument(
        "--quiet-wait", type=float, default=120, help="wait up to this long for other processes to go idle (120)"
    )
    parser.add_argument("--max-seconds", type=float, default=2400, help="stop everything after this long")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not __package__:
        # Run as a file, bench/ would come first on sys.path in every process that starts from here,
        # and a script's name could shadow a module: run as a module instead.
        env = {**os.environ, "PYTHONPATH": _pythonpath()}
        os.execve(sys.executable, [sys.executable, "-m", "bench.fanout", *argv], env)
    if argv and argv[0] == "_clients":
        sub = argparse.ArgumentParser()
        sub.add_argument("--group", nargs=4, action="append", metavar=("NAME", "URL", "COUNT", "MODE"), default=[])
        sub.add_argument("--batch", type=int, default=100)
        sub.add_argument("--loop", default="asyncio")
        sub.add_argument("--connect-timeout", type=float, default=30)
        opts = sub.parse_args(argv[1:])
        raise_fd_limit()
        use_loop(opts.loop)
        asyncio.run(client_process(opts.group, opts.batch, opts.connect_timeout))
        return 0
    if argv and argv[0] == "_baseline":
        sub = argparse.ArgumentParser()
        sub.add_argument("port", type=int)
        sub.add_argument("--loop", default="asyncio")
        sub.add_argument("--backlog", type=int, default=2048)
        opts = sub.parse_args(argv[1:])
        raise_fd_limit()
        use_loop(opts.loop)
        asyncio.run(baseline_process(opts.port, opts.backlog))
        return 0

    args = _parser().parse_args(argv)

    def watchdog() -> None:
        print(f"fanout: stopped after --max-seconds {args.max_seconds:.0f}", file=sys.stderr, flush=True)
        stop_all()
        os._exit(3)

    timer = threading.Timer(args.max_seconds, watchdog)
    timer.daemon = True
    timer.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return bench(args)
    finally:
        timer.cancel()
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
