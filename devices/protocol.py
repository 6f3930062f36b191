"""The device protocol on MQTT: topic names, message shapes, and parsers that refuse bad input.

Every topic is ``hall/<hall>/dev/<device>/<channel>``. Devices publish on ``state`` (retained;
the offline one is their Last Will), ``tele``, ``evt`` and ``ack``; the server publishes on
``cmd``, ``display`` (retained, so a rebooted display shows the right thing at once) and
``reply`` (the answer to an event, which is also its end-to-end acknowledgement). Payloads are
JSON objects carrying the schema version ``v``. docs/protocols/mqtt.md has examples.

The parsers are the only door from the bus into the server: they take raw bytes, never trust
them, and either return a typed message or raise ``BadMessage`` with a reason worth logging.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from hall.kernel import jsontext
from hall.kernel.i18n import localized

SCHEMA_VERSION: Final = 1
# Device messages are small; anything bigger is a fault or an attack. The broker refuses
# larger packets too (deploy/mosquitto), this is the server's own guard.
MAX_PAYLOAD: Final = 8192

DEVICE_CHANNELS: Final = frozenset({"state", "tele", "evt", "ack"})

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_HALL = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,48}$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z_-]{1,31}$")
_TELE_KEYS: Final = {
    "paper": str,
    "temperature": float,
    "firmware": str,
    "uptime": float,
    "rssi": float,
    "printer": str,
    "voice": str,
}
PAPER_STATES: Final = ("ok", "near_end", "out")
# A display's sound: it plays; the browser refuses it until someone clicks; the call audio would not
# load or play; switched off.
VOICE_STATES: Final = ("ok", "blocked", "failed", "off")


class BadMessage(ValueError):
    """A message the server will not act on; ``reason`` is a short code for counters and logs."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Refused(BadMessage):
    """A well-formed event that cannot be done now (a closed counter, nothing to rate): answered
    with its code and counted as a refusal, not as a fault of the device."""


@dataclass(frozen=True)
class Address:
    hall: str
    device: str
    channel: str

    @property
    def topic(self) -> str:
        return topic(self.hall, self.device, self.channel)


@dataclass(frozen=True)
class State:
    status: Literal["online", "offline"]
    kind: str | None = None
    firmware: str | None = None


@dataclass(frozen=True)
class Telemetry:
    values: Mapping[str, Any]


@dataclass(frozen=True)
class DeviceEvent:
    """Something a resident or clerk did on a device. ``id`` makes a resend harmless."""

    id: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ack:
    id: str
    ok: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


Message = State | Telemetry | DeviceEvent | Ack


def topic(hall: str, device: str, channel: str) -> str:
    return f"hall/{hall}/dev/{device}/{channel}"


def valid_device_id(value: str) -> bool:
    return bool(_ID.match(value))


def valid_message_id(value: str) -> bool:
    """Event and command ids: 8 to 48 letters, digits or ._:-"""
    return bool(_MESSAGE_ID.match(value))


def parse_topic(name: str) -> Address:
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != "hall" or parts[2] != "dev":
        raise BadMessage("bad_topic", f"not a device topic: {name[:120]!r}")
    _, hall, _, device, channel = parts
    if not _HALL.match(hall):
        raise BadMessage("bad_topic", f"bad hall code {hall[:70]!r}")
    if not _ID.match(device):
        raise BadMessage("bad_topic", f"bad device id {device[:50]!r}")
    if channel not in DEVICE_CHANNELS:
        raise BadMessage("bad_topic", f"devices do not publish on {channel[:20]!r}")
    return Address(hall, device, channel)


def _object(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise BadMessage("too_large", f"{len(payload)} bytes, at most {MAX_PAYLOAD}")
    try:
        data = jsontext.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, jsontext.BadJson):
        raise BadMessage("bad_json", "payload is not UTF-8 JSON of the protocol's shape") from None
    if not isinstance(data, dict):
        raise BadMessage("bad_json", "payload must be a JSON object")
    version = data.get("v")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise BadMessage("bad_version", f"schema version must be {SCHEMA_VERSION}, got {str(version)[:20]!r}")
    return data


def _short_text(data: Mapping[str, Any], name: str, limit: int = 64) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadMessage("bad_field", f"{name} must be text of at most {limit} characters")
    return value


