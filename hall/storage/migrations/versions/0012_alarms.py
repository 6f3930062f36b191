"""The wallboard's alarms: raised once by their key, acknowledged with who and when.

Revision ID: 0012_alarms
Revises: 0011_case_figures
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_alarms"
down_revision = "0011_case_figures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("id", sa.String(length=16), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_alarms_open", "alarms", ["hall_id", "state", "raised_at"])


def downgrade() -> None:
    op.drop_index("ix_alarms_open", table_name="alarms")
    op.drop_table("alarms")
