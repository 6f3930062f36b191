"""Core tables: halls, hall heads, staff, counters, sessions, events, commands.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "halls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False, server_default=""),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="Asia/Shanghai"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["halls.id"], name="fk_halls_parent_id_halls"),
        sa.PrimaryKeyConstraint("id", name="pk_halls"),
        sa.UniqueConstraint("code", name="uq_halls_code"),
    )
    op.create_table(
        "hall_heads",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_hall_heads_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", name="pk_hall_heads"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("staff_no", sa.String(32), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_staff_hall_id_halls"),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
        sa.UniqueConstraint("username", name="uq_staff_username"),
    )
    op.create_table(
        "counters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="closed"),
        sa.Column("pause_reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_counters_hall_id_halls"),
        sa.ForeignKeyConstraint(["clerk_id"], ["staff.id"], name="fk_counters_clerk_id_staff"),
        sa.PrimaryKeyConstraint("id", name="pk_counters"),
        sa.UniqueConstraint("hall_id", "number", name="uq_counters_hall_number"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_sessions_staff_id_staff"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
    )
    op.create_index("ix_sessions_staff_id", "sessions", ["staff_id"])
    op.create_table(
        "events",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("command_id", sa.String(100), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_events_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", "seq", name="pk_events"),
    )
    op.create_table(
        "commands",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_commands_hall_id_halls"),
        sa.PrimaryKeyConstraint("id", name="pk_commands"),
    )


def downgrade() -> None:
    for table in ("commands", "events", "sessions", "counters", "staff", "hall_heads", "halls"):
        op.drop_table(table)
