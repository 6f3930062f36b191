"""Work that must run once: on a shared PostgreSQL, only in the process holding its lease.

Several server processes share one database at scale. Each would otherwise run the case clock, the
queue's clock, the notification outbox, and each tick one of them commits at a tree's root makes
every other one reload that tree's whole register. A lease is a session advisory lock: the holder
keeps one connection open with the lock taken; when it dies or stops, the database drops the lock
with the session, and the next process to try (every ``RETRY`` seconds, ``run_leased``) takes it
over. On SQLite there is one server process, which always holds every lease.

How long the work is without a runner when its holder dies:

* The process dies (a crash, ``kill -9``) on a host that stays up: its kernel closes the socket,
  PostgreSQL ends the session at once, and a survivor takes over at its next try: within ``RETRY``.
* The host or the network goes away: PostgreSQL notices the silent socket by TCP keepalive, which
  the lease's session sets to ``KEEPALIVE_IDLE + KEEPALIVE_INTERVAL × KEEPALIVE_COUNT`` seconds;
  a survivor takes over within that plus ``RETRY``. The cut-off holder's own check of its session
  times out after ``RETRY`` and stops its work, so two runners overlap by at most that bound;
  the work itself tolerates that (the clocks' commands change nothing twice, the outbox claims each
  message by compare-and-set).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hall.storage.database import is_sqlite

log = logging.getLogger(__name__)

# Advisory lock keys are one 64-bit space per database: eight ASCII letters each.
CASE_CLOCK = 0x68616C6C636C6F6B  # "hallclok": case lights, reminders, 督办 escalation
QUEUE_CLOCK = 0x68616C6C7174696B  # "hallqtik": held tickets return, a new ticket day starts
OUTBOX = 0x68616C6C6F757462  # "halloutb": the notification outbox's sender
DEVICE_PRESENCE = 0x68616C6C70726573  # "hallpres": devices silent too long go offline
DISPLAY_FEED = 0x68616C6C64697370  # "halldisp": the network displays' retained content
WIRED_LINES = 0x68616C6C77697265  # "hallwire": the wired devices' serial lines, open in one process
SINGLETONS = {
    "case clock": CASE_CLOCK,
    "queue clock": QUEUE_CLOCK,
    "notification outbox": OUTBOX,
    "device presence": DEVICE_PRESENCE,
    "display feed": DISPLAY_FEED,
    "wired lines": WIRED_LINES,
}

# Seconds between a non-holder's tries, and the longest a holder's check of its session may take.
RETRY = 2.0
# TCP keepalive of the lease's session, so PostgreSQL drops the lock of a holder that went silent.
KEEPALIVE_IDLE = 5
KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3
TAKEOVER_AFTER_CRASH = RETRY
TAKEOVER_AFTER_HOST_LOSS = KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT + RETRY


class Lease:
    def __init__(self, engine: AsyncEngine, key: int, *, check_timeout: float = RETRY) -> None:
        self._engine = engine
        self._key = key
        self._check_timeout = check_timeout
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
                # The lock lives as long as the session: a broken connection has lost it, and one
                # that does not answer in time may have (the database may have dropped it).
                async with asyncio.timeout(self._check_timeout):
                    await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("lost the connection that held lease %x", self._key)
                await self._drop()
                # Not held now: the work stops at once. Taking the lease again waits for the next
                # round, so a connect that hangs (the database out of reach) cannot keep the work
                # running beyond this check while another process takes the lease over.
                return False
        conn = await self._engine.connect()
        try:
            # The holder is named by its process id (pg_stat_activity.application_name), and a
            # holder that goes silent loses the lock after the keepalive probes fail.
            await conn.execute(
                text(
                    "SELECT set_config('application_name', :name, false),"
                    " set_config('tcp_keepalives_idle', :idle, false),"
                    " set_config('tcp_keepalives_interval', :interval, false),"
                    " set_config('tcp_keepalives_count', :count, false)"
                ),
                {
                    "name": f"hall lease {os.getpid()}",
                    "idle": str(KEEPALIVE_IDLE),
                    "interval": str(KEEPALIVE_INTERVAL),
                    "count": str(KEEPALIVE_COUNT),
                },
            )
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
                # Never back to the pool: its session may still hold the lock. Bounded: a dead
                # socket must not hold up the caller.
                async with asyncio.timeout(self._check_timeout):
                    await conn.invalidate()
                    await conn.close()
            except Exception:
                log.debug("closing the lease connection failed", exc_info=True)


async def run_leased(
    lease: Lease, work: Callable[[], Coroutine[Any, Any, None]], name: str, *, retry: float = RETRY
) -> None:
    """Run ``work`` while this process holds ``lease``, until cancelled.

    Every ``retry`` seconds a non-holder tries to take the lease and a holder checks it still has
    it; work whose lease is lost is cancelled, and work that ends or fails is started again at the
    next round. The lease is released when this is cancelled (a stopping server hands over at once).
    """
    task: asyncio.Task[None] | None = None
    try:
        while True:
            try:
                held = await lease.hold()
            except Exception:
                log.warning("could not try the lease of the %s", name, exc_info=True)
                held = False
            if held and task is None:
                log.info("this process runs the %s", name)
                task = asyncio.create_task(work(), name=f"leased {name}")
            elif not held and task is not None:
                log.warning("lost the lease of the %s: stopping it here", name)
                await _cancel(task, passing_on=True)
                task = None
            if task is not None:
                await asyncio.wait([task], timeout=retry)
                if task.done():
                    if not task.cancelled() and task.exception() is not None:
                        log.error("the %s failed", name, exc_info=task.exception())
                    task = None
                    await asyncio.sleep(retry)  # work that keeps failing must not spin
            else:
                await asyncio.sleep(retry)
    finally:
        if task is not None:
            await _cancel(task)
        with contextlib.suppress(Exception):
            await lease.release()


async def _cancel(task: asyncio.Task[None], *, passing_on: bool = False) -> None:
    """Cancel ``task`` and wait for it to end. With ``passing_on``, a cancellation of the caller
    that arrives meanwhile (the server stopping while the work winds down) is raised once the
    task has ended, not swallowed with the task's own."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    current = asyncio.current_task()
    if passing_on and current is not None and current.cancelling():
        raise asyncio.CancelledError
