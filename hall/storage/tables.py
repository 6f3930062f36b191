"""The core tables: halls, counters, staff, sessions and the ordered event log.

Later parts of hall add their own tables to the same ``metadata``; Alembic migrations under
``hall/migrations`` create them on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


halls = Table(
    "halls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False, server_default=""),
    # district 区 / street 街道 / community 社区: the tree of 三级联动.
    Column("level", String(16), nullable=False),
    Column("parent_id", Integer, ForeignKey("halls.id"), nullable=True),
    # Kept from the first schema and not read: the halls' zone is the one setting HALL_TIMEZONE
    # (hall.kernel.zones), so that no part can read a zone of its own.
    Column("timezone", String(64), nullable=False, server_default="Asia/Shanghai"),
    Column("created_at", UTCDateTime(), nullable=False),
    # A deactivated hall takes no tickets; it keeps its history, its staff and its place in the tree.
    Column("active", Boolean, nullable=False, server_default=true()),
)

# A hall's departments (科室/部门): the offices its counters belong to, for statistics by office.
departments = Table(
    "departments",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("name_en", String(100), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("position", Integer, nullable=False, server_default="0"),
)

# One row per hall holding the last sequence number of its event log. Writers lock this row
# for the length of their transaction, which is what keeps sequences gapless and unique.
hall_heads = Table(
    "hall_heads",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("staff_no", String(32), nullable=False, server_default=""),
    Column("password_hash", String(200), nullable=False),
    # Comma-separated roles: clerk, supervisor, technician, admin.
    Column("roles", String(100), nullable=False),
    Column("hall_id", Integer, ForeignKey("halls.id"), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime(), nullable=False),
    # A first password, or one an admin reset, is to be replaced by its owner before anything else.
    Column("must_change_password", Boolean, nullable=False, server_default=false()),
)

counters = Table(
    "counters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", Integer, ForeignKey("halls.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("name", String(100), nullable=False, server_default=""),
    Column("status", String(16), nullable=False, server_default="closed"),
    Column("pause_reason", String(200), nullable=False, server_default=""),
    Column("clerk_id", Integer, ForeignKey("staff.id"), nullable=True),
    # The ticket at the counter now, and priority calls in a row (see queueing.calling).
    Column("current_ticket", String(40), nullable=True),
    Column("streak", Integer, nullable=False, server_default="0"),
    # A deactivated counter cannot be opened; it is never removed (tickets and ratings name it).
    Column("active", Boolean, nullable=False, server_default=true()),
    # The department (code) the counter belongs to, if the hall names departments.
    Column("department", String(32), nullable=True),
    # Since when the open counter has had no ticket in hand, and whether a ticket leaving it began
    # that (wrap-up) or its opening or resuming did (idle): what queueing.figures counts at the
    # next call, pause or close.
    Column("free_since", UTCDateTime(), nullable=True),
    Column("free_wrap", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("hall_id", "number", name="uq_counters_hall_number"),
)

sessions = Table(
    "sessions",
    metadata,
    # sha256 of the cookie's token: a stolen database does not yield live cookies.
    Column("token_hash", String(64), primary_key=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("command_id", String(100), nullable=True),
)

# Every command id seen, with its first result, so a repeated id returns that result.
commands = Table(
    "commands",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("hall_id", Integer, ForeignKey("halls.id"), nullable=False),
    Column("result", JSON, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)
