"""The ``hall`` command: ``serve``, ``init``, ``setup``, ``add-staff``, ``broker-files``, ``simulate``,
``backup``, ``restore`` and ``demo``.

Options fall back to ``HALL_*`` environment variables. A bad option or setting prints one line
and exits with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import sys
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import select

from hall import __version__
from hall.hallfile.reading import HallFileError
from hall.kernel.errors import SettingsError
from hall.kernel.roles import parse_roles
from hall.settings import Settings, from_env
from hall.setup import Account, demo_staff, initialise
from hall.staff import create_staff
from hall.storage import backup as backups
from hall.storage.database import create_engine
from hall.storage.migrate import is_current, upgrade
from hall.storage.tables import halls, staff
from hall.web.passwords import new_password

if TYPE_CHECKING:
    # Imported where it serves: the other commands start without loading the server.
    import uvicorn
    from sqlalchemy.ext.asyncio import AsyncEngine


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"hall: {message} (see hall --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hall", description="Runs government service halls (政务服务大厅).")
    parser.add_argument("--version", action="version", version=f"hall {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--db", help="database URL (HALL_DB_URL); default sqlite+aiosqlite:///hall.db")

    def network(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", help="address to listen on (HALL_HOST); default 127.0.0.1")
        sub.add_argument("--port", type=int, help="port to listen on (HALL_PORT); default 8000")
        sub.add_argument("--mqtt", help="MQTT broker URL, mqtt://host:port (HALL_MQTT_URL)")

    serve = commands.add_parser("serve", help="run the server")
    common(serve)
    network(serve)
    init = commands.add_parser("init", help="create or migrate the database and load the sample hall")
    common(init)
    init.add_argument("--no-sample", action="store_true", help="only create or migrate the schema")
    setup = commands.add_parser(
        "setup", help="check a hall file (YAML) and apply it to the database; or write the database's as one"
    )
    common(setup)
    setup.add_argument("file", nargs="?", help="the hall file to apply (docs/operations.md)")
    setup.add_argument("--dry-run", action="store_true", help="print what would change, one line each; change nothing")
    setup.add_argument("--export", action="store_true", help="write what the database holds as a hall file")
    setup.add_argument("--out", metavar="FILE", help="with --export: where to write it; default standard output")
    add_staff = commands.add_parser("add-staff", help="create a staff account; its first password is printed once")
    common(add_staff)
    add_staff.add_argument("username")
    add_staff.add_argument("--roles", required=True, help="comma-separated: clerk, supervisor, technician, admin")
    add_staff.add_argument("--hall", required=True, help="code of the staff member's hall, e.g. xh")
    add_staff.add_argument("--name", help="display name; default the username")
    add_staff.add_argument("--staff-no", default="", help="staff number shown to residents")
    broker = commands.add_parser(
        "broker-files", help="write a Mosquitto config, password file and ACL for the registered devices"
    )
    common(broker)
    broker.add_argument("directory", help="where to write mosquitto.conf, passwd and acl")
    broker.add_argument("--port", type=int, default=1883, help="the broker's port; default 1883")
    broker.add_argument("--bind", default="127.0.0.1", help="the broker's listening address; default 127.0.0.1")
    broker.add_argument(
        "--broker-user",
        default="mosquitto",
        help="the account Mosquitto runs as; run as root, the files are given to it; default mosquitto",
    )
    simulate = commands.add_parser(
        "simulate", help="run virtual devices of a hall against an MQTT broker, or on serial ports"
    )
    common(simulate)
    simulate.add_argument("--mqtt", help="the broker, mqtt://host:port (HALL_MQTT_URL)")
    simulate.add_argument("--hall", default="xh", help="code of the hall; default xh")
    simulate.add_argument("--kiosks", type=int, default=2, help="ticket kiosks; default 2")
    simulate.add_argument("--counters", default="1-12", help="counters with devices, e.g. 1-12 or 1,3,5; default 1-12")
    simulate.add_argument("--speed", type=float, default=10.0, help="how much faster than real time people act")
    simulate.add_argument("--seed", type=int, help="random seed")
    simulate.add_argument(
        "--register",
        metavar="FILE",
        help="register the devices in the database (HALL_DB_URL) with fresh secrets, written to FILE as JSON",
    )
    simulate.add_argument(
        "--passwords", metavar="FILE", help="JSON of device id → password, for a broker with accounts"
    )
    simulate.add_argument(
        "--serial",
        action="append",
        default=[],
        metavar="KIND:PORT",
        help="wired devices at the far end of PORT (a serial path, e.g. one end of a socat pair): "
        "keypads:PORT (a keypad bus, addresses 1-4, pressing call), strip:PORT (LED strips at 1-8) or "
        "sam:PORT (an ID card reader with cards laid on it); may be repeated; no broker needed for these alone",
    )
    catalog = commands.add_parser(
        "catalog", help="check a service catalog (YAML or CSV) and write it as YAML or CSV; without FILE the sample"
    )
    catalog.add_argument("file", nargs="?", help="a catalog in YAML (.yaml, .yml) or CSV (.csv); default the sample")
    catalog.add_argument("--to", choices=("yaml", "csv"), default="yaml", help="the form to write; default yaml")
    catalog.add_argument("--out", metavar="FILE", help="where to write it; default standard output")
    backup = commands.add_parser(
        "backup", help="copy a running SQLite database consistently to FILE (PostgreSQL: pg_dump)"
    )
    common(backup)
    backup.add_argument("file", help="the new file to write the copy to")
    restore = commands.add_parser(
        "restore", help="put a backup back in place of the database, after checking it; the server must be stopped"
    )
    common(restore)
    restore.add_argument("file", help="a file written by hall backup")
    figures = commands.add_parser("figures", help="the statistics figures of the queue and of the cases")
    common(figures)
    figures.add_argument("action", choices=("rebuild",), help="rebuild: recount them from the event log")
    figures.add_argument(
        "--hall", help="code of the hall; default every hall (the case figures: of the tree the hall is in)"
    )
    figures.add_argument(
        "--only", choices=("queue", "cases"), help="rebuild only the queue's figures or only the case figures"
    )
    figures.add_argument(
        "--after",
        type=int,
        default=0,
        metavar="SEQ",
        help="resume a stopped rebuild of one hall: write only the days after the last sequence number it printed"
        " (the queue's; with --only cases, the case figures')",
    )
    demo = commands.add_parser("demo", help="serve the sample hall with simulated clerks on SQLite")
    common(demo)
    network(demo)
    demo.add_argument("--seed", type=int, help="random seed of the simulation")
    demo.add_argument("--speed", type=float, default=10.0, help="how much faster than real time the hall runs")
    demo.add_argument(
        "--broker-port",
        type=int,
        help="port of the demo's own MQTT broker (without --mqtt); default 1883, or the next free one after it",
    )
    demo.add_argument(
        "--broker-bind",
        default="127.0.0.1",
        help="address the demo's broker listens on; default 127.0.0.1 (anonymous read access only there)",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    db = getattr(args, "db", None)
    if db is None and args.command == "demo":
        db = "sqlite+aiosqlite:///hall-demo.db"
    return from_env(
        db_url=db,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        mqtt_url=getattr(args, "mqtt", None),
    )


def _show_accounts(accounts: Sequence[Account], heading: str) -> None:
    if not accounts:
        return
    print(heading)
    for account in accounts:
        print(f"  {account.username:<12} {account.password}   ({account.roles}, hall {account.hall_code})")
    print("These passwords are shown only now; the database keeps their hashes alone.")


async def _init(settings: Settings, sample: bool) -> None:
    engine = create_engine(settings.db_url)
    try:
        ids, admin = await initialise(engine, sample=sample)
    finally:
        await engine.dispose()
    print(f"Database ready: {settings.db_url}" + (f" ({len(ids)} halls)" if ids else ""))
    if admin is not None:
        _show_accounts([admin], "Created the first administrator:")
    elif sample:
        print("An administrator exists already; no password was changed.")


async def _add_staff(settings: Settings, args: argparse.Namespace) -> None:
    try:
        roles = parse_roles(args.roles)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if not roles:
        raise SettingsError("--roles names no role")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{2,64}", args.username):
        raise SettingsError("a username has 2 to 64 letters, digits, '.', '_' or '-'")
    engine = create_engine(settings.db_url)
    try:
        if not await is_current(engine):
            raise SettingsError(f"the database {settings.db_url} has no current hall schema; run `hall init` first")
        async with engine.begin() as conn:
            hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == args.hall))).scalar_one_or_none()
            if hall_id is None:
                raise SettingsError(f"no hall with code {args.hall!r}")
            taken = (await conn.execute(select(staff.c.id).where(staff.c.username == args.username))).first()
            if taken is not None:
                raise SettingsError(f"the username {args.username!r} is taken")
            password = new_password()
            await create_staff(
                conn,
                username=args.username,
                display_name=args.name or args.username,
                staff_no=args.staff_no,
                password=password,
                roles=roles,
                hall_id=hall_id,
                actor="system:cli",
                now=datetime.now(UTC),
            )
    finally:
        await engine.dispose()
    _show_accounts([Account(args.username, password, ",".join(sorted(roles)), args.hall)], "Created:")


def _setup(settings: Settings, args: argparse.Namespace) -> None:
    if args.export == bool(args.file):
        raise SettingsError("hall setup needs a hall file to apply, or --export to write one (not both)")
    if args.out and not args.export:
        raise SettingsError("--out is for --export")
    if args.export and args.dry_run:
        raise SettingsError("--dry-run is for applying a file")
    data = b""
    if args.file:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise SettingsError(f"{args.file} cannot be read: {exc.strerror or exc}") from None
    asyncio.run(_apply_or_export(settings, args, data))


async def _apply_or_export(settings: Settings, args: argparse.Namespace, data: bytes) -> None:
    """A hall file checked and applied in one transaction, or the database written as one. For a
    stopped server: a server keeps its halls in memory, and on SQLite a running one holds a lock
    that this takes exclusively."""
    from hall.hallfile.plan import plan
    from hall.hallfile.reading import read
    from hall.hallfile.store import apply, export, known_devices, known_halls
    from hall.hallfile.writing import dump

    sqlite = settings.db_url.startswith("sqlite")
    engine = create_engine(settings.db_url)
    try:
        if not await is_current(engine):
            raise SettingsError(f"the database {settings.db_url} has no current hall schema; run `hall init` first")
        if args.export:
            async with engine.connect() as conn:
                written = dump(
                    await export(conn), heading=["The halls of a hall database, as `hall setup` reads them."]
                )
            if args.out:
                write_private(Path(args.out), written)
                print(f"hall: the halls written to {args.out}", file=sys.stderr)
            else:
                sys.stdout.write(written)
            return
        with contextlib.ExitStack() as stopped:
            if sqlite and not args.dry_run:
                stopped.enter_context(backups.while_stopped(backups.sqlite_file(settings.db_url)))
            async with engine.begin() as conn:
                wanted = read(
                    data, args.file, known_halls=await known_halls(conn), known_devices=await known_devices(conn)
                )
                changes = plan(await export(conn), wanted)
                for change in changes.changes:
                    print(change.text)
                for note in changes.untouched:
                    print(note)
                if args.dry_run:
                    await conn.rollback()
                    print(f"{len(changes.changes)} change(s) would be made; --dry-run changed nothing.")
                    return
                made = await apply(conn, changes.changes, datetime.now(UTC))
                admins = (
                    await conn.execute(
                        select(staff.c.id).where(staff.c.active.is_(True), staff.c.roles.contains("admin"))
                    )
                ).first()
    finally:
        await engine.dispose()
    if not changes.changes:
        print(f"Nothing to change: the database already holds what {args.file} says.")
        return
    print(f"Applied {len(changes.changes)} change(s) from {args.file}.")
    _show_accounts(
        [Account(a.username, a.password, a.roles, a.hall_code) for a in made],
        "New staff accounts (each is to choose a new password at first login):",
    )
    if admins is None:
        print("There is no administrator yet: name one in the file's staff (roles: [admin]), or use hall add-staff.")
    if not sqlite:
        print("Restart every hall server on this database: a running server keeps the halls it loaded in memory.")


async def _broker_files(settings: Settings, args: argparse.Namespace) -> None:
    """The broker trusts exactly the registered devices, each with its own password (its hash is
    kept in the registry), and the server's account. That account stays the same from one run to
    the next, since a running server logs in with it: its password comes from HALL_MQTT_URL, or
    else its hash is kept from the password file written before; only the first run makes one,
    and prints it once. Run as root, the files are given to the broker's own account."""

    from devices.bus import BrokerAddress
    from devices.mosquitto import (
        DEFAULT_SERVER_USER,
        hash_secret,
        read_password_file,
        verify_secret,
        write_broker_files,
    )
    from hall.storage.device_tables import devices

    directory = Path(args.directory)
    server_user, server_password = DEFAULT_SERVER_USER, None
    if settings.mqtt_url:
        address = BrokerAddress.parse(settings.mqtt_url)
        server_user, server_password = address.username or server_user, address.password
    kept = read_password_file(directory / "passwd").get(server_user)
    made = None
    if server_password is not None:
        # The same password hashed again would be a different line; keep the file as it is.
        stored = kept if kept and verify_secret(kept, server_password) else hash_secret(server_password)
    elif kept is not None:
        stored = kept
    else:
        made = new_password()
        stored = hash_secret(made)
    owner, broker_user = _broker_owner(args.broker_user)
    engine = create_engine(settings.db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(devices.c.id, devices.c.secret_hash).where(
                    devices.c.status == "active", devices.c.secret_hash != ""
                )
            )
            accounts = {row.id: row.secret_hash for row in rows}
    finally:
        await engine.dispose()
    accounts[server_user] = stored
    config = write_broker_files(
        directory,
        port=args.port,
        bind=args.bind,
        accounts=accounts,
        server_user=server_user,
        user=broker_user,
        owner=owner,
    )
    print(f"wrote {config} with {len(accounts) - 1} device accounts")
    if broker_user is not None:
        print(f"the files belong to {broker_user}, the account Mosquitto runs as; passwd is readable by it alone")
    if made is not None:
        print(f"server account {server_user} password (shown once): {made}")
        print(f"run the server with HALL_MQTT_URL=mqtt://{server_user}:<password>@{args.bind}:{args.port}")
    elif server_password is None:
        print(
            f"server account {server_user} kept from {directory / 'passwd'}: its password is the one shown "
            "when it was made, so a running server stays logged in"
        )
    print("reload a running broker with: kill -HUP <mosquitto pid>")


