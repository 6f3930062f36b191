"""The case lists of the ledgers (台帐): the supervisor's comprehensive query across items, staff,
stages, lights, halls and dates, and a clerk's own cases; the applicant masked in every line.
Filters, periods and what counts as overdue are in :mod:`cases.ledgers`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cases.case_timing import Meta, light_reason
from cases.catalog import Catalog
from cases.ledgers import (
    CHUNK,
    CaseFilter,
    Period,
    Words,
    case_conditions,
    hall_key,
    is_overdue,
    item_words,
    load_hall_keys,
    paused_since,
    staff_names,
)
from cases.lights import NEVER, Light
from hall.kernel.masking import mask_id, mask_name, mask_phone
from hall.storage.case_tables import case_steps, cases

# -- case lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseLine:
    """One case as a list or an export shows it: the applicant masked, names beside the ids."""

    number: str
    item: str
    item_name: Words
    department: str
    accepted_hall: int
    accepted_hall_name: Words
    deciding_hall: int
    deciding_hall_name: Words
    counter: int | None
    applicant: Mapping[str, str]
    channel: str
    stage: str
    registered_by: int
    registered_by_name: str
    accepted_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    light: str
    overdue: bool
    rating: str | None
    # The stage whose own limit (环节超时) the light is for; None when it is for the case's deadline.
    light_stage: str | None = None
    # The steps the person asking took on it in the period: (action, when), for "my cases".
    steps: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class CasePage:
    total: int
    lines: tuple[CaseLine, ...]


def masked_applicant(record: Mapping[str, Any]) -> dict[str, str]:
    """As ``cases.case_model.Applicant.masked``: the record holds the person whole, a list never does."""
    person = record.get("applicant") or {}
    return {
        "name": mask_name(str(person.get("name", ""))),
        "id_number": mask_id(str(person.get("id_number", ""))),
        "phone": mask_phone(str(person.get("phone", ""))),
    }


def _light_stage(record: Mapping[str, Any], light: str, due_at: datetime | None, now: datetime) -> str | None:
    """The stage a stored yellow or red light is for, when it is not for the case's deadline; read
    from the few fields of the record's timing it needs (records written before lights said what
    they are for have none, and their lights are for the case)."""
    timing = record.get("meta") or {}
    try:
        shown = Light(light)
    except ValueError:
        return None
    if not timing.get("stage") or not timing.get("stage_due"):
        return None
    meta = Meta(
        due=due_at,
        light=shown,
        case_yellow_us=int(timing.get("case_yellow_us", NEVER)),
        stage=str(timing["stage"]),
        stage_due=datetime.fromisoformat(timing["stage_due"]),
    )
    reason = light_reason(meta, shown, now)
    return reason.stage if reason.clock == "stage" else None


_LINE_COLUMNS = (
    cases.c.number,
    cases.c.item,
    cases.c.department,
    cases.c.accepted_hall,
    cases.c.deciding_hall,
    cases.c.counter,
    cases.c.channel,
    cases.c.stage,
    cases.c.registered_by,
    cases.c.accepted_at,
    cases.c.due_at,
    cases.c.completed_at,
    cases.c.closed_at,
    cases.c.light,
    cases.c.rating,
    cases.c.record,
)


async def _lines(
    conn: AsyncConnection,
    where: Sequence[ColumnElement[bool]],
    now: datetime,
    catalog: Catalog,
    *,
    limit: int,
    offset: int,
    whole: bool,
    newest_first: bool = False,
) -> CasePage:
    total = int((await conn.execute(select(func.count()).select_from(cases).where(*where))).scalar_one())
    if whole and total > limit:
        return CasePage(total, ())
    rows = (
        await conn.execute(
            select(*_LINE_COLUMNS)
            .where(*where)
            .order_by(
                *(
                    (cases.c.accepted_at.desc(), cases.c.number.desc())
                    if newest_first
                    else (cases.c.accepted_at, cases.c.number)
                )
            )
            .limit(limit)
            .offset(offset)
        )
    ).all()
    hall_keys = await load_hall_keys(conn)
    names = await staff_names(conn, (r.registered_by for r in rows))
    lines = []
    for r in rows:
        overdue = is_overdue(r.stage, r.due_at, r.completed_at, now, paused_since(r.record))
        lines.append(
            CaseLine(
                number=r.number,
                item=r.item,
                item_name=item_words(catalog, r.item),
                department=r.department,
                accepted_hall=r.accepted_hall,
                accepted_hall_name=hall_key(hall_keys, r.accepted_hall).label,
                deciding_hall=r.deciding_hall,
                deciding_hall_name=hall_key(hall_keys, r.deciding_hall).label,
                counter=r.counter,
                applicant=masked_applicant(r.record),
                channel=r.channel,
                stage=r.stage,
                registered_by=r.registered_by,
                registered_by_name=names.get(r.registered_by, (f"#{r.registered_by}", 0))[0],
                accepted_at=r.accepted_at,
                due_at=r.due_at,
                completed_at=r.completed_at,
                closed_at=r.closed_at,
                light=r.light,
                overdue=overdue,
                rating=r.rating,
                light_stage=_light_stage(r.record, r.light, r.due_at, now),
            )
        )
    return CasePage(total, tuple(lines))


async def query_cases(
    conn: AsyncConnection,
    f: CaseFilter,
    now: datetime,
    catalog: Catalog,
    *,
    limit: int,
    offset: int = 0,
    whole: bool = False,
) -> CasePage:
    """The comprehensive query (综合查询): cases accepted in the period matching every filter, in
    the order they were accepted. ``whole``: every case or none (only the count) when more than
    ``limit`` match, for an export that must not be cut short silently."""
    return await _lines(conn, case_conditions(f), now, catalog, limit=limit, offset=offset, whole=whole)


async def personal_cases(
    conn: AsyncConnection,
    staff_id: int,
    period: Period,
    now: datetime,
    catalog: Catalog,
    *,
    limit: int,
    offset: int = 0,
    whole: bool = False,
) -> CasePage:
    """A person's own cases: those they took a step on in the period (受理 is a step, so the cases
    they accepted are among them), each with the steps they took."""
    in_period = and_(case_steps.c.at >= period.start, case_steps.c.at < period.end)
    theirs = select(case_steps.c.number).where(case_steps.c.actor == staff_id, in_period)
    page = await _lines(conn, [cases.c.number.in_(theirs)], now, catalog, limit=limit, offset=offset, whole=whole)
    return CasePage(page.total, await _with_steps(conn, page.lines, staff_id, in_period))


async def drill_cases(
    conn: AsyncConnection,
    halls: frozenset[int],
    period: Period,
    now: datetime,
    catalog: Catalog,
    *,
    departments: frozenset[str] = frozenset(),
    counter: tuple[int, int] | None = None,
    clerk: int | None = None,
    limit: int,
    offset: int = 0,
    whole: bool = False,
) -> CasePage:
    """The cases at one place of the statistics' drill-down, newest first: those of the ``halls``
    (accepted or decided there) that had a step in the period, narrowed to a department's cases,
    to those accepted at one ``counter`` (hall, number), and to those on which ``clerk`` took a
    step in the period, each with the clerk's steps. A step rather than acceptance: a case
    accepted last month and decided in this one belongs to this one's work as well."""
    scope = sorted(halls)
    in_period = and_(case_steps.c.at >= period.start, case_steps.c.at < period.end)
    stepped = select(case_steps.c.number).where(in_period)
    if clerk is not None:
        stepped = stepped.where(case_steps.c.actor == clerk)
    where: list[ColumnElement[bool]] = [
        or_(cases.c.accepted_hall.in_(scope), cases.c.deciding_hall.in_(scope)),
        cases.c.number.in_(stepped),
    ]
    if departments:
        where.append(cases.c.department.in_(sorted(departments)))
    if counter is not None:
        where.extend((cases.c.accepted_hall == counter[0], cases.c.counter == counter[1]))
    page = await _lines(conn, where, now, catalog, limit=limit, offset=offset, whole=whole, newest_first=True)
    if clerk is None:
        return page
    return CasePage(page.total, await _with_steps(conn, page.lines, clerk, in_period))


