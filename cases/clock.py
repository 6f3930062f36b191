"""The case clock's commands: one tick per hall tree, sent to its root (the register lives there)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from cases import register
from hall.kernel.events import Command
from hall.storage.database import reading
from hall.storage.directory import hall_tree


async def case_tick_commands(engine: AsyncEngine) -> list[Command]:
    """One clock tick per hall tree, sent to its root and reaching every hall of the tree (any
    case's light may turn)."""
    async with reading(engine) as conn:
        parents = await hall_tree(conn)
    trees: dict[int, set[int]] = {}
    for hall_id in parents:
        trees.setdefault(register.root_of(parents, hall_id), set()).add(hall_id)
    return [
        Command(
            f"case-tick-{uuid.uuid4().hex}",
            root,
            "case.tick",
            "system:clock",
            {},
            record=False,
            also=tuple(sorted(members)),
        )
        for root, members in sorted(trees.items())
    ]
