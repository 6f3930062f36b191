"""A simulated hall full of virtual devices (devices/virtual.py) and the people around them:
residents arrive along a daily curve and press kiosks, clerks call, serve and finish at their
counters, residents rate. It drives ``hall demo``, ``hall simulate`` and load tests against a real
broker.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from math import exp
from typing import Any, Final

from devices.bus import Connector
from devices.protocol import valid_device_id
from devices.registry import Kind
from devices.residents import Resident, make_resident
from devices.virtual import KEYPAD_KEYS, DeviceOptions, VirtualDevice
from devices.virtual_kinds import (
    CitizenScreen,
    DeviceSpec,
    IdReader,
    Keypad,
    Kiosk,
    Printed,
    RatingPad,
    device_connector,
    device_for,
)
from devices.virtual_messages import Outcome, Reply
from devices.virtual_teardown import cancel_all

__all__ = [
    "KEYPAD_KEYS",
    "CitizenScreen",
    "DeviceOptions",
    "DeviceSpec",
    "HallStats",
    "IdReader",
    "Keypad",
    "Kiosk",
    "Outcome",
    "Printed",
    "RatingPad",
    "Reply",
    "Resident",
    "SimulatedHall",
    "VirtualDevice",
    "arrivals_per_hour",
    "device_connector",
    "device_for",
    "make_resident",
    "plan",
]

log = logging.getLogger(__name__)

# -- a hall ----------------------------------------------------------------------------------


def plan(hall: str, counters: Sequence[int], kiosks: int) -> list[DeviceSpec]:
    """A hall's standard devices: its kiosks, one LED strip, one queue display, and at every
    counter a keypad, a window display, a rating pad, an ID reader and a citizen screen."""
    if kiosks < 0 or len(set(counters)) != len(counters) or any(n < 1 for n in counters):
        raise ValueError("counters are distinct positive numbers and kiosks is not negative")
    specs = [DeviceSpec(f"{hall}-kiosk-{n}", Kind.KIOSK) for n in range(1, kiosks + 1)]
    specs += [DeviceSpec(f"{hall}-led-1", Kind.LED), DeviceSpec(f"{hall}-qd-1", Kind.QUEUE_DISPLAY)]
    at_counter = (
        ("keypad", Kind.KEYPAD),
        ("window", Kind.WINDOW),
        ("rating", Kind.RATING_PAD),
        ("idr", Kind.ID_READER),
        ("screen", Kind.CITIZEN_SCREEN),
    )
    for n in counters:
        specs += [DeviceSpec(f"{hall}-c{n}-{suffix}", kind, n) for suffix, kind in at_counter]
    bad = [spec.id for spec in specs if not valid_device_id(spec.id)]
    if bad:
        raise ValueError(f"hall code {hall!r} makes device ids that are not valid: {', '.join(bad[:3])}")
    return specs


def arrivals_per_hour(local_time: time, *, peak: float = 60.0) -> float:
    """Residents arriving per hour at a time of day: none outside 9:00–17:00, the most around
    10:00, a second peak around 14:45 (85% of the first), a lull over lunch at 15% of peak."""
    hours = local_time.hour + local_time.minute / 60 + local_time.second / 3600
    if not 9 <= hours < 17:
        return 0.0
    morning = exp(-(((hours - 10.0) / 0.8) ** 2) / 2)
    afternoon = 0.85 * exp(-(((hours - 14.75) / 0.9) ** 2) / 2)
    return peak * max(0.15, morning, afternoon)


@dataclass
class HallStats:
    presses: int = 0
    tickets: int = 0
    cards: int = 0  # presses with an ID card swiped at the kiosk
    card_reads: int = 0  # cards read at counters
    calls: int = 0
    no_shows: int = 0
    served: int = 0
    ratings: int = 0
    pauses: int = 0
    refills: int = 0
    failures: int = 0  # events that got no reply after every resend
    refused: Counter[str] = field(default_factory=Counter)  # error replies by code


_PRIORITIES: Final = {"normal": 90, "elderly": 7, "disabled": 2, "military": 1}
_LEVELS: Final = {5: 70, 4: 20, 3: 6, 2: 3, 1: 1}  # mostly satisfied, as halls report


class SimulatedHall:
    """A hall's devices and the people using them, on a clock that runs ``speed`` times faster
    than real time from ``start`` (default: now). Device timers (heartbeat, event resends) keep
    real time; only people hurry."""

    def __init__(
        self,
        hall: str,
        connect: Connector,
        devices: Sequence[DeviceSpec],
        *,
        services: Sequence[str] | Mapping[str, float],
        speed: float = 1.0,
        rng: random.Random | None = None,
        start: datetime | None = None,
        peak_per_hour: float = 60.0,
        card_share: float = 0.3,
        service_minutes: float = 6.0,
        heartbeat: float = 30.0,
        event_timeout: float = 2.0,
        event_retries: int = 5,
        working_day: timedelta | None = None,
    ) -> None:
        if speed <= 0 or not services:
            raise ValueError("speed must be positive and the hall needs services")
        self.hall = hall
        self.speed = speed
        self.rng = rng or random.Random()  # noqa: S311 - simulated behaviour, not secrets
        self.services = dict(services) if isinstance(services, Mapping) else dict.fromkeys(services, 1.0)
        self.peak_per_hour = peak_per_hour
        self.working_day = working_day
        self.card_share = card_share
        self.service_minutes = service_minutes
        self.stats = HallStats()
        self.devices: dict[str, VirtualDevice] = {}
        for spec in devices:
            self.devices[spec.id] = device_for(
                spec,
                hall,
                connect,
                heartbeat=heartbeat,
                event_timeout=event_timeout,
                event_retries=event_retries,
                rng=random.Random(self.rng.getrandbits(64)),  # noqa: S311
            )
        self._start = start or datetime.now().astimezone()
        self._t0: float | None = None
        self._stopped = asyncio.Event()
        self._residents: set[asyncio.Task[None]] = set()

    def kiosks(self) -> list[Kiosk]:
        return [d for d in self.devices.values() if isinstance(d, Kiosk)]

    def at_counter(self, counter: int, kind: Kind) -> VirtualDevice | None:
        return next((d for d in self.devices.values() if d.counter == counter and d.kind is kind), None)

    def counter_status(self, counter: int) -> str | None:
        """The counter's status as its own window display (or citizen screen) shows it; None
        while no display there has shown anything."""
        for kind in (Kind.WINDOW, Kind.CITIZEN_SCREEN):
            shown = self.at_counter(counter, kind)
            if shown is not None and shown.display is not None:
                status = shown.display.get("status")
                return str(status) if status is not None else None
        return None

    def now(self) -> datetime:
        """The hall's simulated local time. With ``working_day`` it runs through the working hours
        again and again from ``start``, so a demo left running never reaches the night."""
        if self._t0 is None:
            return self._start
        elapsed = (asyncio.get_running_loop().time() - self._t0) * self.speed
        if self.working_day is not None:
            elapsed %= self.working_day.total_seconds()
        return self._start + timedelta(seconds=elapsed)

    async def _sleep(self, hall_seconds: float) -> None:
        await asyncio.sleep(hall_seconds / self.speed)

    async def run(self) -> None:
        """Run until ``stop()`` (or cancelled); the devices then leave cleanly."""
        self._t0 = asyncio.get_running_loop().time()
        tasks = [device.start() for device in self.devices.values()]
        people: list[asyncio.Task[None]] = []
        try:
            await asyncio.gather(*(device.online.wait() for device in self.devices.values()))
            people.append(asyncio.create_task(self._arrivals()))
            people.append(asyncio.create_task(self._technician()))
            counters = sorted({d.counter for d in self.devices.values() if d.counter is not None})
            for counter in counters:
                keypad = self.at_counter(counter, Kind.KEYPAD)
                if isinstance(keypad, Keypad):
                    people.append(asyncio.create_task(self._clerk(counter, keypad)))
            await self._stopped.wait()
        finally:
            await cancel_all(*people, *self._residents)
            await asyncio.gather(*(device.stop() for device in self.devices.values()))
            await cancel_all(*tasks)

    def stop(self) -> None:
        self._stopped.set()

    async def _send(self, device: VirtualDevice, event: str, data: Mapping[str, Any]) -> Reply | None:
        """An event whose refusal or silence is counted, not raised: people carry on."""
        try:
            reply = await device.send_event(event, data)
        except TimeoutError:
            self.stats.failures += 1
            return None
        if not reply.ok:
            self.stats.refused[reply.code or "refused"] += 1
        return reply

    async def _arrivals(self) -> None:
        # A Poisson process whose rate follows the day: candidates at the peak rate, each kept
        # with the share the curve gives at its moment (thinning).
        while True:
            await self._sleep(self.rng.expovariate(self.peak_per_hour / 3600))
            rate = arrivals_per_hour(self.now().time(), peak=self.peak_per_hour)
            if self.rng.random() * self.peak_per_hour < rate:
                task = asyncio.create_task(self._resident())
                self._residents.add(task)
                task.add_done_callback(self._residents.discard)

    async def _resident(self) -> None:
        kiosks = self.kiosks()
        if not kiosks:
            return
        # People walk past a kiosk that shows it is out of paper.
        kiosk = self.rng.choice([k for k in kiosks if k.paper != "out"] or kiosks)
        service = self.rng.choices(list(self.services), list(self.services.values()))[0]
        priority = self.rng.choices(list(_PRIORITIES), list(_PRIORITIES.values()))[0]
        data: dict[str, Any] = {"service": service, "priority": priority}
        if self.rng.random() < self.card_share:
            data["card"] = make_resident(self.rng, today=self.now().date()).press_card()
            self.stats.cards += 1
        self.stats.presses += 1
        reply = await self._send(kiosk, "press", data)
        if reply is not None and reply.ok:
            self.stats.tickets += 1

    async def _technician(self) -> None:
        while True:
            await self._sleep(self.rng.uniform(300, 900))
            for kiosk in self.kiosks():
                if kiosk.paper == "out":
                    await kiosk.refill()
                    self.stats.refills += 1

    async def _clerk(self, counter: int, keypad: Keypad) -> None:
        rater = self.at_counter(counter, Kind.RATING_PAD) or self.at_counter(counter, Kind.CITIZEN_SCREEN)
        reader = self.at_counter(counter, Kind.ID_READER)
        while True:
            if self.counter_status(counter) in ("closed", "paused"):
                # Nobody presses the keypad of a counter that is closed (its clerk has not opened
                # it in the console) or paused there: the clerk looks at the window again later.
                await self._sleep(self.rng.uniform(20, 60))
                continue
            called = await self._send(keypad, "call", {})
            if called is None or not called.ok:
                # Nobody waiting: look again in a while.
                await self._sleep(self.rng.uniform(20, 60))
                continue
            self.stats.calls += 1
            await self._sleep(self.rng.uniform(10, 40))  # the resident walks up
            if self.rng.random() < 0.08:
                await self._send(keypad, "recall", {})
                await self._sleep(self.rng.uniform(30, 60))
                if self.rng.random() < 0.6:
                    await self._send(keypad, "no_show", {})
                    self.stats.no_shows += 1
                    continue
            await self._send(keypad, "start", {})
            if isinstance(reader, IdReader) and self.rng.random() < self.card_share:
                card = make_resident(self.rng, today=self.now().date()).card()
                read = await self._send(reader, "card", card)
                if read is not None and read.ok:
                    self.stats.card_reads += 1
            minutes = self.rng.lognormvariate(0, 0.5) * self.service_minutes / 1.133  # mean of e^N(0,.5²)
            await self._sleep(minutes * 60)
            finished = await self._send(keypad, "finish", {})
            if finished is not None and finished.ok:
                self.stats.served += 1
            if rater is not None and self.rng.random() < 0.9:
                await self._sleep(self.rng.uniform(3, 15))
                level = self.rng.choices(list(_LEVELS), list(_LEVELS.values()))[0]
                rated = await self._send(rater, "rate", {"level": level})
                if rated is not None and rated.ok:
                    self.stats.ratings += 1
            if self.rng.random() < 0.03:
                paused = await self._send(keypad, "pause", {})
                if paused is not None and paused.ok:
                    self.stats.pauses += 1
                    await self._sleep(self.rng.uniform(300, 900))
                    await self._send(keypad, "resume", {})
