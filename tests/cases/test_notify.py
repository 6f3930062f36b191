"""The notification outbox's sender and its gateways: every message delivered once, also across kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cases.notify import (
    GatewayError,
    GatewayRejected,
    HttpGateway,
    LogFileGateway,
    Sender,
    default_backoff,
)
from hall.kernel.errors import SettingsError
from hall.runtime import gateway_from_settings
from hall.settings import Settings, from_env
from hall.storage.case_tables import notifications
from hall.storage.database import create_engine
from hall.storage.migrate import upgrade
from tests.conftest import Database, StepClock
from tests.serverproc import free_port
from tests.timing import MS

# -- helpers --------------------------------------------------------------------------------------


async def _add(engine: AsyncEngine, ids: Iterable[str], due: datetime, **values: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(notifications),
            [
                {
                    "id": i,
                    "number": i.split(":")[0],
                    "kind": "accepted",
                    "phone": "13800138000",
                    "text": f"【政务服务】您的办件{i}已受理。",
                    "created_at": due,
                    "next_try_at": due,
                    **values,
                }
                for i in ids
            ],
        )


async def _rows(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return {row.id: row for row in await conn.execute(select(notifications))}


@dataclass
class FakeGateway:
    """Takes every message, or fails as told: ``failures[id]`` is raised in turn, one per attempt."""

    failures: dict[str, list[Exception]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    hold: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message_id: str, phone: str, text: str) -> str:
        self.attempts.append(message_id)
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        await asyncio.sleep(0)  # let a second sender interleave
        waiting = self.failures.get(message_id)
        if waiting:
            raise waiting.pop(0)
        self.sent.append(message_id)
        return f"ref-{message_id}"

    async def aclose(self) -> None:
        return None


# -- the log file gateway -------------------------------------------------------------------------


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_the_log_gateway_writes_one_json_line_per_message_and_a_repeated_id_once(tmp_path: Path) -> None:
    path = tmp_path / "sms" / "notifications.log"
    gateway = LogFileGateway(path)
    first = await gateway.send("C1:accepted", "13800138000", "【政务服务】您的办件C1已受理。")
    second = await gateway.send("C2:accepted", "13900139000", "【政务服务】您的办件C2已受理。")
    again = await gateway.send("C1:accepted", "13800138000", "【政务服务】您的办件C1已受理。")
    assert (first, second, again) == ("log:1", "log:2", "log:1")
    lines = _lines(path)
    assert [line["id"] for line in lines] == ["C1:accepted", "C2:accepted"]
    assert lines[0]["phone"] == "13800138000"
    assert lines[0]["text"] == "【政务服务】您的办件C1已受理。"
    assert datetime.fromisoformat(lines[0]["at"]).tzinfo is not None
    # Phone numbers are personal data: the file is its owner's alone.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_restarted_log_gateway_knows_the_ids_already_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "notifications.log"
    assert await LogFileGateway(path).send("C1:accepted", "13800138000", "one") == "log:1"
    restarted = LogFileGateway(path)
    assert await restarted.send("C1:accepted", "13800138000", "one") == "log:1"
    assert await restarted.send("C2:accepted", "13800138000", "two") == "log:2"
    assert [line["id"] for line in _lines(path)] == ["C1:accepted", "C2:accepted"]


async def test_two_log_gateways_on_one_file_write_an_id_once(tmp_path: Path) -> None:
    path = tmp_path / "notifications.log"
    one, other = LogFileGateway(path), LogFileGateway(path)
    assert await one.send("C1:accepted", "13800138000", "one") == "log:1"
    assert await other.send("C1:accepted", "13800138000", "one") == "log:1"
    assert await other.send("C2:accepted", "13800138000", "two") == "log:2"
    assert await one.send("C2:accepted", "13800138000", "two") == "log:2"
    assert len(_lines(path)) == 2


async def test_a_line_torn_by_a_killed_writer_is_cut_off_and_the_message_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "notifications.log"
    await LogFileGateway(path).send("C1:accepted", "13800138000", "one")
    with path.open("a") as out:
        out.write('{"id": "C2:accepted", "pho')  # the writer died before its line was whole
    assert await LogFileGateway(path).send("C2:accepted", "13800138000", "two") == "log:2"
    assert [line["id"] for line in _lines(path)] == ["C1:accepted", "C2:accepted"]


# -- the HTTP gateway, against a real HTTP server ---------------------------------------------------


@dataclass
class Provider:
    """A stand-in SMS provider: records each request and gives the next scripted answer, else 200."""

    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    answers: list[Response] = field(default_factory=list)
    delay: float = 0.0
    url: str = ""

    async def endpoint(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.json()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answers:
            return self.answers.pop(0)
        return JSONResponse({"ref": f"sms-{len(self.requests)}"})


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    found = Provider()
    app = Starlette(routes=[Route("/sms", found.endpoint, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none", http="h11")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10_000 * MS
    while not server.started:
        assert not task.done(), "the provider did not start"
        assert time.monotonic() < deadline, "the provider did not start in time"
        await asyncio.sleep(0.01)
    found.url = f"http://127.0.0.1:{port}/sms"
    try:
        yield found
    finally:
        server.should_exit = True
        await task


async def test_the_http_gateway_posts_the_message_with_its_idempotency_key_and_token(provider: Provider) -> None:
    gateway = HttpGateway(provider.url, "s3cret", timeout=5)
    try:
        ref = await gateway.send("C1:accepted", "13800138000", "【政务服务】您的办件C1已受理。")
    finally:
        await gateway.aclose()
    assert ref == "sms-1"
    ((headers, body),) = provider.requests
    assert body == {"id": "C1:accepted", "phone": "13800138000", "text": "【政务服务】您的办件C1已受理。"}
    assert headers["idempotency-key"] == "C1:accepted"
    assert headers["authorization"] == "Bearer s3cret"
    assert headers["content-type"] == "application/json"


async def test_without_a_token_none_is_sent_and_an_answer_without_a_reference_gives_the_key(
    provider: Provider,
) -> None:
    provider.answers = [JSONResponse({"id": 4711}), PlainTextResponse("OK"), JSONResponse({"status": "queued"})]
    gateway = HttpGateway(provider.url)
    try:
        refs = [await gateway.send(f"C{n}:ready", "13800138000", "text") for n in range(3)]
    finally:
        await gateway.aclose()
    assert refs == ["4711", "C1:ready", "C2:ready"]
    assert all("authorization" not in headers for headers, _ in provider.requests)


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429, 401, 403, 404])
async def test_a_provider_that_is_down_busy_or_misconfigured_is_worth_another_attempt(
    provider: Provider, status: int
) -> None:
    provider.answers = [PlainTextResponse("try later", status_code=status)]
    gateway = HttpGateway(provider.url)
    try:
        with pytest.raises(GatewayError, match=str(status)):
            await gateway.send("C1:accepted", "13800138000", "text")
    finally:
        await gateway.aclose()


@pytest.mark.parametrize("status", [400, 409, 422])
async def test_a_message_the_provider_refuses_is_refused_for_good(provider: Provider, status: int) -> None:
    provider.answers = [JSONResponse({"error": "invalid phone number"}, status_code=status)]
    gateway = HttpGateway(provider.url)
    try:
        with pytest.raises(GatewayRejected, match="invalid phone number"):
            await gateway.send("C1:accepted", "1380013", "text")
    finally:
        await gateway.aclose()


async def test_an_unreachable_or_slow_provider_is_worth_another_attempt(provider: Provider) -> None:
    nobody = HttpGateway(f"http://127.0.0.1:{free_port()}/sms", timeout=2)
    provider.delay = 1.0
    slow = HttpGateway(provider.url, timeout=0.2)
    try:
        with pytest.raises(GatewayError, match="ConnectError"):
            await nobody.send("C1:accepted", "13800138000", "text")
        with pytest.raises(GatewayError, match="Timeout"):
            await slow.send("C1:accepted", "13800138000", "text")
    finally:
        await nobody.aclose()
        await slow.aclose()


# -- the sender -----------------------------------------------------------------------------------


async def test_each_due_message_is_sent_once_and_marked_sent(engine: AsyncEngine, clock: StepClock) -> None:
    await _add(engine, ["C1:accepted", "C2:accepted", "C3:midway"], clock.now - timedelta(minutes=1))
    await _add(engine, ["C4:accepted"], clock.now + timedelta(minutes=1))  # not due yet
    await _add(engine, ["C5:accepted"], clock.now, status="sent", gateway_ref="earlier")
    gateway = FakeGateway()
    sender = Sender(engine, gateway, clock=clock)
    assert await sender.run_once() == 3
    assert sorted(gateway.sent) == ["C1:accepted", "C2:accepted", "C3:midway"]
    assert await sender.run_once() == 0
    assert len(gateway.attempts) == 3
    rows = await _rows(engine)
    for i in ("C1:accepted", "C2:accepted", "C3:midway"):
        assert (rows[i].status, rows[i].attempts, rows[i].sent_at, rows[i].gateway_ref) == (
            "sent",
            1,
            clock.now,
            f"ref-{i}",
        )
    assert (rows["C4:accepted"].status, rows["C4:accepted"].attempts) == ("pending", 0)
    assert rows["C5:accepted"].gateway_ref == "earlier"
    clock.now += timedelta(minutes=1)
    assert await sender.run_once() == 1
    assert gateway.sent[-1] == "C4:accepted"


async def test_a_batch_sends_the_longest_waiting_messages_first(engine: AsyncEngine, clock: StepClock) -> None:
    for minutes, i in [(3, "late:accepted"), (9, "early:accepted"), (6, "middle:accepted")]:
        await _add(engine, [i], clock.now - timedelta(minutes=minutes))
    gateway = FakeGateway()
    assert await Sender(engine, gateway, clock=clock, batch=2).run_once() == 2
    assert gateway.sent == ["early:accepted", "middle:accepted"]


async def test_the_attempt_is_committed_before_the_message_is_handed_over(database: Database, clock: StepClock) -> None:
    engine = database.engines[0]
    await _add(engine, ["C1:accepted"], clock.now)
    seen: list[tuple[str, int, datetime]] = []

    class Looking(FakeGateway):
        async def send(self, message_id: str, phone: str, text: str) -> str:
            # Another connection sees it: a crash from here on leaves a pending row with its backoff.
            row = (await _rows(other))[message_id]
            seen.append((row.status, row.attempts, row.next_try_at))
            return await super().send(message_id, phone, text)

    other = database.engine()
    assert await Sender(engine, Looking(), clock=clock).run_once() == 1
    assert seen == [("pending", 1, clock.now + default_backoff(1))]


async def test_a_failed_attempt_is_retried_after_its_backoff_under_the_same_id(
    engine: AsyncEngine, clock: StepClock
) -> None:
    await _add(engine, ["C1:accepted"], clock.now)
    gateway = FakeGateway(failures={"C1:accepted": [GatewayError("HTTP 503: busy")]})
    sender = Sender(engine, gateway, clock=clock, backoff=lambda attempt: timedelta(seconds=30 * attempt))
    assert await sender.run_once() == 0
    row = (await _rows(engine))["C1:accepted"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 503: busy")
    assert row.next_try_at == clock.now + timedelta(seconds=30)
    clock.now += timedelta(seconds=29)
    assert await sender.run_once() == 0
    assert gateway.attempts == ["C1:accepted"]
    clock.now += timedelta(seconds=1)
    assert await sender.run_once() == 1
    assert gateway.attempts == ["C1:accepted", "C1:accepted"]
    row = (await _rows(engine))["C1:accepted"]
    assert (row.status, row.attempts, row.last_error, row.gateway_ref) == ("sent", 2, "", "ref-C1:accepted")


def test_the_default_backoff_doubles_from_half_a_minute_up_to_an_hour() -> None:
    waits = [default_backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


async def test_a_message_is_given_up_after_max_attempts(engine: AsyncEngine, clock: StepClock) -> None:
    await _add(engine, ["C1:accepted"], clock.now)
    gateway = FakeGateway(
        failures={"C1:accepted": [GatewayError("down"), RuntimeError("a bug in the gateway"), GatewayError("down")]}
    )
    sender = Sender(engine, gateway, clock=clock, max_attempts=3)
    for _ in range(5):
        assert await sender.run_once() == 0
        clock.now += timedelta(hours=2)
    assert len(gateway.attempts) == 3
    row = (await _rows(engine))["C1:accepted"]
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("failed", 3, "down", None)


async def test_a_message_the_gateway_refuses_fails_at_once(engine: AsyncEngine, clock: StepClock) -> None:
    await _add(engine, ["C1:accepted", "C2:accepted"], clock.now)
    gateway = FakeGateway(failures={"C1:accepted": [GatewayRejected("HTTP 400: invalid phone number")]})
    assert await Sender(engine, gateway, clock=clock).run_once() == 1
    rows = await _rows(engine)
    assert (rows["C1:accepted"].status, rows["C1:accepted"].attempts) == ("failed", 1)
    assert rows["C1:accepted"].last_error == "HTTP 400: invalid phone number"
    assert rows["C2:accepted"].status == "sent"


async def test_over_http_a_503_is_retried_with_the_same_key_and_a_400_fails(
    engine: AsyncEngine, clock: StepClock, provider: Provider
) -> None:
    await _add(engine, ["C1:accepted", "C2:accepted"], clock.now)
    provider.answers = [
        PlainTextResponse("busy", status_code=503),
        JSONResponse({"error": "invalid phone number"}, status_code=400),
    ]
    gateway = HttpGateway(provider.url, "s3cret")
    sender = Sender(engine, gateway, clock=clock)
    try:
        assert await sender.run_once() == 0
        clock.now += default_backoff(1)
        assert await sender.run_once() == 1
    finally:
        await gateway.aclose()
    assert [headers["idempotency-key"] for headers, _ in provider.requests] == [
        "C1:accepted",
        "C2:accepted",
        "C1:accepted",
    ]
    rows = await _rows(engine)
    assert (rows["C1:accepted"].status, rows["C1:accepted"].attempts, rows["C1:accepted"].gateway_ref) == (
        "sent",
        2,
        "sms-3",
    )
    assert (rows["C2:accepted"].status, rows["C2:accepted"].attempts) == ("failed", 1)
    assert "400" in rows["C2:accepted"].last_error


async def test_two_senders_on_one_database_hand_each_message_over_once(database: Database, clock: StepClock) -> None:
    ids = [f"C{n}:accepted" for n in range(20)]
    await _add(database.engines[0], ids, clock.now)
    gateway = FakeGateway()
    one = Sender(database.engines[0], gateway, clock=clock)
    other = Sender(database.engine(), gateway, clock=clock)
    counts = await asyncio.gather(one.run_once(), other.run_once(), one.run_once(), other.run_once())
    assert sum(counts) == len(ids)
    assert sorted(gateway.attempts) == sorted(ids)
    assert all(row.status == "sent" for row in (await _rows(database.engines[0])).values())


async def test_cancelling_the_loop_lets_the_message_in_hand_finish(engine: AsyncEngine) -> None:
    await _add(engine, ["C1:accepted", "C2:accepted"], datetime.now().astimezone())
    gateway = FakeGateway(hold=asyncio.Event())
    task = asyncio.create_task(Sender(engine, gateway).run(interval=3600))
    await asyncio.wait_for(gateway.entered.wait(), 5)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # still with the gateway
    gateway.hold.set()  # type: ignore[union-attr]
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = await _rows(engine)
    assert rows["C1:accepted"].status == "sent"
    assert (rows["C2:accepted"].status, rows["C2:accepted"].attempts) == ("pending", 0)
    assert gateway.attempts == ["C1:accepted"]


async def test_a_woken_loop_sends_a_new_message_without_waiting_for_the_interval(engine: AsyncEngine) -> None:
    gateway = FakeGateway()
    sender = Sender(engine, gateway)
    task = asyncio.create_task(sender.run(interval=3600))
    try:
        await asyncio.sleep(0.1)  # the loop found nothing and waits
        await _add(engine, ["C1:accepted"], datetime.now().astimezone())
        sender.wake()
        await asyncio.wait_for(gateway.entered.wait(), 5)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert gateway.sent == ["C1:accepted"]


async def test_the_loop_comes_back_when_a_retry_falls_due_within_the_interval(engine: AsyncEngine) -> None:
    await _add(engine, ["C1:accepted"], datetime.now().astimezone())
    gateway = FakeGateway(failures={"C1:accepted": [GatewayError("down")]})
    sender = Sender(engine, gateway, backoff=lambda attempt: timedelta(seconds=0.2))
    task = asyncio.create_task(sender.run(interval=3600))
    try:
        deadline = time.monotonic() + 5
        while not gateway.sent and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert gateway.attempts == ["C1:accepted", "C1:accepted"]
    assert gateway.sent == ["C1:accepted"]


# -- settings -------------------------------------------------------------------------------------


def test_the_sms_settings_come_from_the_environment_and_the_token_is_never_shown(tmp_path: Path) -> None:
    settings = from_env(
        {
            "HALL_SMS_URL": "https://sms.example.cn/v1/send",
            "HALL_SMS_TOKEN": "s3cret",
            "HALL_NOTIFY_LOG": str(tmp_path / "sms.log"),
        }
    )
    assert settings.sms_url == "https://sms.example.cn/v1/send"
    assert settings.sms_token == "s3cret"
    assert settings.notify_log == tmp_path / "sms.log"
    assert "s3cret" not in repr(settings)
    assert (from_env({}).sms_url, from_env({}).sms_token, from_env({}).notify_log) == (None, None, None)


def test_a_sms_url_that_is_not_http_stops_the_start() -> None:
    with pytest.raises(SettingsError, match="HALL_SMS_URL"):
        from_env({"HALL_SMS_URL": "sms.example.cn"})


async def test_the_gateway_is_the_sms_provider_when_set_else_a_log_file_beside_the_database(tmp_path: Path) -> None:
    http = gateway_from_settings(Settings(sms_url="https://sms.example.cn/v1/send", sms_token="s3cret"))
    assert isinstance(http, HttpGateway)
    assert http.url == "https://sms.example.cn/v1/send"
    beside = gateway_from_settings(Settings(db_url=f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"))
    assert isinstance(beside, LogFileGateway)
    assert beside.path == tmp_path / "notifications.log"
    chosen = gateway_from_settings(Settings(notify_log=tmp_path / "sms" / "out.log"))
    assert isinstance(chosen, LogFileGateway)
    assert chosen.path == tmp_path / "sms" / "out.log"


# -- exactly once across kill -9 ------------------------------------------------------------------


def _logged(path: Path) -> list[str]:
    """The ids of the complete lines: a line being written as we look is not there yet."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return [json.loads(line)["id"] for line in data[: data.rfind(b"\n") + 1].splitlines()]


