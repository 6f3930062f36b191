"""The device registry's tables: the devices of every hall, and the outcomes of their commands."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table

from hall.storage.tables import UTCDateTime, metadata

devices = Table(
    "devices",
    metadata,
    # Ids are unique across the installation: a device's MQTT username is its id.
    Column("id", String(40), primary_key=True),
    Column("hall_id", Integer, ForeignKey("halls.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("counter", Integer, nullable=True),
    # How the server reaches it: mqtt now; serial and pcsc drivers register theirs the same way.
    Column("transport", String(16), nullable=False, server_default="mqtt"),
    # Mosquitto's PBKDF2-SHA512 form, so the broker's password file is written from this column.
    Column("secret_hash", String(200), nullable=False, server_default=""),
    Column("firmware", String(32), nullable=False, server_default=""),
    Column("online", Boolean, nullable=False, server_default="0"),
    Column("last_connect", UTCDateTime(), nullable=True),
    Column("last_disconnect", UTCDateTime(), nullable=True),
    Column("paper", String(16), nullable=False, server_default=""),
    Column("first_seen", UTCDateTime(), nullable=True),
    # A wired device's port and line settings (devices.wires.Wiring); null for a network device.
    Column("wire", JSON, nullable=True),
    # Measurements, not state: written now and then by the gateway, never through the log.
    Column("last_seen", UTCDateTime(), nullable=True),
    Column("telemetry", JSON, nullable=False, server_default="{}"),
    Column("rejected", JSON, nullable=False, server_default="{}"),
)

device_commands = Table(
    "device_commands",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("hall_id", Integer, ForeignKey("halls.id"), nullable=False),
    Column("device", String(40), nullable=False),
    Column("name", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("done_at", UTCDateTime(), nullable=False),
    Column("result", JSON, nullable=False),
    Index("ix_device_commands_device_done", "device", "done_at"),
)