def _broker_owner(name: str) -> tuple[tuple[int, int] | None, str | None]:
    """Run as root, the broker's files go to the account Mosquitto drops to (its own ``user``
    line says which), or it could not read its password file. Otherwise the files are the
    caller's, and the broker runs as the caller."""
    if os.geteuid() != 0:
        return None, None
    import pwd

    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise SettingsError(
            f"there is no account {name!r} for the broker to run as; create it or name another with --broker-user"
        ) from None
    return (account.pw_uid, account.pw_gid), name


def _counters(text: str) -> list[int]:
    numbers: set[int] = set()
    try:
        for part in text.split(","):
            first, _, last = part.partition("-")
            numbers.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise SettingsError(f"--counters must look like 1-12 or 1,3,5; got {text!r}") from None
    if not numbers or min(numbers) < 1 or len(numbers) > 200:
        raise SettingsError("--counters must name 1 to 200 counters numbered from 1")
    return sorted(numbers)


async def _register_devices(settings: Settings, hall: str, specs: Sequence[Any]) -> tuple[int, dict[str, str]]:
    """Register the simulated devices in the hall's database, each with a fresh secret (a device
    registered already gets a new one); returns the hall's id and the secrets."""
    import secrets
    import uuid

    from devices.mosquitto import hash_secret
    from hall.kernel.events import Command
    from hall.runtime import core_domains
    from hall.storage.writer import Writer

    engine = create_engine(settings.db_url)
    writer = Writer(engine, core_domains(timezone=settings.timezone))
    passwords: dict[str, str] = {}
    try:
        async with engine.connect() as conn:
            hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == hall))).scalar_one_or_none()
        if hall_id is None:
            raise SettingsError(f"no hall with code {hall!r} in {settings.db_url}")
        await writer.start()
        for spec in specs:
            secret = secrets.token_urlsafe(18)
            fields = {"device": spec.id, "secret_hash": hash_secret(secret)}
            place = {"kind": spec.kind.value, "counter": spec.counter}
            done = await writer.submit(
                Command(uuid.uuid4().hex, hall_id, "device.register", "system:cli", {**fields, **place})
            )
            if not done.ok:
                done = await writer.submit(Command(uuid.uuid4().hex, hall_id, "device.rekey", "system:cli", fields))
            if done.ok:
                passwords[spec.id] = secret
    finally:
        await writer.stop()
        await engine.dispose()
    return hall_id, passwords


