"""How a wired device is reached: its port and line settings, as a value that checks itself.

A device on a wire is registered like any other (kind, counter) and then given a ``Wiring``: the
port (a serial path such as ``/dev/ttyUSB0``, or a pyserial URL: ``socket://host:port`` for an
RS-485-to-Ethernet converter, ``rfc2217://host:port`` for a converter that also carries the line
settings), the line settings (baud, parity, data and stop bits) and, on a bus, its address. Which
protocol it speaks follows from its kind (docs/protocols/serial.md, docs/protocols/idcard.md).

Devices that name the same port share one line: keypads and raters of a row of counters on one
RS-485 pair, or strips and window displays on another. A line speaks one protocol at one speed,
so a device whose settings disagree with the line's others is refused when it is wired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, Final

from devices.registry import Device, Kind, Registry, Status
from hall.kernel.errors import DomainError, Invalid, NotFound
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_


class Protocol(StrEnum):
    KEYPAD_BUS = "keypad_bus"  # FF 68 L L 68 …: keypads and raters, polled
    DISPLAY = "display"  # the hall's 7E protocol: LED strips and window displays
    SAM = "sam"  # AA AA AA 96 69 …: an ID card reader's security module


PROTOCOLS: Final[Mapping[Kind, Protocol]] = {
    Kind.KEYPAD: Protocol.KEYPAD_BUS,
    Kind.RATING_PAD: Protocol.KEYPAD_BUS,
    Kind.LED: Protocol.DISPLAY,
    Kind.WINDOW: Protocol.DISPLAY,
    Kind.ID_READER: Protocol.SAM,
}
BAUDS: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES: Final = ("N", "E", "O")
# Defaults as the protocols give them: 9600 8N1 on the buses, 115200 8N1 for a SAM.
DEFAULT_BAUD: Final[Mapping[Protocol, int]] = {
    Protocol.KEYPAD_BUS: 9600,
    Protocol.DISPLAY: 9600,
    Protocol.SAM: 115200,
}
_PATH = re.compile(r"^/dev/[A-Za-z0-9._/-]{1,100}$|^/tmp/[A-Za-z0-9._/-]{1,100}$")
_URL = re.compile(r"^(socket|rfc2217)://[A-Za-z0-9.\-]{1,100}:[0-9]{1,5}([/?][A-Za-z0-9=&._-]{0,60})?$")


def protocol_of(kind: Kind | None) -> Protocol:
    protocol = PROTOCOLS.get(kind) if kind is not None else None
    if protocol is None:
        names = ", ".join(k.value for k in PROTOCOLS)
        raise Invalid(N_("only these kinds can be wired: {names}"), field="kind", say={"names": names})
    return protocol


# The text encodings of the display protocol, as a device's wiring names them.
ENCODINGS = ("gb18030", "gb2312", "utf-8")


@dataclass(frozen=True)
class Wiring:
    """A wired device's port, line settings and bus address (None for a SAM alone on its line)."""

    port: str
    baud: int = 9600
    parity: str = "N"
    data_bits: int = 8
    stop_bits: int = 1
    address: int | None = None
    # The text encoding a strip or window display declares (docs/protocols/serial.md, Show text).
    encoding: str = "gb18030"

    def __post_init__(self) -> None:
        if not (_PATH.match(self.port) or _URL.match(self.port)) or ".." in self.port:
            raise Invalid(
                N_("port must be a serial device path (/dev/ttyUSB0) or a socket:// or rfc2217:// address"),
                field="port",
            )
        if self.baud not in BAUDS:
            raise Invalid(N_("baud must be one of {names}"), field="baud", say={"names": ", ".join(map(str, BAUDS))})
        if self.parity not in PARITIES:
            raise Invalid(N_("parity must be N, E or O"), field="parity")
        if self.data_bits not in (7, 8):
            raise Invalid(N_("data bits must be 7 or 8"), field="data_bits")
        if self.stop_bits not in (1, 2):
            raise Invalid(N_("stop bits must be 1 or 2"), field="stop_bits")
        if self.address is not None and not 1 <= self.address <= 254:
            raise Invalid(N_("address must be 1 to 254"), field="address")
        if self.encoding not in ENCODINGS:
            raise Invalid(N_("encoding must be one of {names}"), field="encoding", say={"names": ", ".join(ENCODINGS)})

    @property
    def line(self) -> tuple[int, str, int, int]:
        """What every device on one port must agree on."""
        return (self.baud, self.parity, self.data_bits, self.stop_bits)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def wiring_from(data: Mapping[str, Any], kind: Kind | None) -> Wiring:
    """A ``Wiring`` from a request or a stored row, checked for the device's kind: a bus device
    needs its address, a SAM reader has none."""
    protocol = protocol_of(kind)
    port = data.get("port")
    if not isinstance(port, str):
        raise Invalid(N_("port must be a serial device path (/dev/ttyUSB0) or a socket:// or rfc2217:// address"),
                          field="port")  # fmt: skip
    numbers: dict[str, int | None] = {}
    for name, default in (("baud", DEFAULT_BAUD[protocol]), ("data_bits", 8), ("stop_bits", 1), ("address", None)):
        value = data.get(name, default)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise Invalid(N_("{field} must be a whole number"), field=name)
        numbers[name] = value
    parity = data.get("parity", "N")
    if not isinstance(parity, str):
        raise Invalid(N_("parity must be N, E or O"), field="parity")
    address = numbers["address"]
    if protocol is Protocol.SAM and address is not None:
        raise Invalid(N_("an ID card reader has its line to itself: give no address"), field="address")
    if protocol is not Protocol.SAM and address is None:
        raise Invalid(N_("a device on a bus needs its address, 1 to 254"), field="address")
    encoding = data.get("encoding", "gb18030")
    if not isinstance(encoding, str):
        raise Invalid(N_("encoding must be one of {names}"), field="encoding", say={"names": ", ".join(ENCODINGS)})
    if protocol is not Protocol.DISPLAY and encoding != "gb18030":
        raise Invalid(N_("only a strip or a window display shows text in an encoding of its own"), field="encoding")
    return Wiring(
        port,
        baud=int(numbers["baud"] or 0),
        parity=parity.upper(),
        data_bits=int(numbers["data_bits"] or 0),
        stop_bits=int(numbers["stop_bits"] or 0),
        address=address,
        encoding=encoding.lower(),
    )


