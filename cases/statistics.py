"""The cases' statistics, read from their figures (``case_figures``, kept by the writer): sums for a
period of local days, by day, week or month, and by service item, department, stage or hall. The
sums are GROUP BY queries over the summed rows, the same on SQLite and PostgreSQL; what they mean
(按时办结率, 提速率) is ``cases.figures.kpis``.

A view costs the rows of its period in the figures, whatever the size of the event log, and less:
totals and periods read the hall's days (``case_figures_daily``), and groups by item, department or
stage read whole months from ``case_figures_monthly`` and only the odd days at either end of the
range from ``case_figures``. A year is then about 365 rows per hall and twelve months of groups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cases.figures import COUNTS, STAGES, empty_sums
from hall.storage.case_tables import case_figures, case_figures_daily, case_figures_monthly
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


def _sums(table: Any) -> list[Any]:
    return [func.sum(table.c[name]).label(name) for name in COUNTS]


def _read(row: Any) -> dict[str, int]:
    # PostgreSQL sums bigints as numeric: whole numbers either way.
    return {name: int(getattr(row, name) or 0) for name in COUNTS}


def _where(table: Any, scope: Sequence[int], first: date, last: date, *, on: str = "day") -> ColumnElement[bool]:
    t = table.c
    return and_(t.hall_id.in_(list(scope)), t[on] >= first, t[on] <= last)


def whole_months(first: date, last: date) -> tuple[date, date] | None:
    """The first days of the first and the last whole month inside ``first``..``last``, if any."""
    start = first if first.day == 1 else _next_month(first)
    after = _next_month(last) if _next_month(last) - timedelta(days=1) == last else last.replace(day=1)
    if start >= after:
        return None
    return start, _previous_month(after)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


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
    daily = case_figures_daily
    where = _where(daily, scope, first, last)
    total_row = (await conn.execute(select(*_sums(daily)).where(where))).one()
    total = _read(total_row) if total_row.accepted is not None else empty_sums()
    period = daily.c[by]
    periods = tuple(
        Line(row.period.isoformat(), (row.period.isoformat(), row.period.isoformat()), _read(row))
        for row in await conn.execute(
            select(period.label("period"), *_sums(daily)).where(where).group_by(period).order_by(period)
        )
    )
    summed = await _groups(conn, scope, first, last, group)
    names = await _names(conn, scope, group, items or {})
    lines = [Line(key, names.get(key, (key, key)), sums) for key, sums in summed.items()]
    return CaseStats(first, last, by, group, total, periods, tuple(sorted(lines, key=_order(group))))


async def _groups(
    conn: AsyncConnection, scope: Sequence[int], first: date, last: date, group: str
) -> dict[str, dict[str, int]]:
    """The sums by ``group``: by hall from the halls' days; by item, department or stage from the
    whole months' rollup plus the figures of the days before and after them."""
    if group == "hall":
        parts = [(case_figures_daily, "day", first, last)]
    else:
        months = whole_months(first, last)
        if months is None:
            parts = [(case_figures, "day", first, last)]
        else:
            start, end = months
            after = _next_month(end)
            parts = [(case_figures_monthly, "month", start, end)]
            if first < start:
                parts.append((case_figures, "day", first, start - timedelta(days=1)))
            if after <= last:
                parts.append((case_figures, "day", after, last))
    summed: dict[str, dict[str, int]] = {}
    for table, on, since, until in parts:
        column = table.c["hall_id" if group == "hall" else group]
        query = select(column.label("k"), *_sums(table)).where(_where(table, scope, since, until, on=on))
        for row in await conn.execute(query.group_by(column)):
            into = summed.setdefault(str(row.k), empty_sums())
            for name, value in _read(row).items():
                into[name] += value
    return summed


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
