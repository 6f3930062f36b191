"""The cases' tables: the case register, each case's steps, scanned attachments, supervision
orders, and the notification outbox.

A case is kept whole in ``cases.record`` (what the rules load) and, beside it, in columns the
ledgers and queries filter on. Every step is also a row of ``case_steps``, so a ledger per clerk
counts what each person did without reading every record.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from hall.storage.tables import UTCDateTime, metadata

cases = Table(
    "cases",
    metadata,
    Column("number", String(32), primary_key=True),
    # The hall whose log holds the register: the root of the tree the case was accepted in.
    Column("register_hall", Integer, ForeignKey("halls.id"), nullable=False),
    Column("accepted_hall", Integer, ForeignKey("halls.id"), nullable=False, index=True),
    Column("deciding_hall", Integer, ForeignKey("halls.id"), nullable=False, index=True),
    Column("counter", Integer, nullable=True),
    Column("item", String(32), nullable=False),
    Column("department", String(100), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("registered_by", Integer, ForeignKey("staff.id"), nullable=False, index=True),
    Column("assignee", Integer, nullable=True),
    Column("accepted_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("light", String(8), nullable=False, server_default="green"),
    # Last four digits of the applicant's phone: what the public tracking page asks for.
    Column("phone_tail", String(4), nullable=False, server_default=""),
    Column("rating", String(24), nullable=True),
    # The whole case as the rules know it, personal data included (it is the case record).
    Column("record", JSON, nullable=False),
    Index("ix_cases_register_open", "register_hall", "closed_at"),
    Index("ix_cases_accepted_at", "accepted_at"),
)

case_steps = Table(
    "case_steps",
    metadata,
    Column("number", String(32), ForeignKey("cases.number"), primary_key=True),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("action", String(32), nullable=False),
    Column("stage_from", String(16), nullable=True),
    Column("stage_to", String(16), nullable=False),
    Column("actor", Integer, nullable=False),
    Column("hall_id", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("remark", String(500), nullable=False, server_default=""),
    Index("ix_case_steps_actor_at", "actor", "at"),
)

case_attachments = Table(
    "case_attachments",
    metadata,
    Column("number", String(32), ForeignKey("cases.number"), primary_key=True),
    # The content's SHA-256: the file is stored under it, and a changed file is another file.
    Column("sha256", String(64), primary_key=True),
    Column("material", String(200), nullable=False, server_default=""),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("added_by", Integer, nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
)

supervision_orders = Table(
    "supervision_orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("number", String(32), ForeignKey("cases.number"), nullable=False, index=True),
    Column("register_hall", Integer, ForeignKey("halls.id"), nullable=False),
    Column("hall_id", Integer, nullable=False),
    Column("level", String(16), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("reply_by", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("record", JSON, nullable=False),
)

# The outbox: written in the transaction of the event that calls for the message, sent after.
# ``id`` is derived from the case and the reason, so a message is due once however often the
# event is looked at; the gateway is handed the same id as its idempotency key on every attempt.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("number", String(32), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("phone", String(24), nullable=False),
    Column("locale", String(8), nullable=False, server_default="zh_CN"),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # pending → sent, or failed after the last attempt; attempts count handovers to the gateway.
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_try_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("gateway_ref", String(100), nullable=False, server_default=""),
    Column("last_error", String(500), nullable=False, server_default=""),
    Index("ix_notifications_due", "status", "next_try_at"),
)

# The cases' figures (cases/figures.py), kept up to date in the writer's transaction: one row per
# hall, local day, service item, department and stage, each count a sum. ``week`` (its Monday) and
# ``month`` (its first day) are written with the day, so grouping by them is a plain GROUP BY.
CASE_FIGURE_COUNTS = (
    "accepted",
    "entered",
    "completed",
    "on_time",
    "late",
    "work_sum",
    "speed_count",
    "speed_sum",
    "refused",
    "collected",
    "supplements",
    "returned",
    "rated",
    "satisfied",
)

case_figures = Table(
    "case_figures",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("item", String(32), primary_key=True),
    Column("department", String(100), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("week", Date, nullable=False),
    Column("month", Date, nullable=False),
    # The key starts with the hall and the day: a period's rows are one range of the primary key.
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in CASE_FIGURE_COUNTS),
)

# Two coarser sums of the same figures, kept in the same transaction, so that a year costs about
# what a month does: a hall's day (its periods and totals; a year is 365 rows) and a hall's month
# by item, department and stage (its groups over whole months). A view reads the coarsest that
# holds it (cases/statistics.py).
case_figures_daily = Table(
    "case_figures_daily",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("week", Date, nullable=False),
    Column("month", Date, nullable=False),
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in CASE_FIGURE_COUNTS),
)

case_figures_monthly = Table(
    "case_figures_monthly",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("item", String(32), primary_key=True),
    Column("department", String(100), primary_key=True),
    Column("stage", String(16), primary_key=True),
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in CASE_FIGURE_COUNTS),
)