async def _hall_services(settings: Settings, hall: str) -> list[str]:
    from hall.storage.queue_tables import queue_services

    engine = create_engine(settings.db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(queue_services.c.code)
                .join(halls, halls.c.id == queue_services.c.hall_id)
                .where(halls.c.code == hall)
            )
            codes = [row.code for row in rows]
    finally:
        await engine.dispose()
    if not codes:
        raise SettingsError(f"hall {hall!r} has no services in {settings.db_url}")
    return codes


def _simulate(settings: Settings, args: argparse.Namespace) -> None:
    """Virtual devices of one hall against a broker, until interrupted. With ``--register`` they
    are first registered in the hall's database, each with a fresh secret (written to a file for
    the simulator, and to the broker's password file by ``hall broker-files``)."""
    import json
    import random

    from devices.bus import BrokerAddress, mqtt_connector
    from devices.simulator import SimulatedHall, device_connector, plan

    if not 0 < args.speed <= 1000:
        raise SettingsError("--speed must be above 0 and at most 1000")
    if args.serial and not settings.mqtt_url:
        asyncio.run(_simulate_wired(args.serial, args.speed, args.seed))
        return
    if not settings.mqtt_url:
        raise SettingsError("hall simulate needs a broker (--mqtt mqtt://host:port or HALL_MQTT_URL) or --serial")
    address = BrokerAddress.parse(settings.mqtt_url)
    specs = plan(args.hall, _counters(args.counters), kiosks=args.kiosks)
    services = asyncio.run(_hall_services(settings, args.hall))
    passwords: dict[str, str] = {}
    if args.register:
        _, passwords = asyncio.run(_register_devices(settings, args.hall, specs))
        write_private(Path(args.register), json.dumps(passwords, indent=1))
        print(f"registered {len(passwords)} devices; their secrets are in {args.register}", flush=True)
    if args.passwords:
        passwords = json.loads(Path(args.passwords).read_text())
    connect = device_connector(address, passwords) if passwords else mqtt_connector(address)
    rng = random.Random(args.seed)  # noqa: S311 - a simulation, not a secret
    hall = SimulatedHall(args.hall, connect, specs, services=services, speed=args.speed, rng=rng)
    print(f"simulating {len(specs)} devices of hall {args.hall} on {address.host}:{address.port}", flush=True)

    async def both() -> None:
        wired = asyncio.create_task(_simulate_wired(args.serial, args.speed, args.seed))
        try:
            await hall.run()
        finally:
            wired.cancel()

    asyncio.run(both() if args.serial else hall.run())


