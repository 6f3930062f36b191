"""A real MQTT broker inside the server's own process, for ``hall demo``: amqtt on a local port,
in the same event loop as the server, so a fresh machine needs nothing but pip.

It is a broker like any other to whoever connects: a technician may watch the traffic with
``mosquitto_sub``, a kiosk or ``hall simulate`` may join it. It is held to the hall's rules as
Mosquitto is with the files ``hall broker-files`` writes (devices/mosquitto.py):

- the server's account, and each registered device with its id as username and its own password,
  checked against the registry's ``$7$`` hash at every connect (a device registered in the console
  is let in at once, with no reload);
- a device publishes only on its own ``state``, ``tele``, ``evt`` and ``ack`` and reads only its own
  ``cmd``, ``display`` and ``reply``; its Will must be one of its own topics; its client id must be
  its username, so no device can take over another's session;
- while it listens on loopback only, anyone may connect without an account to *read* ``hall/#``
  (the demo's trial access for ``mosquitto_sub``); such a client publishes nothing, not even a Will.

amqtt falls short of Mosquitto in a few things this module mends and in some it does not; both are
listed in docs/architecture.md (section Devices).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import BrokerError, MQTTError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.plugins.base import BaseAuthPlugin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from devices.bus import BrokerAddress
from devices.mosquitto import DEFAULT_SERVER_USER, DEVICE_READS, DEVICE_WRITES, hash_secret, verify_secret
from hall.storage.database import reading
from hall.storage.device_tables import devices

log = logging.getLogger(__name__)

# The port a technician expects; when it is taken (a Mosquitto already runs there) the demo tries
# the next ones, up to this many.
DEFAULT_PORT = 1883
PORT_TRIES = 20

StoredHash = Callable[[str], Awaitable[str | None]]
"""The stored ``$7$`` hash of an account (a device id), or None when it may not connect."""


class PortTaken(OSError):
    """No port to listen on: the one asked for (or every one tried) is in use."""


# -- who may do what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """The ACL of devices/mosquitto.py, as a function: ``username`` None is an anonymous client."""

    server_user: str = DEFAULT_SERVER_USER
    anonymous_read: bool = False

    def may(self, username: str | None, topic: str, action: str) -> bool:
        """``action``: ``publish`` a topic, ``subscribe`` to a filter, ``receive`` a message."""
        levels = topic.split("/")
        if levels[0] != "hall" or len(levels) < 2:
            return False
        if username == self.server_user:
            return True
        if username is None:
            return self.anonymous_read and action != "publish"
        if len(levels) != 5 or levels[2] != "dev" or levels[3] != username:
            return False
        if action == "publish":
            return levels[4] in DEVICE_WRITES and "+" not in levels[1]
        if action == "receive":
            return levels[4] in DEVICE_READS
        # A filter of the device's own topics (its hall may be +); its channel may be + or #,
        # since what it then receives is checked message by message.
        return levels[4] in (*DEVICE_READS, "+", "#")


@dataclass
class Gate:
    """The rules and the accounts, shared by the broker's two plugins."""

    rules: Rules
    server_hash: str
    stored_hash: StoredHash
    refused: int = 0

    async def admits(self, client_id: str | None, username: str | None, password: str | None, will: str | None) -> bool:
        if username is None:
            # Trial access reads only: no password to check, no Will to publish, and not under an
            # account's client id, whose session it would end.
            admitted = (
                self.rules.anonymous_read
                and password is None
                and will is None
                and client_id != self.rules.server_user
                and (not client_id or await self.stored_hash(client_id) is None)
            )
        elif username != self.rules.server_user and client_id != username:
            # A device's client id is its id: another id would let it end that device's session.
            admitted = False
        else:
            stored = self.server_hash if username == self.rules.server_user else await self.stored_hash(username)
            admitted = stored is not None and password is not None and verify_secret(stored, password)
            # Mosquitto checks the Will against the ACL at connect, so it cannot mark another device offline.
            admitted = admitted and (will is None or self.rules.may(username, will, "publish"))
        if not admitted:
            self.refused += 1
        return admitted


def registry_accounts(engine: AsyncEngine) -> StoredHash:
    """The registered devices' accounts, read at each connect: the active devices that have a
    secret, as ``hall broker-files`` writes them into Mosquitto's password file."""

    async def stored(username: str) -> str | None:
        async with reading(engine) as conn:
            found = await conn.execute(
                select(devices.c.secret_hash).where(
                    devices.c.id == username, devices.c.status == "active", devices.c.secret_hash != ""
                )
            )
            value = found.scalar_one_or_none()
        return str(value) if value else None

    return stored


