"""Everything a running server holds: settings, database, writer, hub, sessions, templates."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

import cases
import devices
import hall
import queueing
from cases import live as case_topics
from cases.case_timing import RegisterSettings
from cases.catalog import Catalog
from cases.catalog_io import CatalogFormatError, load_yaml, sample_catalog
from cases.clock import case_tick_commands
from cases.deadlines import DEFAULT_HOURS
from cases.lights import LightRule
from cases.notify import Gateway, HttpGateway, LogFileGateway, Sender
from cases.register import Register, next_change
from cases.store import CasesDomain
from devices import live as device_topics
from devices.bus import Connector, connector_for
from devices.service import Devices
from devices.store import DevicesDomain
from displays.voice import CallClips, Voice
from hall.accounts.store import AccountsDomain
from hall.kernel.errors import SettingsError
from hall.kernel.events import Event
from hall.kernel.zones import DEFAULT_ZONE, zone
from hall.settings import Settings
from hall.storage.database import create_engine, is_sqlite, reading
from hall.storage.directory import hall_tree
from hall.storage.follower import Follower
from hall.storage.lease import CASE_CLOCK, OUTBOX, QUEUE_CLOCK, Lease, run_leased
from hall.storage.tables import halls
from hall.storage.writer import Domain, Writer
from hall.web.ratelimit import Attempts, LoginLimits, LoginPolicy
from hall.web.render import make_templates
from hall.web.sessions import Sessions
from queueing import live as queue_topics
from queueing.alarm_store import AlarmsDomain, AlarmWatch, check_due
from queueing.paper import ticket_print
from queueing.store import QueueDomain, tick_command
from realtime.hub import Hub
from realtime.sockets import StaffSockets
from realtime.topics import TopicRegistry

log = logging.getLogger(__name__)

# Each part keeps its pages' templates beside its web adapter.
TEMPLATE_DIRS = [Path(package.__file__).parent / "web" / "templates" for package in (hall, queueing, cases, devices)]  # type: ignore[arg-type]
TEMPLATE_DIRS.append(Path(hall.__file__).parent / "accounts" / "web" / "templates")
TEMPLATE_DIRS.append(Path(hall.__file__).parent / "admin" / "web" / "templates")
# A catalog with more problems than this names the first ones and counts the rest: one readable line.
_PROBLEMS_SHOWN = 5
# Every test site and every start reads the same shipped file; the catalog is immutable, so once is enough.
_sample_catalog = cache(sample_catalog)


def load_catalog(path: Path | None) -> Catalog:
    """The service catalog the hall publishes: the YAML file at ``path``, or the sample without one.

    A catalog that cannot be read, is not a catalog, or breaks the rules of a sound one (``validate``)
    raises ``SettingsError``: residents would otherwise read a wrong time limit or a missing material
    list on the public pages, so the server does not start with it.
    """
    if path is None:
        catalog = _sample_catalog()
        where = "the sample catalog"
    else:
        where = f"HALL_CATALOG {path}"
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{where} cannot be read: {exc}") from None
        try:
            catalog = load_yaml(text)
        except CatalogFormatError as exc:
            raise SettingsError(f"{where} is not a catalog: {exc}") from None
    if not catalog.items:
        raise SettingsError(f"{where} lists no service items")
    problems = catalog.validate()
    if problems:
        shown = "; ".join(str(problem) for problem in problems[:_PROBLEMS_SHOWN])
        more = len(problems) - _PROBLEMS_SHOWN
        rest = f"; and {more} more" if more > 0 else ""
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise SettingsError(f"{where} has {count}: {shown}{rest}")
    return catalog


def core_topics(timezone: str = DEFAULT_ZONE) -> TopicRegistry:
    """The topics of the realtime hub, each kept by the part whose events it carries."""
    registry = TopicRegistry()
    for kind in (*queue_topics.topics(timezone), *device_topics.TOPICS, *case_topics.TOPICS):
        registry.register(kind)
    return registry


def gateway_from_settings(settings: Settings) -> Gateway:
    """The SMS provider when ``HALL_SMS_URL`` is set, else the log file (``HALL_NOTIFY_LOG``, by
    default ``notifications.log`` beside the database)."""
    if settings.sms_url:
        return HttpGateway(settings.sms_url, settings.sms_token)
    return LogFileGateway(settings.notify_log or settings.data_dir() / "notifications.log")


def core_domains(
    catalog: Catalog | None = None,
    *,
    public_url: str = "",
    case_settings: RegisterSettings | None = None,
    timezone: str = DEFAULT_ZONE,
) -> list[Domain]:
    """Every part's rules bound to storage. ``timezone`` is the halls' (HALL_TIMEZONE): the queue
    reads its hours and ticket day in it, and the cases their working days when ``case_settings``
    does not bring its own hours."""
    chosen = catalog if catalog is not None else _sample_catalog()
    settled = case_settings or RegisterSettings(hours=replace(DEFAULT_HOURS, tz=zone(timezone)))
    cases = CasesDomain(chosen, settled, public_url=public_url)
    return [QueueDomain(timezone), DevicesDomain(), cases, AccountsDomain(), AlarmsDomain()]


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    writer: Writer
    hub: Hub
    sessions: Sessions
    attempts: LoginLimits
    issue_limit: Attempts
    templates: Jinja2Templates
    voice: Voice
    # Spoken calls from the clips that ship with hall: no speech engine needed.
    calls: CallClips = field(default_factory=CallClips)
    # The public service catalog (事项目录), read once at start; a changed file takes a restart.
    catalog: Catalog = field(default_factory=_sample_catalog)
    # Held by the one process that runs the case clock (see hall.storage.lease).
    clock_lease: Lease = field(init=False)
    # The work that runs once across server processes, each under its lease, by name.
    leases: dict[str, Lease] = field(init=False)
    # Every other process's events for the hub (PostgreSQL); None on SQLite, with one process.
    follower: Follower | None = None
    # Sends the case notifications queued in the outbox (SMS gateway or log file).
    notifications: Sender | None = None
    # The devices' side: the gateway, the serial lines of wired devices and, when a broker is
    # configured, the device bus (``devices.broker``). None only for a runtime built by hand.
    devices: Devices | None = None
    # Halls' names for printed tickets, read once (they change only by migration or setup).
    hall_rows: dict[int, Any] = field(default_factory=dict)
    # Open staff websockets by session: a session's end closes them (realtime.sockets).
    staff_sockets: StaffSockets = field(default_factory=StaffSockets)
    # Run after the writer and hub are up (the demo loads its accounts and starts its clerks).
    startup: list[Callable[[Runtime], Awaitable[None]]] = field(default_factory=list)
    # Run first at start and last at stop, around everything else: the demo's embedded broker,
    # which must be listening before the device bus connects and stay until it has left.
    services: list[tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]] = field(default_factory=list)
    # Raises the wallboard's alarms that events call for (queueing.alarm_store).
    alarm_watch: AlarmWatch | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        engine: AsyncEngine | None = None,
        connect: Connector | None = None,
        *,
        shared_devices: bool | None = None,
    ) -> Runtime:
        """``shared_devices``: whether this process shares the broker's devices with others (by
        default on PostgreSQL; devices.service.Devices). The demo's own broker is its alone."""
        # First: a catalog that stops the start should do so before anything is written (the key file).
        catalog = load_catalog(settings.catalog_file)
        settings = settings.with_secret()
        engine = engine or create_engine(settings.db_url)
        lights = LightRule(yellow_share=settings.yellow_share, yellow_working_days=settings.yellow_days)
        # One zone for every part: the queue's hours and day, the cases' working days and deadlines.
        hours = replace(DEFAULT_HOURS, tz=settings.zone)
        domains = core_domains(
            catalog,
            public_url=settings.base_url,
            case_settings=RegisterSettings(hours=hours, rule=lights),
            timezone=settings.timezone,
        )
        lanes = 1 if is_sqlite(engine) else settings.writer_lanes
        writer = Writer(engine, domains, batch_max=settings.batch_max, lanes=lanes)
        hub = Hub(engine, core_topics(settings.timezone), ring_size=settings.ring_size, replay_max=settings.replay_max)
        sender = Sender(engine, gateway_from_settings(settings))
        follower: Follower | None = None
        # Alarms follow the events that call for them (an unsatisfied rating, a red light, a device
        # gone): each process raises them from the log it hears; an alarm's key makes it one.
        watch = AlarmWatch(writer)
        if is_sqlite(engine):
            writer.add_listener(watch.offer)
            # One server process: its writer's events are the whole log.
            writer.add_listener(hub.publish)
            writer.add_listener(lambda events: _wake_outbox(sender, events))
        else:
            # Several processes may share the database: the hub (and the outbox, run by one of
            # them) hear every process's events, in order, through the log follower.
            follower = Follower(engine, hub.head, catch_up=FOLLOW_CATCH_UP)
            follower.add_sink(hub.publish)
            follower.add_sink(lambda events: _wake_outbox(sender, events))
            follower.add_sink(watch.offer)
            writer.add_listener(follower.offer)
        runtime = cls(
            settings=settings,
            engine=engine,
            writer=writer,
            hub=hub,
            sessions=Sessions(engine),
            attempts=LoginLimits(
                LoginPolicy(
                    per_user_address=settings.login_attempts,
                    window=settings.login_window_seconds,
                    per_address=settings.login_address_attempts,
                    per_user=settings.login_user_attempts,
                    user_window=settings.login_user_window_seconds,
                )
            ),
            issue_limit=Attempts(settings.issue_per_minute, 60.0),
            templates=make_templates(TEMPLATE_DIRS),
            voice=Voice(settings.data_dir() / "voice-cache"),
            catalog=catalog,
            notifications=sender,
            follower=follower,
            alarm_watch=watch,
        )
        if connect is None and settings.mqtt_url:
            # Alone (SQLite) a persistent session keeps devices' messages through a restart; on
            # PostgreSQL the processes share the devices (MQTT 5 shared subscriptions), each in a
            # session that ends with its connection (devices.bus.mqtt_connector).
            alone = is_sqlite(engine) if shared_devices is None else not shared_devices
            connect = connector_for(
                settings.mqtt_url,
                incoming_max=settings.mqtt_incoming_max,
                persistent=alone,
                mqtt5=not alone,
                keepalive=30 if alone else SHARED_KEEPALIVE,
            )
        # Always: wired devices (serial lines) need no broker; the bus is there only with one.
        runtime.attach_devices(connect, shared=shared_devices)
        return runtime

    def attach_devices(self, connect: Connector | None, *, shared: bool | None = None) -> Devices:
        async def printer(hall_id: int, ticket: str, known: Mapping[str, Any]) -> bytes | None:
            return await ticket_print(
                self.writer, self.engine, self.hall_rows, hall_id, ticket, self.settings.base_url, known=known
            )

        self.devices = Devices(
            self.engine,
            self.writer,
            connect,
            printer=printer,
            silence_limit=self.settings.device_silence_seconds,
            pcsc_readers=self.settings.pcsc_readers,
            # Every process's events, in order, when several share the database.
            listen=self.follower.add_sink if self.follower is not None else None,
            shared=shared,
        )
        return self.devices

    def __post_init__(self) -> None:
        self.clock_lease = Lease(self.engine, CASE_CLOCK)
        self.leases = {
            "case clock": self.clock_lease,
            "queue clock": Lease(self.engine, QUEUE_CLOCK),
            "notification outbox": Lease(self.engine, OUTBOX),
        }
        self.sessions.ended.append(self.staff_sockets.end_session)

    async def start(self) -> None:
        for begin, _ in self.services:
            await begin()
        await self.hub.load_heads()
        await self.writer.start()
        self._tasks.append(
            asyncio.create_task(self.hub.run_heartbeats(self.settings.ws_heartbeat_seconds), name="hall-heartbeat")
        )
        self._tasks.append(asyncio.create_task(self._sweep_sockets(), name="hall-session-sweep"))
        if self.alarm_watch is not None:
            self._tasks.append(asyncio.create_task(self.alarm_watch.run(), name="hall-alarm-watch"))
        if self.follower is not None:
            self._tasks.append(asyncio.create_task(self.follower.run(), name="hall-follower"))
        # Work that must run once across processes: each under its lease (hall.storage.lease).
        self._leased("queue clock", self._ticks)
        self._leased("case clock", self._case_clock)
        sender = self.notifications
        if sender is not None:
            self._leased("notification outbox", sender.run)
        if self.devices is not None:
            await self.devices.start()
        for hook in self.startup:
            await hook(self)

    async def _sweep_sockets(self) -> None:
        """Sessions also end by expiry, or in another server process: look at every open staff
        socket's session on the heartbeat and close those that ended or lost rights."""
        while True:
            await asyncio.sleep(self.settings.ws_heartbeat_seconds)
            await self.staff_sockets.sweep()

    async def _ticks(self) -> None:
        """Time alone changes the queue (held tickets return, a new day starts): tell every hall,
        then raise the alarms time alone brings (a wait over target, a pause over its limit).
        First, raise what events called for that no process raised (one died in between)."""
        if self.alarm_watch is not None:
            try:
                await self.alarm_watch.catch_up(self.engine, self.writer.now())
            except Exception:
                log.exception("catching up on alarms failed")
        while True:
            await asyncio.sleep(self.settings.tick_seconds)
            async with reading(self.engine) as conn:
                hall_ids = [row.id for row in await conn.execute(select(halls.c.id))]
            for hall_id in hall_ids:
                try:
                    await self.writer.submit(tick_command(hall_id))
                    await check_due(self.writer, self.engine, hall_id)
                except Exception:
                    log.exception("clock tick for hall %s failed", hall_id)

    async def tick_cases(self) -> float:
        """Turn the supervision lights that are due, send midway reminders, escalate 督办; returns
        the seconds until a light turns next (at most the tick interval)."""
        wait = self.settings.tick_seconds
        async with reading(self.engine) as conn:
            parents = await hall_tree(conn)
        for command in case_tick_commands(parents, lambda: f"case-tick-{uuid.uuid4().hex}"):
            try:
                outcome = await self.writer.submit(command)
                if not outcome.ok:
                    log.error("case clock for hall %s refused: %s", command.hall_id, outcome.result)
            except Exception:
                log.exception("case clock for hall %s failed", command.hall_id)
            register = self.writer.cached_state(command.hall_id, "cases")
            if isinstance(register, Register):
                now = datetime.now(UTC)
                upcoming = next_change(register, now)
                if upcoming is not None:
                    wait = min(wait, (upcoming - now).total_seconds())
        return max(wait, 0.05)

    async def _case_clock(self) -> None:
        """A light turns when its schedule says, not at the next round tick: sleep until the
        earliest change any register expects (or the tick interval, for 督办 deadlines). Runs
        under its lease: with several processes on one PostgreSQL, in one of them."""
        while True:
            wait = self.settings.tick_seconds
            try:
                wait = await self.tick_cases()
            except Exception:
                log.exception("case clock failed")
            await asyncio.sleep(wait)

    def _leased(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.spawn(run_leased(self.leases[name], work, name), name=f"hall-lease-{name}")

    def spawn(self, work: Coroutine[Any, Any, None], name: str | None = None) -> None:
        """Run background work for as long as the server runs."""
        self._tasks.append(asyncio.create_task(work, name=name))

    async def stop(self) -> None:
        if self.devices is not None:
            await self.devices.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.notifications is not None:
            await self.notifications.gateway.aclose()
        await self.writer.stop()
        for _, end in reversed(self.services):
            await end()
        await self.engine.dispose()


# Seconds between the follower's reads of every hall's head: how long a lost notification delays.
FOLLOW_CATCH_UP = 1.0
# The MQTT keep-alive of a process sharing the devices: the broker drops a silent one (its host or
# network gone) after 1.5 times this, and stops handing it its share of the devices' messages.
SHARED_KEEPALIVE = 10


def _wake_outbox(sender: Sender, events: Sequence[Event]) -> None:
    # Messages are queued with case events: look at the outbox now rather than at the next round.
    if any(e.type.startswith("case.") for e in events):
        sender.wake()


def runtime_of(conn: HTTPConnection) -> Runtime:
    """The running server behind a request or a websocket, typed (the app factory puts it on the
    application's state)."""
    runtime: Runtime = conn.app.state.hall
    return runtime
