"""An index of the cases' steps by time: the statistics' drill-down lists the cases with a step in
a period (cases/case_lists.py), which without it reads every step of the register.

Revision ID: 0015_case_steps_at
Revises: 0014_case_rollups
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015_case_steps_at"
down_revision = "0014_case_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_steps_at", "case_steps", ["at"])


def downgrade() -> None:
    op.drop_index("ix_case_steps_at", table_name="case_steps")
