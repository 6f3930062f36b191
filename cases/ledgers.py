"""Ledgers and queries (台帐) over the case register: counts per clerk, counter, department or day
with subtotals and a grand total, and what the case lists and CSV files share: periods, filters,
what counts as overdue, and the words for stages, lights and ratings.

Everything here reads the columns of ``cases`` and ``case_steps`` (``cases/store_tables.py``) on an
``AsyncConnection`` the caller opens; nothing writes. The SQL only filters (comparisons, ``IN``,
``EXISTS``), so it runs the same on SQLite and PostgreSQL; days are counted in Python, in the hall's
time zone, because a case accepted at 07:30 Beijing time was stored at 23:30 UTC the day before.

What the ledgers count
----------------------
A period is a range of local days ``[first, last]``; the scope is a hall and every hall below it.

**Case ledgers** (by counter, department or day) count the cases *accepted* in the period that the
scope takes part in (accepted or decided at one of its halls), each once, as they stand now:

- ``accepted``: cases accepted (受理) in the period;
- ``in_progress``: of those, not finished yet (受理, 审核 or 审批 stage) (在办);
- ``completed``: of those, completed (办结), collected by the resident or not yet;
- ``refused``: of those, refused (不予受理);
- ``overdue``: of those, completed after their due time, or still open with the clock past it
  (超期). A case waiting on 补正 has its clock stopped at the request: it is overdue only when the
  request came after the due time. A refusal is never overdue (the promise is about 办结);
- ``mean_days``: mean calendar days from acceptance to completion over the completed ones,
  补正 pauses included (null when none is completed). Calendar days rather than working days,
  so any reader can check them and a year the holiday calendar does not know yet changes nothing.

So ``accepted = in_progress + completed + refused`` on every row, subtotal and total.

**The clerk ledger** counts what each person did in the period: every step of ``case_steps`` taken
at a hall of the scope, on the day it was taken, under the person who took it: ``accepted``,
``reviewed``, ``approved``, ``completed``, ``collected`` (result handed over), ``refused``,
``supplement`` (补正 requested), ``returned``, ``completed_late`` (their completions after the due
time) and ``steps`` (every step, assignments and supplements received included). A case passes
through several hands, so it counts once under each person for each step they took; the totals
are totals of steps, never of cases.

Subtotals group the rows: clerks by their own hall, counters by the hall they stand in, items by
department, days by month. Subtotals and totals are recounted from the cases (or steps) under them,
so the mean of a subtotal is the mean of its cases, not a mean of means.

The case lists (the comprehensive and the personal query) are in :mod:`cases.case_lists`, and
every ledger and list as CSV in :mod:`cases.ledger_csv`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cases.case_model import Stage
from cases.catalog import Catalog
from cases.lights import Light
from hall.kernel.i18n import N_, translations
from hall.kernel.roles import within
from hall.storage.case_tables import case_steps, cases
from hall.storage.directory import hall_tree
from hall.storage.tables import halls, staff
from queueing.rating_records import Level as RatingLevel

# A whole leap year fits; a ledger of all time, which would read every case ever, does not.
MAX_DAYS = 366
# More rows than this in one CSV: the caller is asked to narrow the filters instead.
EXPORT_MAX = 10_000
BY = ("clerk", "counter", "department", "day")
# Numbers per IN list: well under SQLite's limit on bound parameters.
CHUNK = 500

# zh-CN first, English second: what a label is in each language.
Words = tuple[str, str]
Value = int | float | None


def both(message: str, **values: object) -> Words:
    """A message's Chinese (from the zh_CN catalog) and its English (the message id itself)."""
    chinese = translations("zh_CN").gettext(message)
    english = message
    for name, value in values.items():
        chinese = chinese.replace(f"{{{name}}}", str(value))
        english = english.replace(f"{{{name}}}", str(value))
    return chinese, english


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # message id: English, translated where it is shown


