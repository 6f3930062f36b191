"""The demo's simulated hall: simulated devices on the bus (devices/simulator.py) take tickets,
call, serve and rate through the same protocol as real ones, so ``hall demo`` shows a living hall
at once. Time runs at the real pace, sped up by ``speed``.

Counters 1–10 are worked by simulated clerks with their keypads; counters 11 and 12, which take
every service, have no simulated device and no simulated clerk: they are for the person trying the
demo, who logs in as clerk11 or clerk12 (free, holding no counter) and works one in the console."""

from __future__ import annotations

import logging
import random
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from devices.bus import Connector
from devices.mosquitto import hash_secret
from devices.simulator import SimulatedHall, plan
from hall.kernel.events import Command
from hall.runtime import Runtime
from hall.storage.database import reading
from hall.storage.queue_tables import queue_services
from hall.storage.tables import halls, staff

log = logging.getLogger(__name__)

# Shares of arrivals by service, roughly as a district hall sees them.
_ARRIVALS = {"soc": 30, "fund": 20, "hukou": 15, "civil": 15, "disab": 5, "info": 15}

# Counters worked by simulated clerks (clerk<n> at counter n) with simulated devices, and those
# left to the visitor, with clerks of their own.
SIMULATED_COUNTERS = tuple(range(1, 11))
FREE_COUNTERS = (11, 12)
FREE_CLERKS = ("clerk11", "clerk12")


async def open_around_the_clock(runtime: Runtime) -> None:
    """A demo runs whenever someone tries it: its hall takes tickets at any hour."""
    week = {str(day): ["00:00", "23:59"] for day in range(7)}
    async with runtime.engine.begin() as conn:
        await conn.execute(update(queue_services).values(week=week, open_on_holidays=True))


async def _send(runtime: Runtime, hall_id: int, name: str, actor: str, **args: Any) -> dict[str, Any] | None:
    outcome = await runtime.writer.submit(Command(uuid.uuid4().hex, hall_id, name, actor, args))
    if not outcome.ok:
        log.debug("demo: %s refused: %s", name, outcome.result.get("message"))
        return None
    return dict(outcome.result)


async def simulate_devices(
    runtime: Runtime,
    hall_id: int,
    connect: Callable[[Mapping[str, str]], Connector],
    *,
    seed: int | None = None,
    speed: float = 10.0,
) -> None:
    """The sample district hall full of devices on the bus: kiosks, an LED strip, a queue display
    and, at each of the simulated counters, a keypad, a window display, a rating pad, an ID reader
    and a citizen screen (devices/simulator.py). Residents press kiosks; clerks open their counters (as in the
    console) and work them with their keypads. The simulated day starts at 9:00, so people arrive
    at once whatever the hour. ``connect`` is given each device's password (device id → password)
    and returns how the devices reach the broker."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    async with reading(runtime.engine) as conn:
        code = (await conn.execute(select(halls.c.code).where(halls.c.id == hall_id))).scalar_one()
        clerks = {
            row.username: row.id
            for row in await conn.execute(
                select(staff.c.username, staff.c.id).where(staff.c.hall_id == hall_id, staff.c.roles.contains("clerk"))
            )
        }
        services = {
            row.code: float(_ARRIVALS.get(row.code, 5))
            for row in await conn.execute(select(queue_services.c.code).where(queue_services.c.hall_id == hall_id))
        }
    counters = list(SIMULATED_COUNTERS)
    specs = plan(code, counters, kiosks=2)
    # A demo database from before kept devices at the visitor's counters: they leave the hall.
    for spec in plan(code, list(FREE_COUNTERS), kiosks=0):
        if spec.counter is not None:
            await _send(runtime, hall_id, "device.retire", "system:demo", device=spec.id)
    passwords: dict[str, str] = {}
    for spec in specs:
        # Each device gets credentials like a real one, fresh at every start, and logs in with them.
        secret = secrets.token_urlsafe(18)
        fields = {"device": spec.id, "secret_hash": hash_secret(secret)}
        registered = await _send(
            runtime,
            hall_id,
            "device.register",
            "system:demo",
            kind=spec.kind.value,
            counter=spec.counter,
            **fields,
        )
        # Registered by an earlier demo on this database: a new secret, as a technician gives one.
        if registered is not None or await _send(runtime, hall_id, "device.rekey", "system:demo", **fields) is not None:
            passwords[spec.id] = secret
    for counter in counters:
        clerk_id = clerks.get(f"clerk{counter}")
        if clerk_id is not None:
            await _send(runtime, hall_id, "counter.open", f"staff:{clerk_id}", counter=counter, clerk=clerk_id)
    zone = runtime.settings.zone
    start = datetime.now(zone).replace(hour=9, minute=0, second=0, microsecond=0)
    hall = SimulatedHall(
        code,
        connect(passwords),
        specs,
        services=services,
        speed=speed,
        rng=rng,
        start=start,
        peak_per_hour=90.0,
        working_day=timedelta(hours=8),
    )
    await hall.run()


async def start_wired(runtime: Runtime, hall_id: int, *, seed: int | None = None, speed: float = 10.0) -> list[str]:
    """Wired devices beside the bus's, on pseudo-terminals (devices/wired_sim.py): a keypad bus
    with the keypads of counters 1 and 2 (their clerks press call on it now and then), a hall LED
    strip and an ID card reader's SAM by the kiosks, registered and wired to their terminals at
    every start (the terminals' paths change). Returns what the banner says of them."""
    from devices import wired_sim

    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    async with reading(runtime.engine) as conn:
        code = (await conn.execute(select(halls.c.code).where(halls.c.id == hall_id))).scalar_one()
    bus, strip, reader = wired_sim.KeypadBus([1, 2]), wired_sim.Strips([1]), wired_sim.SamReader()
    wires = {name: wired_sim.PtyWire() for name in ("keypads", "strip", "sam")}
    devices = [
        (f"{code}-c1-wired-keypad", "keypad", 1, "keypads", 1),
        (f"{code}-c2-wired-keypad", "keypad", 2, "keypads", 2),
        (f"{code}-wired-led", "led", None, "strip", 1),
        (f"{code}-wired-idr", "id_reader", None, "sam", None),
    ]
    for device, kind, counter, line, address in devices:
        # No secret is ever used on a wire, but a registered device has one: made and forgotten.
        secret = hash_secret(secrets.token_urlsafe(18))
        await _send(runtime, hall_id, "device.register", "system:demo", device=device, kind=kind, counter=counter,
                    secret_hash=secret)  # fmt: skip
        settings = {"port": wires[line].path, "address": address}
        if await _send(runtime, hall_id, "device.wire", "system:demo", device=device, wire=settings) is None:
            log.warning("demo: %s could not be wired to %s", device, wires[line].path)
    ends: list[tuple[wired_sim.PtyWire, Any]] = [
        (wires["keypads"], bus),
        (wires["strip"], strip),
        (wires["sam"], reader),
    ]
    for wire, end in ends:
        runtime.spawn(wired_sim.serve(wire.streams, end.decoder, end.answer), name=f"demo-wire:{wire.path}")
    # Sped up like the rest of the hall: at 10× a clerk presses about every 6 s.
    runtime.spawn(wired_sim.clerks_press(bus, rng, 60.0 / speed), name="demo-wired-clerks")
    runtime.spawn(wired_sim.residents_swipe(reader, rng, 300.0 / speed), name="demo-wired-cards")
    return [
        f"keypad bus {wires['keypads'].path} (counters 1 and 2, addresses 1 and 2)",
        f"LED strip {wires['strip'].path} (address 1)",
        f"ID card reader (SAM) {wires['sam'].path}",
    ]
