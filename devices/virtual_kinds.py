"""The kinds of virtual device: what each one's hardware does on top of the protocol (a kiosk's
paper roll, a keypad's keys, a rating pad, an ID reader), and how to make one from a spec."""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

from devices.bus import BrokerAddress, Connector, Link, Will, mqtt_connector
from devices.registry import Kind

if TYPE_CHECKING:
    from typing_extensions import Unpack

from devices.residents import Resident, make_resident
from devices.virtual import KEYPAD_KEYS, DeviceOptions, VirtualDevice
from devices.virtual_messages import Outcome, Reply


@dataclass(frozen=True)
class Printed:
    ticket: Any
    escpos: bytes


class Kiosk(VirtualDevice):
    """A ticket kiosk: residents press for a service (with an ID card from its built-in reader,
    if they swipe one), the server answers with the ticket and sends it to the printer. The roll
    holds ``paper`` tickets and reports near_end with ``near_end`` or fewer left."""

    KIND: ClassVar[Kind] = Kind.KIOSK

    def __init__(
        self,
        device_id: str,
        hall: str,
        connect: Connector,
        *,
        paper: int = 500,
        near_end: int = 50,
        **options: Unpack[DeviceOptions],
    ) -> None:
        super().__init__(device_id, hall, self.KIND, connect, **options)
        if paper < 1 or not 0 <= near_end < paper:
            raise ValueError("a roll holds at least one ticket and near_end is less than that")
        self.roll = paper
        self.near_end = near_end
        self.paper_left = paper
        self.prints = 0
        self.printed: deque[Printed] = deque(maxlen=100)  # the latest, for tests and the demo

    @property
    def paper(self) -> Literal["ok", "near_end", "out"]:
        if self.paper_left == 0:
            return "out"
        return "near_end" if self.paper_left <= self.near_end else "ok"

    def telemetry(self) -> dict[str, Any]:
        return {**super().telemetry(), "paper": self.paper}

    async def press(self, service: str, priority: str = "normal", card: Resident | None = None) -> Reply:
        data: dict[str, Any] = {"service": service, "priority": priority}
        if card is not None:
            data["card"] = card.press_card()
        return await self.send_event("press", data)

    async def refill(self) -> None:
        """A new roll, put in by hand; reported at once so the wallboard clears its warning."""
        self.paper_left = self.roll
        await self.send_telemetry()

    async def handle_command(self, name: str, args: Mapping[str, Any]) -> Outcome:
        if name == "print":
            return await self._print(args)
        if name == "paper_refill":
            await self.refill()
            return Outcome.done(paper=self.paper)
        return await super().handle_command(name, args)

    async def _print(self, args: Mapping[str, Any]) -> Outcome:
        escpos = args.get("escpos")
        if not isinstance(escpos, str):
            return Outcome.failed("bad arguments: escpos must be base64 text")
        try:
            data = base64.b64decode(escpos, validate=True)
        except (binascii.Error, ValueError):
            return Outcome.failed("bad arguments: escpos must be base64 text")
        if self.paper == "out":
            return Outcome.failed("paper out")
        before = self.paper
        self.paper_left -= 1
        self.prints += 1
        self.printed.append(Printed(args.get("ticket"), data))
        if self.paper != before:
            await self.send_telemetry()
        return Outcome.done(printed=True)


class Keypad(VirtualDevice):
    """A clerk's call keys at a counter. The server refuses keys at a closed counter."""

    KIND: ClassVar[Kind] = Kind.KEYPAD

    def __init__(self, device_id: str, hall: str, connect: Connector, **options: Unpack[DeviceOptions]) -> None:
        super().__init__(device_id, hall, self.KIND, connect, **options)

    async def key(self, name: str) -> Reply:
        if name not in KEYPAD_KEYS:
            raise ValueError(f"a keypad has the keys {', '.join(KEYPAD_KEYS)}, not {name!r}")
        return await self.send_event(name, {})


class RatingPad(VirtualDevice):
    """A rating pad at a counter: five levels, 1 very dissatisfied to 5 very satisfied."""

    KIND: ClassVar[Kind] = Kind.RATING_PAD

    def __init__(self, device_id: str, hall: str, connect: Connector, **options: Unpack[DeviceOptions]) -> None:
        super().__init__(device_id, hall, self.KIND, connect, **options)

    async def rate(self, level: int) -> Reply:
        if not 1 <= level <= 5:
            raise ValueError("a rating is a level from 1 to 5")
        return await self.send_event("rate", {"level": level})


class CitizenScreen(RatingPad):
    """The counter's resident-facing screen: shows what the server sends and rates like a pad."""

    KIND: ClassVar[Kind] = Kind.CITIZEN_SCREEN


class IdReader(VirtualDevice):
    """An ID card reader at a counter; a read goes to the clerk's intake form."""

    KIND: ClassVar[Kind] = Kind.ID_READER

    def __init__(self, device_id: str, hall: str, connect: Connector, **options: Unpack[DeviceOptions]) -> None:
        super().__init__(device_id, hall, self.KIND, connect, **options)

    async def swipe(self, resident: Resident | None = None) -> Reply:
        card = resident or make_resident(self.rng)
        return await self.send_event("card", card.card())


_CLASSES: Final[Mapping[Kind, Callable[..., VirtualDevice]]] = {
    Kind.KIOSK: Kiosk,
    Kind.KEYPAD: Keypad,
    Kind.RATING_PAD: RatingPad,
    Kind.CITIZEN_SCREEN: CitizenScreen,
    Kind.ID_READER: IdReader,
}


@dataclass(frozen=True)
class DeviceSpec:
    id: str
    kind: Kind
    counter: int | None = None


def device_for(spec: DeviceSpec, hall: str, connect: Connector, **options: Unpack[DeviceOptions]) -> VirtualDevice:
    """The virtual device for a spec: a kind's own class, or a plain display."""
    options["counter"] = spec.counter
    cls = _CLASSES.get(spec.kind)
    if cls is None:
        return VirtualDevice(spec.id, hall, spec.kind, connect, **options)
    return cls(spec.id, hall, connect, **options)


def device_connector(address: BrokerAddress, passwords: Mapping[str, str], **options: Any) -> Connector:
    """A connector for a broker that enforces the hall's accounts: each device logs in with its
    id as username and its own password."""

    @contextlib.asynccontextmanager
    async def connect(client_id: str, will: Will | None) -> AsyncIterator[Link]:
        account = address.with_account(client_id, passwords[client_id])
        async with mqtt_connector(account, **options)(client_id, will) as link:
            yield link

    return connect
