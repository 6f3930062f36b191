"""What each kind of device may do: its events, turned into the same queue commands that the
kiosk page and the counter console send. Pure: the caller passes the device, the hall's queue
state and the event, and gets back a command to submit (or ``BadMessage``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devices.protocol import BadMessage, DeviceEvent, Refused
from devices.registry import Device, Kind
from hall.kernel.idnumbers import InvalidIdNumber, normalise
from hall.kernel.masking import mask_id, mask_name
from queueing.counters import CounterStatus
from queueing.state import QueueState

KEYPAD_KEYS: Mapping[str, str] = {
    "call": "ticket.call_next",
    "recall": "ticket.recall",
    "start": "ticket.start",
    "finish": "ticket.finish",
    "no_show": "ticket.no_show",
    "pause": "counter.pause",
    "resume": "counter.resume",
    # To the counter named in the event's ``to_counter`` (the keypad bus's transfer key carries it).
    "transfer": "ticket.transfer",
}
# Keys a keypad may send that change no queue state: "evaluate" (请评价) lights the counter's rater,
# which takes a rating for the last finished service whenever one waits.
KEYPAD_SIGNALS = frozenset({"evaluate"})
EVENTS: Mapping[Kind, frozenset[str]] = {
    Kind.KIOSK: frozenset({"press"}),
    Kind.KEYPAD: frozenset(KEYPAD_KEYS) | KEYPAD_SIGNALS,
    Kind.RATING_PAD: frozenset({"rate"}),
    Kind.CITIZEN_SCREEN: frozenset({"rate"}),
    Kind.ID_READER: frozenset({"card"}),
}


@dataclass(frozen=True)
class QueueCommand:
    name: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Card:
    """An ID card read, held briefly: for the clerk's intake form at a counter's reader, or for
    the next ticket taken at the kiosk beside a reader bound to no counter."""

    reader: str
    counter: int | None
    name: str
    id_number: str
    read_at: datetime
    extra: Mapping[str, str]

    def masked(self) -> dict[str, Any]:
        return {"counter": self.counter, "name": self.name, "id_number": mask_id(self.id_number)}

    def public(self) -> dict[str, Any]:
        """What a kiosk screen may show the resident standing there: a card is on, and whose."""
        return {"card": True, "name": mask_name(self.name)}


def _text(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadMessage("bad_field", f"{name} must be text of 1 to {limit} characters")
    return value.strip()


def card_fields(data: Mapping[str, Any]) -> tuple[str, str]:
    """Name and ID number from a card read, the number checked by its GB 11643 check digit."""
    name = _text(data, "name", 50)
    try:
        number = normalise(_text(data, "id_number", 32))
    except InvalidIdNumber as exc:
        raise Refused("bad_id_number", exc.message) from None
    return name, number


def _counter_clerk(device: Device, queue: QueueState | None) -> tuple[int, int]:
    assert device.counter is not None
    assert queue is not None
    counter = queue.counters.get(device.counter)
    if counter is None:
        raise BadMessage("unbound", f"counter {device.counter} is not in this hall")
    if counter.status is CounterStatus.CLOSED or counter.clerk_id is None:
        raise Refused("counter_closed", f"counter {device.counter} is closed: a clerk opens it first")
    return device.counter, counter.clerk_id


# Keys that act on the ticket the counter has called or is serving.
_ON_CURRENT = frozenset({"recall", "start", "finish", "no_show", "transfer"})


def _keypad_ready(queue: QueueState, counter: int, key: str) -> None:
    """A key the counter's state cannot take now, refused with a code of its own for the keypad
    (the rules refuse it too, with a message meant for the console)."""
    current = queue.line(counter).current
    holds = current is not None and current in queue.tickets
    if key == "call" and queue.counters[counter].status is CounterStatus.PAUSED:
        raise Refused("counter_paused", f"counter {counter} is paused: resume it to call")
    if key == "call" and holds:
        number = queue.tickets[current].number if current else ""
        raise Refused("counter_busy", f"counter {counter} still has ticket {number}: finish it first")
    if key in _ON_CURRENT and not holds:
        raise Refused("no_current_ticket", f"counter {counter} has no ticket called or in service")


def _rate(device: Device, queue: QueueState | None, data: Mapping[str, Any]) -> QueueCommand:
    assert queue is not None
    level = data.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
        raise BadMessage("bad_field", "level must be 1 (非常不满意) to 5 (非常满意)")
    finished = [r for r in queue.rateable.values() if r.counter == device.counter]
    if not finished:
        raise Refused("nothing_to_rate", "no finished service at this counter waits for a rating")
    latest = max(finished, key=lambda r: r.finished_at)
    args: dict[str, Any] = {"ticket": latest.ticket, "service": latest.service, "level": level}
    args["source"] = device.kind.value if device.kind else "device"
    aspects = data.get("aspects")
    if aspects is not None:
        if not isinstance(aspects, dict):
            raise BadMessage("bad_field", "aspects must map names to scores")
        args["aspects"] = aspects
    return QueueCommand("rating.submit", args)


def command_name(device: Device, event: DeviceEvent) -> str | None:
    """The name of the command an event becomes, whatever the state: with the event's id it
    makes the command's key, so a resend can be matched to what the first send did."""
    if device.kind is Kind.KIOSK and event.type == "press":
        return "ticket.issue"
    if device.kind is Kind.KEYPAD:
        return KEYPAD_KEYS.get(event.type)
    if device.kind in (Kind.RATING_PAD, Kind.CITIZEN_SCREEN) and event.type == "rate":
        return "rating.submit"
    return None