# -- amqtt's side: the gate as its authentication plugin, and its broker mended --------------------------------

_SESSION_KEY = "hall.admitted"


class GatePlugin(BaseAuthPlugin):  # type: ignore[misc]  # amqtt has no type hints
    @dataclass
    class Config:
        gate: Any = None

    async def authenticate(self, *, session: Any) -> bool:
        known = session.attributes.get(_SESSION_KEY)
        if known is not None:
            return bool(known)  # checked already, before amqtt touched the client id's session
        gate: Gate = self.config.gate
        will = session.will_topic if session.will_flag else None
        admitted = await gate.admits(session.client_id, session.username, session.password, will)
        if admitted and session.username is None:
            # amqtt keeps no queue for anonymous sessions: a watcher that leaves costs nothing.
            session.is_anonymous = True
        session.attributes[_SESSION_KEY] = admitted
        return admitted


_ACTIONS = {Action.PUBLISH: "publish", Action.SUBSCRIBE: "subscribe", Action.RECEIVE: "receive"}


class _HallBroker(Broker):  # type: ignore[misc]  # amqtt has no type hints
    """amqtt's broker with three of its habits mended (amqtt 0.12; the methods are its own)."""

    def __init__(self, config: dict[str, Any], gate: Gate) -> None:
        super().__init__(config)
        self._gate = gate

    async def _topic_filtering(self, session: Any, topic: str, action: Any) -> bool:
        # The rules straight, with no await: amqtt walks its subscriptions around this call, and
        # its topic plugins' checks run as tasks, so a client subscribing meanwhile changes the
        # dict under the walk (RuntimeError, and the message is lost for every subscriber left).
        named = _ACTIONS.get(action)
        return named is not None and self._gate.rules.may(session.username, topic, named)

    async def _initialize_client_session(self, reader: Any, writer: Any, address: str, port: int) -> Any:
        # amqtt ends (clean start) or takes over (persistent) the session of the client id a
        # CONNECT names before it checks the credentials: a refused stranger naming the server's
        # id would leave its session dead, and what it queued lost. So check first.
        peek = _Peeked(reader)
        try:
            _, session = await BrokerProtocolHandler.init_from_connect(peek, writer, self.plugins_manager)
        except Exception as exc:
            raise MQTTError(f"unreadable CONNECT from {address}:{port}: {exc}") from exc
        if not await self._authenticate(session, None):
            with contextlib.suppress(Exception):
                await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
                await writer.close()
            raise MQTTError(f"{session.client_id!r} from {address}:{port} refused")
        peek.replay()
        handler, accepted = await super()._initialize_client_session(peek, writer, address, port)
        accepted.attributes[_SESSION_KEY] = True
        accepted.is_anonymous = session.is_anonymous
        return handler, accepted

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int], session: Any) -> None:
        # amqtt sends a connecting client the retained messages of every client's filters, not
        # only its own, and without the receive check: a device would read every display and
        # state of the hall. Only the session's own filters, and only what it may receive.
        topic_filter, qos = subscription
        subscribers = self._subscriptions.get(topic_filter, [])
        if not any(s.client_id == session.client_id for s, _ in subscribers):
            return
        handler = self._get_handler(session)
        if handler is None:
            return
        sends = [
            asyncio.ensure_future(
                handler.mqtt_publish(retained.topic, retained.data, min(qos, retained.qos or qos), retain=True)
            )
            for topic, retained in list(self._retained_messages.items())
            if self._matches(topic, topic_filter) and await self._topic_filtering(session, topic, Action.RECEIVE)
        ]
        if sends:
            await asyncio.wait(sends)


