"""Coarser sums of the queue's figures (by day; by day and hour without counter and clerk), an
index for a counter's figures, the service-time buckets, counter idle and wrap-up time, and each
counter's free-since clock.

The rollups are filled from ``queue_figures`` as it stands; the new counts of older rows stay 0
until ``hall figures rebuild`` recounts them from the event log.

Revision ID: 0013_figures_rollup
Revises: 0012_alarms
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_figures_rollup"
down_revision = "0012_alarms"
branch_labels = None
depends_on = None

# As in hall/storage/queue_tables.py, written out: a migration stays as it was when the table changes.
OLD_COUNTS = (
    "arrived",
    "called",
    "served",
    "no_shows",
    "transferred",
    "wait_count",
    "wait_sum",
    "wait_max",
    "wait_in_target",
    "wait_0_5",
    "wait_5_10",
    "wait_10_20",
    "wait_20_30",
    "wait_30_60",
    "wait_60",
    "service_count",
    "service_sum",
    "service_max",
    "rated_1",
    "rated_2",
    "rated_3",
    "rated_4",
    "rated_5",
)
NEW_COUNTS = (
    "service_0_5",
    "service_5_10",
    "service_10_20",
    "service_20_30",
    "service_30_60",
    "service_60",
    "idle_sum",
    "wrap_count",
    "wrap_sum",
)
COUNTS = OLD_COUNTS[:18] + NEW_COUNTS[:6] + OLD_COUNTS[18:] + NEW_COUNTS[6:]
MAXIMA = ("wait_max", "service_max")


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTS]


def upgrade() -> None:
    # Plain ALTER TABLE, as 0008: SQLite adds a column with a constant default in place.
    for name in NEW_COUNTS:
        op.add_column("queue_figures", sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))
    op.create_index("ix_queue_figures_counter", "queue_figures", ["hall_id", "counter", "day"])
    op.add_column("counters", sa.Column("free_since", sa.DateTime(), nullable=True))
    op.add_column("counters", sa.Column("free_wrap", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "queue_figures_daily",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("service", sa.String(length=32), primary_key=True),
        sa.Column("counter", sa.Integer(), primary_key=True),
        sa.Column("clerk", sa.Integer(), primary_key=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *_counts(),
    )
    op.create_table(
        "queue_figures_hourly",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("hour", sa.Integer(), primary_key=True),
        sa.Column("service", sa.String(length=32), primary_key=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        *_counts(),
    )
    # Filled from the hourly rows as they stand, by Core statements: the same SQL on both backends.
    hourly = sa.table(
        "queue_figures",
        *(sa.column(name) for name in ("hall_id", "day", "hour", "service", "counter", "clerk", "week", "month")),
        *(sa.column(name) for name in COUNTS),
    )
    summed = [(sa.func.max if name in MAXIMA else sa.func.sum)(hourly.c[name]).label(name) for name in COUNTS]
    # The ISO weekday (Monday 1) of a date: the one expression the backends spell apart.
    if op.get_bind().dialect.name == "sqlite":
        weekday = (sa.cast(sa.func.strftime("%w", hourly.c.day), sa.Integer) + 6) % 7 + 1
    else:
        weekday = sa.cast(sa.extract("isodow", hourly.c.day), sa.Integer)
    for target, key, kept in (
        ("queue_figures_daily", ("hall_id", "day", "service", "counter", "clerk"), ("week", "month")),
        ("queue_figures_hourly", ("hall_id", "day", "hour", "service"), ("weekday",)),
    ):
        names = (*key, *kept, *COUNTS)
        into = sa.table(target, *(sa.column(name) for name in names))
        firsts = [sa.func.min(weekday if name == "weekday" else hourly.c[name]).label(name) for name in kept]
        query = sa.select(*(hourly.c[name] for name in key), *firsts, *summed).group_by(
            *(hourly.c[name] for name in key)
        )
        op.execute(into.insert().from_select(list(names), query))


def downgrade() -> None:
    op.drop_table("queue_figures_hourly")
    op.drop_table("queue_figures_daily")
    op.drop_column("counters", "free_wrap")
    op.drop_column("counters", "free_since")
    op.drop_index("ix_queue_figures_counter", table_name="queue_figures")
    for name in NEW_COUNTS:
        op.drop_column("queue_figures", name)