async def _with_steps(
    conn: AsyncConnection, lines: tuple[CaseLine, ...], staff_id: int, in_period: ColumnElement[bool]
) -> tuple[CaseLine, ...]:
    """The lines, each with the steps ``staff_id`` took on it in the period."""
    numbers = [line.number for line in lines]
    taken: dict[str, list[tuple[str, datetime]]] = {}
    for i in range(0, len(numbers), CHUNK):
        rows = await conn.execute(
            select(case_steps.c.number, case_steps.c.action, case_steps.c.at)
            .where(case_steps.c.actor == staff_id, in_period, case_steps.c.number.in_(numbers[i : i + CHUNK]))
            .order_by(case_steps.c.at, case_steps.c.idx)
        )
        for r in rows:
            taken.setdefault(r.number, []).append((r.action, r.at))
    return tuple(replace(line, steps=tuple(taken.get(line.number, ()))) for line in lines)


async def personal_summary(conn: AsyncConnection, staff_id: int, period: Period) -> dict[str, int]:
    """How many steps of each kind the person took in the period."""
    rows = await conn.execute(
        select(case_steps.c.action, func.count())
        .where(case_steps.c.actor == staff_id, case_steps.c.at >= period.start, case_steps.c.at < period.end)
        .group_by(case_steps.c.action)
    )
    return {str(action): int(n) for action, n in rows}