class _Peeked:
    """A reader that records what it reads, to read the CONNECT twice: once to check the client,
    once for amqtt's own session handling."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._seen = bytearray()
        self._replay: bytearray | None = None

    def replay(self) -> None:
        self._replay = self._seen
        self._seen = bytearray()

    async def read(self, n: int = -1) -> bytes:
        if self._replay:
            taken = bytes(self._replay[:n] if n >= 0 else self._replay)
            del self._replay[: len(taken)]
            if n < 0 or len(taken) == n:
                return taken
            return taken + bytes(await self._reader.read(n - len(taken)))
        data: bytes = await self._reader.read(n)
        if self._replay is None:
            self._seen += data
        return data

    def feed_eof(self) -> None:
        self._reader.feed_eof()


# -- the broker ------------------------------------------------------------------------------


def choose_port(host: str, port: int | None) -> int:
    """``port`` if it is free; without one, 1883 or the next free port after it. ``PortTaken``
    otherwise. Chosen before the server starts, so the address can be told and a taken port
    stops ``hall demo`` at once."""
    if port is not None:
        if not _free(host, port):
            raise PortTaken(errno.EADDRINUSE, f"port {port} on {host} is in use")
        return port
    candidates = range(DEFAULT_PORT, DEFAULT_PORT + PORT_TRIES)
    found = next((candidate for candidate in candidates if _free(host, candidate)), None)
    if found is None:
        raise PortTaken(errno.EADDRINUSE, f"ports {candidates[0]}-{candidates[-1]} on {host} are in use")
    return found


@dataclass
class EmbeddedBroker:
    """amqtt on ``host:port``: ``start()`` inside the event loop the server runs in, ``stop()``
    after the server's own link has left."""

    stored_hash: StoredHash
    port: int
    server_password: str
    host: str = "127.0.0.1"
    server_user: str = DEFAULT_SERVER_USER
    anonymous_read: bool | None = None  # None: only while listening on loopback
    gate: Gate = field(init=False, repr=False)
    _broker: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.server_password:
            raise ValueError("the server's account needs a password")
        loopback = _is_loopback(self.host)
        if self.anonymous_read is None:
            self.anonymous_read = loopback
        elif self.anonymous_read and not loopback:
            # Reading hall/# means residents' ID numbers (kiosk and reader events): not for a network.
            raise ValueError("anonymous read access is only for a broker that listens on loopback")
        rules = Rules(self.server_user, anonymous_read=self.anonymous_read)
        self.gate = Gate(rules, hash_secret(self.server_password), self.stored_hash)

    @property
    def url(self) -> str:
        return f"mqtt://{_bind_host(self.host)}:{self.port}"

    def server_address(self) -> BrokerAddress:
        """Where the server connects, with its account."""
        return BrokerAddress(self.host, self.port, self.server_user, self.server_password)

    def device_address(self) -> BrokerAddress:
        return BrokerAddress(self.host, self.port)

    async def start(self) -> None:
        # amqtt logs every connection and subscription at INFO, and the state machines it uses
        # every change of state: the server's log is not the place.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("amqtt.broker").addFilter(_SEND_TO_GONE_CLIENT)
        logging.getLogger("amqtt.mqtt.protocol.handler").addFilter(_SEND_TO_GONE_CLIENT)
        plugin = {"gate": self.gate}
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{_bind_host(self.host)}:{self.port}"}},
            "plugins": {f"{__name__}.GatePlugin": plugin},
        }
        broker = _HallBroker(config, self.gate)
        try:
            await broker.start()
        except BrokerError as exc:
            raise PortTaken(errno.EADDRINUSE, f"the broker cannot listen on {self.url}: {exc}") from exc
        self._broker = broker
        log.info("device broker listening on %s", self.url)

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is None:
            return
        # What the devices said on their way out (offline) is still being handed on; amqtt's
        # shutdown would drop it with a warning. A moment is enough, and none is waited for long.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while broker._broadcast_queue.qsize():  # noqa: ASYNC110 - amqtt's queue signals nothing
                    await asyncio.sleep(0.01)
        await broker.shutdown()


class _SendToGoneClient(logging.Filter):
    """amqtt may hand a message to a client whose connection has just closed (a watcher that
    disconnects while a display's content goes out); the send fails, and amqtt logs it as an
    error with its traceback, once from the client's handler and once from the broker's task list.
    The client is gone, which is no fault of the server's: it is said at DEBUG instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        text = str(exc) if exc is not None else record.getMessage()
        if "the handler is closed" in text or "unable to perform operation on <TCPTransport closed=True" in text:
            log.debug("the broker sent to a client that had gone: %s", text)
            return False
        return True


_SEND_TO_GONE_CLIENT = _SendToGoneClient()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _free(host: str, port: int) -> bool:
    """Whether a listener could bind there now (with SO_REUSEADDR, as asyncio's server does)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
