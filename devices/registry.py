"""The device registry of a hall as pure rules: which devices exist, what they are, where they sit,
whether they are trusted, and whether they are online.

A device the server has never registered may show up on the bus; it becomes ``pending`` and
nothing it sends is acted on until a technician registers it (kind, counter, credentials).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from hall.kernel.errors import DomainError, NotFound
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_


class Kind(StrEnum):
    KIOSK = "kiosk"  # 排号机: buttons, printer, often a built-in ID reader
    LED = "led"  # hall LED strip: the latest calls
    WINDOW = "window"  # the display above one counter
    QUEUE_DISPLAY = "queue_display"  # the hall's big screen
    RATING_PAD = "rating_pad"  # 评价器 at one counter
    ID_READER = "id_reader"  # 二代证 reader at one counter
    CITIZEN_SCREEN = "citizen_screen"  # the counter's second screen, when it is a device of its own
    KEYPAD = "keypad"  # 呼叫器: the clerk's call keys

    @property
    def at_counter(self) -> bool:
        """Belongs to one counter. An ID reader may also stand beside a kiosk, bound to none."""
        return self in _AT_COUNTER

    @property
    def shows(self) -> bool:
        return self in _DISPLAYS


_AT_COUNTER = frozenset({Kind.WINDOW, Kind.RATING_PAD, Kind.CITIZEN_SCREEN, Kind.KEYPAD})
_DISPLAYS = frozenset({Kind.LED, Kind.WINDOW, Kind.QUEUE_DISPLAY, Kind.CITIZEN_SCREEN})


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True)
class Device:
    id: str
    kind: Kind | None
    status: Status
    counter: int | None = None
    secret_hash: str = ""
    transport: str = "mqtt"
    firmware: str = ""
    online: bool = False
    last_connect: datetime | None = None
    last_disconnect: datetime | None = None
    paper: str = ""
    first_seen: datetime | None = None
    # A wired device's port and line settings (devices.wires.Wiring as JSON); None on the network.
    wire: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """What staff may see: everything but the credentials."""
        return {
            "id": self.id,
            "kind": self.kind.value if self.kind else None,
            "status": self.status.value,
            "counter": self.counter,
            "transport": self.transport,
            "firmware": self.firmware,
            "online": self.online,
            "last_connect": self.last_connect.isoformat() if self.last_connect else None,
            "last_disconnect": self.last_disconnect.isoformat() if self.last_disconnect else None,
            "paper": self.paper,
            "has_secret": bool(self.secret_hash),
            "wire": dict(self.wire) if self.wire is not None else None,
        }


@dataclass(frozen=True)
class Registry:
    devices: Mapping[str, Device] = field(default_factory=dict)
    counters: frozenset[int] = frozenset()

    def with_device(self, device: Device) -> Registry:
        return replace(self, devices={**self.devices, device.id: device})


def _get(registry: Registry, device_id: str) -> Device:
    device = registry.devices.get(device_id)
    if device is None:
        raise NotFound(N_("no device '{device}' in this hall"), device=device_id)
    return device


def _kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        names = ", ".join(k.value for k in Kind)
        raise DomainError(N_("kind must be one of {names}"), field="kind", say={"names": names}) from None


def _check_counter(registry: Registry, kind: Kind, counter: int | None) -> None:
    if counter is not None and counter not in registry.counters:
        raise NotFound(N_("no counter {counter} in this hall"), counter=counter)
    if kind.at_counter and counter is None:
        raise DomainError(
            N_("a {kind} belongs to a counter: give its number"), field="counter", say={"kind": kind.value}
        )


def _decision(registry: Registry, device: Device, fact: Fact, result: Mapping[str, Any]) -> Decision[Registry]:
    return Decision(registry.with_device(device), (fact,), result, (device,))


def seen_unknown(
    registry: Registry, device_id: str, kind: str | None, firmware: str, now: datetime
) -> Decision[Registry]:
    """A device nobody registered spoke on the bus: remember it for a technician, trust nothing."""
    if device_id in registry.devices:
        return Decision(registry, (), {"device": registry.devices[device_id].as_json()})
    claimed = kind if kind in {k.value for k in Kind} else None
    device = Device(device_id, Kind(claimed) if claimed else None, Status.PENDING, firmware=firmware, first_seen=now)
    fact = Fact("device.pending", {"device": device_id, "kind": claimed, "firmware": firmware})
    return _decision(registry, device, fact, {"device": device.as_json()})


def register(
    registry: Registry, device_id: str, kind: str, counter: int | None, secret_hash: str, now: datetime
) -> Decision[Registry]:
    """A technician trusts a device (new, or one waiting as pending) and gives it credentials."""
    known = registry.devices.get(device_id)
    if known is not None and known.status is Status.ACTIVE:
        raise DomainError(N_("device '{device}' is registered already"), device=device_id)
    chosen = _kind(kind)
    _check_counter(registry, chosen, counter)
    if not secret_hash:
        raise DomainError(N_("a registered device needs credentials"), field="secret")
    base = known or Device(device_id, chosen, Status.ACTIVE, first_seen=now)
    device = replace(base, kind=chosen, status=Status.ACTIVE, counter=counter, secret_hash=secret_hash)
    fact = Fact("device.registered", {"device": device_id, "kind": chosen.value, "counter": counter})
    return _decision(registry, device, fact, {"device": device.as_json()})


def bind(registry: Registry, device_id: str, counter: int | None) -> Decision[Registry]:
    device = _get(registry, device_id)
    if device.status is not Status.ACTIVE or device.kind is None:
        raise DomainError(N_("only a registered device can be bound to a counter"), device=device_id)
    _check_counter(registry, device.kind, counter)
    bound = replace(device, counter=counter)
    fact = Fact("device.bound", {"device": device_id, "kind": device.kind.value, "counter": counter})
    return _decision(registry, bound, fact, {"device": bound.as_json()})


def rekey(registry: Registry, device_id: str, secret_hash: str) -> Decision[Registry]:
    device = _get(registry, device_id)
    if device.status is not Status.ACTIVE:
        raise DomainError(N_("only a registered device gets new credentials"), device=device_id)
    if not secret_hash:
        raise DomainError(N_("new credentials are missing"), field="secret")
    changed = replace(device, secret_hash=secret_hash)
    return _decision(registry, changed, Fact("device.rekeyed", {"device": device_id}), {"device": changed.as_json()})


def retire(registry: Registry, device_id: str) -> Decision[Registry]:
    device = _get(registry, device_id)
    if device.status is Status.RETIRED:
        raise DomainError(N_("the device is retired already"), device=device_id)
    # A retired device keeps its row (its history refers to it) but loses its credentials.
    gone = replace(device, status=Status.RETIRED, secret_hash="", online=False, counter=None)
    return _decision(registry, gone, Fact("device.retired", {"device": device_id}), {"device": gone.as_json()})


def presence(registry: Registry, device_id: str, online: bool, firmware: str, now: datetime) -> Decision[Registry]:
    """Online or offline, from the device's own state message, its Will, or a silence too long."""
    device = _get(registry, device_id)
    if device.online == online and (not firmware or firmware == device.firmware):
        return Decision(registry, (), {"device": device.as_json()})
    moved = replace(
        device,
        online=online,
        firmware=firmware or device.firmware,
        last_connect=now if online and not device.online else device.last_connect,
        last_disconnect=now if not online and device.online else device.last_disconnect,
    )
    facts: tuple[Fact, ...] = ()
    if device.online != online:
        data = {"device": device_id, "kind": device.kind.value if device.kind else None, "counter": device.counter}
        facts = (Fact("device.online" if online else "device.offline", data),)
    return Decision(registry.with_device(moved), facts, {"device": moved.as_json()}, (moved,))


