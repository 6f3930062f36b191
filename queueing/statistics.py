"""The queue's statistics, read from its figures (kept by the writer): sums for a period of local
days, by day, week or month, and by service, counter, clerk, department, hour of the day or hall,
narrowed if asked to one department, counter or clerk (the drill-down of the statistics page);
and, at the end of a drill-down, the tickets themselves. The sums are GROUP BY queries over summed
rows, the same on SQLite and PostgreSQL; what they mean (means, shares) is ``queueing.figures.kpis``.

Which summed rows a view reads is chosen by what it groups and narrows by, the coarsest that holds
it: the periods and groups from the daily rollup (``queue_figures_daily``, no hour); the hours and
the hour × weekday map from the hourly rollup (``queue_figures_hourly``, no counter or clerk), or,
narrowed to counters or a clerk, from the full figures (``queue_figures``). The total is the sum
of the periods. So a year of a 30-counter hall reads a few ten thousand rows per query, whatever
the size of the event log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.masking import mask_id, mask_name
from hall.kernel.roles import within
from hall.storage.directory import hall_tree
from hall.storage.queue_tables import (
    queue_figures,
    queue_figures_daily,
    queue_figures_hourly,
    queue_services,
    tickets,
)
from hall.storage.tables import counters, departments, halls, staff
from queueing.figures import COUNTS, MAXIMA, empty_sums

BY = ("day", "week", "month")
GROUPS = ("service", "counter", "clerk", "department", "hour", "hall")
# A period of at most this many days: a year and a leap day, as the ledgers allow.
MAX_DAYS = 366
# The most tickets a drill-down's last level lists (the newest first).
MAX_TICKETS = 500
Words = tuple[str, str]
# The key of figures that belong to no counter or clerk (a ticket issued, not yet called).
NONE_WORDS: Words = ("—", "—")
# The key "" among departments: the counters of no department, and arrivals at no counter.
NO_DEPARTMENT_WORDS: Words = ("未分部门", "No department")
# The key of the counters' idle and wrap-up time among services: it belongs to none of them.
COUNTER_TIME_WORDS: Words = ("窗口空闲与整理", "Counters' idle and wrap-up time")
# The ``department`` of a drill-down to the counters that belong to no department (no code can
# be it: a department's code starts with a letter or a digit).
NO_DEPARTMENT = "-"
# What a hall's name ends with that a table beside other halls' counters need not repeat.
_HALL_TAILS = (
    ("社区事务受理服务中心", "政务服务中心", "便民服务中心", "党群服务站", "服务中心", "服务站"),
    (" Government Service Center", " Service Center", " Service Station"),
)


@dataclass(frozen=True)
class Narrowing:
    """A drill-down: the view narrowed to one department's counters (as they are set now), one
    counter (of a named hall: counter numbers are per hall) or one clerk. Figures that belong to
    no counter (tickets issued, not yet called) fall out of a narrowed view."""

    department: str | None = None
    counter: tuple[int, int] | None = None  # (hall, number)
    clerk: int | None = None

    @property
    def narrowed(self) -> bool:
        return self.department is not None or self.counter is not None or self.clerk is not None

    @property
    def to_tickets(self) -> bool:
        """Narrowed far enough to list the tickets themselves."""
        return self.counter is not None or self.clerk is not None


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
    # (ISO weekday 1–7, hour) → the ``HEAT`` counts of that hour on that weekday in the period.
    heat: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    narrowing: Narrowing = field(default_factory=Narrowing)


async def hall_scope(conn: AsyncConnection, hall_id: int) -> list[int]:
    """The hall and every hall below it, in id order."""
    parents = await hall_tree(conn)
    return sorted(h for h in parents if within(h, hall_id, parents))


def _sums(table: Table) -> list[Any]:
    t = table.c
    return [(func.max(t[name]) if name in MAXIMA else func.sum(t[name])).label(name) for name in COUNTS]


def _read(row: Any) -> dict[str, int]:
    # PostgreSQL sums bigints as numeric: whole numbers either way.
    return {name: int(getattr(row, name) or 0) for name in COUNTS}


def add_sums(into: dict[str, int], more: dict[str, int]) -> None:
    for name in COUNTS:
        into[name] = max(into[name], more[name]) if name in MAXIMA else into[name] + more[name]


def summed(lines: Iterable[dict[str, int]]) -> dict[str, int]:
    total = empty_sums()
    for sums in lines:
        add_sums(total, sums)
    return total


def _where(table: Table, scope: Sequence[int], first: date, last: date) -> ColumnElement[bool]:
    t = table.c
    return and_(t.hall_id.in_(list(scope)), t.day >= first, t.day <= last)


async def _narrowed(
    conn: AsyncConnection, table: Table, scope: Sequence[int], narrowing: Narrowing
) -> list[ColumnElement[bool]]:
    """The conditions of a drill-down on a table with counter and clerk columns."""
    t = table.c
    found: list[ColumnElement[bool]] = []
    if narrowing.department is not None:
        if narrowing.department == NO_DEPARTMENT:
            of_department = or_(counters.c.department.is_(None), counters.c.department == "")
        else:
            of_department = counters.c.department == narrowing.department
        rows = await conn.execute(
            select(counters.c.hall_id, counters.c.number).where(counters.c.hall_id.in_(list(scope)), of_department)
        )
        numbers: dict[int, list[int]] = {}
        for row in rows:
            numbers.setdefault(row.hall_id, []).append(row.number)
        found.append(
            or_(*(and_(t.hall_id == h, t.counter.in_(n)) for h, n in sorted(numbers.items()))) if numbers else false()
        )
    if narrowing.counter is not None:
        found.extend((t.hall_id == narrowing.counter[0], t.counter == narrowing.counter[1]))
    if narrowing.clerk is not None:
        found.append(t.clerk == narrowing.clerk)
    return found


async def statistics(
    conn: AsyncConnection,
    scope: Sequence[int],
    first: date,
    last: date,
    *,
    by: str,
    group: str,
    narrowing: Narrowing | None = None,
) -> Stats:
    """The figures of the halls in ``scope`` from ``first`` to ``last`` (local days, both
    included), narrowed by ``narrowing`` if given."""
    if by not in BY or group not in GROUPS:
        raise ValueError(f"by must be one of {BY} and group one of {GROUPS}")
    narrowing = narrowing or Narrowing()
    daily = queue_figures_daily
    where = and_(_where(daily, scope, first, last), *await _narrowed(conn, daily, scope, narrowing))
    period = daily.c[by]
    periods = tuple(
        Line(row.period.isoformat(), (row.period.isoformat(), row.period.isoformat()), _read(row))
        for row in await conn.execute(
            select(period.label("period"), *_sums(daily)).where(where).group_by(period).order_by(period)
        )
    )
    total = summed(line.sums for line in periods)
    hours, heat = await _hours(conn, scope, first, last, narrowing)
    groups = await _groups(conn, daily, scope, where, group) if group != "hour" else hours
    return Stats(first, last, by, group, total, periods, groups, hours, heat, narrowing)


# The counts of the hour × weekday map: a year of it is some thousands of (day, hour) rows, so it
# carries these alone.
HEAT = ("arrived", "called")


async def _hours(
    conn: AsyncConnection, scope: Sequence[int], first: date, last: date, narrowing: Narrowing
) -> tuple[tuple[Line, ...], dict[tuple[int, int], dict[str, int]]]:
    """The sums by hour of the day, and ``HEAT`` by weekday and hour. Not narrowed: one GROUP BY
    weekday and hour of the hourly rollup, folded into both. Narrowed, from the full figures
    (which keep no weekday): the hours by hour, and the map from a GROUP BY day and hour."""
    if not narrowing.narrowed:
        table = queue_figures_hourly
        t = table.c
        by_hour: dict[int, dict[str, int]] = {}
        heat: dict[tuple[int, int], dict[str, int]] = {}
        query = select(t.weekday, t.hour, *_sums(table)).where(_where(table, scope, first, last))
        for row in await conn.execute(query.group_by(t.weekday, t.hour)):
            sums = _read(row)
            add_sums(by_hour.setdefault(row.hour, empty_sums()), sums)
            heat[(row.weekday, row.hour)] = {name: sums[name] for name in HEAT}
        hours = tuple(_hour_line(h, by_hour[h]) for h in sorted(by_hour))
        return hours, heat
    table = queue_figures
    t = table.c
    where = and_(_where(table, scope, first, last), *await _narrowed(conn, table, scope, narrowing))
    rows = await conn.execute(select(t.hour, *_sums(table)).where(where).group_by(t.hour).order_by(t.hour))
    hours = tuple(_hour_line(row.hour, _read(row)) for row in rows)
    heat = {}
    counts = [func.sum(t[name]).label(name) for name in HEAT]
    for row in await conn.execute(select(t.day, t.hour, *counts).where(where).group_by(t.day, t.hour)):
        cell = heat.setdefault((row.day.isoweekday(), row.hour), dict.fromkeys(HEAT, 0))
        for name in HEAT:
            cell[name] += int(getattr(row, name) or 0)
    return hours, heat


def _hour_line(hour: int, sums: dict[str, int]) -> Line:
    return Line(str(hour), (f"{hour:02d}:00", f"{hour:02d}:00"), sums)


async def _groups(
    conn: AsyncConnection, table: Table, scope: Sequence[int], where: ColumnElement[bool], group: str
) -> tuple[Line, ...]:
    t = table.c
    sums = _sums(table)
    if group == "department":
        # A counter's department as it is set now: history is not re-filed when a counter moves.
        at_counter = and_(counters.c.hall_id == t.hall_id, counters.c.number == t.counter)
        joined = table.outerjoin(counters, at_counter)
        code = func.coalesce(counters.c.department, literal(""))
        rows = await conn.execute(select(code.label("k"), *sums).select_from(joined).where(where).group_by(code))
        names = await _names(conn, departments, scope)
        lines = [
            Line(row.k, names.get(row.k, NO_DEPARTMENT_WORDS if not row.k else (row.k, row.k)), _read(row))
            for row in rows
        ]
    elif group == "counter":
        by_counter = list(
            await conn.execute(select(t.hall_id, t.counter, *sums).where(where).group_by(t.hall_id, t.counter))
        )
        found = await conn.execute(
            select(counters.c.hall_id, counters.c.number, counters.c.name).where(counters.c.hall_id.in_(list(scope)))
        )
        named = {(r.hall_id, r.number): r.name for r in found}
        # The hall is named (shortly) only where the counters of several halls stand side by side.
        several = len({row.hall_id for row in by_counter if row.counter}) > 1
        hall_names = await _group_names(conn, scope, "hall") if several else {}
        lines = []
        for row in by_counter:
            label = _counter_words(row.counter, named.get((row.hall_id, row.counter), ""))
            if several and row.counter:
                zh, en = short_hall_words(hall_names.get(str(row.hall_id), _plain(row.hall_id)))
                label = (f"{zh}·{label[0]}", f"{en} · {label[1]}")
            lines.append(Line(f"{row.hall_id}:{row.counter}", label, _read(row)))
    else:
        column = {"service": t.service, "clerk": t.clerk, "hall": t.hall_id}[group]
        rows = await conn.execute(select(column.label("k"), *sums).where(where).group_by(column))
        names = await _group_names(conn, scope, group)
        if group == "service":
            names[""] = COUNTER_TIME_WORDS
        lines = [Line(str(row.k), names.get(str(row.k), _plain(row.k)), _read(row)) for row in rows]
    return tuple(sorted(lines, key=_order))


def _order(line: Line) -> tuple[int, str]:
    # Figures of no counter or clerk last; numbers in their numeric order.
    if line.label in (NONE_WORDS, COUNTER_TIME_WORDS, NO_DEPARTMENT_WORDS):
        return (2, "")
    tail = line.key.rsplit(":", 1)[-1]
    return (0, f"{int(tail):012d}") if tail.isdigit() else (1, line.key)


def _plain(value: object) -> Words:
    return NONE_WORDS if value in (0, "0", "", None) else (str(value), str(value))


def _counter_words(number: int, name: str) -> Words:
    if number == 0:
        return NONE_WORDS
    # A name that only repeats the number ("1号窗口") is not said twice.
    if name in (f"{number}号窗口", f"{number}号", str(number)):
        name = ""
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


def short_hall_words(words: Words) -> Words:
    """A hall's name without the tail all halls share ("星河区政务服务中心" → "星河区")."""

    def short(name: str, tails: tuple[str, ...]) -> str:
        for tail in tails:
            if name.endswith(tail) and len(name) > len(tail):
                return name[: -len(tail)].strip()
        return name

    return (short(words[0], _HALL_TAILS[0]), short(words[1], _HALL_TAILS[1]))


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
    table = queue_figures_daily
    row = (await conn.execute(select(*_sums(table)).where(_where(table, [hall_id], day, day)))).one()
    return _read(row) if row.arrived is not None else empty_sums()


