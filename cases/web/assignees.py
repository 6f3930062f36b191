"""Who may be given a case's next step (指派): the active staff of the hall it waits at who hold
the role that step needs. The register keeps no staff list, so the pages (offering people) and the
API (refusing anyone else) ask here, and ask the same question."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from cases.case_model import Turn
from hall.storage.tables import staff


def _holds(roles: str, turn: Turn) -> bool:
    # The role itself, not admin: nothing waits on admin (cases.turns.todo).
    return turn.role.value in {r.strip() for r in roles.split(",")}


async def assignable_staff(conn: AsyncConnection, turn: Turn) -> Sequence[Any]:
    """The staff who may take ``turn``, by staff number and name."""
    found = await conn.execute(
        select(staff.c.id, staff.c.display_name, staff.c.staff_no, staff.c.roles)
        .where(staff.c.hall_id == turn.hall, staff.c.active.is_(True))
        .order_by(staff.c.staff_no, staff.c.display_name, staff.c.id)
    )
    return [row for row in found if _holds(row.roles, turn)]


async def may_be_assigned(conn: AsyncConnection, staff_id: int, turn: Turn) -> bool:
    person = (
        await conn.execute(select(staff.c.roles, staff.c.hall_id, staff.c.active).where(staff.c.id == staff_id))
    ).first()
    return person is not None and bool(person.active) and person.hall_id == turn.hall and _holds(person.roles, turn)
