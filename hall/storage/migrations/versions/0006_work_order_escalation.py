"""Work orders remember when the clock escalated them for passing their due day.

Revision ID: 0006_work_order_escalation
Revises: 0005_cases
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_work_order_escalation"
down_revision = "0005_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("escalated_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("escalated_at")