# -- the tickets at the end of a drill-down ----------------------------------------------------


@dataclass(frozen=True)
class TicketLine:
    """One ticket of a drill-down's last level: its times (aware, UTC) and its applicant masked
    as everywhere but the case record (surname only, birth-date digits hidden)."""

    hall_id: int
    number: str
    service: str
    state: str
    counter: int | None
    clerk: int | None
    issued_at: datetime
    called_at: datetime | None
    finished_at: datetime | None
    wait_seconds: int | None
    service_seconds: int | None
    applicant: str


async def ticket_lines(
    conn: AsyncConnection, scope: Sequence[int], first: date, last: date, narrowing: Narrowing
) -> tuple[TicketLine, ...]:
    """The tickets of the period last handled at the counter or by the clerk of ``narrowing``,
    newest first, at most ``MAX_TICKETS``; none unless the view is narrowed that far."""
    if not narrowing.to_tickets:
        return ()
    t = tickets.c
    where = [t.hall_id.in_(list(scope)), t.day >= first, t.day <= last]
    if narrowing.counter is not None:
        where.extend((t.hall_id == narrowing.counter[0], t.counter == narrowing.counter[1]))
    if narrowing.clerk is not None:
        where.append(t.clerk == narrowing.clerk)
    query = select(tickets).where(*where).order_by(t.issued_at.desc(), t.id.desc()).limit(MAX_TICKETS)
    return tuple(_ticket_line(row) for row in await conn.execute(query))


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _ticket_line(row: Any) -> TicketLine:
    spans = list(row.spans or ())
    called = next((_at(s["start"]) for s in spans if s["kind"] == "called"), None)
    serving = [(_at(s["start"]), _at(s.get("end"))) for s in spans if s["kind"] == "serving"]
    served = sum(round((end - start).total_seconds()) for start, end in serving if start and end)
    finished = serving[-1][1] if row.state == "done" and serving else None
    who = " ".join(
        part
        for part in (
            mask_name(row.applicant_name) if row.applicant_name else "",
            mask_id(row.applicant_id_number) if row.applicant_id_number else "",
        )
        if part
    )
    return TicketLine(
        hall_id=row.hall_id,
        number=row.number,
        service=row.service,
        state=row.state,
        counter=row.counter,
        clerk=row.clerk,
        issued_at=row.issued_at,
        called_at=called,
        finished_at=finished,
        wait_seconds=max(0, round((called - row.issued_at).total_seconds())) if called else None,
        service_seconds=served if serving and all(end for _, end in serving) else None,
        applicant=who,
    )