class SenderProcess:
    def __init__(self, workdir: Path, db_url: str, log: Path) -> None:
        self.workdir = workdir
        self.db_url = db_url
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, pause: float) -> None:
        with (self.workdir / "sender.out").open("ab") as out:
            command = ["-m", "tests.notifyproc", "--db", self.db_url, "--log", str(self.log), "--pause", str(pause)]
            self.proc = subprocess.Popen(
                [sys.executable, *command, "--backoff", "0.1"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parents[2],
            )

    def output(self) -> str:
        return (self.workdir / "sender.out").read_text(errors="replace")

    def wait_for_lines(self, count: int) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + 30_000 * MS
        while len(_logged(self.log)) < count:
            assert self.proc.poll() is None, f"the sender exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"the sender wrote too little:\n{self.output()}"
            time.sleep(0.002)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.mark.slow
async def test_each_message_is_sent_exactly_once_across_kill_9_and_restarts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    log = tmp_path / "notifications.log"
    engine = create_engine(url)
    ids = [f"XH2026{n:06d}:accepted" for n in range(12)]
    process = SenderProcess(tmp_path, url, log)
    try:
        await upgrade(engine)
        await _add(engine, ids, datetime.now().astimezone() - timedelta(seconds=1))
        in_flight: dict[str, str] = {}
        for kill_at in (3, 7):
            # Each message is held after the log took it and before "sent" is committed: the kill
            # lands there, the one window where a naive sender would send the message again.
            process.start(pause=300 * MS)
            process.wait_for_lines(kill_at)
            process.kill9()
            logged = _logged(log)
            last = logged[-1]
            row = (await _rows(engine))[last]
            assert row.status == "pending", "the kill came after the commit: the test proves nothing"
            in_flight[last] = f"log:{len(logged)}"
        process.start(pause=0)
        deadline = time.monotonic() + 30_000 * MS
        while any(row.status != "sent" for row in (await _rows(engine)).values()):
            assert time.monotonic() < deadline, f"not all sent:\n{process.output()}"
            await asyncio.sleep(0.05)
        process.stop()
        counts = Counter(_logged(log))
        assert sorted(counts) == sorted(ids)
        assert set(counts.values()) == {1}, f"sent more than once: {[i for i, n in counts.items() if n > 1]}"
        rows = await _rows(engine)
        assert all(row.status == "sent" for row in rows.values())
        for message_id, ref in in_flight.items():
            # Handed over again after the restart, and answered with the first delivery's reference.
            assert rows[message_id].attempts == 2
            assert rows[message_id].gateway_ref == ref
    finally:
        process.stop()
        await engine.dispose()
    assert os.path.getsize(log) > 0
