"""uvicorn's sans-I/O websocket protocol, lending each connection's wire to the application.

hall serves ``/ws`` with uvicorn's ``websockets-sansio`` implementation; this subclass adds one
ASGI extension to each websocket scope (``scope["extensions"]["hall.websocket.wire"]``) holding a
``Wire`` over the connection (``realtime/wire.py``). Nothing else of uvicorn's protocol changes:
the handshake, pings, pongs, the close handshake and flow control are still its own, and the
application still accepts and closes through ASGI. Under any other server the extension is absent
and ``/ws`` sends through ASGI.

What the wire reads of uvicorn's protocol object (``close_sent``, ``disconnected``, ``writable``,
``conn``, ``transport``) is not a public interface; ``tests/realtime/test_wire_server.py`` runs a
real server with this class, so an upgrade of uvicorn that changes them fails there.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from realtime.wire import WIRE_EXTENSION


class UvicornWire:
    """The ``Wire`` of one connection of uvicorn's ``WebSocketsSansIOProtocol``."""

    __slots__ = ("_protocol", "_transport", "_writable")

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        # Set and cleared by the protocol's pause_writing()/resume_writing(): asyncio's flow control.
        self._writable = protocol.writable

    def is_open(self) -> bool:
        protocol = self._protocol
        return (
            protocol.handshake_complete
            and not protocol.close_sent
            and not protocol.disconnected
            and protocol.conn.state is State.OPEN
            and not self._transport.is_closing()
        )

    def ready(self) -> bool:
        return self._writable.is_set() and self.is_open()

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    async def drained(self) -> None:
        # The protocol sets ``writable`` when the connection is lost too, so this never hangs.
        await self._writable.wait()


class WireProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol with the ``hall.websocket.wire`` extension."""

    async def run_asgi(self) -> None:
        extensions = self.scope.get("extensions")
        if extensions is None:
            extensions = self.scope["extensions"] = {}
        extensions[WIRE_EXTENSION] = {"wire": UvicornWire(self)}
        await super().run_asgi()
