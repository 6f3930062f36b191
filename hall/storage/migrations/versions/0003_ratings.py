"""Ratings (一事一评) and the work orders of unsatisfied ratings.

Revision ID: 0003_ratings
Revises: 0002_queue
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_ratings"
down_revision = "0002_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("ticket", sa.String(40), nullable=False),
        sa.Column("number", sa.String(10), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("clerk", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("aspects", sa.JSON(), nullable=False),
        sa.Column("comment", sa.String(300), nullable=False, server_default=""),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_ratings_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", "id", name="pk_ratings"),
    )
    op.create_table(
        "work_orders",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(90), nullable=False),
        sa.Column("rating", sa.String(80), nullable=False),
        sa.Column("ticket", sa.String(40), nullable=False),
        sa.Column("number", sa.String(10), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("clerk", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("callback_note", sa.String(300), nullable=False, server_default=""),
        sa.Column("callback_at", sa.DateTime(), nullable=True),
        sa.Column("callback_by", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(300), nullable=False, server_default=""),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_work_orders_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", "id", name="pk_work_orders"),
    )


def downgrade() -> None:
    op.drop_table("work_orders")
    op.drop_table("ratings")
