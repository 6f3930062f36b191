"""Wired devices: a device's port, line settings and bus address (devices.wires.Wiring).

Revision ID: 0009_wired_devices
Revises: 0008_setup
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_wired_devices"
down_revision = "0008_setup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, as 0008: SQLite adds a nullable column in place.
    op.add_column("devices", sa.Column("wire", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("devices", "wire")
