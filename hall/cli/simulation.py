"""``hall simulate``: virtual devices of a hall against an MQTT broker, or wired ones at the far
end of serial ports, optionally registered in the database first."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hall.cli.private_files import write_private
from hall.kernel.errors import SettingsError
from hall.settings import Settings
from hall.storage.database import create_engine
from hall.storage.tables import halls


def _counters(text: str) -> list[int]:
    numbers: set[int] = set()
    try:
        for part in text.split(","):
            first, _, last = part.partition("-")
            numbers.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise SettingsError(f"--counters must look like 1-12 or 1,3,5; got {text!r}") from None
    if not numbers or min(numbers) < 1 or len(numbers) > 200:
        raise SettingsError("--counters must name 1 to 200 counters numbered from 1")
    return sorted(numbers)


async def _register_devices(settings: Settings, hall: str, specs: Sequence[Any]) -> tuple[int, dict[str, str]]:
    """Register the simulated devices in the hall's database, each with a fresh secret (a device
    registered already gets a new one); returns the hall's id and the secrets."""
    import secrets
    import uuid

    from devices.mosquitto import hash_secret
    from hall.kernel.events import Command
    from hall.runtime import core_domains
    from hall.storage.writer import Writer

    engine = create_engine(settings.db_url)
    writer = Writer(engine, core_domains(timezone=settings.timezone))
    passwords: dict[str, str] = {}
    try:
        async with engine.connect() as conn:
            hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == hall))).scalar_one_or_none()
        if hall_id is None:
            raise SettingsError(f"no hall with code {hall!r} in {settings.db_url}")
        await writer.start()
        for spec in specs:
            secret = secrets.token_urlsafe(18)
            fields = {"device": spec.id, "secret_hash": hash_secret(secret)}
            place = {"kind": spec.kind.value, "counter": spec.counter}
            done = await writer.submit(
                Command(uuid.uuid4().hex, hall_id, "device.register", "system:cli", {**fields, **place})
            )
            if not done.ok:
                done = await writer.submit(Command(uuid.uuid4().hex, hall_id, "device.rekey", "system:cli", fields))
            if done.ok:
                passwords[spec.id] = secret
    finally:
        await writer.stop()
        await engine.dispose()
    return hall_id, passwords


async def _hall_services(settings: Settings, hall: str) -> list[str]:
    from hall.storage.queue_tables import queue_services

    engine = create_engine(settings.db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(queue_services.c.code)
                .join(halls, halls.c.id == queue_services.c.hall_id)
                .where(halls.c.code == hall)
            )
            codes = [row.code for row in rows]
    finally:
        await engine.dispose()
    if not codes:
        raise SettingsError(f"hall {hall!r} has no services in {settings.db_url}")
    return codes


def simulate(settings: Settings, args: argparse.Namespace) -> None:
    """Virtual devices of one hall against a broker, until interrupted. With ``--register`` they
    are first registered in the hall's database, each with a fresh secret (written to a file for
    the simulator, and to the broker's password file by ``hall broker-files``)."""
    import json
    import random

    from devices.bus import BrokerAddress, mqtt_connector
    from devices.simulator import SimulatedHall, device_connector, plan

    if not 0 < args.speed <= 1000:
        raise SettingsError("--speed must be above 0 and at most 1000")
    if args.serial and not settings.mqtt_url:
        asyncio.run(_simulate_wired(args.serial, args.speed, args.seed))
        return
    if not settings.mqtt_url:
        raise SettingsError("hall simulate needs a broker (--mqtt mqtt://host:port or HALL_MQTT_URL) or --serial")
    address = BrokerAddress.parse(settings.mqtt_url)
    specs = plan(args.hall, _counters(args.counters), kiosks=args.kiosks)
    services = asyncio.run(_hall_services(settings, args.hall))
    passwords: dict[str, str] = {}
    if args.register:
        _, passwords = asyncio.run(_register_devices(settings, args.hall, specs))
        write_private(Path(args.register), json.dumps(passwords, indent=1))
        print(f"registered {len(passwords)} devices; their secrets are in {args.register}", flush=True)
    if args.passwords:
        passwords = json.loads(Path(args.passwords).read_text())
    connect = device_connector(address, passwords) if passwords else mqtt_connector(address)
    rng = random.Random(args.seed)  # noqa: S311 - a simulation, not a secret
    hall = SimulatedHall(args.hall, connect, specs, services=services, speed=args.speed, rng=rng)
    print(f"simulating {len(specs)} devices of hall {args.hall} on {address.host}:{address.port}", flush=True)

    async def both() -> None:
        wired = asyncio.create_task(_simulate_wired(args.serial, args.speed, args.seed))
        try:
            await hall.run()
        finally:
            wired.cancel()

    asyncio.run(both() if args.serial else hall.run())


async def _simulate_wired(wanted: list[str], speed: float, seed: int | None) -> None:
    """Virtual wired devices (devices/wired_sim.py) at the far end of existing ports, until
    interrupted: the server is given the other end of each (``POST …/devices/{id}/wire``)."""
    import random

    from devices import wired_sim

    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    work: list[Coroutine[Any, Any, None]] = []
    for item in wanted:
        kind, _, port = item.partition(":")
        if not port:
            raise SettingsError(f"--serial {item!r}: give KIND:PORT, e.g. keypads:/dev/ttyUSB1")
        opener = wired_sim.port_opener(port)
        if kind == "keypads":
            bus = wired_sim.KeypadBus([1, 2, 3, 4])
            work += [wired_sim.serve(opener, bus.decoder, bus.answer), wired_sim.clerks_press(bus, rng, 60.0 / speed)]
        elif kind == "strip":
            strips = wired_sim.Strips(list(range(1, 9)))
            work.append(wired_sim.serve(opener, strips.decoder, strips.answer))
        elif kind == "sam":
            reader = wired_sim.SamReader()
            work += [wired_sim.serve(opener, reader.decoder, reader.answer),
                     wired_sim.residents_swipe(reader, rng, 300.0 / speed)]  # fmt: skip
        else:
            raise SettingsError(f"--serial {item!r}: KIND is keypads, strip or sam")
        print(f"simulating {kind} on {port}", flush=True)
    tasks = [asyncio.create_task(job) for job in work]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
