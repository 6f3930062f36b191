"""The cases' statistics, read from their figures (``case_figures``, kept by the writer): sums for a
period of local days, by day, week or month, and by service item, department, stage or hall. The
sums are GROUP BY queries over the summed rows, the same on SQLite and PostgreSQL; what they mean
(按时办结率, 提速率) is ``cases.figures.kpis``.

A view costs the rows of its period in the figures, whatever the size of the event log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cases.figures import COUNTS, STAGES, empty_sums
from hall.storage.case_tables import case_figures
from hall.storage.tables import halls

BY = ("day", "week", "month")
GROUPS = ("item", "department", "stage", "hall")
Words = tuple[str, str]
STAGE_WORDS: Mapping[str, Words] = {
    "accepted": ("受理", "Accepted"),
    "review": ("审核", "Reviewed"),
    "approval": ("审批", "Approved"),
    "completed": ("办结", "Completed"),
    "collected": ("领取", "Collected"),
    "refused": ("不予受理", "Refused"),
}


@dataclass(frozen=True)
class Line:
    """One row of a statistics table: its key, its label in Chinese and English, its sums."""

    key: str
    label: Words
    sums: dict[str, int]


@dataclass(frozen=True)
class CaseStats:
    first: date
    last: date
    by: str
    group: str
    total: dict[str, int]
    periods: tuple[Line, ...]
    groups: tuple[Line, ...]


def _sums() -> list[Any]:
    return [func.sum(case_figures.c[name]).label(name) for name in COUNTS]


def _read(row: Any) -> dict[str, int]:
    # PostgreSQL sums bigints as numeric: whole numbers either way.
    return {name: int(getattr(row, name) or 0) for name in COUNTS}


def _where(scope: Sequence[int], first: date, last: date) -> ColumnElement[bool]:
    t = case_figures.c
    return and_(t.hall_id.in_(list(scope)), t.day >= first, t.day <= last)


async def case_statistics(
    conn: AsyncConnection,
    scope: Sequence[int],
    first: date,
    last: date,
    *,
    by: str,
    group: str,
    items: Mapping[str, Words] | None = None,
) -> CaseStats:
    """The case figures of the halls in ``scope`` from ``first`` to ``last`` (local days, both
    included); ``items`` names the service items by code (the catalog is the server's, not a table)."""
    if by not in BY or group not in GROUPS:
        raise ValueError(f"by must be one of {BY} and group one of {GROUPS}")
    where = _where(scope, first, last)
    t = case_figures.c
    total_row = (await conn.execute(select(*_sums()).where(where))).one()
    total = _read(total_row) if total_row.accepted is not None else empty_sums()
    period = t[by]
    periods = tuple(
        Line(row.period.isoformat(), (row.period.isoformat(), row.period.isoformat()), _read(row))
        for row in await conn.execute(
            select(period.label("period"), *_sums()).where(where).group_by(period).order_by(period)
        )
    )
    column = {"item": t.item, "department": t.department, "stage": t.stage, "hall": t.hall_id}[group]
    rows = (await conn.execute(select(column.label("k"), *_sums()).where(where).group_by(column))).all()
    names = await _names(conn, scope, group, items or {})
    lines = [Line(str(row.k), names.get(str(row.k), (str(row.k), str(row.k))), _read(row)) for row in rows]
    return CaseStats(first, last, by, group, total, periods, tuple(sorted(lines, key=_order(group))))


def _order(group: str) -> Any:
    if group == "stage":
        return lambda line: (STAGES.index(line.key) if line.key in STAGES else len(STAGES), line.key)
    if group == "hall":
        return lambda line: int(line.key)
    return lambda line: line.key


async def _names(
    conn: AsyncConnection, scope: Sequence[int], group: str, items: Mapping[str, Words]
) -> dict[str, Words]:
    if group == "item":
        return {code: (f"{code} {zh}", f"{code} {en or zh}") for code, (zh, en) in items.items()}
    if group == "stage":
        return dict(STAGE_WORDS)
    if group == "hall":
        rows = await conn.execute(select(halls.c.id, halls.c.name, halls.c.name_en).where(halls.c.id.in_(list(scope))))
        return {str(r.id): (r.name, r.name_en or r.name) for r in rows}
    return {}
