"""A technician's command to a wired device whose line is open in another server process.

With processes sharing one PostgreSQL, a wired device's serial line is open in one of them (the
``wired lines`` lease, ``devices.serial``), while the console's request reaches whichever process
the reverse proxy chose for the hall. That process hands the command over with ``NOTIFY`` on
``CHANNEL``; the holder ``LISTEN``s on a connection of its own while it holds the lease, carries
the command on the line and records its outcome as usual (``device.command_done``), and the asking
process hears the outcome's event (``device.command``) through its log follower. A notification is
not kept: one sent while no process listens (the lease moving) is lost, and the asker reports the
command expired, as one whose line stayed away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

CHANNEL = "hall_wired_commands"
# PostgreSQL refuses a notification payload of 8000 bytes or more.
MOST_BYTES = 7900
# How often the listening connection is checked: a dropped one ends ``listen``.
CHECK_EVERY = 2.0


class WiredRelay:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def send(self, command: Mapping[str, Any]) -> None:
        payload = json.dumps(dict(command), ensure_ascii=False, separators=(",", ":"))
        if len(payload.encode()) > MOST_BYTES:
            raise ValueError("a command for a wired device is too long to hand over")
        async with self._engine.begin() as conn:
            await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})

    async def listen(self, handler: Callable[[dict[str, Any]], None]) -> None:
        """Hand every command sent to ``handler`` until cancelled; raises ``ConnectionError`` when
        the listening connection is lost (the caller's lease runner starts it again)."""

        def heard(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            try:
                command = json.loads(payload)
            except ValueError:
                log.warning("an unreadable wired command on %s: %r", CHANNEL, payload[:200])
                return
            if isinstance(command, dict):
                handler(command)

        conn = await self._engine.connect()
        try:
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.add_listener(CHANNEL, heard)  # type: ignore[union-attr]
            while not raw.is_closed():  # type: ignore[union-attr]  # noqa: ASYNC110 (asyncpg has no close event)
                await asyncio.sleep(CHECK_EVERY)
            raise ConnectionError(f"the connection listening on {CHANNEL} was lost")
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CHECK_EVERY):
                    # Never back to the pool: a connection that LISTENed would keep receiving.
                    await conn.invalidate()
                    await conn.close()
