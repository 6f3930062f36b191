"""Frames written straight to a connection's transport: encoded once per event, not once per socket.

Handing one event to thousands of sockets through the ASGI ``send`` costs a message dict, the
server's send coroutine and the websocket framing again for every socket. A server frame is the
same bytes for every client (RFC 6455 §5.1: a server never masks), so the hub's frame is encoded
once and each connection's transport gets those bytes in one ``write``. One write of a whole frame
is atomic on an event loop: the server's own frames on the same transport (pongs, pings, its
close) go in whole writes too, so nothing lands inside one of ours.

A frame written here never has RSV1 set: it is a valid uncompressed message even on a connection
that negotiated permessage-deflate (RFC 7692 §6: compression is per message, and a message sent
uncompressed leaves both sides' compression context as it was).

The server offers a connection's wire to the application (``realtime/uvicorn_wire.py``); where it
does not (another server, the test client), the outbox sends through ASGI as before.
"""

from __future__ import annotations

import struct
from typing import Protocol

from realtime.connection import Close, Outbox

WIRE_EXTENSION = "hall.websocket.wire"

_TEXT_FIN = 0x81  # FIN, RSV1-3 clear, opcode 1 (text): RFC 6455 §5.2

# The last frame encoded. The hub hands the same string object to every subscriber of a topic,
# so an identity check finds it again for each of them: the encoding is paid once per event.
_last: tuple[str, bytes] = ("", b"\x81\x00")


def encode_text(text: str) -> bytes:
    """The whole websocket frame, server to client, carrying ``text`` as one text message."""
    last = _last  # one read: the pair stays consistent even if another thread encodes meanwhile
    if last[0] is text:
        return last[1]
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((_TEXT_FIN, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", _TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, size)
    data = header + payload
    _remember(text, data)
    return data


def _remember(text: str, data: bytes) -> None:
    global _last
    _last = (text, data)


class Wire(Protocol):
    """A websocket connection's transport, as the server lends it to the application."""

    def ready(self) -> bool:
        """True while the connection is open and its transport takes more without pausing."""

    def is_open(self) -> bool:
        """True until a close frame went either way or the transport closes."""

    def write(self, data: bytes) -> None:
        """Write whole frames; only called right after ``ready()`` said True."""

    async def drained(self) -> None:
        """Returns once the transport takes more again, or the connection is gone."""


class Gone(ConnectionError):
    """The connection closed while frames were waiting for it."""


class WireOutbox(Outbox):
    """An outbox that writes each frame's bytes to the transport while it takes them.

    Only when the transport has paused writing (its buffer passed the high-water mark: the client
    reads slower than we write) do frames wait, in the same bounded backlog as the ASGI outbox's,
    behind one task that waits for ``drained()``; past ``limit`` waiting frames the client is cut
    (4008) and resumes from its last sequence number. A closed or closing connection is never
    written: ``ready()`` is asked before every write.
    """

    path = "wire"

    def __init__(self, wire: Wire, close: Close, limit: int) -> None:
        super().__init__(self._write_when_drained, close, limit)
        self._wire = wire

    def offer(self, frame: str) -> bool:
        if self._drainer is None and not self.closed and self._wire.ready():
            self._wire.write(encode_text(frame))
            self.sent += 1
            return True
        # Paused, gone, or frames already waiting: the ASGI outbox's path, with a send that waits.
        return super().offer(frame)

    async def _write_when_drained(self, frame: str) -> None:
        wire = self._wire
        while not wire.ready():
            if not wire.is_open():
                raise Gone("the websocket closed")
            await wire.drained()
        wire.write(encode_text(frame))
