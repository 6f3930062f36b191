"""The wallboard's alarms (queueing.alarms): open, acknowledged or cleared, each raised once by its key."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table

from hall.storage.tables import UTCDateTime, metadata

alarms = Table(
    "alarms",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    # A hash of the key (queueing.alarms.alarm_id): the same in every process for one condition.
    Column("id", String(16), primary_key=True),
    Column("key", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("data", JSON, nullable=False),
    Column("raised_at", UTCDateTime(), nullable=False),
    Column("acknowledged_by", Integer, nullable=True),
    Column("acknowledged_at", UTCDateTime(), nullable=True),
    # When the system cleared it, its condition over before anyone acknowledged it (0016).
    Column("cleared_at", UTCDateTime(), nullable=True),
    Index("ix_alarms_open", "hall_id", "state", "raised_at"),
)
