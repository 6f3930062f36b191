"""``hall init``, ``hall backup`` and ``hall restore``: the database made or migrated, copied while
it runs, and put back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hall.cli.accounts import show_accounts
from hall.settings import Settings
from hall.setup import initialise
from hall.storage import backup as backups
from hall.storage.database import create_engine
from hall.storage.migrate import upgrade


async def init(settings: Settings, sample: bool) -> None:
    engine = create_engine(settings.db_url)
    try:
        ids, admin = await initialise(engine, sample=sample)
    finally:
        await engine.dispose()
    print(f"Database ready: {settings.db_url}" + (f" ({len(ids)} halls)" if ids else ""))
    if admin is not None:
        show_accounts([admin], "Created the first administrator:")
    elif sample:
        print("An administrator exists already; no password was changed.")


def backup(settings: Settings, target: Path) -> None:
    database = backups.sqlite_file(settings.db_url)
    revision = backups.backup(database, target)
    print(f"Backed up {database} to {target} (schema {revision}); it is readable by this account only.")


def restore(settings: Settings, source: Path) -> None:
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
