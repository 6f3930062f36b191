"""The one websocket endpoint, ``/ws``: subscriptions checked per topic, errors as frames.

Anyone may connect (displays and kiosks follow public topics); each subscription is checked
against its topic kind's access rule and, for staff topics, against the halls the person may see.
A bad frame gets an error frame and changes nothing; the connection stays usable.

Who is asking is not the hub's business: the application passes in a function that names the
person behind a connection (the web shell's session lookup), so the hub knows no sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from hall.kernel.i18n import N_
from hall.kernel.roles import Access
from realtime import protocol
from realtime.connection import Outbox
from realtime.hub import Subscriber
from realtime.protocol import Ping, ProtocolError, Subscribe, Unsubscribe
from realtime.sockets import SESSION_ENDED, Identity, StaffSockets
from realtime.topics import TopicError
from realtime.wire import WIRE_EXTENSION, Wire, WireOutbox

log = logging.getLogger(__name__)

MAX_TOPICS = 32
# Seconds a cut client has to read what was sent before its close frame (uvicorn's close timeout).
CLOSE_WAIT = 10.0


# The session behind a connection, or None for anyone (a public screen). Asked again at every
# subscribe, so a connection never gains from a session that has ended.
Identify = Callable[[WebSocket], Awaitable[Identity | None]]


class RealtimeEndpoint:
    """The ASGI app behind ``/ws``. Where the server lends the connection's wire (hall's own
    uvicorn protocol, ``realtime/uvicorn_wire.py``), frames are written to its transport, encoded
    once per event (``realtime/wire.py``). Elsewhere they go out through the server's ``send``
    directly: on a fan-out to thousands of sockets, the per-frame checks of Starlette's
    ``WebSocket.send_text`` cost more than the write itself, and the outbox already knows whether
    the socket is open."""

    access = Access.anyone()

    def __init__(self, identify: Identify) -> None:
        self.identify = identify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        wire: Wire | None = (scope.get("extensions") or {}).get(WIRE_EXTENSION, {}).get("wire")
        outbox: Callable[[int], Outbox]
        if wire is not None:
            outbox = partial(WireOutbox, wire, ws.close)
        else:

            async def push(text: str) -> None:
                await send({"type": "websocket.send", "text": text})

            outbox = partial(Outbox, push, ws.close)
        await serve(ws, outbox, self.identify)


async def serve(ws: WebSocket, outbox: Callable[[int], Outbox], identify: Identify) -> None:
    """Serves one connection; ``outbox`` makes its outbox (bounded to the given backlog) once the
    handshake is done, so no frame is written before it."""
    runtime = ws.app.state.hall
    hub = runtime.hub
    settings = runtime.settings
    await ws.accept()
    sub = Subscriber(outbox(settings.ws_client_buffer))
    try:
        while not sub.outbox.closed:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes")
            try:
                parsed = protocol.parse(raw, settings.ws_max_message)
                match parsed:
                    case Ping():
                        sub.outbox.offer(protocol.pong_frame(parsed.id))
                    case Unsubscribe():
                        hub.unsubscribe(sub, parsed.topic)
                    case Subscribe():
                        await _subscribe(ws, sub, parsed, await _identify(ws, sub, identify))
            except ProtocolError as exc:
                sub.outbox.offer(exc.frame())
    except WebSocketDisconnect:
        pass
    finally:
        hub.drop(sub)
        runtime.staff_sockets.forget(sub.outbox)
        sub.outbox.closed = True
        # A client cut for being slow gets its close frame (4008) once it has read what was sent
        # before it; the server drops the connection as soon as this returns, which would lose
        # that frame (the client would see 1006 and not know why). So wait for it, a while.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_WAIT):
                await sub.outbox.wait_closed()


async def _identify(ws: WebSocket, sub: Subscriber, identify: Identify) -> Identity | None:
    """Who is asking now; files a staff connection under its session, and closes one whose
    session ended or changed since it subscribed (it may hold topics it may no longer see)."""
    sockets: StaffSockets = ws.app.state.hall.staff_sockets
    before = sockets.identity_of(sub.outbox)
    now = await identify(ws)
    if before is not None and now != before:
        sockets.forget(sub.outbox)
        sub.outbox.cut(SESSION_ENDED, "session ended: log in again")
        return None
    if now is not None and before is None:
        sockets.file(sub.outbox, now, lambda: identify(ws))
    return now


async def _subscribe(ws: WebSocket, sub: Subscriber, request: Subscribe, staff: Identity | None) -> None:
    runtime = ws.app.state.hall
    topic = request.topic
    try:
        kind = runtime.hub.registry.kind_of(topic)
    except TopicError as exc:
        raise ProtocolError("bad_topic", str(exc), str(topic)) from None
    if not kind.access.allows(staff.roles if staff else None):
        # Said in words a person reads on a refused page: no role codes or topic kinds in it.
        raise ProtocolError("forbidden", N_("This account may not follow these live updates."), str(topic))
    if not await runtime.sessions.hall_exists(topic.hall_id):
        raise ProtocolError("unknown_hall", N_("no hall with id {hall}"), str(topic), say={"hall": topic.hall_id})
    if staff is not None and not kind.access.public and not await runtime.sessions.may_see_hall(staff, topic.hall_id):
        raise ProtocolError("forbidden", N_("This hall is not yours."), str(topic))
    if topic not in sub.topics and len(sub.topics) >= MAX_TOPICS:
        raise ProtocolError(
            "too_many_topics", N_("at most {limit} topics per connection"), str(topic), say={"limit": MAX_TOPICS}
        )
    await runtime.hub.subscribe(sub, topic, request.since)
