"""The sample district for ``hall init`` and ``hall demo``: one district hall with a street hall
and a community hall below it, each with numbered counters. It is a hall file like any other
(``hall/sample-district.yaml``), shipped in the package."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.hallfile.plan import plan
from hall.hallfile.reading import read
from hall.hallfile.specs import HallFile
from hall.hallfile.store import apply, export
from hall.storage.tables import halls

SAMPLE_FILE = "sample-district.yaml"


def sample_district() -> HallFile:
    resource = files("hall").joinpath(SAMPLE_FILE)
    return read(resource.read_bytes(), f"hall/{SAMPLE_FILE}")


async def load_sample(conn: AsyncConnection, now: datetime) -> dict[str, int]:
    """Create the sample halls that are missing; return every hall's id by code. A hall that
    exists is left as it is, whatever the sample says: it may have been set up since."""
    existing = {row.code for row in await conn.execute(select(halls.c.code))}
    sample = sample_district()
    missing = HallFile(halls=[h for h in sample.halls if h.code not in existing])
    if missing.halls:
        await apply(conn, plan(await export(conn), missing).changes, now, actor="system:init")
    return {row.code: row.id for row in await conn.execute(select(halls.c.code, halls.c.id))}
