"""The device registry and device command outcomes.

Revision ID: 0004_devices
Revises: 0003_ratings
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_devices"
down_revision = "0003_ratings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=True),
        sa.Column("transport", sa.String(16), nullable=False, server_default="mqtt"),
        sa.Column("secret_hash", sa.String(200), nullable=False, server_default=""),
        sa.Column("firmware", sa.String(32), nullable=False, server_default=""),
        sa.Column("online", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("last_connect", sa.DateTime(), nullable=True),
        sa.Column("last_disconnect", sa.DateTime(), nullable=True),
        sa.Column("paper", sa.String(16), nullable=False, server_default=""),
        sa.Column("first_seen", sa.DateTime(), nullable=True),
        sa.Column("last_seen", sa.DateTime(), nullable=True),
        sa.Column("telemetry", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("rejected", sa.JSON(), nullable=False, server_default="{}"),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_devices_hall_id_halls"),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
    )
    op.create_index("ix_devices_hall_id", "devices", ["hall_id"])
    op.create_table(
        "device_commands",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(40), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_device_commands_hall_id_halls"),
        sa.PrimaryKeyConstraint("id", name="pk_device_commands"),
    )
    op.create_index("ix_device_commands_device_done", "device_commands", ["device", "done_at"])


def downgrade() -> None:
    op.drop_table("device_commands")
    op.drop_table("devices")
