"""The case clock's commands: one tick per hall tree, sent to its root (the register lives there).
Pure: the caller reads the hall tree and names each command."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cases import register
from hall.kernel.events import Command


def case_tick_commands(parents: Mapping[int, int | None], command_id: Callable[[], str]) -> list[Command]:
    """One clock tick per hall tree (``parents``: each hall's parent), sent to its root and reaching
    every hall of the tree (any case's light may turn)."""
    trees: dict[int, set[int]] = {}
    for hall_id in parents:
        trees.setdefault(register.root_of(parents, hall_id), set()).add(hall_id)
    return [
        Command(command_id(), root, "case.tick", "system:clock", {}, record=False, also=tuple(sorted(members)))
        for root, members in sorted(trees.items())
    ]
