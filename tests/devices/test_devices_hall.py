"""A whole hall of devices against a real Mosquitto: everything comes online and works, and a
flood of button presses faster than the server takes them in loses none."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from devices.bus import BrokerAddress, connector_for, dropped_incoming, mqtt_connector
from devices.simulator import Kiosk, SimulatedHall, plan
from hall.storage.database import reading
from hall.storage.queue_tables import tickets
from tests.brokers import Broker
from tests.devicehall import DeviceHall, device_hall

pytestmark = pytest.mark.asyncio


async def _register_all(hall: DeviceHall, specs: list[object]) -> None:
    for spec in specs:
        await hall.register(spec.id, spec.kind.value, counter=spec.counter)  # type: ignore[attr-defined]


async def _until(check: object, timeout: float = 10.0) -> None:
    assert callable(check)
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def test_a_simulated_hall_runs_with_every_device_online(tmp_path: Path, open_broker: Broker) -> None:
    async with device_hall(tmp_path, connector_for(open_broker.url, persistent=True)) as hall:
        specs = plan("xh", [1, 2, 3], kiosks=2)
        await _register_all(hall, specs)
        for counter, clerk in zip((1, 2, 3), await hall.more_clerks(3), strict=True):
            await hall.open_counter(counter, clerk=clerk)
        simulated = SimulatedHall(
            "xh",
            mqtt_connector(BrokerAddress(open_broker.host, open_broker.port)),
            specs,
            services={"soc": 3, "info": 1},
            speed=300,
            rng=random.Random(7),
            peak_per_hour=600,
            heartbeat=1.0,
            start=datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),  # people come in the morning
        )
        running = asyncio.create_task(simulated.run())
        gateway = hall.devices.gateway
        try:
            await _until(lambda: all(gateway.known.device(s.id).online for s in specs))
            await _until(lambda: simulated.stats.served >= 3 and simulated.stats.ratings >= 1, timeout=30)
            assert all(gateway.known.device(s.id).online for s in specs)  # still, after a while of work
        finally:
            simulated.stop()
            await running
        stats = simulated.stats
        assert stats.failures == 0
        assert stats.tickets >= 3 and stats.calls >= 3
        assert not gateway.stats.rejected  # nothing the simulated devices said was refused as bad input
        # Every display got something to show, retained for the next time it starts.
        for spec in specs:
            if spec.kind.shows:
                assert simulated.devices[spec.id].display is not None, spec.id
        # Going away cleanly, each device said so.
        await _until(lambda: not any(gateway.known.device(s.id).online for s in specs))


async def test_a_flood_of_presses_faster_than_the_server_ingests_loses_none(
    tmp_path: Path, open_broker: Broker
) -> None:
    # A tiny incoming queue makes the server's client drop messages under the flood, as any bound
    # would under a big enough one; the devices' resend of unanswered events must make up for it.
    server = connector_for(open_broker.url, persistent=True, incoming_max=100)
    async with device_hall(tmp_path, server) as hall:
        kiosks = [f"xh-kiosk-{n}" for n in range(1, 11)]
        for kiosk in kiosks:
            await hall.register(kiosk, "kiosk")
        connect = mqtt_connector(BrokerAddress(open_broker.host, open_broker.port))
        devices = [Kiosk(k, "xh", connect, paper=10_000, event_timeout=0.5, event_retries=12) for k in kiosks]
        running = [d.start() for d in devices]
        dropped_before = dropped_incoming()
        try:
            await asyncio.gather(*(d.online.wait() for d in devices))
            presses = 40
            replies = await asyncio.gather(*(d.press("soc") for d in devices for _ in range(presses)))
        finally:
            await asyncio.gather(*(d.stop() for d in devices))
            for task in running:
                task.cancel()
        assert all(r.ok for r in replies)
        numbers = [r.result["number"] for r in replies]
        assert len(set(numbers)) == len(numbers) == len(kiosks) * presses  # each press one ticket, no twins
        async with reading(hall.runtime.engine) as conn:
            stored = (await conn.execute(select(func.count()).select_from(tickets))).scalar_one()
        assert stored == len(numbers)
        # The flood did overflow the server's queue, and the resends carried every press through.
        assert dropped_incoming() > dropped_before
        assert sum(d.resends for d in devices) > 0
