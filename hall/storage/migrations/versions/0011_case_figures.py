"""The cases' figures: per hall, local day, service item, department and stage, kept up to date in
the writer's transaction, so case statistics read summed rows (cases/figures.py).

Revision ID: 0011_case_figures
Revises: 0010_figures
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_case_figures"
down_revision = "0010_figures"
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


def upgrade() -> None:
    op.create_table(
        "case_figures",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("item", sa.String(length=32), primary_key=True),
        sa.Column("department", sa.String(length=100), primary_key=True),
        sa.Column("stage", sa.String(length=16), primary_key=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTS),
    )


def downgrade() -> None:
    op.drop_table("case_figures")
