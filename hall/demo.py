"""The demo's simulated clerks: they open, pause, resume and close counters through the same
command path as the counter console, so ``hall demo`` shows a living hall at once."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid

from sqlalchemy import select

from hall.database import reading
from hall.events import Command
from hall.runtime import Runtime
from hall.tables import counters, staff

log = logging.getLogger(__name__)

_PAUSE_REASONS = ["午休", "临时离开", "业务咨询", "系统维护"]


async def simulate_clerks(runtime: Runtime, hall_id: int, *, seed: int | None = None, tick: float = 2.0) -> None:
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    async with reading(runtime.engine) as conn:
        clerks: list[int] = [
            row.id
            for row in await conn.execute(
                select(staff.c.id).where(staff.c.hall_id == hall_id, staff.c.roles.contains("clerk"))
            )
        ]
        rows = (await conn.execute(select(counters).where(counters.c.hall_id == hall_id))).all()
    numbers = [row.number for row in rows]
    # Pick up where an earlier run of the demo left its counters.
    held = {row.clerk_id: row.number for row in rows if row.clerk_id in clerks}
    paused = {row.number for row in rows if row.status == "paused" and row.clerk_id in clerks}
    if not clerks or not numbers:
        log.warning("demo: hall %s has no clerks or counters to simulate", hall_id)
        return
    while True:
        await asyncio.sleep(rng.uniform(tick / 2, tick * 1.5))
        clerk = rng.choice(clerks)
        counter = held.get(clerk)
        if counter is None:
            free = [n for n in numbers if n not in held.values()]
            if not free:
                continue
            counter = rng.choice(free)
            name, args = "counter.open", dict[str, str]()
        elif counter in paused:
            name, args = rng.choice([("counter.resume", {}), ("counter.close", {})])
        else:
            name, args = rng.choice(
                [
                    ("counter.pause", {"reason": rng.choice(_PAUSE_REASONS)}),
                    ("counter.close", {}),
                    ("counter.pause", {"reason": rng.choice(_PAUSE_REASONS)}),
                ]
            )
        outcome = await runtime.writer.submit(
            Command(uuid.uuid4().hex, hall_id, name, f"staff:{clerk}", {"counter": counter, "clerk": clerk, **args})
        )
        if not outcome.ok:
            log.info("demo: %s refused: %s", name, outcome.result.get("message"))
            continue
        if name == "counter.open":
            held[clerk] = counter
        elif name == "counter.close":
            held.pop(clerk, None)
            paused.discard(counter)
        elif name == "counter.pause":
            paused.add(counter)
        else:
            paused.discard(counter)
