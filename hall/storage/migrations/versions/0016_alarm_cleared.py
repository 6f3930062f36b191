"""An alarm whose condition ended before anyone acknowledged it is cleared by the system: when.

Revision ID: 0016_alarm_cleared
Revises: 0015_case_ratings
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_alarm_cleared"
down_revision = "0015_case_ratings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alarms") as batch:
        batch.add_column(sa.Column("cleared_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # A cleared alarm keeps its state: the older code lists whatever is not open as handled, so it
    # does not come back to be acknowledged (only when it cleared is dropped).
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("cleared_at")