async def _simulate_wired(wanted: list[str], speed: float, seed: int | None) -> None:
    """Virtual wired devices (devices/wired_sim.py) at the far end of existing ports, until
    interrupted: the server is given the other end of each (``POST …/devices/{id}/wire``)."""
    import random

    from devices import wired_sim

    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    work: list[Coroutine[Any, Any, None]] = []
    for item in wanted:
        kind, _, port = item.partition(":")
        if not port:
            raise SettingsError(f"--serial {item!r}: give KIND:PORT, e.g. keypads:/dev/ttyUSB1")
        opener = wired_sim.port_opener(port)
        if kind == "keypads":
            bus = wired_sim.KeypadBus([1, 2, 3, 4])
            work += [wired_sim.serve(opener, bus.decoder, bus.answer), wired_sim.clerks_press(bus, rng, 60.0 / speed)]
        elif kind == "strip":
            strips = wired_sim.Strips(list(range(1, 9)))
            work.append(wired_sim.serve(opener, strips.decoder, strips.answer))
        elif kind == "sam":
            reader = wired_sim.SamReader()
            work += [wired_sim.serve(opener, reader.decoder, reader.answer),
                     wired_sim.residents_swipe(reader, rng, 300.0 / speed)]  # fmt: skip
        else:
            raise SettingsError(f"--serial {item!r}: KIND is keypads, strip or sam")
        print(f"simulating {kind} on {port}", flush=True)
    tasks = [asyncio.create_task(job) for job in work]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


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


