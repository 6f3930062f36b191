"""The queue's figures: per hall, local day and hour, service, counter and clerk, kept up to date
in the writer's transaction, so statistics read summed rows (queueing/figures.py).

Revision ID: 0010_figures
Revises: 0009_wired_devices
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_figures"
down_revision = "0009_wired_devices"
branch_labels = None
depends_on = None

# As in hall/storage/queue_tables.py, written out: a migration stays as it was when the table changes.
COUNTS = (
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


def upgrade() -> None:
    op.create_table(
        "queue_figures",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("hour", sa.Integer(), primary_key=True),
        sa.Column("service", sa.String(length=32), primary_key=True),
        sa.Column("counter", sa.Integer(), primary_key=True),
        sa.Column("clerk", sa.Integer(), primary_key=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTS),
    )


def downgrade() -> None:
    op.drop_table("queue_figures")
