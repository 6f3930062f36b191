"""What lists and boards show of cases: a case as a row (applicant masked, light as it is now),
the open cases of a hall and the halls below it, and the supervision board (lights counted, yellow
and red cases, unanswered 督办 orders), from the writer's register or from the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncConnection

from cases import register
from cases.case_model import Case, CasesState, Stage
from cases.case_timing import light_reason, reason_json
from cases.lights import Light
from cases.records import case_from_record, order_from_record
from cases.register import Register
from cases.supervision import SupervisionState
from cases.turns import waiting_on
from hall.kernel.roles import within
from hall.storage.case_tables import cases, supervision_orders
from hall.storage.directory import hall_tree


def case_json(case: Case, meta: register.Meta, now: datetime) -> dict[str, Any]:
    """A case as lists and consoles show it: the applicant masked, the light as it is now and what
    it is for (the case's deadline or its stage's, 环节超时, with that clock's due time)."""
    turn = waiting_on(case)
    shown = register.light_now(meta, now) if not case.stage.finished else meta.light
    return {
        **case.summary(),
        "counter": meta.counter,
        "due_at": meta.due.isoformat() if meta.due else None,
        "provisional": meta.provisional,
        "light": meta.light.value,
        "light_now": shown.value,
        **reason_json(meta, shown, now),
        "waiting_on": {"role": turn.role.value, "hall": turn.hall} if turn else None,
        "rating": meta.rating,
    }


def by_light(case: dict[str, Any]) -> tuple[int, str, str]:
    """Red first, then yellow, then green; within a light, the nearest due time of what the light
    is for first."""
    light = Light(case["light_now"])
    return (-light.rank, case["light_due"] or case["due_at"] or "~", case["number"])


def red_first(chosen: list[Case], state: Register, now: datetime) -> list[Case]:
    """A list of cases in the order the lists show them: red first, then yellow, then green."""

    def key(case: Case) -> tuple[int, str, str]:
        meta = state.meta_of(case.number)
        light = register.light_now(meta, now) if not case.stage.finished else meta.light
        due = light_reason(meta, light, now).due or meta.due
        return (-light.rank, due.isoformat() if due else "~", case.number)

    return sorted(chosen, key=key)


def open_cases(state: Register, hall_id: int) -> list[Case]:
    """Every open case the hall takes part in, or a hall below it, oldest first."""
    parents = state.cases.parents
    chosen = [
        c
        for c in state.cases.cases.values()
        if not c.stage.finished and any(within(h, hall_id, parents) for h in c.halls)
    ]
    return sorted(chosen, key=lambda c: (c.accepted_at, c.number))


# A realtime snapshot lists this many open cases at most (oldest first); the lists read the API.
SNAPSHOT_CASES = 1000


async def stored_board(conn: AsyncConnection, hall_id: int, now: datetime) -> dict[str, Any] | None:
    """The hall's open cases and supervision board as committed, read on ``conn``: a realtime
    snapshot reads them in the transaction that reads the sequence it reflects, which the writer's
    cached state cannot promise. Only the rows of the hall and the halls below it are read, the
    light counts are counted by the database, and the lists are bounded, so a district with a
    hundred thousand open cases answers at once."""
    parents = await hall_tree(conn)
    if hall_id not in parents:
        return None
    root = register.root_of(parents, hall_id)
    below = [h for h in parents if within(h, hall_id, parents)]
    mine = and_(
        cases.c.register_hall == root,
        cases.c.stage.not_in([s.value for s in Stage if s.finished]),
        or_(cases.c.accepted_hall.in_(below), cases.c.deciding_hall.in_(below)),
    )
    counts = {"green": 0, "yellow": 0, "red": 0}
    for row in await conn.execute(select(cases.c.light, func.count()).where(mine).group_by(cases.c.light)):
        counts[row[0]] = int(row[1])
    listed = await conn.execute(
        select(cases.c.record).where(mine).order_by(cases.c.accepted_at, cases.c.number).limit(SNAPSHOT_CASES)
    )
    flagged = await conn.execute(
        select(cases.c.record)
        .where(mine, cases.c.light != Light.GREEN.value)
        .order_by(when((cases.c.light == Light.RED.value, 0), else_=1), cases.c.due_at)
        .limit(SNAPSHOT_CASES)
    )
    orders = await conn.execute(
        select(supervision_orders.c.record).where(
            supervision_orders.c.register_hall == root, supervision_orders.c.answered_at.is_(None)
        )
    )
    board = [case_from_record(record) for (record,) in flagged]
    state = Register(
        root=root,
        cases=CasesState({case.number: case for case, _ in board}, parents),
        orders=SupervisionState({o.id: o for o in (order_from_record(r) for (r,) in orders)}),
        meta={case.number: meta for case, meta in board},
    )
    supervision = supervision_board(state, hall_id, now)
    supervision["counts"] = counts
    return {
        "cases": [case_json(*case_from_record(record), now) for (record,) in listed],
        "supervision": supervision,
        "total": sum(counts.values()),
    }


def supervision_board(state: Register | None, hall_id: int, now: datetime) -> dict[str, Any]:
    """Open cases of the hall (and the halls below it) counted by light, the yellow and red ones red
    first, and the 督办 orders not yet answered, the nearest reply deadline first."""
    if state is None:
        return {"counts": {"green": 0, "yellow": 0, "red": 0}, "cases": [], "orders": []}
    parents = state.cases.parents
    counts = {"green": 0, "yellow": 0, "red": 0}
    flagged = []
    for case in state.cases.cases.values():
        if case.stage.finished or not any(within(h, hall_id, parents) for h in case.halls):
            continue
        meta = state.meta_of(case.number)
        counts[meta.light.value] += 1
        if meta.light is not Light.GREEN:
            flagged.append(case_json(case, meta, now))
    flagged.sort(key=by_light)
    orders = [
        o.as_json()
        for o in state.orders.orders.values()
        if not o.answered and any(within(h, hall_id, parents) for h in (o.accepted_hall, o.deciding_hall))
    ]
    orders.sort(key=lambda o: o["reply_due"])
    return {"counts": counts, "cases": flagged, "orders": orders}