CASE_COLUMNS = (
    Column("accepted", N_("Cases accepted")),
    Column("in_progress", N_("Cases in progress")),
    Column("completed", N_("Cases completed")),
    Column("refused", N_("Cases refused")),
    Column("overdue", N_("Cases overdue")),
    Column("mean_days", N_("Mean days to complete")),
)
STEP_COLUMNS = (
    Column("accepted", N_("Cases accepted")),
    Column("reviewed", N_("Cases reviewed")),
    Column("approved", N_("Cases approved")),
    Column("completed", N_("Cases completed")),
    Column("collected", N_("Results handed over")),
    Column("refused", N_("Cases refused")),
    Column("supplement", N_("Supplements requested")),
    Column("returned", N_("Cases returned")),
    Column("completed_late", N_("Completed late")),
    Column("steps", N_("Steps in all")),
)
# A step's action → the clerk ledger's column (assignments and supplements received only count as steps).
_STEP_COLUMN = {
    "accepted": "accepted",
    "reviewed": "reviewed",
    "approved": "approved",
    "completed": "completed",
    "collected": "collected",
    "refused": "refused",
    "supplement_requested": "supplement",
    "returned": "returned",
}
# The workflow names its stages and steps in Chinese (cases.case_model); these are the English.
_STAGE_ENGLISH = {
    Stage.ACCEPTED: "Accepted",
    Stage.REVIEW: "Reviewed",
    Stage.APPROVAL: "Approved",
    Stage.COMPLETED: "Completed",
    Stage.COLLECTED: "Collected",
    Stage.REFUSED: "Refused",
}
ACTION_WORDS: Mapping[str, Words] = {
    "accepted": ("受理", "Accepted"),
    "reviewed": ("审核", "Reviewed"),
    "approved": ("审批", "Approved"),
    "completed": ("办结", "Completed"),
    "collected": ("领取", "Handed over"),
    "refused": ("不予受理", "Refused"),
    "supplement_requested": ("补正告知", "Supplement requested"),
    "supplement_received": ("补正收件", "Supplement received"),
    "returned": ("退回", "Returned"),
    "assigned": ("分派", "Assigned"),
}
CHANNEL_WORDS: Mapping[str, Words] = {
    "window": ("窗口", "Window"),
    "online": ("网上", "Online"),
    "proxied": ("代办", "Handled for the resident"),
}
_OPEN = (Stage.ACCEPTED.value, Stage.REVIEW.value, Stage.APPROVAL.value)
_DONE = (Stage.COMPLETED.value, Stage.COLLECTED.value)
# Group and row headings of each ledger.
_HEADS = {
    "clerk": (N_("Hall"), N_("Staff member")),
    "counter": (N_("Hall"), N_("Counter")),
    "department": (N_("Department"), N_("Service item")),
    "day": (N_("Month"), N_("Day")),
}


def stage_words(stage: str) -> Words:
    try:
        known = Stage(stage)
    except ValueError:
        return stage, stage
    return known.label, _STAGE_ENGLISH[known]


def rating_words(rating: str | None) -> Words:
    """A stored GB/T 39734-2020 level ("5") as it reads: 5 非常满意."""
    if rating is None:
        return "", ""
    try:
        level = RatingLevel(int(rating))
    except ValueError:
        return rating, rating
    return f"{int(level)} {level.label}", f"{int(level)} {level.name.replace('_', ' ').lower()}"


_STAGE_NAMES = {"accept": ("受理", "Acceptance"), "review": ("审核", "Review"), "approve": ("审批", "Approval")}


def light_words(light: str, stage: str | None = None) -> Words:
    """A light's words; with ``stage``, the light is for that stage's own limit (环节超时), not the
    case's deadline, and says so."""
    try:
        known = Light(light)
    except ValueError:
        return light, light
    if stage is None or known is Light.GREEN:
        return f"{known.icon} {known.zh}", f"{known.icon} {known.en}"
    zh, en = _STAGE_NAMES.get(stage, (stage, stage))
    if known is Light.RED:
        return f"{known.icon} {zh}环节超时", f"{known.icon} {en} stage over its limit"
    return f"{known.icon} {zh}环节临近时限", f"{known.icon} {en} stage near its limit"


