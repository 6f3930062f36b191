"""Coarser sums of the case figures: by hall and day, and by hall, month, item, department and
stage, filled from ``case_figures`` as it stands and kept by the writer from then on.

Revision ID: 0014_case_rollups
Revises: 0013_figures_rollup
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_case_rollups"
down_revision = "0013_figures_rollup"
branch_labels = None
depends_on = None

# As in hall/storage/case_tables.py, written out: a migration stays as it was when the table changes.
COUNTS = (
    "accepted",
    "entered",
    "completed",
    "on_time",
    "late",
    "work_sum",
    "speed_count",
    "speed_sum",
    "refused",
    "collected",
    "supplements",
    "returned",
)


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTS]


def upgrade() -> None:
    op.create_table(
        "case_figures_daily",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *_counts(),
    )
    op.create_table(
        "case_figures_monthly",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("item", sa.String(length=32), primary_key=True),
        sa.Column("department", sa.String(length=100), primary_key=True),
        sa.Column("stage", sa.String(length=16), primary_key=True),
        *_counts(),
    )
    keys = ("hall_id", "day", "week", "month", "item", "department", "stage")
    source = sa.table("case_figures", *(sa.column(n) for n in (*keys, *COUNTS)))
    daily = sa.table("case_figures_daily", *(sa.column(n) for n in ("hall_id", "day", "week", "month", *COUNTS)))
    monthly = sa.table(
        "case_figures_monthly", *(sa.column(n) for n in ("hall_id", "month", "item", "department", "stage", *COUNTS))
    )
    sums = [sa.func.sum(source.c[n]) for n in COUNTS]
    s = source.c
    op.execute(
        daily.insert().from_select(
            ["hall_id", "day", "week", "month", *COUNTS],
            sa.select(s.hall_id, s.day, sa.func.min(s.week), sa.func.min(s.month), *sums).group_by(s.hall_id, s.day),
        )
    )
    op.execute(
        monthly.insert().from_select(
            ["hall_id", "month", "item", "department", "stage", *COUNTS],
            sa.select(s.hall_id, s.month, s.item, s.department, s.stage, *sums).group_by(
                s.hall_id, s.month, s.item, s.department, s.stage
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("case_figures_monthly")
    op.drop_table("case_figures_daily")
