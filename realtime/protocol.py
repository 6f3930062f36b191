"""The websocket protocol, without I/O: parse what a client sends, build what the server sends.

Client → server (JSON text frames, at most ``max_size`` bytes):
    {"type": "subscribe", "topic": "hall/1/queue", "since": 120}   # since: last seq seen, optional
    {"type": "unsubscribe", "topic": "hall/1/queue"}
    {"type": "ping", "id": "any"}
Server → client:
    {"type": "subscribed", "topic": ..., "mode": "live" | "replay" | "snapshot", "seq": N}
    {"type": "snapshot", "topic": ..., "seq": N, "data": {...}}
    {"type": "event", "topic": ..., "seq": N, "event": {"type": ..., "data": {...}, "at": ...}}
    {"type": "heartbeat"} · {"type": "pong", "id": ...}
    {"type": "error", "code": ..., "message": ..., "topic"?: ...}   # the connection stays usable
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hall.kernel import jsontext
from hall.kernel.i18n import N_, Text
from realtime.topics import Topic, TopicError

MAX_SINCE = 2**62


class ProtocolError(ValueError):
    """A frame or a subscription refused. ``message`` is an English template filled from ``say``
    (as the errors of ``hall.kernel.errors``); the frame says it in the connection's language."""

    def __init__(self, code: str, message: str, topic: str | None = None, *, say: dict[str, Any] | None = None) -> None:
        self.text = Text(message, say or {})
        self.message = self.text.english
        super().__init__(self.message)
        self.code = code
        self.topic = topic

    def frame(self) -> str:
        return error_frame(self.code, self.text.said(), self.topic)


@dataclass(frozen=True)
class Subscribe:
    topic: Topic
    since: int | None


@dataclass(frozen=True)
class Unsubscribe:
    topic: Topic


@dataclass(frozen=True)
class Ping:
    id: str | int | None


ClientMessage = Subscribe | Unsubscribe | Ping


def parse(text: str | bytes | None, max_size: int) -> ClientMessage:
    if text is None or isinstance(text, bytes):
        raise ProtocolError("bad_frame", N_("send JSON text frames, not binary"))
    if len(text.encode()) > max_size:
        raise ProtocolError("too_large", N_("message larger than {limit} bytes"), say={"limit": max_size})
    try:
        message = jsontext.loads(text)
    except jsontext.BadJson as exc:
        raise ProtocolError("bad_json", N_("message refused: {reason}"), say={"reason": exc.message}) from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_message", N_("message must be a JSON object"))
    kind = message.get("type")
    if kind == "ping":
        ping_id = message.get("id")
        if ping_id is not None and not isinstance(ping_id, str | int):
            raise ProtocolError("bad_message", N_("ping id must be a string or number"))
        return Ping(ping_id if not isinstance(ping_id, str) else ping_id[:64])
    if kind not in ("subscribe", "unsubscribe"):
        raise ProtocolError("unknown_type", N_("unknown message type '{kind}'"), say={"kind": kind})
    raw_topic = message.get("topic")
    try:
        topic = Topic.parse(raw_topic)
    except TopicError as exc:
        raise ProtocolError("bad_topic", str(exc), raw_topic if isinstance(raw_topic, str) else None) from None
    if kind == "unsubscribe":
        return Unsubscribe(topic)
    since = message.get("since")
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or not 0 <= since < MAX_SINCE):
        raise ProtocolError("bad_since", N_("since must be a non-negative whole number"), str(topic))
    return Subscribe(topic, since)


def _dump(frame: dict[str, Any]) -> str:
    return jsontext.dumps(frame)


def error_frame(code: str, message: str, topic: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if topic is not None:
        frame["topic"] = topic
    return _dump(frame)


def subscribed_frame(topic: Topic, mode: str, seq: int) -> str:
    return _dump({"type": "subscribed", "topic": str(topic), "mode": mode, "seq": seq})


def snapshot_frame(topic: Topic, seq: int, data: Any) -> str:
    return _dump({"type": "snapshot", "topic": str(topic), "seq": seq, "data": data})


def event_frame(topic: Topic, seq: int, event: Any) -> str:
    return _dump({"type": "event", "topic": str(topic), "seq": seq, "event": event})


def pong_frame(ping_id: str | int | None) -> str:
    return _dump({"type": "pong", "id": ping_id})


HEARTBEAT = _dump({"type": "heartbeat"})