def paper(registry: Registry, device_id: str, level: str) -> Decision[Registry]:
    """A kiosk printer's paper: an event only when it changes, so the wallboard can raise it once."""
    device = _get(registry, device_id)
    if device.paper == level:
        return Decision(registry, (), {"device": device.as_json()})
    changed = replace(device, paper=level)
    fact = Fact("device.paper", {"device": device_id, "paper": level, "was": device.paper})
    return _decision(registry, changed, fact, {"device": changed.as_json()})


COMMAND_OUTCOMES = ("succeeded", "failed", "timed_out", "expired")


@dataclass(frozen=True)
class CommandRecord:
    """The final outcome of a command sent to a device, kept for the technician's console."""

    id: str
    device: str
    name: str
    status: str
    attempts: int
    sent_at: datetime | None
    done_at: datetime
    result: Mapping[str, Any]


def command_done(registry: Registry, record: CommandRecord) -> Decision[Registry]:
    _get(registry, record.device)
    if record.status not in COMMAND_OUTCOMES:
        raise DomainError(
            N_("status must be one of {names}"), field="status", say={"names": ", ".join(COMMAND_OUTCOMES)}
        )
    # The result goes with the event too: a process that handed the command to the one holding
    # a wired device's line hears its outcome from the log (devices.wired_relay).
    fact = Fact(
        "device.command",
        {"device": record.device, "id": record.id, "name": record.name, "status": record.status,
         "attempts": record.attempts, "result": dict(record.result)},
    )  # fmt: skip
    return Decision(registry, (fact,), {"command": record.id, "status": record.status}, (record,))