def _message_id(data: Mapping[str, Any]) -> str:
    value = data.get("id")
    if not isinstance(value, str) or not _MESSAGE_ID.match(value):
        raise BadMessage("bad_field", "id must be 8 to 48 letters, digits or ._:-")
    return value


def parse_state(payload: bytes) -> State:
    data = _object(payload)
    status = data.get("status")
    if status not in ("online", "offline"):
        raise BadMessage("bad_field", "status must be 'online' or 'offline'")
    return State(status, _short_text(data, "kind", 32), _short_text(data, "firmware", 32))


def parse_telemetry(payload: bytes) -> Telemetry:
    data = _object(payload)
    values: dict[str, Any] = {}
    for key, kind in _TELE_KEYS.items():
        if key not in data:
            continue
        value = data[key]
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise BadMessage("bad_field", f"{key} must be a finite number")
            values[key] = float(value)
        else:
            values[key] = _short_text(data, key, 32)
    if "paper" in values and values["paper"] not in PAPER_STATES:
        raise BadMessage("bad_field", f"paper must be one of {', '.join(PAPER_STATES)}")
    if "voice" in values and values["voice"] not in VOICE_STATES:
        raise BadMessage("bad_field", f"voice must be one of {', '.join(VOICE_STATES)}")
    if not values:
        raise BadMessage("bad_field", f"telemetry needs one of {', '.join(_TELE_KEYS)}")
    return Telemetry(values)


def parse_event(payload: bytes) -> DeviceEvent:
    data = _object(payload)
    event_id = _message_id(data)
    kind = data.get("type")
    if not isinstance(kind, str) or not _EVENT_TYPE.match(kind):
        raise BadMessage("bad_field", "type must be a short lower-case word")
    body = data.get("data", {})
    if not isinstance(body, dict):
        raise BadMessage("bad_field", "data must be a JSON object")
    return DeviceEvent(event_id, kind, body)


def event_id_of(payload: bytes) -> str | None:
    """The id of an event the parser refused, when it can be read: such an event is answered
    with the reason, so the device stops resending it. None for a message too large to read, not
    a JSON object, or without a valid id."""
    if len(payload) > MAX_PAYLOAD:
        return None
    try:
        data = jsontext.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, jsontext.BadJson):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and _MESSAGE_ID.match(value) else None


def parse_ack(payload: bytes) -> Ack:
    data = _object(payload)
    command_id = _message_id(data)
    ok = data.get("ok")
    if not isinstance(ok, bool):
        raise BadMessage("bad_field", "ok must be true or false")
    result = data.get("result", {})
    if not isinstance(result, dict):
        raise BadMessage("bad_field", "result must be a JSON object")
    return Ack(command_id, ok, result, _short_text(data, "error", 200))


def parse(channel: str, payload: bytes) -> Message:
    if channel == "state":
        return parse_state(payload)
    if channel == "tele":
        return parse_telemetry(payload)
    if channel == "evt":
        return parse_event(payload)
    if channel == "ack":
        return parse_ack(payload)
    raise BadMessage("bad_topic", f"devices do not publish on {channel[:20]!r}")


def encode(body: Mapping[str, Any]) -> bytes:
    return jsontext.dumps({"v": SCHEMA_VERSION, **body}).encode()


def command_message(command_id: str, name: str, args: Mapping[str, Any]) -> bytes:
    return encode({"id": command_id, "name": name, "args": dict(args)})


def reply_message(event_id: str, ok: bool, body: Mapping[str, Any]) -> bytes:
    key = "result" if ok else "error"
    return encode({"id": event_id, "ok": ok, key: dict(body)})


def refusal(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a device is told of a refused command: the same ``code`` and ``message`` as an HTTP
    answer or a websocket error frame (``hall.kernel.errors``), and the ``field`` at fault.

    Every refusal carries a code: a result stored before results had ``code`` (a resent event's
    first answer, from the command log) names it ``error``."""
    said = localized(result)
    told: dict[str, Any] = {k: said[k] for k in ("message", "field") if k in said}
    code = said.get("code") or result.get("error")
    return {"code": str(code) if code else "refused", **told}


def state_message(status: Literal["online", "offline"], **extra: str) -> bytes:
    return encode({"status": status, **extra})
