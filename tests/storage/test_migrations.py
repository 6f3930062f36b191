"""The Alembic migrations build exactly the schema the code describes, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from hall.storage.migrate import is_current, upgrade
from hall.storage.schema import metadata
from tests.conftest import Database


async def test_migrations_match_the_tables_in_code(database: Database) -> None:
    engine = database.engines[0]

    def _diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
    assert await is_current(engine)
    await upgrade(engine)  # running it again changes nothing
    assert await is_current(engine)
