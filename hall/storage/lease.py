"""Which process runs a clock: on a shared PostgreSQL, only the one holding a session advisory lock.

Several server processes share one database at scale. Each would otherwise run the case clock, and
each tick one of them commits at a tree's root makes every other one reload that tree's whole
register. The holder keeps one connection open with the lock taken; when it dies or stops, the
database drops the lock with the session and the next process to try takes it over. On SQLite
there is one server process, which always holds the lease.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hall.storage.database import is_sqlite

log = logging.getLogger(__name__)

# Advisory lock keys are one 64-bit space per database: this one is the case clock's ("hallclok").
CASE_CLOCK = 0x68616C6C636C6F6B


class Lease:
    def __init__(self, engine: AsyncEngine, key: int) -> None:
        self._engine = engine
        self._key = key
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return is_sqlite(self._engine) or self._conn is not None

    async def hold(self) -> bool:
        """Whether this process holds the lease now, taking it when it is free."""
        if is_sqlite(self._engine):
            return True
        if self._conn is not None:
            try:
                # The lock lives as long as the session: a broken connection has lost it.
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("lost the connection that held lease %x", self._key)
                await self._drop()
        conn = await self._engine.connect()
        try:
            taken = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})).scalar_one()
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if not taken:
            await conn.close()
            return False
        self._conn = conn
        log.info("this process holds lease %x", self._key)
        return True

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            await self._conn.commit()
        finally:
            await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                log.debug("closing the lease connection failed", exc_info=True)
