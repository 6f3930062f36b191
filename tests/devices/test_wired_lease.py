"""Server processes sharing one PostgreSQL share their wired devices too: a serial line is open in
one process at a time (the ``wired lines`` lease), never in two, which would split a keypad bus's
frames between two readers. The others list the line as open elsewhere; a technician's command
asked of one of them is handed to the holder, carried on the line there and answered with its
outcome. When the holder stops, another process opens every line within the lease's retry time,
with the display content it rendered from the log meanwhile, and a key pressed then is acted on
there, once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from devices import keypad_protocol as keypad
from devices import led_protocol as led
from devices.commands import Status as CommandStatus
from devices.serial_drivers import Timing
from devices.service import Devices
from hall.kernel.events import Command
from hall.runtime import Runtime
from hall.settings import Settings
from hall.setup import initialise
from tests.cluster import fresh_database, plain_url, query
from tests.devices.wired_peers import Converter, Displays, Keypads, until
from tests.factories import add_staff
from tests.peers import PG_URL, missing
from tests.site import open_all_week

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres]
FAST = Timing(keypad_reply=0.05, keypad_gap=0.002, display_reply=0.1, display_poll=0.3, sam_reply=0.3, sam_find=0.05)
KEYPAD = "xh-c1-keypad"
STRIP = "xh-led-1"
# The holder's connection listening for handed-over commands (asyncpg quotes the channel).
WIRED_LISTENER = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %hall_wired_commands%'"
)


@contextlib.asynccontextmanager
async def process(url: str) -> AsyncIterator[Runtime]:
    """One server process's runtime on the shared database, with no broker: wired lines only."""
    runtime = Runtime.build(Settings(db_url=url, secret_key="k" * 32))
    assert runtime.devices is not None and runtime.devices.shared
    runtime.devices.serial.timing = FAST
    runtime.devices.serial.backoff = (0.02, 0.1)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def submit(runtime: Runtime, hall: int, name: str, **args: Any) -> None:
    outcome = await runtime.writer.submit(Command(uuid.uuid4().hex, hall, name, "staff:test", args))
    assert outcome.ok, outcome.result


def online(devices: Devices, device: str) -> bool:
    known = devices.gateway.known.device(device)
    return known is not None and known.online


async def calling(runtime: Runtime, hall: int) -> str | None:
    read = await runtime.writer.read_state(hall, "queue")
    assert read is not None
    ticket = read[1].line(1).current
    return read[1].tickets[ticket].number if ticket else None


async def _database() -> AsyncIterator[str]:
    try:
        check = await asyncpg.connect(plain_url(PG_URL))
    except (OSError, asyncpg.PostgresError) as exc:
        missing(f"PostgreSQL at {PG_URL} ({type(exc).__name__})")
    await check.close()
    async with fresh_database(PG_URL) as url:
        yield url


@pytest.fixture
async def shared_url() -> AsyncIterator[str]:
    async for url in _database():
        yield url


