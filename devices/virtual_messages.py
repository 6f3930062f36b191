"""What a virtual device reads from the server and writes back to it, apart from the device's
connection and timing: the reply to an event, the outcome of a command and the ack that reports
it, each checked by the server's own parsers (devices/protocol.py).

Kept apart from devices/virtual.py so the messages stay pure (no asyncio, no broker): a simulated
device's words can be tested, and judged by the import contracts, without a bus.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devices.protocol import MAX_PAYLOAD, SCHEMA_VERSION, BadMessage, encode, parse


@dataclass(frozen=True)
class Reply:
    """The server's answer to an event: a result, or an error with a code and a message."""

    id: str
    ok: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    error: Mapping[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        value = self.error.get("code")
        return str(value) if value is not None else None

    @property
    def message(self) -> str | None:
        value = self.error.get("message")
        return str(value) if value is not None else None


@dataclass(frozen=True)
class Outcome:
    """What a command did, as its ack reports it."""

    ok: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    reboot: bool = False  # once the ack is out: offline, a clean disconnect, connect again

    @classmethod
    def done(cls, **result: Any) -> Outcome:
        return cls(True, result)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        return cls(False, {}, error)


def device_object(payload: bytes) -> dict[str, Any] | None:
    """A server message as a device reads it: small, JSON, an object, schema version 1."""
    if len(payload) > MAX_PAYLOAD:
        return None
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    version = data.get("v")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        return None
    return data


def read_reply(payload: bytes) -> Reply | None:
    """The server's reply to an event, or None when a device could not read it."""
    data = device_object(payload)
    if data is None or not isinstance(data.get("id"), str) or not isinstance(data.get("ok"), bool):
        return None
    result = data.get("result")
    error = data.get("error")
    if isinstance(error, str):
        error = {"code": error, "message": error}
    return Reply(
        data["id"],
        data["ok"],
        result if isinstance(result, dict) else {},
        error if isinstance(error, dict) else {},
    )


def checked(channel: str, payload: bytes) -> bytes:
    """Only what the server's parser accepts leaves the device (raises ``BadMessage``)."""
    parse(channel, payload)
    return payload


def answerable(command_id: str) -> bool:
    """An id the server's parser would refuse in our ack cannot be acknowledged at all."""
    try:
        ack(command_id, Outcome.done())
    except BadMessage:
        return False
    return True


def ack_or_failure(command_id: str, outcome: Outcome) -> bytes:
    try:
        return ack(command_id, outcome)
    except BadMessage:
        return ack(command_id, Outcome.failed("result too large"))


def ack(command_id: str, outcome: Outcome) -> bytes:
    body: dict[str, Any] = {"id": command_id, "ok": outcome.ok, "result": dict(outcome.result)}
    if not outcome.ok:
        body["error"] = (outcome.error or "failed")[:200]
    return checked("ack", encode(body))