# -- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last``, both included, in ``zone``."""

    first: date
    last: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a period ends on or after the day it starts")
        if self.days > MAX_DAYS:
            raise ValueError(f"a period is at most {MAX_DAYS} days")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant of the first day (UTC)."""
        return datetime.combine(self.first, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the last day (UTC): the range is half-open."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    def day_of(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()


@dataclass(frozen=True)
class CaseFilter:
    """Which cases: those the ``halls`` take part in, within ``period``, narrowed by the rest (an
    empty set narrows nothing). ``staff``: cases on which one of these people took a step."""

    halls: frozenset[int]
    period: Period
    items: frozenset[str] = frozenset()
    staff: frozenset[int] = frozenset()
    departments: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    lights: frozenset[str] = frozenset()


async def hall_scope(conn: AsyncConnection, hall_id: int) -> frozenset[int]:
    """The hall and every hall below it."""
    parents = await hall_tree(conn)
    return frozenset(h for h in parents if within(h, hall_id, parents))


def _case_attributes(f: CaseFilter) -> list[ColumnElement[bool]]:
    """Conditions on the case itself, leaving out where and when."""
    found: list[ColumnElement[bool]] = []
    if f.items:
        found.append(cases.c.item.in_(sorted(f.items)))
    if f.departments:
        found.append(cases.c.department.in_(sorted(f.departments)))
    if f.stages:
        found.append(cases.c.stage.in_(sorted(f.stages)))
    if f.lights:
        found.append(cases.c.light.in_(sorted(f.lights)))
    return found


def case_conditions(f: CaseFilter) -> list[ColumnElement[bool]]:
    scope = sorted(f.halls)
    found = [
        or_(cases.c.accepted_hall.in_(scope), cases.c.deciding_hall.in_(scope)),
        cases.c.accepted_at >= f.period.start,
        cases.c.accepted_at < f.period.end,
        *_case_attributes(f),
    ]
    if f.staff:
        found.append(
            exists().where(and_(case_steps.c.number == cases.c.number, case_steps.c.actor.in_(sorted(f.staff))))
        )
    return found


# -- overdue ---------------------------------------------------------------------------------------


def paused_since(record: Mapping[str, Any]) -> datetime | None:
    """When the case's open 补正 request began, if it waits on one."""
    pauses = record.get("pauses") or []
    if pauses and pauses[-1].get("end") is None:
        return datetime.fromisoformat(pauses[-1]["start"])
    return None


def is_overdue(
    stage: str, due_at: datetime | None, completed_at: datetime | None, now: datetime, paused: datetime | None = None
) -> bool:
    """Completed after the due time, or open with its clock past it (a 补正 stops the clock)."""
    if due_at is None or stage == Stage.REFUSED.value:
        return False
    if stage in _DONE:
        return completed_at is not None and completed_at > due_at
    clock = paused if paused is not None and paused < now else now
    return clock > due_at


