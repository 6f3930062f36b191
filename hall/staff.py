"""Staff accounts: created by ``hall init``, ``hall add-staff`` and setup, each logged as an event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.events import Fact
from hall.kernel.roles import Role, parse_roles
from hall.storage.directory import append_events
from hall.storage.tables import staff
from hall.web.passwords import hash_password


async def create_staff(
    conn: AsyncConnection,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[Role] | str,
    hall_id: int,
    staff_no: str = "",
    actor: str,
    now: datetime,
) -> int:
    role_set = parse_roles(roles) if isinstance(roles, str) else frozenset(roles)
    result = await conn.execute(
        insert(staff).values(
            username=username,
            display_name=display_name,
            staff_no=staff_no,
            password_hash=hash_password(password),
            roles=",".join(sorted(r.value for r in role_set)),
            hall_id=hall_id,
            active=True,
            created_at=now,
        )
    )
    staff_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    await append_events(
        conn,
        hall_id,
        [Fact("staff.created", {"staff": staff_id, "username": username, "roles": sorted(r.value for r in role_set)})],
        actor,
        now,
    )
    return staff_id
