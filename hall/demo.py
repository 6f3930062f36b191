"""The demo's simulated hall: residents take tickets and clerks open counters, call, serve, and
sometimes pause, all through the same commands as the kiosk and the counter console, so
``hall demo`` shows a living hall at once. Time runs at the real pace, sped up by ``speed``."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from devices.bus import Connector
from devices.mosquitto import hash_secret
from devices.simulator import SimulatedHall, plan
from hall.database import reading
from hall.events import Command
from hall.runtime import Runtime
from hall.tables import halls, staff
from queueing.store_tables import queue_services

log = logging.getLogger(__name__)

_PAUSE_REASONS = ["午休", "临时离开", "业务咨询"]
# Shares of arrivals by service, and of priority classes, roughly as a district hall sees them.
_ARRIVALS = {"soc": 30, "fund": 20, "hukou": 15, "civil": 15, "disab": 5, "info": 15}
_PRIORITIES = {"normal": 88, "elderly": 6, "disabled": 2, "military": 1, "appointment": 3}


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


async def residents(runtime: Runtime, hall_id: int, rng: random.Random, speed: float) -> None:
    services, weights = zip(*_ARRIVALS.items(), strict=True)
    classes, shares = zip(*_PRIORITIES.items(), strict=True)
    while True:
        # About one arrival every 40 s at a busy district hall, sped up.
        await asyncio.sleep(rng.expovariate(1 / 40) / speed)
        priority = rng.choices(classes, shares)[0]
        args: dict[str, Any] = {"service": rng.choices(services, weights)[0], "priority": priority}
        if priority == "appointment":
            from datetime import UTC, datetime

            args["appointment_at"] = datetime.now(UTC).isoformat()
        await _send(runtime, hall_id, "ticket.issue", "kiosk:demo", **args)


async def clerk(runtime: Runtime, hall_id: int, counter: int, clerk_id: int, rng: random.Random, speed: float) -> None:
    actor = f"staff:{clerk_id}"
    base = {"counter": counter, "clerk": clerk_id}
    await asyncio.sleep(rng.uniform(0, 20) / speed)
    await _send(runtime, hall_id, "counter.open", actor, **base)
    while True:
        if rng.random() < 0.03:
            await _send(runtime, hall_id, "counter.pause", actor, reason=rng.choice(_PAUSE_REASONS), **base)
            await asyncio.sleep(rng.uniform(60, 300) / speed)
            await _send(runtime, hall_id, "counter.resume", actor, **base)
        called = await _send(runtime, hall_id, "ticket.call_next", actor, **base)
        if called is None:
            await asyncio.sleep(rng.uniform(10, 30) / speed)
            continue
        await asyncio.sleep(rng.uniform(5, 30) / speed)
        if rng.random() < 0.1:
            await _send(runtime, hall_id, "ticket.recall", actor, **base)
            await asyncio.sleep(rng.uniform(10, 30) / speed)
        if rng.random() < 0.05:
            await _send(runtime, hall_id, "ticket.no_show", actor, **base)
            continue
        await _send(runtime, hall_id, "ticket.start", actor, **base)
        await asyncio.sleep(rng.uniform(120, 600) / speed)
        done = await _send(runtime, hall_id, "ticket.finish", actor, **base)
        if done and rng.random() < 0.7:
            level = rng.choices([5, 4, 3, 2, 1], [70, 20, 6, 3, 1])[0]
            ticket = done["ticket"]
            await _send(
                runtime, hall_id, "rating.submit", actor, ticket=ticket["id"], service=ticket["service"], level=level
            )


async def simulate_devices(
    runtime: Runtime, hall_id: int, connect: Connector, *, seed: int | None = None, speed: float = 10.0
) -> None:
    """The sample district hall full of devices on the bus: kiosks, an LED strip, a queue display
    and, at every counter, a keypad, a window display, a rating pad, an ID reader and a citizen
    screen (devices/simulator.py). Residents press kiosks; clerks open their counters (as in the
    console) and work them with their keypads. The simulated day starts at 9:00, so people arrive
    at once whatever the hour."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    async with reading(runtime.engine) as conn:
        code = (await conn.execute(select(halls.c.code).where(halls.c.id == hall_id))).scalar_one()
        clerks = [
            row.id
            for row in await conn.execute(
                select(staff.c.id).where(staff.c.hall_id == hall_id, staff.c.roles.contains("clerk"))
            )
        ]
        services = {
            row.code: float(_ARRIVALS.get(row.code, 5))
            for row in await conn.execute(select(queue_services.c.code).where(queue_services.c.hall_id == hall_id))
        }
    counters = list(range(1, 13))
    specs = plan(code, counters, kiosks=2)
    for spec in specs:
        # Each device gets credentials like a real one; the demo's in-process bus does not ask for them.
        await _send(
            runtime,
            hall_id,
            "device.register",
            "system:demo",
            device=spec.id,
            kind=spec.kind.value,
            counter=spec.counter,
            secret_hash=hash_secret(secrets.token_urlsafe(18)),
        )
    for counter, clerk_id in zip(counters, clerks, strict=False):
        await _send(runtime, hall_id, "counter.open", f"staff:{clerk_id}", counter=counter, clerk=clerk_id)
    zone = ZoneInfo(runtime.settings.timezone)
    start = datetime.now(zone).replace(hour=9, minute=0, second=0, microsecond=0)
    hall = SimulatedHall(
        code,
        connect,
        specs,
        services=services,
        speed=speed,
        rng=rng,
        start=start,
        peak_per_hour=90.0,
        working_day=timedelta(hours=8),
    )
    await hall.run()


async def simulate_hall(runtime: Runtime, hall_id: int, *, seed: int | None = None, speed: float = 10.0) -> None:
    """Residents and clerks for the sample district hall until the server stops."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    async with reading(runtime.engine) as conn:
        clerks = [
            row.id
            for row in await conn.execute(
                select(staff.c.id).where(staff.c.hall_id == hall_id, staff.c.roles.contains("clerk"))
            )
        ]
    # Simulated clerks beside the demo's named ones staff the rest of the counters.
    tasks = [asyncio.create_task(residents(runtime, hall_id, rng, speed))]
    for counter, clerk_id in zip(range(1, 13), clerks, strict=False):
        tasks.append(asyncio.create_task(clerk(runtime, hall_id, counter, clerk_id, rng, speed)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
