"""Whose turn a case waits on: the hall that decides it (routed up the hall tree), the role, hall
and department that take its next step, whether a staff member fits that turn, and the cases that
wait on a person. Apart from the rules (:mod:`cases.workflow`) because pages, boards, lists and
督办 ask whose turn it is without taking a step.
"""

from __future__ import annotations

from cases.case_model import Actor, Case, CasesState, Stage, Turn
from cases.catalog import Level
from hall.kernel.roles import Role

# Who takes the next step from each stage, and at which of the case's two halls.
_NEXT = {
    Stage.ACCEPTED: (Role.CLERK, "deciding"),
    Stage.REVIEW: (Role.SUPERVISOR, "deciding"),
    Stage.APPROVAL: (Role.CLERK, "deciding"),
    Stage.COMPLETED: (Role.CLERK, "accepting"),
}


def route(state: CasesState, hall: int, level: Level) -> int | None:
    """The hall that decides for ``hall``: itself or its nearest ancestor at ``level``."""
    current: int | None = hall
    seen: set[int] = set()
    while current is not None and current not in seen:
        if state.levels.get(current) == level:
            return current
        seen.add(current)
        current = state.parents.get(current)
    return None


def waiting_on(case: Case, *, during_pause: bool = False) -> Turn | None:
    """Who takes the case's next step; None when it is finished, or waits for the resident's 补正."""
    if case.paused and not during_pause:
        return None
    if case.stage not in _NEXT:
        return None
    role, where = _NEXT[case.stage]
    if where == "accepting":
        return Turn(role, case.accepted_hall, None)
    return Turn(role, case.deciding_hall, case.department)


def fits(actor: Actor, turn: Turn, role: Role | None = None) -> bool:
    """Whether the actor holds the turn's role at its hall and department (admin not counted)."""
    return (
        (role or turn.role) in actor.roles
        and actor.hall_id == turn.hall
        and (turn.department is None or actor.department in (None, turn.department))
    )


def may_act(actor: Actor, case: Case, turn: Turn | None) -> bool:
    """Whether the actor may take the step ``turn`` describes: admin always; else whoever fits
    it, unless the case is assigned to someone else."""
    if actor.admin:
        return True
    return turn is not None and fits(actor, turn) and case.assignee in (None, actor.staff_id)


# -- queries ---------------------------------------------------------------------------------


def todo(state: CasesState, actor: Actor) -> list[Case]:
    """待办: the cases waiting on this person. Admin may act anywhere, but nothing waits on admin;
    an admin who also works cases holds the clerk or supervisor role too."""
    mine = []
    for case in state.cases.values():
        turn = waiting_on(case)
        if turn is not None and fits(actor, turn) and case.assignee in (None, actor.staff_id):
            mine.append(case)
    return sorted(mine, key=lambda c: (c.accepted_at, c.number))


def registered_by(state: CasesState, staff_id: int) -> list[Case]:
    """The cases this person accepted ("my registered cases") that are not yet 办结 or refused."""
    mine = [c for c in state.cases.values() if c.registered_by == staff_id and not c.stage.finished]
    return sorted(mine, key=lambda c: (c.accepted_at, c.number))