def _serve(
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
        _show_accounts(accounts, "Demo accounts:")
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


def _backup(settings: Settings, target: Path) -> None:
    database = backups.sqlite_file(settings.db_url)
    revision = backups.backup(database, target)
    print(f"Backed up {database} to {target} (schema {revision}); it is readable by this account only.")


async def _rebuild_figures(settings: Settings, args: argparse.Namespace) -> None:
    """Recount the queue's figures from each hall's event log and the case figures from each
    root hall's, every local day before today (today's are the writer's, kept live); each day
    written is printed with its last sequence number, which ``--after`` takes to resume."""
    from queueing.rebuild import Rebuilt, rebuild

    if args.after and not args.hall:
        raise SettingsError("--after resumes one hall's rebuild: name it with --hall")
    engine = create_engine(settings.db_url)
    try:
        if not await is_current(engine):
            raise SettingsError(f"the database {settings.db_url} has no current hall schema; run `hall init` first")
        async with engine.connect() as conn:
            every = list(await conn.execute(select(halls.c.id, halls.c.code, halls.c.parent_id).order_by(halls.c.id)))
        found = [row for row in every if not args.hall or row.code == args.hall]
        if not found:
            raise SettingsError(f"no hall with code {args.hall!r}")
        today = datetime.now(settings.zone).date()
        if args.only != "cases":
            for hall_id, code, _parent in found:

                def told(day: Rebuilt, code: str = code) -> None:
                    print(f"{code} {day.day}: {day.rows} figure rows, events up to seq {day.last_seq}", flush=True)

                done = await rebuild(engine, hall_id, str(settings.zone), until=today, after=args.after, told=told)
                print(f"{code}: {len(done)} days rebuilt")
        if args.only != "queue":
            # Resuming the queue's figures (``--after`` alone) rebuilds the case figures whole:
            # the printed sequence number was the queue's.
            after = args.after if args.only == "cases" else 0
            await _rebuild_case_figures(engine, settings, every, found, until=today, after=after)
    finally:
        await engine.dispose()


async def _rebuild_case_figures(
    engine: AsyncEngine, settings: Settings, every: Sequence[Any], found: Sequence[Any], *, until: date, after: int
) -> None:
    """The case figures of the trees of the ``found`` halls, each rebuilt from its root's log."""
    from cases.deadlines import DEFAULT_HOURS
    from cases.rebuild import Rebuilt, rebuild
    from cases.register import root_of

    codes = {row.id: row.code for row in every}
    parents = {row.id: row.parent_id for row in every}
    roots: list[int] = []
    for row in found:
        root = root_of(parents, row.id)
        if root != row.id and len(found) == 1:
            # One hall found that is no root: the one named with --hall; say whose tree is rebuilt.
            print(f"{row.code}: its cases are registered at {codes[root]}; rebuilding the case figures of its tree")
        if root not in roots:
            roots.append(root)
    # The working hours the server decides cases with (hall.runtime): the calendar in the halls' zone.
    hours = replace(DEFAULT_HOURS, tz=settings.zone)
    for root in roots:
        code = codes[root]

        def told(day: Rebuilt, code: str = code) -> None:
            print(f"{code} cases {day.day}: {day.rows} case figure rows, events up to seq {day.last_seq}", flush=True)

        done = await rebuild(engine, root, hours, until=until, after=after, told=told)
        print(f"{code}: {len({day.day for day in done})} days of case figures rebuilt")


def _restore(settings: Settings, source: Path) -> None:
    database = backups.sqlite_file(settings.db_url)
    revision = backups.restore(source, database)

    async def migrate() -> None:
        engine = create_engine(settings.db_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    print(f"Restored {database} from {source} (schema {revision}, migrated to this release's); start the server.")


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


def _catalog(args: argparse.Namespace) -> None:
    """Import and export of the service catalog: read YAML or CSV, refuse it unless it is sound (the
    checks the server makes at start), write it in the form asked for. The server reads the YAML
    form (HALL_CATALOG); the CSV form is for editing in a spreadsheet."""

    from cases.catalog_io import CatalogFormatError, dump_csv, dump_yaml, load_csv
    from hall.runtime import load_catalog

    if args.file and Path(args.file).suffix.lower() == ".csv":
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{args.file} cannot be read: {exc}") from None
        try:
            loaded = load_csv(text)
        except CatalogFormatError as exc:
            raise SettingsError(f"{args.file} is not a catalog: {exc}") from None
        problems = loaded.validate()
        if problems:
            raise SettingsError(f"{args.file} has {len(problems)} problem(s): {problems[0]}")
        catalog = loaded
    else:
        catalog = load_catalog(Path(args.file) if args.file else None)
    written = dump_csv(catalog) if args.to == "csv" else dump_yaml(catalog)
    if args.out:
        # With a byte-order mark, a spreadsheet opens the CSV's Chinese as such.
        Path(args.out).write_text(written, encoding="utf-8-sig" if args.to == "csv" else "utf-8")
        print(f"hall: {len(catalog)} service items written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(written)


# What hall writes (the database and its journal, the key, scans of papers, messages, device
# secrets) holds personal data or credentials: owner-only, whatever the account's own umask says.
PRIVATE_UMASK = 0o077


def write_private(path: Path, text: str) -> None:
    """A file only its owner reads (0600), even where it already existed with wider rights."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.umask(PRIVATE_UMASK)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = _settings(args)
        if args.command == "init":
            asyncio.run(_init(settings, sample=not args.no_sample))
        elif args.command == "serve":
            _serve(settings)
        elif args.command == "setup":
            _setup(settings, args)
        elif args.command == "add-staff":
            asyncio.run(_add_staff(settings, args))
        elif args.command == "broker-files":
            asyncio.run(_broker_files(settings, args))
        elif args.command == "simulate":
            _simulate(settings, args)
        elif args.command == "catalog":
            _catalog(args)
        elif args.command == "backup":
            _backup(settings, Path(args.file))
        elif args.command == "restore":
            _restore(settings, Path(args.file))
        elif args.command == "figures":
            asyncio.run(_rebuild_figures(settings, args))
        elif args.command == "demo":
            if not 0 < args.speed <= 1000:
                raise SettingsError("--speed must be above 0 and at most 1000")
            _serve(
                settings,
                demo=True,
                demo_seed=args.seed,
                speed=args.speed,
                broker_port=args.broker_port,
                broker_bind=args.broker_bind,
            )
    except HallFileError as exc:
        print(f"hall: {args.file} is not sound; nothing was applied:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"hall: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
