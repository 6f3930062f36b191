"""``hall setup``: a hall file checked and applied to the database, or the database written as
one. For a stopped server; a running one takes changes through its admin pages (hall.admin.changes)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from hall.cli.accounts import show_accounts
from hall.cli.private_files import write_private
from hall.kernel.errors import SettingsError
from hall.settings import Settings
from hall.setup import Account
from hall.storage import backup as backups
from hall.storage.database import create_engine
from hall.storage.migrate import is_current
from hall.storage.tables import staff


def setup(settings: Settings, args: argparse.Namespace) -> None:
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
    show_accounts(
        [Account(a.username, a.password, a.roles, a.hall_code) for a in made],
        "New staff accounts (each is to choose a new password at first login):",
    )
    if admins is None:
        print("There is no administrator yet: name one in the file's staff (roles: [admin]), or use hall add-staff.")
    if not sqlite:
        print("Restart every hall server on this database: a running server keeps the halls it loaded in memory.")
