"""Wired keypads across a real pty: key frames decoded and turned into committed queue commands per
second, beside the raw byte throughput of the same kind of pty pair measured in the same run.

1. Raw baseline: a pty pair made by socat (``pty,raw,echo=0`` both ends), both ends opened with
   pyserial-asyncio-fast as the server opens a port; one task writes ``--raw-mb`` MiB in 4 KiB
   writes at one end, another reads them at the other. The figure is bytes/s from the first byte
   read to the last, and the same as keypad frames/s (a key frame is 9 bytes).
2. The server in this process (``tests.devicehall.device_hall``: SQLite, WAL, synchronous=FULL, an
   in-memory MQTT stand-in that carries nothing here), with ``--keypads`` keypads at counters
   1..K, each counter opened by its own clerk, all wired to one keypad bus on a new pty pair at
   addresses 1..K. A device task at the far end answers every poll of an address with its next
   key, pause and resume in turn (each a committed ``counter.pause`` / ``counter.resume``; a key
   differs from the last one echoed, so none is taken as a repeat), and moves on when it hears the
   echo. The server polls as in production: an address at a time, echo at once, presses committed
   in order, one at a time, by the line's task. The figure runs from the first press acted on to
   the ``--presses``-th, and counts frames the host's decoder decoded (polls' answers and idles
   included) and presses committed; refused presses are printed and fail the run.

A pty has no baud rate: both figures are what the software does, far above an RS-485 line at
9600 baud (a poll and its answer take about 20 ms there: 50 presses a second per bus at most).

Run from the repository root:

    python -m bench.serial            # 2,000 presses on 3 keypads, 8 MiB raw
    python -m bench.serial --quick    # 300 presses, 2 MiB
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import tempfile
import time
from pathlib import Path
from typing import Any

import serial_asyncio_fast

from bench.common import machine
from devices import keypad_protocol as keypad
from devices.serial_drivers import Timing
from tests.devicehall import device_hall
from tests.devices.wired_peers import FarEnd, PtyPair
from tests.memory_broker import MemoryBroker

FRAME = len(keypad.encode(keypad.KeyPress(1, keypad.Key.CALL)))


async def raw_throughput(where: Path, megabytes: int) -> float:
    pty = PtyPair(where, "raw")
    await pty.plug()
    try:
        _, out = await serial_asyncio_fast.open_serial_connection(url=pty.host, baudrate=9600)
        inp, _ = await serial_asyncio_fast.open_serial_connection(url=pty.device, baudrate=9600)
        total = megabytes * 1024 * 1024
        chunk = b"\x55" * 4096

        async def write() -> None:
            for _ in range(total // len(chunk)):
                out.write(chunk)
                await out.drain()

        writing = asyncio.create_task(write())
        first_read = len(await inp.read(65536))
        got, first = first_read, time.perf_counter()
        # Bounded: a write lost on the way (see docs/protocols/serial.md) must not hang the run.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                while got < total and (data := await inp.read(65536)):
                    got += len(data)
        elapsed = time.perf_counter() - first
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writing
        out.close()
        if got < total:
            print(f"raw pty: only {got:,} of {total:,} bytes arrived")
        return (got - first_read) / elapsed if elapsed > 0 else float("nan")
    finally:
        pty.unplug()


class Presser:
    """The far end of the bench's bus: pause and resume in turn at every address."""

    def __init__(self, addresses: range) -> None:
        self.next = {a: keypad.Key.PAUSE for a in addresses}

    def answer(self, frame: Any) -> bytes | None:
        if isinstance(frame, keypad.Poll) and frame.address in self.next:
            return keypad.encode(keypad.KeyPress(frame.address, self.next[frame.address]))
        if isinstance(frame, keypad.KeyPress) and frame.address in self.next:
            was = self.next[frame.address]
            self.next[frame.address] = keypad.Key.RESUME if was is keypad.Key.PAUSE else keypad.Key.PAUSE
        return None


async def keypad_throughput(where: Path, keypads: int, presses: int) -> dict[str, Any]:
    pty = PtyPair(where, "bus")
    await pty.plug()
    far = FarEnd(pty.device, keypad.KeypadDecoder(), Presser(range(1, keypads + 1)).answer)
    try:
        async with device_hall(where, MemoryBroker().connector()) as hall:
            serial = hall.devices.serial
            serial.timing = Timing(keypad_reply=0.2, keypad_gap=0.0)
            clerks = [hall.clerk, *await hall.more_clerks(keypads - 1)]
            for n in range(1, keypads + 1):
                await hall.register(f"xh-c{n}-keypad", "keypad", counter=n)
                await hall.open_counter(n, clerk=clerks[n - 1])
            far.start()
            for n in range(1, keypads + 1):
                wire = {"port": pty.host, "address": n}
                outcome = await hall.submit("xh", "device.wire", device=f"xh-c{n}-keypad", wire=wire)
                assert outcome.ok, outcome.result
            await hall.settle()
            driver: Any = serial.lines[pty.host].driver
            while driver.acted == 0:
                await asyncio.sleep(0.001)
            start, acted0, frames0 = time.perf_counter(), driver.acted, driver.log.counters.frames
            while driver.acted < acted0 + presses:
                await asyncio.sleep(0.001)
            elapsed = time.perf_counter() - start
            done = driver.acted - acted0
            frames = driver.log.counters.frames - frames0
            return {
                "committed_per_s": done / elapsed,
                "frames_per_s": frames / elapsed,
                "presses": done,
                "seconds": elapsed,
                "refused": dict(driver.refused),
                "bad": driver.log.counters.as_dict(),
            }
    finally:
        await far.stop()
        pty.unplug()


async def main(args: argparse.Namespace) -> int:
    print(f"bench/serial.py, {datetime.date.today()}, {machine(libraries=True)}")
    with tempfile.TemporaryDirectory() as where:
        raw = await raw_throughput(Path(where), args.raw_mb)
        result = await keypad_throughput(Path(where), args.keypads, args.presses)
    raw_frames = raw / FRAME
    print(f"raw pty: {raw / 1e6:.2f} MB/s = {raw_frames:,.0f} key frames/s ({args.raw_mb} MiB)")
    print(
        f"keypad bus, {args.keypads} keypads: {result['presses']} presses in {result['seconds']:.2f} s: "
        f"{result['frames_per_s']:,.0f} frames decoded/s, {result['committed_per_s']:,.0f} committed commands/s "
        f"({result['committed_per_s'] / raw_frames:.2e} × raw key frames/s)"
    )
    # "busy": a press not echoed while the line's presses wait for their commits; the keypad sends
    # it again. Any other refusal is a fault of the run.
    faults = {k: v for k, v in result["refused"].items() if k != "busy"}
    print(f"refused: {result['refused'] or 'none'}; decoder: {result['bad']}")
    return 1 if faults else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keypads", type=int, default=3)
    parser.add_argument("--presses", type=int, default=2000)
    parser.add_argument("--raw-mb", type=int, default=8)
    parser.add_argument("--quick", action="store_true")
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.presses, parsed.raw_mb = 300, 2
    raise SystemExit(asyncio.run(main(parsed)))
