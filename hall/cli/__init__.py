"""The ``hall`` command: ``serve``, ``init``, ``setup``, ``add-staff``, ``broker-files``, ``simulate``,
``catalog``, ``backup``, ``restore``, ``figures`` and ``demo``.

Options fall back to ``HALL_*`` environment variables. A bad option or setting prints one line
and exits with status 2.

``main`` is here, where the console script (pyproject.toml) and ``python -m hall.cli`` find it. The
options are in ``hall.cli.arguments``; what each command does is in a module of its own: ``server``
(serve, demo), ``database`` (init, backup, restore), ``accounts`` (add-staff), ``hall_files``
(setup), ``broker`` (broker-files), ``simulation`` (simulate), ``catalog`` and ``figures``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hall.cli.accounts import add_staff
from hall.cli.arguments import command_line
from hall.cli.broker import broker_files
from hall.cli.catalog import convert_catalog
from hall.cli.database import backup, init, restore
from hall.cli.figures import rebuild_figures
from hall.cli.hall_files import setup
from hall.cli.private_files import PRIVATE_UMASK
from hall.cli.server import serve
from hall.cli.simulation import simulate
from hall.hallfile.reading import HallFileError
from hall.kernel.errors import SettingsError
from hall.settings import Settings, from_env


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


def main(argv: Sequence[str] | None = None) -> int:
    args = command_line().parse_args(argv)
    os.umask(PRIVATE_UMASK)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = _settings(args)
        if args.command == "init":
            asyncio.run(init(settings, sample=not args.no_sample))
        elif args.command == "serve":
            serve(settings)
        elif args.command == "setup":
            setup(settings, args)
        elif args.command == "add-staff":
            asyncio.run(add_staff(settings, args))
        elif args.command == "broker-files":
            asyncio.run(broker_files(settings, args))
        elif args.command == "simulate":
            simulate(settings, args)
        elif args.command == "catalog":
            convert_catalog(args)
        elif args.command == "backup":
            backup(settings, Path(args.file))
        elif args.command == "restore":
            restore(settings, Path(args.file))
        elif args.command == "figures":
            asyncio.run(rebuild_figures(settings, args))
        elif args.command == "demo":
            if not 0 < args.speed <= 1000:
                raise SettingsError("--speed must be above 0 and at most 1000")
            serve(
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
