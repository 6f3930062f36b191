"""The queue's statistics, read from its figures (``queue_figures``, kept by the writer): sums for a
period of local days, by day, week or month, and by service, counter, clerk, department, hour of
the day or hall. The sums are GROUP BY queries over the summed rows, the same on SQLite and
PostgreSQL; what they mean (means, shares) is ``queueing.figures.kpis``.

A view costs the rows of its period in the figures, whatever the size of the event log: a year of
a 30-counter hall is some hundreds of thousands of rows, not millions of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.roles import within
from hall.storage.directory import hall_tree
from hall.storage.queue_tables import queue_figures, queue_services
from hall.storage.tables import counters, departments, halls, staff
from queueing.figures import COUNTS, MAXIMA, empty_sums

BY = ("day", "week", "month")
GROUPS = ("service", "counter", "clerk", "department", "hour", "hall")
# A period of at most this many days: a year and a leap day, as the ledgers allow.
MAX_DAYS = 366
Words = tuple[str, str]
# The key of figures that belong to no counter or clerk (a ticket issued, not yet called).
NONE_WORDS: Words = ("—", "—")


@dataclass(frozen=True)
class Line:
    """One row of a statistics table: its key, its label in Chinese and English, its sums."""

    key: str
    label: Words
    sums: dict[str, int]


@dataclass(frozen=True)
class Stats:
    first: date
    last: date
    by: str
    group: str
    total: dict[str, int]
    periods: tuple[Line, ...]
    groups: tuple[Line, ...]
    hours: tuple[Line, ...]


async def hall_scope(conn: AsyncConnection, hall_id: int) -> list[int]:
    """The hall and every hall below it, in id order."""
    parents = await hall_tree(conn)
    return sorted(h for h in parents if within(h, hall_id, parents))


def _sums() -> list[Any]:
    t = queue_figures.c
    return [(func.max(t[name]) if name in MAXIMA else func.sum(t[name])).label(name) for name in COUNTS]


def _read(row: Any) -> dict[str, int]:
    # PostgreSQL sums bigints as numeric: whole numbers either way.
    return {name: int(getattr(row, name) or 0) for name in COUNTS}


def _where(scope: Sequence[int], first: date, last: date) -> ColumnElement[bool]:
    t = queue_figures.c
    return and_(t.hall_id.in_(list(scope)), t.day >= first, t.day <= last)


async def statistics(
    conn: AsyncConnection, scope: Sequence[int], first: date, last: date, *, by: str, group: str
) -> Stats:
    """The figures of the halls in ``scope`` from ``first`` to ``last`` (local days, both included)."""
    if by not in BY or group not in GROUPS:
        raise ValueError(f"by must be one of {BY} and group one of {GROUPS}")
    where = _where(scope, first, last)
    t = queue_figures.c
    total_row = (await conn.execute(select(*_sums()).where(where))).one()
    total = _read(total_row) if total_row.arrived is not None else empty_sums()
    period = t[by]
    periods = tuple(
        Line(row.period.isoformat(), (row.period.isoformat(), row.period.isoformat()), _read(row))
        for row in await conn.execute(
            select(period.label("period"), *_sums()).where(where).group_by(period).order_by(period)
        )
    )
    hours = tuple(
        Line(str(row.hour), (f"{row.hour:02d}:00", f"{row.hour:02d}:00"), _read(row))
        for row in await conn.execute(select(t.hour, *_sums()).where(where).group_by(t.hour).order_by(t.hour))
    )
    groups = await _groups(conn, scope, where, group) if group != "hour" else hours
    return Stats(first, last, by, group, total, periods, groups, hours)


async def _groups(
    conn: AsyncConnection, scope: Sequence[int], where: ColumnElement[bool], group: str
) -> tuple[Line, ...]:
    t = queue_figures.c
    if group == "department":
        # A counter's department as it is set now: history is not re-filed when a counter moves.
        at_counter = and_(counters.c.hall_id == t.hall_id, counters.c.number == t.counter)
        joined = queue_figures.outerjoin(counters, at_counter)
        code = func.coalesce(counters.c.department, literal(""))
        rows = await conn.execute(select(code.label("k"), *_sums()).select_from(joined).where(where).group_by(code))
        names = await _names(conn, departments, scope)
        lines = [Line(row.k, names.get(row.k, NONE_WORDS if not row.k else (row.k, row.k)), _read(row)) for row in rows]
    elif group == "counter":
        rows = await conn.execute(select(t.hall_id, t.counter, *_sums()).where(where).group_by(t.hall_id, t.counter))
        found = await conn.execute(
            select(counters.c.hall_id, counters.c.number, counters.c.name).where(counters.c.hall_id.in_(list(scope)))
        )
        named = {(r.hall_id, r.number): r.name for r in found}
        several = len(scope) > 1
        lines = []
        for row in rows:
            label = _counter_words(row.counter, named.get((row.hall_id, row.counter), ""))
            if several:
                label = (f"{row.hall_id}·{label[0]}", f"{row.hall_id}·{label[1]}")
            lines.append(Line(f"{row.hall_id}:{row.counter}", label, _read(row)))
    else:
        column = {"service": t.service, "clerk": t.clerk, "hall": t.hall_id}[group]
        rows = await conn.execute(select(column.label("k"), *_sums()).where(where).group_by(column))
        names = await _group_names(conn, scope, group)
        lines = [Line(str(row.k), names.get(str(row.k), _plain(row.k)), _read(row)) for row in rows]
    return tuple(sorted(lines, key=_order))


def _order(line: Line) -> tuple[int, str]:
    # Figures of no counter or clerk last; numbers in their numeric order.
    if line.label == NONE_WORDS:
        return (2, "")
    tail = line.key.rsplit(":", 1)[-1]
    return (0, f"{int(tail):012d}") if tail.isdigit() else (1, line.key)


def _plain(value: object) -> Words:
    return NONE_WORDS if value in (0, "0", "", None) else (str(value), str(value))


def _counter_words(number: int, name: str) -> Words:
    if number == 0:
        return NONE_WORDS
    return (f"{number}号窗口 {name}".strip(), f"Counter {number} {name}".strip())


async def _group_names(conn: AsyncConnection, scope: Sequence[int], group: str) -> dict[str, Words]:
    if group == "service":
        return await _names(conn, queue_services, scope)
    if group == "hall":
        rows = await conn.execute(select(halls.c.id, halls.c.name, halls.c.name_en).where(halls.c.id.in_(list(scope))))
        return {str(r.id): (r.name, r.name_en or r.name) for r in rows}
    rows = await conn.execute(
        select(staff.c.id, staff.c.display_name, staff.c.staff_no).where(staff.c.hall_id.in_(list(scope)))
    )
    return {str(r.id): _same(f"{r.display_name} {r.staff_no}".strip()) for r in rows}


def _same(name: str) -> Words:
    return (name, name)


async def _names(conn: AsyncConnection, table: Table, scope: Sequence[int]) -> dict[str, Words]:
    """Code → (name, English name) in a table of each hall's services or departments; the first
    hall that names a code names it for all."""
    query = select(table.c.code, table.c.name, table.c.name_en).where(table.c.hall_id.in_(list(scope)))
    found: dict[str, Words] = {}
    for code, name, name_en in await conn.execute(query.order_by(table.c.hall_id)):
        found.setdefault(code, (name, name_en or name))
    return found


async def day_sums(conn: AsyncConnection, hall_id: int, day: date) -> dict[str, int]:
    """One hall's figures for one local day, summed: what the wallboard's tiles start from."""
    row = (await conn.execute(select(*_sums()).where(_where([hall_id], day, day)))).one()
    return _read(row) if row.arrived is not None else empty_sums()