@dataclass(frozen=True)
class Wired:
    """One wired device as a line sees it."""

    device: str
    kind: Kind
    wiring: Wiring


def check_line(wiring: Wiring, kind: Kind, device: str, others: Iterable[Wired]) -> None:
    """A device joins the line of its port only if it speaks the line's protocol at the line's
    settings, at an address nobody else there has; a SAM reader shares its line with nobody."""
    protocol = protocol_of(kind)
    for other in others:
        if other.device == device or other.wiring.port != wiring.port:
            continue
        if protocol_of(other.kind) is not protocol or protocol is Protocol.SAM:
            raise Invalid(N_("port {port} is taken by {device}, which speaks another protocol"),
                              field="port", port=wiring.port, device=other.device)  # fmt: skip
        if other.wiring.line != wiring.line:
            raise Invalid(N_("the line on {port} runs at other settings (set by {device})"),
                              field="baud", port=wiring.port, device=other.device)  # fmt: skip
        if other.wiring.address == wiring.address:
            raise Invalid(N_("address {address} on {port} is {device}'s already"),
                              field="address", address=wiring.address, port=wiring.port,
                              device=other.device)  # fmt: skip


def wiring_of(device: Device) -> Wiring | None:
    """The device's stored wiring, or None for a device on the network."""
    if device.wire is None or device.kind is None:
        return None
    return wiring_from(device.wire, device.kind)


def wired_devices(registry: Registry) -> list[Wired]:
    return [
        Wired(d.id, d.kind, w)
        for d in registry.devices.values()
        if d.status is Status.ACTIVE and d.kind is not None and (w := wiring_of(d)) is not None
    ]


def wire(registry: Registry, device_id: str, data: Mapping[str, Any] | None) -> Decision[Registry]:
    """A technician wires a registered device to a port (or, with None, takes it off the wire:
    it is then a network device again). The event ``device.wired`` carries the settings."""
    device = registry.devices.get(device_id)
    if device is None:
        raise NotFound(N_("no device '{device}' in this hall"), device=device_id)
    if device.status is not Status.ACTIVE or device.kind is None:
        raise DomainError(N_("only a registered device can be wired"), device=device_id)
    if data is None:
        changed = replace(device, wire=None, transport="mqtt", online=False)
    else:
        wiring = wiring_from(data, device.kind)
        check_line(wiring, device.kind, device_id, wired_devices(registry))
        changed = replace(device, wire=wiring.as_json(), transport="serial")
    fact = Fact("device.wired", {"device": device_id, "wire": changed.wire})
    return Decision(registry.with_device(changed), (fact,), {"device": changed.as_json()}, (changed,))