async def test_a_wired_line_is_open_in_one_process_and_moves_when_it_stops(shared_url: str) -> None:
    pads, strip = Keypads([4]), Displays([1])
    keypads, strips = Converter(keypad.KeypadDecoder, pads.answer), Converter(led.LedDecoder, strip.answer)
    servers = [await keypads.start(), await strips.start()]
    setup = Runtime.build(Settings(db_url=shared_url, secret_key="k" * 32))
    try:
        ids, _ = await initialise(setup.engine)
        await open_all_week(setup.engine)
        (clerk,) = await add_staff(setup.engine, ids["xh"], 1)
    finally:
        await setup.engine.dispose()
    hall = ids["xh"]

    def shows(number: str) -> bool:
        return any(isinstance(m, led.ShowText) and number in m.text for m in strip.shown[1])

    async with contextlib.AsyncExitStack() as last, contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(process(shared_url))
        await until(lambda: first.devices is not None and first.devices.serial.here, "the first holds the lines")
        second = await last.enter_async_context(process(shared_url))
        one, two = first.devices, second.devices
        assert one is not None and two is not None

        await submit(first, hall, "device.register", device=KEYPAD, kind="keypad", counter=1, secret_hash="x")
        await submit(first, hall, "device.wire", device=KEYPAD, wire={"port": keypads.port, "address": 4})
        await submit(first, hall, "device.register", device=STRIP, kind="led", secret_hash="x")
        await submit(first, hall, "device.wire", device=STRIP, wire={"port": strips.port, "address": 1})
        await submit(first, hall, "counter.open", counter=1, clerk=clerk)
        for _ in range(2):
            await submit(first, hall, "ticket.issue", service="soc")

        # Both processes know the lines (the second from the log); only the first has them open.
        ports = {keypads.port, strips.port}
        await until(lambda: ports <= set(one.serial.lines) and ports <= set(two.serial.lines), "both plan them")
        await until(lambda: online(one, KEYPAD) and online(one, STRIP), "online through the first")
        await until(lambda: online(two, KEYPAD) and online(two, STRIP), "the second hears they are online")
        assert {line.status.state for line in two.serial.lines.values()} == {"elsewhere"}
        assert not two.serial.here

        # A press is acted on once, by the first; the strip shows the call.
        pads.press(keypad.KeyPress(4, keypad.Key.CALL))
        await until(lambda: getattr(one.serial.lines[keypads.port].driver, "acted", 0) == 1, "acted on by the first")
        assert await calling(first, hall) == "A001"
        await until(lambda: shows("A001"), "the call on the strip")

        # A technician's command asked of the second goes over the first's line, with its outcome.
        done = await two.gateway.send(STRIP, "brightness", {"percent": 60})
        assert done.status is CommandStatus.SUCCEEDED, done.result
        assert led.Brightness(60) in strip.shown[1]
        refused = await two.gateway.send(STRIP, "brightness", {"percent": 101})
        assert refused.status is CommandStatus.FAILED
        # The same request twice at once (a retried POST): handed over once, one outcome for both.
        twice = await asyncio.gather(
            *(two.gateway.send(STRIP, "brightness", {"percent": 70}, command_id="retried-1") for _ in range(2))
        )
        assert [c.status for c in twice] == [CommandStatus.SUCCEEDED] * 2
        assert strip.shown[1].count(led.Brightness(70)) == 1

        # The holder's listening connection is killed on its own (an idle timeout, an operator):
        # it listens again and keeps its lines open; commands still reach it.
        listening = await query(shared_url, WIRED_LISTENER)
        assert len(listening) == 1
        await query(shared_url, "SELECT pg_terminate_backend($1)", listening[0]["pid"])
        async with asyncio.timeout(20):
            while [r["pid"] for r in await query(shared_url, WIRED_LISTENER)] in ([], [listening[0]["pid"]]):
                await asyncio.sleep(0.1)
        assert (await two.gateway.send(STRIP, "brightness", {"percent": 80})).status is CommandStatus.SUCCEEDED
        assert (keypads.links, strips.links) == (1, 1)

        # The first stops: the second takes the lease at its next try and opens the lines, and
        # the strip gets the content the second rendered from the log all along.
        strip.shown[1].clear()
        await stack.aclose()
        await until(lambda: two.serial.here, "the second holds the lines")
        await until(lambda: keypads.links == 2 and keypads.open == 1, "the second's link")
        line = two.serial.lines[keypads.port]
        await until(lambda: line.status.state == "open", "open in the second")
        await until(lambda: shows("A001"), "the call on the strip again, from the second")
        pads.press(keypad.KeyPress(4, keypad.Key.RECALL))
        await until(lambda: getattr(line.driver, "acted", 0) == 1, "acted on by the second")
        assert await calling(second, hall) == "A001"
        assert (await two.gateway.send(STRIP, "clear", {})).status is CommandStatus.SUCCEEDED
    for server in servers:
        server.close()
    for converter in (keypads, strips):
        assert converter.most_open == 1, f"two processes had {converter.port} open at once"
        assert converter.links == 2