def command_for(device: Device, queue: QueueState | None, event: DeviceEvent) -> QueueCommand | None:
    """The queue command an event asks for; None for events that change no queue state (a card
    read at a counter is held for the clerk, not logged). Keypads and rating pads need the
    hall's queue state (who holds the counter, what was finished there); a kiosk does not."""
    kind = device.kind
    if kind is None or event.type not in EVENTS.get(kind, frozenset()):
        raise BadMessage("bad_event", f"a {kind.value if kind else 'device'} does not send {event.type!r}")
    data = event.data
    claimed = data.get("counter")
    if claimed is not None and claimed != device.counter:
        # A device speaks for the counter it is bound to; naming another is a fault or a forgery.
        raise BadMessage("wrong_counter", f"bound to counter {device.counter}, spoke for {str(claimed)[:10]}")
    if kind is Kind.KIOSK:
        args: dict[str, Any] = {"service": _text(data, "service", 32)}
        if "priority" in data:
            args["priority"] = _text(data, "priority", 16)
        if "appointment_at" in data:
            # A registered kiosk vouches for the priority it sends: it checked the booking.
            args["appointment_at"] = _text(data, "appointment_at", 40)
        card = data.get("card")
        if card is not None:
            if not isinstance(card, dict):
                raise BadMessage("bad_field", "card must be an object")
            name, number = card_fields(card)
            args["applicant"] = {"name": name, "id_number": number}
        return QueueCommand("ticket.issue", args)
    if kind is Kind.KEYPAD:
        counter, clerk = _counter_clerk(device, queue)
        assert queue is not None
        if event.type in KEYPAD_SIGNALS:
            return None
        _keypad_ready(queue, counter, event.type)
        name = KEYPAD_KEYS[event.type]
        extra: dict[str, Any] = {"reason": "呼叫器暂停"} if event.type == "pause" else {}
        if event.type == "transfer":
            target = data.get("to_counter")
            if not isinstance(target, int) or isinstance(target, bool) or not 1 <= target <= 9999:
                raise BadMessage("bad_field", "to_counter must be a counter number, 1 to 9999")
            extra = {"to_counter": target}
        return QueueCommand(name, {"counter": counter, "clerk": clerk, **extra})
    if kind in (Kind.RATING_PAD, Kind.CITIZEN_SCREEN):
        return _rate(device, queue, data)
    card_fields(data)
    return None


def read_card(device: Device, event: DeviceEvent, now: datetime) -> Card:
    name, number = card_fields(event.data)
    extra = {k: str(v)[:80] for k, v in event.data.items() if k in ("sex", "birth", "nation", "address", "issuer")}
    return Card(device.id, device.counter, name, number, now, extra)


def public_result(name: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """What a device is told back: the ticket's public face, never the applicant."""
    if name == "ticket.issue":
        ticket = result.get("ticket", {})
        return {
            "ticket": ticket.get("id"),
            "number": ticket.get("number"),
            "service": ticket.get("service"),
            "ahead": result.get("ahead"),
            "estimate_minutes": result.get("estimate_minutes"),
            "no_counter": result.get("no_counter"),
        }
    if name == "rating.submit":
        rating = result.get("rating", {})
        return {"rated": True, "level": rating.get("level")}
    ticket = result.get("ticket")
    if isinstance(ticket, dict):
        return {"ticket": ticket.get("id"), "number": ticket.get("number")}
    return {}
