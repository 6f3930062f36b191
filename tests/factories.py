"""Quick ways to fill a test database: staff rows without paying argon2 for each, commands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.events import Command
from hall.storage.tables import staff
from hall.web.passwords import hash_password

PASSWORD = "correct horse battery"


@cache
def _hash() -> str:
    return hash_password(PASSWORD)


async def add_staff(
    engine: AsyncEngine, hall_id: int, count: int, roles: str = "clerk", prefix: str = "clerk"
) -> list[int]:
    """``count`` staff of ``hall_id`` sharing the password ``PASSWORD``; returns their ids."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(staff),
            [
                {
                    "username": f"{prefix}{uuid.uuid4().hex[:8]}",
                    "display_name": f"{prefix} {i}",
                    "staff_no": f"N{i:04d}",
                    "password_hash": _hash(),
                    "roles": roles,
                    "hall_id": hall_id,
                    "active": True,
                    "created_at": datetime.now(UTC),
                }
                for i in range(count)
            ],
        )
        rows = await conn.execute(select(staff.c.id).where(staff.c.hall_id == hall_id, staff.c.roles == roles))
        return sorted(row.id for row in rows)[-count:]


def command(hall_id: int, name: str, clerk: int, counter: int, command_id: str | None = None, **args: Any) -> Command:
    return Command(
        command_id or uuid.uuid4().hex,
        hall_id,
        name,
        f"staff:{clerk}",
        {"counter": counter, "clerk": clerk, **args},
    )
