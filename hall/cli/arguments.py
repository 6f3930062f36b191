"""The ``hall`` command's grammar: each command with its options and their help. Apart from what
the commands do, so that the whole command line reads in one place."""

from __future__ import annotations

import argparse
from typing import NoReturn

from hall import __version__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"hall: {message} (see hall --help)\n")


def command_line() -> argparse.ArgumentParser:
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
