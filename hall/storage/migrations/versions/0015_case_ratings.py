"""Online case ratings (一事一评 of a case) in the case figures: ``rated`` and ``satisfied`` (基本满意
or better) in ``case_figures`` and its two rollups, filled from the ``case.rated`` events already in
the log and kept by the writer from then on (cases/figures.py).

A rating counts at the case's accepting hall, under its item, department and the stage
``completed``, on the local day it was given: the day in ``HALL_TIMEZONE``, the one zone the
server reads its days in (the halls' own ``timezone`` column is not read, see
hall/storage/tables.py). A rated case's event is copied to the log of every hall the case reaches,
so the events are counted once per case number: a case is rated once.

Revision ID: 0015_case_ratings
Revises: 0014_case_rollups
Create Date: 2026-12-07
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

revision = "0015_case_ratings"
down_revision = "0014_case_rollups"
branch_labels = None
depends_on = None

TABLES = ("case_figures", "case_figures_daily", "case_figures_monthly")
# As in hall/storage/case_tables.py, written out: a migration stays as it was when the table changes.
NEW_COUNTS = ("rated", "satisfied")
KEYS = {
    "case_figures": ("hall_id", "day", "item", "department", "stage"),
    "case_figures_daily": ("hall_id", "day"),
    "case_figures_monthly": ("hall_id", "month", "item", "department", "stage"),
}
# What a row of each table holds besides its key and counts: the day's week and month.
KEPT = {"case_figures": ("week", "month"), "case_figures_daily": ("week", "month"), "case_figures_monthly": ()}
# GB/T 39734-2020: 基本满意 (3) or better is satisfied, as the queue's satisfaction counts it.
SATISFIED_FROM = 3


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            for count in NEW_COUNTS:
                batch.add_column(sa.Column(count, sa.BigInteger(), server_default="0", nullable=False))
    _backfill()


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            for count in reversed(NEW_COUNTS):
                batch.drop_column(count)


def _local_day(at: Any, zone: ZoneInfo) -> date:
    # SQLite hands back naive UTC (as hall stores it), PostgreSQL an aware instant.
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def _backfill() -> None:
    bind = op.get_bind()
    zone = ZoneInfo(os.environ.get("HALL_TIMEZONE") or "Asia/Shanghai")
    events = sa.table("events", sa.column("type"), sa.column("data", sa.JSON()), sa.column("at"), sa.column("seq"))
    cases = sa.table("cases", sa.column("number"), sa.column("department"))
    departments = {row.number: row.department for row in bind.execute(sa.select(cases.c.number, cases.c.department))}
    rated: Counter[tuple[Any, ...]] = Counter()
    satisfied: Counter[tuple[Any, ...]] = Counter()
    seen: set[str] = set()
    query = sa.select(events.c.data, events.c.at).where(events.c.type == "case.rated").order_by(events.c.at)
    for data, at in bind.execute(query):
        number = str(data.get("number", ""))
        if number in seen:
            continue
        seen.add(number)
        department = data.get("department") or departments.get(number) or ""
        key = (int(data.get("accepted_hall") or 0), _local_day(at, zone), str(data.get("item", "")), department)
        rated[key] += 1
        level = data.get("level")
        satisfied[key] += int(isinstance(level, int) and level >= SATISFIED_FROM)
    if not rated:
        return
    rows = []
    for (hall, day, item, department), count in sorted(rated.items()):
        monday = day - timedelta(days=day.weekday())
        rows.append(
            {
                "hall_id": hall,
                "day": day,
                "week": monday,
                "month": day.replace(day=1),
                "item": item,
                "department": department,
                "stage": "completed",
                "rated": count,
                "satisfied": satisfied[(hall, day, item, department)],
            }
        )
    for name in TABLES:
        _accumulate(bind, name, _rolled(rows, KEYS[name], KEPT[name]))


def _rolled(rows: list[dict[str, Any]], key: tuple[str, ...], kept: tuple[str, ...]) -> list[dict[str, Any]]:
    summed: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        at = tuple(row[n] for n in key)
        into = summed.setdefault(at, {**{n: row[n] for n in (*key, *kept)}, **dict.fromkeys(NEW_COUNTS, 0)})
        for count in NEW_COUNTS:
            into[count] += row[count]
    return [summed[at] for at in sorted(summed)]


def _accumulate(bind: sa.engine.Connection, name: str, rows: list[dict[str, Any]]) -> None:
    """Add the counts to the row of the same key, or insert it: a day may already have figures of
    its completions under the same key."""
    columns = (*KEYS[name], *KEPT[name], *NEW_COUNTS)
    table = sa.table(name, *(sa.column(n) for n in columns))
    statement: Any = (sqlite_insert if bind.dialect.name == "sqlite" else pg_insert)(table)
    changes = {n: table.c[n] + statement.excluded[n] for n in NEW_COUNTS}
    bind.execute(statement.on_conflict_do_update(index_elements=list(KEYS[name]), set_=changes), rows)
