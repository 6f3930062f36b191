"""The queue's tables: services, which counters serve them, the hall's queue rules, tickets."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Float, ForeignKey, Index, Integer, String, Table, true

from hall.storage.tables import UTCDateTime, metadata

queue_services = Table(
    "queue_services",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("name_en", String(100), nullable=False, server_default=""),
    Column("prefix", String(2), nullable=False, server_default=""),
    Column("width", Integer, nullable=False, server_default="3"),
    Column("daily_cap", Integer, nullable=True),
    # {"0": ["09:00", "17:00"], ...}: Monday = "0"; a missing day is closed.
    Column("week", JSON, nullable=False),
    Column("open_on_holidays", Boolean, nullable=False, server_default="0"),
    Column("target_wait_minutes", Integer, nullable=False, server_default="20"),
    Column("default_service_minutes", Float, nullable=False, server_default="6"),
    Column("one_live_ticket_per_id", Boolean, nullable=False, server_default="0"),
    Column("position", Integer, nullable=False, server_default="0"),
    # A deactivated service takes no new tickets; those waiting are still served.
    Column("active", Boolean, nullable=False, server_default=true()),
)

counter_services = Table(
    "counter_services",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("counter", Integer, primary_key=True),
    Column("service", String(32), primary_key=True),
    Column("weight", Float, nullable=False, server_default="1"),
)

queue_rules = Table(
    "queue_rules",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("rules", JSON, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("day", Date, nullable=False),
    Column("n", Integer, nullable=False),
    Column("number", String(10), nullable=False),
    Column("service", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("queued_at", UTCDateTime(), nullable=False),
    Column("order_no", BigInteger, nullable=False),
    Column("boosted", Boolean, nullable=False, server_default="0"),
    Column("counter", Integer, nullable=True),
    Column("clerk", Integer, nullable=True),
    Column("target_counter", Integer, nullable=True),
    Column("previous_service", String(32), nullable=True),
    Column("recalls", Integer, nullable=False, server_default="0"),
    Column("hold_until", UTCDateTime(), nullable=True),
    # The applicant, when an ID card was swiped. The full ID number stays in this row: events,
    # screens and exports show the masked form only.
    Column("applicant_name", String(100), nullable=True),
    Column("applicant_id_number", String(32), nullable=True),
    Column("estimate_minutes", Float, nullable=True),
    Column("spans", JSON, nullable=False),
    Index("ix_tickets_hall_state", "hall_id", "state"),
    Index("ix_tickets_hall_day", "hall_id", "day"),
)

ratings = Table(
    "ratings",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    # "<ticket id>:<service>": one rating per finished service.
    Column("id", String(80), primary_key=True),
    Column("ticket", String(40), nullable=False),
    Column("number", String(10), nullable=False),
    Column("service", String(32), nullable=False),
    Column("counter", Integer, nullable=False),
    Column("clerk", Integer, nullable=True),
    Column("level", Integer, nullable=False),
    Column("aspects", JSON, nullable=False),
    Column("comment", String(300), nullable=False, server_default=""),
    Column("source", String(32), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("id", String(90), primary_key=True),
    Column("rating", String(80), nullable=False),
    Column("ticket", String(40), nullable=False),
    Column("number", String(10), nullable=False),
    Column("counter", Integer, nullable=False),
    Column("clerk", Integer, nullable=True),
    Column("level", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("due", Date, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("callback_note", String(300), nullable=False, server_default=""),
    Column("callback_at", UTCDateTime(), nullable=True),
    Column("callback_by", Integer, nullable=True),
    Column("resolution", String(300), nullable=False, server_default=""),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("resolved_by", Integer, nullable=True),
    Column("escalated_at", UTCDateTime(), nullable=True),
)

# The queue's figures (queueing/figures.py), kept up to date in the writer's transaction: one row
# per hall, local day and hour, service, counter and clerk (0 for none), each count a sum but the
# two maxima. ``week`` (its Monday) and ``month`` (its first day) are written with the day, so
# grouping by them is the same plain GROUP BY on SQLite and PostgreSQL.
FIGURE_COUNTS = (
    "arrived",
    "called",
    "served",
    "no_shows",
    "transferred",
    "wait_count",
    "wait_sum",
    "wait_max",
    "wait_in_target",
    "wait_0_5",
    "wait_5_10",
    "wait_10_20",
    "wait_20_30",
    "wait_30_60",
    "wait_60",
    "service_count",
    "service_sum",
    "service_max",
    "service_0_5",
    "service_5_10",
    "service_10_20",
    "service_20_30",
    "service_30_60",
    "service_60",
    "rated_1",
    "rated_2",
    "rated_3",
    "rated_4",
    "rated_5",
    "idle_sum",
    "wrap_count",
    "wrap_sum",
)

queue_figures = Table(
    "queue_figures",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("service", String(32), primary_key=True),
    Column("counter", Integer, primary_key=True),
    Column("clerk", Integer, primary_key=True),
    Column("week", Date, nullable=False),
    Column("month", Date, nullable=False),
    # The key starts with the hall and the day: a period's rows are one range of the primary key.
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in FIGURE_COUNTS),
    # A drill-down to a counter reads its hours here: its rows, not the whole hall's (0013).
    Index("ix_queue_figures_counter", "hall_id", "counter", "day"),
)

# Coarser sums of the same figures, kept in the same transaction (0013): a year's view reads a few
# ten thousand rows instead of the hourly table's few hundred thousand. ``queueing.statistics``
# reads the coarsest one that holds what a view groups or narrows by.
# By day without the hour: the periods, groups and totals of any view.
queue_figures_daily = Table(
    "queue_figures_daily",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("service", String(32), primary_key=True),
    Column("counter", Integer, primary_key=True),
    Column("clerk", Integer, primary_key=True),
    Column("week", Date, nullable=False),
    Column("month", Date, nullable=False),
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in FIGURE_COUNTS),
)

# By day and hour without the counter and clerk: the hours and the hour × weekday map of a view
# that is not narrowed to a department, counter or clerk.
queue_figures_hourly = Table(
    "queue_figures_hourly",
    metadata,
    Column("hall_id", Integer, ForeignKey("halls.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("service", String(32), primary_key=True),
    # ISO weekday of the day (Monday 1): the hour × weekday map is one plain GROUP BY on both backends.
    Column("weekday", Integer, nullable=False),
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in FIGURE_COUNTS),
)
