"""``hall serve`` and ``hall demo``: the server under uvicorn, the demo's with its own broker and
simulated devices. The server is imported only here, and only when one is started."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hall.cli.accounts import show_accounts
from hall.kernel.errors import SettingsError
from hall.settings import Settings
from hall.setup import Account, demo_staff, initialise
from hall.storage import backup as backups
from hall.storage.database import create_engine
from hall.storage.migrate import is_current
from hall.web.passwords import new_password

if TYPE_CHECKING:
    # Imported where it serves: the other commands start without loading the server.
    import uvicorn


async def _schema_ready(settings: Settings) -> bool:
    engine = create_engine(settings.db_url)
    try:
        return await is_current(engine)
    finally:
        await engine.dispose()


async def _prepare_demo(settings: Settings) -> tuple[dict[str, int], list[Account]]:
    engine = create_engine(settings.db_url)
    try:
        ids, _admin = await initialise(engine)
        accounts = await demo_staff(engine, ids)
        from hall.demo_cases import seed_cases
        from hall.runtime import load_catalog

        made = await seed_cases(engine, load_catalog(settings.catalog_file), ids, datetime.now(UTC))
        if made:
            print(f"hall demo: {made} cases of the last weeks in the register", flush=True)
    finally:
        await engine.dispose()
    return ids, accounts


def serve(
    settings: Settings,
    *,
    demo_seed: int | None = None,
    demo: bool = False,
    speed: float = 10.0,
    broker_port: int | None = None,
    broker_bind: str = "127.0.0.1",
) -> None:
    import uvicorn

    from hall.runtime import Runtime
    from hall.web.app import create_app

    if demo:
        ids, accounts = asyncio.run(_prepare_demo(settings))
        show_accounts(accounts, "Demo accounts:")
    elif not asyncio.run(_schema_ready(settings)):
        raise SettingsError(f"the database {settings.db_url} has no current hall schema; run `hall init` first")
    if not demo:
        runtime = Runtime.build(settings)
    else:
        from devices.bus import BrokerAddress, Connector, mqtt_connector
        from devices.simulator import device_connector
        from hall.demo import open_around_the_clock, simulate_devices, start_wired

        watch = ""
        if settings.mqtt_url:
            runtime = Runtime.build(settings)
            external = BrokerAddress.parse(settings.mqtt_url)

            def devices_connect(passwords: Mapping[str, str]) -> Connector:
                return mqtt_connector(external)  # a broker that lets anyone in, for a trial
        else:
            # No broker named: the demo runs its own, a real one on a local port, which devices
            # (and a technician's mosquitto_sub) can reach like any other.
            from devices.embedded_broker import EmbeddedBroker, PortTaken, choose_port, registry_accounts

            try:
                port = choose_port(broker_bind, broker_port)
            except PortTaken as exc:
                raise SettingsError(f"the demo's broker cannot listen: {exc.strerror}; choose --broker-port") from None
            except OSError as exc:
                raise SettingsError(f"the demo's broker cannot listen on {broker_bind!r}: {exc}") from None
            engine = create_engine(settings.db_url)
            broker = EmbeddedBroker(registry_accounts(engine), port, new_password(), host=broker_bind)
            server = broker.server_address()
            connect = mqtt_connector(server, incoming_max=settings.mqtt_incoming_max, persistent=True)
            # The embedded broker speaks MQTT 3.1.1 to this one process: no share group.
            runtime = Runtime.build(settings, engine=engine, connect=connect, shared_devices=False)
            runtime.services.append((broker.start, broker.stop))

            def devices_connect(passwords: Mapping[str, str]) -> Connector:
                return device_connector(broker.device_address(), passwords)

            if broker.anonymous_read:
                watch = f"; watch it with: mosquitto_sub -h {broker_bind} -p {port} -t 'hall/#' -v"
            print(f"hall demo: devices on the MQTT broker {broker.url}{watch}", flush=True)

        async def start_demo(running: Runtime) -> None:
            await open_around_the_clock(running)
            work = simulate_devices(running, ids["xh"], devices_connect, seed=demo_seed, speed=speed)
            running.spawn(work, name="demo-hall")
            wired = await start_wired(running, ids["xh"], seed=demo_seed, speed=speed)
            print(f"hall demo: wired devices on pseudo-terminals: {'; '.join(wired)}", flush=True)
            print(f"hall demo: open http://{settings.host}:{settings.port}/", flush=True)

        runtime.startup.append(start_demo)
    if settings.public_url is None and settings.host in ("0.0.0.0", "::", ""):  # noqa: S104 - a check, not a bind
        # QR codes and printed papers name the server's address; a wildcard helps no one reading them.
        logging.getLogger("hall").warning(
            "HALL_PUBLIC_URL is not set: printed tickets and receipts will name %s; set it to the address "
            "residents reach this server at",
            settings.base_url,
        )
    with contextlib.ExitStack() as running:
        if settings.db_url.startswith("sqlite"):
            # A restore refuses while this is held (hall.storage.backup).
            running.enter_context(backups.running_on(backups.sqlite_file(settings.db_url)))
        uvicorn.Server(server_config(create_app(runtime=runtime), settings)).run()


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    """How uvicorn serves hall. Forwarded headers are believed only from HALL_TRUSTED_PROXIES:
    uvicorn's default believes any client on loopback, so a local caller could name any address
    and slip past the per-address limits of logins, kiosks and tracking."""
    import uvicorn

    # uvicorn's websockets-sansio protocol, lending each connection's transport to /ws so that an
    # event's frame is encoded once and written to every socket (realtime/wire.py).
    from realtime.uvicorn_wire import WireProtocol

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws=WireProtocol,
        ws_max_size=1 << 20,
        lifespan="on",
        log_level="info",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
    )
