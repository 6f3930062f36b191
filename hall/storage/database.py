"""Engines for the embedded default (SQLite in WAL mode) and for PostgreSQL, same code for both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, case, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

READONLY = "hall_readonly"


def create_engine(url: str, *, synchronous: str = "FULL", schema: str | None = None) -> AsyncEngine:
    """An async engine tuned for hall's single-writer, many-reader pattern.

    SQLite: WAL so readers never block the writer; ``synchronous=FULL`` so an acknowledged
    command survives power loss, not only a crash (sqlite.org, PRAGMA synchronous); and
    ``BEGIN IMMEDIATE`` so that two writers queue for the lock at the start of a transaction
    instead of failing half way with "database is locked".
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _tune_sqlite(engine, synchronous)
        return engine
    # ``schema``: a PostgreSQL schema to work in (several halls' databases, or tests, side by side).
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args=connect_args)


def _tune_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    if synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ValueError(f"unsupported synchronous mode {synchronous!r}")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take over transaction control from the driver so that BEGIN IMMEDIATE is ours to send.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Readers take a plain deferred transaction: in WAL mode they never wait for the writer.
        readonly = conn.get_execution_options().get(READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction that sees one consistent snapshot on both backends."""
    async with engine.connect() as conn:
        options: dict[str, Any] = {READONLY: True}
        if not is_sqlite(engine):
            options["isolation_level"] = "REPEATABLE READ"
        conn = await conn.execution_options(**options)
        async with conn.begin():
            yield conn


async def upsert(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, or update the existing ones with the same ``keys``, on either backend."""
    if not rows:
        return
    statement = _upsert_statement(conn.dialect.name, table, tuple(rows[0]), tuple(keys))
    await conn.execute(statement, list(rows))


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> Any:
    # Building the ON CONFLICT clause costs more than running it: build it once per shape.
    statement: Any = sqlite_insert(table) if dialect == "sqlite" else pg_insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={c: statement.excluded[c] for c in columns if c not in keys}
    )


async def accumulate(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    maxima: Sequence[str] = (),
    kept: Sequence[str] = (),
) -> None:
    """Insert rows, or add their values to the existing row with the same ``keys``, on either
    backend: running totals kept in the same transaction as the events they count. Columns in
    ``maxima`` keep the larger value, those in ``kept`` their first one (values that follow from
    the key)."""
    if not rows:
        return
    statement = _accumulate_statement(conn.dialect.name, table, tuple(rows[0]), tuple(keys), tuple(maxima), tuple(kept))
    await conn.execute(statement, list(rows))


@lru_cache(maxsize=16)
def _accumulate_statement(
    dialect: str,
    table: Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    maxima: tuple[str, ...],
    kept: tuple[str, ...],
) -> Any:
    statement: Any = sqlite_insert(table) if dialect == "sqlite" else pg_insert(table)
    new = statement.excluded
    changes: dict[str, Any] = {}
    for name in columns:
        if name in keys or name in kept:
            continue
        if name in maxima:
            # CASE rather than max()/GREATEST(): one spelling both backends read alike.
            changes[name] = case((new[name] > table.c[name], new[name]), else_=table.c[name])
        else:
            changes[name] = table.c[name] + new[name]
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)