async def _records(conn: AsyncConnection, numbers: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for i in range(0, len(numbers), CHUNK):
        rows = await conn.execute(
            select(cases.c.number, cases.c.record).where(cases.c.number.in_(numbers[i : i + CHUNK]))
        )
        found.update({row.number: row.record for row in rows})
    return found


# -- ledgers ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    # Calendar days from acceptance to completion, summed over ``timed`` cases.
    days: float = 0.0
    timed: int = 0

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.days += other.days
        self.timed += other.timed

    def values(self, columns: Iterable[Column]) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for column in columns:
            if column.key == "mean_days":
                out[column.key] = round(self.days / self.timed, 1) if self.timed else None
            else:
                out[column.key] = self.counts[column.key]
        return out


@dataclass(frozen=True)
class Key:
    """A group or row: ``order`` sorts, ``key`` identifies, ``label`` is shown."""

    order: tuple[Any, ...]
    key: str
    label: Words


@dataclass(frozen=True)
class Line:
    key: str
    label: Words
    values: Mapping[str, Value]


@dataclass(frozen=True)
class Group:
    key: str
    label: Words
    lines: tuple[Line, ...]
    subtotal: Mapping[str, Value]


@dataclass(frozen=True)
class Ledger:
    by: str
    period: Period
    heads: tuple[str, str]  # message ids of the group and row headings
    columns: tuple[Column, ...]
    groups: tuple[Group, ...]
    total: Mapping[str, Value]


class _Book:
    """Tallies by (group, row), kept with their keys until the ledger is drawn up."""

    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str], Tally] = {}
        self._groups: dict[str, Key] = {}
        self._rows: dict[tuple[str, str], Key] = {}

    def tally(self, group: Key, row: Key) -> Tally:
        self._groups.setdefault(group.key, group)
        self._rows.setdefault((group.key, row.key), row)
        return self._tallies.setdefault((group.key, row.key), Tally())

    def ledger(self, by: str, period: Period, columns: tuple[Column, ...]) -> Ledger:
        grand = Tally()
        groups = []
        for group in sorted(self._groups.values(), key=lambda k: (k.order, k.key)):
            rows = sorted((r for (g, _), r in self._rows.items() if g == group.key), key=lambda k: (k.order, k.key))
            sub = Tally()
            lines = []
            for row in rows:
                tally = self._tallies[(group.key, row.key)]
                sub.add(tally)
                lines.append(Line(row.key, row.label, tally.values(columns)))
            grand.add(sub)
            groups.append(Group(group.key, group.label, tuple(lines), sub.values(columns)))
        return Ledger(by, period, _HEADS[by], columns, tuple(groups), grand.values(columns))


async def load_hall_keys(conn: AsyncConnection) -> dict[int, Key]:
    rows = await conn.execute(select(halls.c.id, halls.c.name, halls.c.name_en))
    return {r.id: Key((r.id,), str(r.id), (r.name, r.name_en or r.name)) for r in rows}


def hall_key(known: Mapping[int, Key], hall_id: int) -> Key:
    return known.get(hall_id) or Key((hall_id,), str(hall_id), (f"#{hall_id}", f"#{hall_id}"))


async def staff_names(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, tuple[str, int]]:
    """Each person's name as the ledgers show it (name and staff number), and their hall."""
    wanted = sorted(set(ids))
    found: dict[int, tuple[str, int]] = {}
    for i in range(0, len(wanted), CHUNK):
        rows = await conn.execute(
            select(staff.c.id, staff.c.display_name, staff.c.staff_no, staff.c.hall_id).where(
                staff.c.id.in_(wanted[i : i + CHUNK])
            )
        )
        for r in rows:
            found[r.id] = (f"{r.display_name} {r.staff_no}".strip(), r.hall_id)
    return found


def item_words(catalog: Catalog, code: str) -> Words:
    item = catalog.get(code)
    if item is None:
        return code, code
    return item.name, item.name_en or item.name


