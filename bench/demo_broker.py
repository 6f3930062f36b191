"""The demo's own broker (amqtt in this process, devices/embedded_broker.py) beside Mosquitto,
measured in the same run on the same machine, with the ratio.

Both brokers are set up as the hall runs them: accounts (the server's, one device's) and the
hall's ACL. Mosquitto gets the files of ``hall broker-files`` (devices/mosquitto.py) on a free
loopback port, without persistence; the embedded broker runs in this process's event loop, as it
does in ``hall demo``, with the same clients.

1. QoS 1 with await: one aiomqtt client (the device) publishes N events on its ``evt`` topic,
   awaiting each PUBACK before the next; another (the server, subscribed at QoS 1 to
   ``hall/+/dev/+/evt``) receives them. Time from the first publish to the last message received.
2. QoS 0 drain: ``mosquitto_pub -l`` in a child process floods M telemetry lines at QoS 0 as the
   device; the server's client, subscribed at QoS 0, counts them. Time from the first message
   received to the last (or to 5 s of silence: what arrived is printed).

Each is run ``--runs`` times per broker, alternating; the medians and their ratio (embedded ÷
Mosquitto) are printed. Without Mosquitto installed, there is no baseline and the bench says so.

Run from the repository root:

    python -m bench.demo_broker             # 3 runs of 3,000 QoS 1 events and 30,000 QoS 0 messages
    python -m bench.demo_broker --quick     # 1 run of 1,000 and 10,000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pwd
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt

from bench.common import machine
from devices.embedded_broker import EmbeddedBroker
from devices.mosquitto import hash_secret, write_broker_files
from tests.brokers import find_mosquitto
from tests.serverproc import free_port

DEVICE = "xh-kiosk-1"
EVT = f"hall/xh/dev/{DEVICE}/evt"
TELE = f"hall/xh/dev/{DEVICE}/tele"
PAYLOAD = b'{"v":1,"id":"3f2b9c0e5a6d4e1f8b7a6c5d4e3f2a1b","type":"press","data":{"service":"soc"}}'
SILENCE = 5.0


@dataclass
class Target:
    name: str
    port: int
    server_password: str
    device_password: str


async def qos1_await(target: Target, count: int) -> tuple[float, int]:
    """Messages per second, and how many arrived."""
    async with (
        aiomqtt.Client(
            "127.0.0.1", target.port, username="hall-server", password=target.server_password, identifier="bench-server"
        ) as server,
        aiomqtt.Client(
            "127.0.0.1", target.port, username=DEVICE, password=target.device_password, identifier=DEVICE
        ) as device,
    ):
        await server.subscribe("hall/+/dev/+/evt", qos=1)
        received = 0
        done = asyncio.Event()

        async def count_them() -> None:
            nonlocal received
            async for _ in server.messages:
                received += 1
                if received == count:
                    done.set()
                    return

        reader = asyncio.create_task(count_them())
        start = time.perf_counter()
        for _ in range(count):
            await device.publish(EVT, PAYLOAD, qos=1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await done.wait()
        elapsed = time.perf_counter() - start
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return received / elapsed, received


async def qos0_drain(target: Target, count: int, lines: Path, mosquitto_pub: str) -> tuple[float, int]:
    async with aiomqtt.Client(
        "127.0.0.1",
        target.port,
        username="hall-server",
        password=target.server_password,
        identifier="bench-server",
        max_queued_incoming_messages=0,
    ) as server:
        await server.subscribe("hall/+/dev/+/tele", qos=0)
        command = [mosquitto_pub, "-h", "127.0.0.1", "-p", str(target.port), "-u", DEVICE, "-P"]
        command += [target.device_password, "-i", DEVICE, "-t", TELE, "-q", "0", "-l"]
        with lines.open("rb") as feed:
            flood = await asyncio.create_subprocess_exec(
                *command, stdin=feed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        received, first, last = 0, 0.0, 0.0
        messages = aiter(server.messages)
        with contextlib.suppress(TimeoutError, StopAsyncIteration):
            while received < count:
                async with asyncio.timeout(SILENCE if received else 30):
                    await anext(messages)
                last = time.perf_counter()
                if not received:
                    first = last
                received += 1
        await flood.wait()
    return (received - 1) / (last - first) if received > 1 and last > first else 0.0, received


@contextlib.asynccontextmanager
async def mosquitto(binary: str, directory: Path) -> AsyncIterator[Target]:
    server_password, device_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    port = free_port()
    accounts = {"hall-server": hash_secret(server_password), DEVICE: hash_secret(device_password)}
    user = pwd.getpwuid(os.getuid()).pw_name  # run as root, Mosquitto would drop to "mosquitto"
    config = write_broker_files(directory, port=port, accounts=accounts, persistence=False, user=user)
    log = (directory / "mosquitto.log").open("wb")
    proc = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(500):
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client(
                    "127.0.0.1", port, username="hall-server", password=server_password, identifier="bench-probe"
                ):
                    break
            await asyncio.sleep(0.01)
        yield Target("Mosquitto", port, server_password, device_password)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@contextlib.asynccontextmanager
async def embedded() -> AsyncIterator[Target]:
    device_password = secrets.token_urlsafe(16)
    stored = hash_secret(device_password)

    async def accounts(username: str) -> str | None:
        return stored if username == DEVICE else None

    broker = EmbeddedBroker(accounts, free_port(), secrets.token_urlsafe(16))
    await broker.start()
    try:
        yield Target("embedded amqtt", broker.port, broker.server_password, device_password)
    finally:
        await broker.stop()


async def measure(args: argparse.Namespace) -> int:
    import amqtt

    binary = find_mosquitto()
    mosquitto_pub = shutil.which("mosquitto_pub")
    runs = 1 if args.quick else args.runs
    events = 1000 if args.quick else args.events
    flood = 10_000 if args.quick else args.flood
    print(f"bench.demo_broker, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    from importlib.metadata import version

    print(f"machine: {machine()}; amqtt {amqtt.__version__}, aiomqtt {version('aiomqtt')}")
    if binary is None:
        print("no mosquitto installed: no baseline (install it, e.g. apt-get install mosquitto)")
    results: dict[tuple[str, str], list[float]] = {}
    arrived: dict[tuple[str, str], list[int]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        lines = Path(scratch) / "flood.txt"
        lines.write_bytes(b"\n".join([b'{"v":1,"temperature":41.5,"paper":"ok"}'] * flood) + b"\n")
        makers: list[Callable[[], contextlib.AbstractAsyncContextManager[Target]]] = [embedded]
        if binary is not None:
            makers.insert(0, lambda: mosquitto(binary, Path(scratch) / f"m{secrets.token_hex(3)}"))
        for _ in range(runs):
            for make in makers:
                async with make() as target:
                    tests: list[tuple[str, int, Callable[[], Awaitable[tuple[float, int]]]]] = [
                        ("QoS 1, await each publish", events, lambda: qos1_await(target, events))
                    ]
                    if mosquitto_pub is not None:
                        tests.append(("QoS 0 drain", flood, lambda: qos0_drain(target, flood, lines, mosquitto_pub)))
                    for what, sent, run in tests:
                        rate, got = await run()
                        results.setdefault((target.name, what), []).append(rate)
                        arrived.setdefault((target.name, what), []).append(got)
                        print(f"  {target.name:15} {what:26} {rate:9,.0f} msg/s ({got:,} of {sent:,} arrived)")
    print()
    print(f"{'':28}{'embedded amqtt':>16}{'Mosquitto':>12}{'ratio':>8}   (medians of {runs} runs)")
    for what in ("QoS 1, await each publish", "QoS 0 drain"):
        mine = results.get(("embedded amqtt", what))
        theirs = results.get(("Mosquitto", what))
        if mine is None:
            continue
        ours = statistics.median(mine)
        base = statistics.median(theirs) if theirs else None
        ratio = f"{ours / base:.2f}" if base else "-"
        print(f"{what:28}{ours:>14,.0f}/s{(f'{base:,.0f}/s' if base else '-'):>12}{ratio:>8}")
    lost = any(min(got) < (events if "QoS 1" in what else 1) for (_, what), got in arrived.items())
    return 1 if lost else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=3000, help="QoS 1 events per run")
    parser.add_argument("--flood", type=int, default=30_000, help="QoS 0 messages per run")
    parser.add_argument("--quick", action="store_true")
    return asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
