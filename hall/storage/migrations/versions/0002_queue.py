"""The queue: services, counter services, queue rules, tickets; counters' current ticket.

Revision ID: 0002_queue
Revises: 0001_core
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_queue"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("current_ticket", sa.String(40), nullable=True))
        batch.add_column(sa.Column("streak", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "queue_services",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False, server_default=""),
        sa.Column("prefix", sa.String(2), nullable=False, server_default=""),
        sa.Column("width", sa.Integer(), nullable=False, server_default="3"),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("week", sa.JSON(), nullable=False),
        sa.Column("open_on_holidays", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("target_wait_minutes", sa.Integer(), nullable=False, server_default="20"),
        sa.Column("default_service_minutes", sa.Float(), nullable=False, server_default="6"),
        sa.Column("one_live_ticket_per_id", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_queue_services_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", "code", name="pk_queue_services"),
    )
    op.create_table(
        "counter_services",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False, server_default="1"),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_counter_services_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", "counter", "service", name="pk_counter_services"),
    )
    op.create_table(
        "queue_rules",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_queue_rules_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", name="pk_queue_rules"),
    )
    op.create_table(
        "tickets",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(10), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("order_no", sa.BigInteger(), nullable=False),
        sa.Column("boosted", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("counter", sa.Integer(), nullable=True),
        sa.Column("clerk", sa.Integer(), nullable=True),
        sa.Column("target_counter", sa.Integer(), nullable=True),
        sa.Column("previous_service", sa.String(32), nullable=True),
        sa.Column("recalls", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("hold_until", sa.DateTime(), nullable=True),
        sa.Column("applicant_name", sa.String(100), nullable=True),
        sa.Column("applicant_id_number", sa.String(32), nullable=True),
        sa.Column("estimate_minutes", sa.Float(), nullable=True),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name="fk_tickets_hall_id_halls"),
        sa.PrimaryKeyConstraint("hall_id", "id", name="pk_tickets"),
    )
    op.create_index("ix_tickets_hall_state", "tickets", ["hall_id", "state"])
    op.create_index("ix_tickets_hall_day", "tickets", ["hall_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_tickets_hall_day", "tickets")
    op.drop_index("ix_tickets_hall_state", "tickets")
    for table in ("tickets", "queue_rules", "counter_services", "queue_services"):
        op.drop_table(table)
    with op.batch_alter_table("counters") as batch:
        batch.drop_column("streak")
        batch.drop_column("current_ticket")
