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
    # A cleared alarm goes back to open: the older schema has no word for it, and a supervisor
    # acknowledging it then loses nothing.
    op.execute("UPDATE alarms SET state = 'open' WHERE state = 'cleared'")
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("cleared_at")
