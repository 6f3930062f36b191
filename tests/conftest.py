"""Fixtures: a fresh database on each backend, an application with its runtime, and clocks.

These are the fixtures more than one folder uses; a fixture only one folder uses lives in that
folder's conftest.py (the brokers in devices/).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hall.sample import load_sample
from hall.storage.database import create_engine
from hall.storage.migrate import upgrade
from tests.browsing import Screens, chromium
from tests.peers import PG_URL, missing
from tests.serverproc import ServerProcess
from tests.site import Site, open_site

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Database:
    """A migrated, empty database; ``engine()`` opens another engine on it (another writer)."""

    backend: str
    url: str
    schema: str | None
    engines: list[AsyncEngine]

    def engine(self) -> AsyncEngine:
        engine = create_engine(self.url, schema=self.schema)
        self.engines.append(engine)
        return engine


async def _pg_admin() -> AsyncEngine:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text("select 1"))
    except (OSError, Exception) as exc:
        await admin.dispose()
        missing(f"PostgreSQL at {PG_URL} ({type(exc).__name__})")
    return admin


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}", None, [])
        try:
            await upgrade(db.engine())
            yield db
        finally:
            for engine in db.engines:
                await engine.dispose()
        return
    admin = await _pg_admin()
    # A schema of its own per test: tests never see each other's rows.
    schema = "t_" + secrets.token_hex(6)
    async with admin.connect() as conn:
        await conn.execute(text(f"create schema {schema}"))
    db = Database("postgres", PG_URL, schema, [])
    try:
        await upgrade(db.engine())
        yield db
    finally:
        for engine in db.engines:
            await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f"drop schema {schema} cascade"))
        await admin.dispose()


@pytest.fixture
async def engine(database: Database) -> AsyncEngine:
    return database.engines[0]


@pytest.fixture
async def halls(engine: AsyncEngine) -> dict[str, int]:
    async with engine.begin() as conn:
        return await load_sample(conn, datetime.now(UTC))


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    client, made = open_site(tmp_path)
    with client:
        yield made


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per test module."""
    yield from chromium()


@pytest.fixture
def screens(browser: Any, server: ServerProcess) -> Iterator[Screens]:
    """Pages on the test module's ``server``, logged in as a role on request (``open(path,
    role="clerk")``); any uncaught exception or console error on them fails the test."""
    opened = Screens(browser, server)
    try:
        yield opened
    finally:
        opened.close()
    opened.check()
