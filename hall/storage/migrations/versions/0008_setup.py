"""Halls set up while they run: departments, and halls, services and counters that are
deactivated rather than removed (their history names them).

Revision ID: 0008_setup
Revises: 0007_accounts
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_setup"
down_revision = "0007_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): SQLite adds and drops these columns in place, and a
    # copied ``halls`` table would break the foreign keys that point at it. What existed before
    # this revision stays in service.
    op.add_column("halls", sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("queue_services", sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("counters", sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("counters", sa.Column("department", sa.String(length=32), nullable=True))
    op.create_table(
        "departments",
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), primary_key=True),
        sa.Column("code", sa.String(length=32), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("departments")
    op.drop_column("counters", "department")
    op.drop_column("counters", "active")
    op.drop_column("queue_services", "active")
    op.drop_column("halls", "active")