async def case_ledger(conn: AsyncConnection, by: str, f: CaseFilter, now: datetime, catalog: Catalog) -> Ledger:
    """The cases accepted in the period, grouped ``by`` counter, department or day."""
    if by not in ("counter", "department", "day"):
        raise ValueError(f"a case ledger is by counter, department or day, not {by!r}")
    rows = (
        await conn.execute(
            select(
                cases.c.number,
                cases.c.accepted_hall,
                cases.c.counter,
                cases.c.item,
                cases.c.department,
                cases.c.stage,
                cases.c.accepted_at,
                cases.c.due_at,
                cases.c.completed_at,
            ).where(*case_conditions(f))
        )
    ).all()
    # Only an open case past its due time can be waiting on 补正 with its clock stopped: read
    # those records alone, not every record of the period.
    candidates = [r.number for r in rows if r.stage in _OPEN and r.due_at is not None and r.due_at < now]
    records = await _records(conn, candidates)
    hall_keys = await load_hall_keys(conn) if by == "counter" else {}
    departments = {name: i for i, name in enumerate(catalog.departments())}
    item_order = {item.code: i for i, item in enumerate(catalog)}
    book = _Book()
    for r in rows:
        if by == "counter":
            group = hall_key(hall_keys, r.accepted_hall)
            if r.counter is None:
                row = Key((1, 0), "none", both(N_("Not at a counter")))
            else:
                row = Key((0, r.counter), str(r.counter), both(N_("Counter {n}"), n=r.counter))
        elif by == "department":
            name = r.department or ""
            shown = (name, name) if name else both(N_("No department"))
            group = Key((departments.get(name, len(departments)), name), name, shown)
            zh, en = item_words(catalog, r.item)
            row = Key((item_order.get(r.item, len(item_order)),), r.item, (f"{r.item} {zh}", f"{r.item} {en}"))
        else:
            day = f.period.day_of(r.accepted_at)
            group = Key((day.year, day.month), f"{day:%Y-%m}", (f"{day.year}年{day.month}月", f"{day:%Y-%m}"))
            row = Key((day,), day.isoformat(), (day.isoformat(), day.isoformat()))
        tally = book.tally(group, row)
        counts = tally.counts
        counts["accepted"] += 1
        if r.stage in _OPEN:
            counts["in_progress"] += 1
        elif r.stage in _DONE:
            counts["completed"] += 1
            if r.completed_at is not None:
                tally.days += (r.completed_at - r.accepted_at).total_seconds() / 86400
                tally.timed += 1
        elif r.stage == Stage.REFUSED.value:
            counts["refused"] += 1
        record = records.get(r.number)
        paused = paused_since(record) if record is not None else None
        if is_overdue(r.stage, r.due_at, r.completed_at, now, paused):
            counts["overdue"] += 1
    return book.ledger(by, f.period, CASE_COLUMNS)


async def clerk_ledger(conn: AsyncConnection, f: CaseFilter) -> Ledger:
    """The steps each person took in the period at the halls of the scope, under their own hall."""
    conditions = [
        case_steps.c.hall_id.in_(sorted(f.halls)),
        case_steps.c.at >= f.period.start,
        case_steps.c.at < f.period.end,
        *_case_attributes(f),
    ]
    if f.staff:
        conditions.append(case_steps.c.actor.in_(sorted(f.staff)))
    rows = (
        await conn.execute(
            select(case_steps.c.actor, case_steps.c.action, case_steps.c.at, cases.c.due_at)
            .select_from(case_steps.join(cases, case_steps.c.number == cases.c.number))
            .where(*conditions)
        )
    ).all()
    names = await staff_names(conn, (r.actor for r in rows))
    hall_keys = await load_hall_keys(conn)
    book = _Book()
    for r in rows:
        name, home = names.get(r.actor, (f"#{r.actor}", -1))
        group = hall_key(hall_keys, home) if home >= 0 else Key((1 << 30,), "unknown", both(N_("Unknown")))
        tally = book.tally(group, Key((name, r.actor), str(r.actor), (name, name)))
        counts = tally.counts
        counts["steps"] += 1
        column = _STEP_COLUMN.get(r.action)
        if column is not None:
            counts[column] += 1
        if r.action == "completed" and r.due_at is not None and r.at > r.due_at:
            counts["completed_late"] += 1
    return book.ledger("clerk", f.period, STEP_COLUMNS)


async def ledger(conn: AsyncConnection, by: str, f: CaseFilter, now: datetime, catalog: Catalog) -> Ledger:
    if by == "clerk":
        return await clerk_ledger(conn, f)
    return await case_ledger(conn, by, f, now, catalog)
