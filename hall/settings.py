"""Settings, read once from ``HALL_*`` environment variables and CLI options.

A bad value stops the program with one clear line (``SettingsError``) instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hall.kernel.errors import SettingsError
from hall.kernel.zones import DEFAULT_ZONE, zone

_URL_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


@dataclass(frozen=True)
class Settings:
    db_url: str = "sqlite+aiosqlite:///hall.db"
    host: str = "127.0.0.1"
    port: int = 8000
    mqtt_url: str | None = None
    secret_key: str = field(default="", repr=False)
    timezone: str = DEFAULT_ZONE
    # Cookies are marked Secure when the hall is served over HTTPS (behind a proxy as a rule).
    https: bool = False
    # Group commit: how many waiting commands share one transaction at most.
    batch_max: int = 500
    # PostgreSQL: how many halls' batches commit at once (a hall's commands always share one lane,
    # see hall.storage.writer). SQLite has one database lock, so there it is always one.
    writer_lanes: int = 4
    # Realtime hub limits.
    ws_max_message: int = 4096
    ws_client_buffer: int = 512
    ws_heartbeat_seconds: float = 15.0
    ring_size: int = 10_000
    replay_max: int = 5_000
    # Failed logins (hall.web.ratelimit.LoginPolicy): per account and address, per address, and a
    # slower limit per account from everywhere that spares addresses the owner logged in from.
    login_attempts: int = 5
    login_window_seconds: float = 300.0
    login_address_attempts: int = 20
    login_user_attempts: int = 100
    login_user_window_seconds: float = 3600.0
    # Tickets one kiosk (client address) may take in a minute.
    issue_per_minute: int = 30
    # How often the clock tick releases held tickets and starts new days.
    tick_seconds: float = 15.0
    secret_file: Path | None = None
    # The address residents reach the server at: printed tickets' QR codes point there.
    public_url: str | None = None
    # A device heard from neither by Will nor by message for this long is offline.
    device_silence_seconds: float = 90.0
    # The server's MQTT account is in HALL_MQTT_URL (mqtt://user:password@host:port).
    mqtt_incoming_max: int = 20_000
    # The service catalog (事项目录) as YAML; without one the hall serves the sample catalog.
    catalog_file: Path | None = None
    # Case text messages go to this SMS provider's endpoint; without one, to a log file.
    sms_url: str | None = None
    sms_token: str | None = field(default=None, repr=False)
    # The log file of text messages when there is no provider (default: beside the database).
    notify_log: Path | None = None
    # A case turns yellow when this share of its time limit is left, or this many working days,
    # whichever margin is larger (None: that rule is off).
    yellow_share: float | None = 0.2
    yellow_days: int | None = None
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks); none
    # by default, so per-address limits count the connection's own address and cannot be dodged.
    trusted_proxies: tuple[str, ...] = ()
    # PC/SC ID card readers plugged into this machine, as (registered device id, part of the
    # reader's PC/SC name); devices/pcsc.py says why this is a setting and not a registry column.
    pcsc_readers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.db_url.startswith(_URL_SCHEMES):
            raise SettingsError(f"HALL_DB_URL must start with one of {', '.join(_URL_SCHEMES)}; got {self.db_url!r}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"port must be between 1 and 65535; got {self.port}")
        if self.mqtt_url is not None and not self.mqtt_url.startswith(("mqtt://", "mqtts://")):
            raise SettingsError(f"HALL_MQTT_URL must start with mqtt:// or mqtts://; got {self.mqtt_url!r}")
        try:
            zone(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"HALL_TIMEZONE is not a known time zone: {self.timezone!r}") from None
        if self.batch_max < 1:
            raise SettingsError(f"HALL_BATCH_MAX must be at least 1; got {self.batch_max}")
        if not 1 <= self.writer_lanes <= 32:
            raise SettingsError(f"HALL_WRITER_LANES must be between 1 and 32; got {self.writer_lanes}")
        if self.mqtt_incoming_max < 100:
            raise SettingsError(f"HALL_MQTT_INCOMING_MAX must be at least 100; got {self.mqtt_incoming_max}")
        if self.yellow_share is not None and not 0.0 <= self.yellow_share <= 1.0:
            raise SettingsError(f"HALL_YELLOW_SHARE must be between 0 and 1; got {self.yellow_share}")
        if self.yellow_days is not None and self.yellow_days < 0:
            raise SettingsError(f"HALL_YELLOW_DAYS must not be negative; got {self.yellow_days}")
        if self.ws_client_buffer < 8:
            raise SettingsError(f"HALL_WS_CLIENT_BUFFER must be at least 8; got {self.ws_client_buffer}")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(f"HALL_TRUSTED_PROXIES lists {proxy!r}, which is no address or network") from None
        devices = [device for device, _ in self.pcsc_readers]
        if len(set(devices)) != len(devices):
            raise SettingsError("HALL_PCSC_READERS names a device twice")
        if self.sms_url is not None and not self.sms_url.startswith(("http://", "https://")):
            raise SettingsError(f"HALL_SMS_URL must start with http:// or https://; got {self.sms_url!r}")

    @property
    def zone(self) -> ZoneInfo:
        """The halls' time zone (``HALL_TIMEZONE``), which every part takes from here."""
        return zone(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.db_url.split("///", 1)[1] if "///" in self.db_url else ""
        return Path(path) if path and path != ":memory:" else None

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def data_dir(self) -> Path:
        """Where the server keeps files beside its database (key, voice cache)."""
        db_path = self.sqlite_path
        return db_path.parent if db_path else Path(".")

    def with_secret(self) -> Settings:
        """Fill in the signing key: from the environment, else a key file kept beside the database.

        A fresh random key per start would log everyone out at every restart; a fixed default would
        let anyone forge sessions. So the first start writes a random key to a file only its owner reads.
        """
        if self.secret_key:
            return self
        key_file = self.secret_file or self.data_dir() / ".hall-secret"
        if key_file.exists():
            key = key_file.read_text().strip()
        else:
            key = secrets.token_urlsafe(48)
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(key + "\n")
        return replace(self, secret_key=key)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number; got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number; got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false; got {raw!r}")


def _pcsc_readers(raw: str) -> tuple[tuple[str, str], ...]:
    """``<device id>=<part of the reader's name>,...``: each reader is the one whose PC/SC name
    contains the part (``xh-c2-idr=ACR1281 1S Dual Reader 00 00``)."""
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        device, sep, part = item.partition("=")
        if not sep or not device.strip() or not part.strip():
            raise SettingsError(
                f"HALL_PCSC_READERS holds <device id>=<part of a reader's name> items, comma-separated; got {item!r}"
            )
        pairs.append((device.strip(), part.strip()))
    return tuple(pairs)


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from ``HALL_*`` variables; keyword overrides (CLI options) win when not None."""
    env = os.environ if env is None else env
    values: dict[str, object] = {
        "db_url": env.get("HALL_DB_URL", Settings.db_url),
        "host": env.get("HALL_HOST", Settings.host),
        "port": _int(env, "HALL_PORT", Settings.port),
        "mqtt_url": env.get("HALL_MQTT_URL") or None,
        "secret_key": env.get("HALL_SECRET_KEY", ""),
        "timezone": env.get("HALL_TIMEZONE", Settings.timezone),
        "https": _bool(env, "HALL_HTTPS", Settings.https),
        "batch_max": _int(env, "HALL_BATCH_MAX", Settings.batch_max),
        "writer_lanes": _int(env, "HALL_WRITER_LANES", Settings.writer_lanes),
        "issue_per_minute": _int(env, "HALL_ISSUE_PER_MINUTE", Settings.issue_per_minute),
        "ws_client_buffer": _int(env, "HALL_WS_CLIENT_BUFFER", Settings.ws_client_buffer),
        "ws_heartbeat_seconds": _float(env, "HALL_WS_HEARTBEAT", Settings.ws_heartbeat_seconds),
        "public_url": env.get("HALL_PUBLIC_URL") or None,
        "device_silence_seconds": _float(env, "HALL_DEVICE_SILENCE", Settings.device_silence_seconds),
        "mqtt_incoming_max": _int(env, "HALL_MQTT_INCOMING_MAX", Settings.mqtt_incoming_max),
        "sms_url": env.get("HALL_SMS_URL") or None,
        "sms_token": env.get("HALL_SMS_TOKEN") or None,
        "trusted_proxies": tuple(p.strip() for p in env.get("HALL_TRUSTED_PROXIES", "").split(",") if p.strip()),
        "pcsc_readers": _pcsc_readers(env.get("HALL_PCSC_READERS", "")),
    }
    if env.get("HALL_SECRET_FILE"):
        values["secret_file"] = Path(env["HALL_SECRET_FILE"])
    if env.get("HALL_CATALOG"):
        values["catalog_file"] = Path(env["HALL_CATALOG"])
    if env.get("HALL_YELLOW_SHARE") is not None:
        share = env["HALL_YELLOW_SHARE"].strip()
        values["yellow_share"] = None if share.lower() in ("", "off", "none") else _float(env, "HALL_YELLOW_SHARE", 0.2)
    if env.get("HALL_YELLOW_DAYS"):
        values["yellow_days"] = _int(env, "HALL_YELLOW_DAYS", 0)
    if env.get("HALL_NOTIFY_LOG"):
        values["notify_log"] = Path(env["HALL_NOTIFY_LOG"])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]
