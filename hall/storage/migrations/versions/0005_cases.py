"""The case register: cases, their steps and attachments, supervision orders, the notification outbox.

Revision ID: 0005_cases
Revises: 0004_devices
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_cases"
down_revision = "0004_devices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("locale", sa.String(length=8), server_default="zh_CN", nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("gateway_ref", sa.String(length=100), server_default="", nullable=False),
        sa.Column("last_error", sa.String(length=500), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_due", ["status", "next_try_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_number"), ["number"], unique=False)

    op.create_table(
        "cases",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("register_hall", sa.Integer(), nullable=False),
        sa.Column("accepted_hall", sa.Integer(), nullable=False),
        sa.Column("deciding_hall", sa.Integer(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=True),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=100), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("light", sa.String(length=8), server_default="green", nullable=False),
        sa.Column("phone_tail", sa.String(length=4), server_default="", nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["accepted_hall"], ["halls.id"], name=op.f("fk_cases_accepted_hall_halls")),
        sa.ForeignKeyConstraint(["deciding_hall"], ["halls.id"], name=op.f("fk_cases_deciding_hall_halls")),
        sa.ForeignKeyConstraint(["register_hall"], ["halls.id"], name=op.f("fk_cases_register_hall_halls")),
        sa.ForeignKeyConstraint(["registered_by"], ["staff.id"], name=op.f("fk_cases_registered_by_staff")),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_accepted_at", ["accepted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_accepted_hall"), ["accepted_hall"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_deciding_hall"), ["deciding_hall"], unique=False)
        batch_op.create_index("ix_cases_register_open", ["register_hall", "closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_registered_by"), ["registered_by"], unique=False)

    op.create_table(
        "case_attachments",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("material", sa.String(length=200), server_default="", nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["number"], ["cases.number"], name=op.f("fk_case_attachments_number_cases")),
        sa.PrimaryKeyConstraint("number", "sha256", name=op.f("pk_case_attachments")),
    )
    op.create_table(
        "case_steps",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("stage_from", sa.String(length=16), nullable=True),
        sa.Column("stage_to", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("remark", sa.String(length=500), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["number"], ["cases.number"], name=op.f("fk_case_steps_number_cases")),
        sa.PrimaryKeyConstraint("number", "idx", name=op.f("pk_case_steps")),
    )
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.create_index("ix_case_steps_actor_at", ["actor", "at"], unique=False)

    op.create_table(
        "supervision_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("register_hall", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("reply_by", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["number"], ["cases.number"], name=op.f("fk_supervision_orders_number_cases")),
        sa.ForeignKeyConstraint(
            ["register_hall"], ["halls.id"], name=op.f("fk_supervision_orders_register_hall_halls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_orders")),
    )
    with op.batch_alter_table("supervision_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_orders_number"), ["number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("supervision_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_orders_number"))

    op.drop_table("supervision_orders")
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_case_steps_actor_at")

    op.drop_table("case_steps")
    op.drop_table("case_attachments")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_registered_by"))
        batch_op.drop_index("ix_cases_register_open")
        batch_op.drop_index(batch_op.f("ix_cases_deciding_hall"))
        batch_op.drop_index(batch_op.f("ix_cases_accepted_hall"))
        batch_op.drop_index("ix_cases_accepted_at")

    op.drop_table("cases")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_number"))
        batch_op.drop_index("ix_notifications_due")

    op.drop_table("notifications")
