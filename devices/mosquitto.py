"""Mosquitto 2 broker files for a hall: password file, ACL and mosquitto.conf.

Devices reach the server only through the broker, so the broker is where a device's identity is
enforced: each device logs in with its device id as username, and the ACL lets it publish only on
its own ``hall/<hall>/dev/<device>/{state,tele,evt,ack}`` topics and read only its own
``{cmd,display,reply}``. The server has one account that may read and write ``hall/#``.

The hall segment of a device topic is not pinned by the ACL (``+``): Mosquitto cannot know which
hall a device belongs to, so the server checks it against its registry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_MAX_QUEUED_MESSAGES",
    "DEFAULT_SERVER_USER",
    "DEVICE_READS",
    "DEVICE_WRITES",
    "USERNAME",
    "hash_secret",
    "password_line",
    "read_password_file",
    "render_acl",
    "render_config",
    "render_password_file",
    "verify_secret",
    "write_broker_files",
    "write_password_file",
]

DEFAULT_SERVER_USER = "hall-server"

# Device ids double as MQTT usernames and are substituted for %u in the ACL, so they must never
# contain MQTT wildcards, "/" or the ":" and newline that structure the password file.
USERNAME = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")

DEVICE_WRITES = ("state", "tele", "evt", "ack")
DEVICE_READS = ("cmd", "display", "reply")

# Mosquitto's "$7$" format: PBKDF2-HMAC-SHA512 with a 12-byte salt and a 64-byte hash, both in
# padded standard base64.
_SALT_BYTES = 12
_HASH_BYTES = 64
_HASH = re.compile(r"\$7\$([1-9][0-9]{0,8})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})")

# mosquitto_passwd's own count. The broker runs PBKDF2 on every CONNECT, so a reconnect storm
# after a network blip multiplies this cost; device passwords are random secrets, not words a
# person picked, so more stretching buys little against guessing.
DEFAULT_ITERATIONS = 101

# Mosquitto's default of 1000 silently drops QoS 1 messages to a subscriber that falls behind
# (seen: 20,157 of 50,000 events arrived). The server's one subscription carries every device's
# traffic, so it gets room for a long stall instead.
DEFAULT_MAX_QUEUED_MESSAGES = 100_000


def hash_secret(password: str, *, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS) -> str:
    """The stored form of a password, as Mosquitto reads it after ``username:``."""
    if salt is None:
        salt = secrets.token_bytes(_SALT_BYTES)
    if len(salt) != _SALT_BYTES:
        raise ValueError(f"Mosquitto expects a {_SALT_BYTES}-byte salt, got {len(salt)}")
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, _HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_secret(stored: str, password: str) -> bool:
    """Whether ``password`` matches a stored ``$7$`` hash; anything malformed never matches."""
    found = _HASH.fullmatch(stored)
    if found is None:
        return False
    try:
        salt = base64.b64decode(found.group(2), validate=True)
        expected = base64.b64decode(found.group(3), validate=True)
    except ValueError:
        return False
    if len(expected) != _HASH_BYTES:
        return False
    actual = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(found.group(1)), _HASH_BYTES)
    return hmac.compare_digest(actual, expected)


def password_line(
    username: str, password: str, *, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS
) -> str:
    """One line of a Mosquitto 2 password file (without the newline)."""
    _check_username(username)
    return f"{username}:{hash_secret(password, salt=salt, iterations=iterations)}"


def render_password_file(accounts: Mapping[str, str]) -> str:
    """A password file from usernames and their stored hashes (from ``hash_secret``)."""
    lines = []
    # Sorted so that rewriting an unchanged registry gives an identical file.
    for username in sorted(accounts):
        _check_username(username)
        stored = accounts[username]
        if _HASH.fullmatch(stored) is None:
            raise ValueError(f"the stored hash for {username!r} is not in Mosquitto's $7$ format")
        lines.append(f"{username}:{stored}\n")
    return "".join(lines)


def read_password_file(path: Path) -> dict[str, str]:
    """The accounts of an existing password file, username → stored hash; an absent file has
    none. Lines that are not ``username:$7$…`` are left out."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    accounts: dict[str, str] = {}
    for line in text.splitlines():
        username, _, stored = line.partition(":")
        if USERNAME.fullmatch(username) and _HASH.fullmatch(stored):
            accounts[username] = stored
    return accounts


def render_acl(server_user: str = DEFAULT_SERVER_USER) -> str:
    """The ACL: the server owns ``hall/#``; every other account only its own device topics."""
    _check_username(server_user)
    lines = [
        "# Mosquitto ACL for a hall, written by hall (devices/mosquitto.py). Topics are",
        "# hall/<hall>/dev/<device>/<channel>; docs/deploy-mosquitto.md explains the layout.",
        "#",
        "# Anything not granted here is denied. There are no topic lines before the first user",
        "# line, so a client without a username may do nothing (and none may connect anyway).",
        "",
        "# Every account, with %u its username, which is the device id: a device publishes its",
        "# own state (retained; its Last Will says offline), telemetry, events and command",
        "# acknowledgements, and reads only its own commands, display content and replies.",
        "# The hall segment is +: the server checks it against the device's hall in its registry.",
    ]
    lines += [f"pattern write hall/+/dev/%u/{channel}" for channel in DEVICE_WRITES]
    lines += [f"pattern read hall/+/dev/%u/{channel}" for channel in DEVICE_READS]
    lines += [
        "",
        "# The server reads every device and writes commands, displays and replies.",
        f"user {server_user}",
        "topic readwrite hall/#",
    ]
    return "\n".join(lines) + "\n"


def render_config(
    *,
    port: int,
    password_file: Path | None,
    acl_file: Path | None,
    persistence_dir: Path | None,
    bind: str = "127.0.0.1",
    allow_anonymous: bool = False,
    max_queued_messages: int = DEFAULT_MAX_QUEUED_MESSAGES,
    max_inflight_messages: int = 20,
    max_packet_size: int = 65_536,
    persistent_client_expiration: str | None = "14d",
    user: str | None = None,
) -> str:
    """A mosquitto.conf (Mosquitto 2 syntax) for one plain-TCP listener.

    ``password_file`` and ``acl_file`` may be left out only together with ``allow_anonymous``,
    which is for tests and simulators, never for a hall.
    """
    if not 0 < port < 65_536:
        raise ValueError(f"port {port} is out of range")
    if not allow_anonymous and (password_file is None or acl_file is None):
        raise ValueError("a broker that refuses anonymous clients needs a password file and an ACL")
    for number, name in (
        (max_queued_messages, "max_queued_messages"),
        (max_inflight_messages, "max_inflight_messages"),
        (max_packet_size, "max_packet_size"),
    ):
        if number < 1:
            raise ValueError(f"{name} must be positive")
    for value in (bind, password_file, acl_file, persistence_dir, persistent_client_expiration, user):
        # Each value becomes the rest of a config line; a newline would smuggle in another setting.
        if value is not None and ("\n" in str(value) or "\r" in str(value)):
            raise ValueError(f"{value!r} cannot go into mosquitto.conf")

    lines = ["# Written by hall (devices/mosquitto.py). See docs/deploy-mosquitto.md.", ""]
    if user is not None:
        lines += ["# The account Mosquitto drops to when started as root.", f"user {user}", ""]
    lines += [
        f"listener {port} {bind}",
        f"allow_anonymous {'true' if allow_anonymous else 'false'}",
    ]
    if password_file is not None:
        lines.append(f"password_file {password_file}")
    if acl_file is not None:
        lines.append(f"acl_file {acl_file}")
    lines.append("")
    if persistence_dir is not None:
        lines += [
            "# Retained display content and device states, and sessions with queued messages,",
            "# survive a broker restart.",
            "persistence true",
            f"persistence_location {persistence_dir}",
            "persistence_file mosquitto.db",
        ]
    else:
        lines.append("persistence false")
    if persistent_client_expiration is not None:
        lines += [
            "# A session nobody resumes (a device taken out of service) is dropped after this long;",
            "# long enough to cover the server being off over a week-long holiday.",
            f"persistent_client_expiration {persistent_client_expiration}",
        ]
    lines += [
        "",
        "# The default of 1000 silently drops QoS 1 messages to a subscriber that falls behind",
        "# (seen: 20,157 of 50,000 arrived). The server's single subscription carries every device,",
        "# so it gets a queue deep enough to ride out a stall or a restart of the server.",
        f"max_queued_messages {max_queued_messages}",
        "# QoS 1 messages sent to a client ahead of its acknowledgements; the rest wait in the queue.",
        f"max_inflight_messages {max_inflight_messages}",
        "# Device messages are small JSON; anything bigger is refused here, before the server sees it.",
        f"max_packet_size {max_packet_size}",
        "",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
    ]
    return "\n".join(lines) + "\n"


def write_password_file(path: Path, accounts: Mapping[str, str], *, owner: tuple[int, int] | None = None) -> None:
    """Replace the password file in one step, readable by its owner only (``owner``: uid and gid
    to give it, for a broker that runs as another account)."""
    _write_atomically(path, render_password_file(accounts), mode=0o600, owner=owner)


def write_broker_files(
    directory: Path,
    *,
    port: int,
    accounts: Mapping[str, str],
    server_user: str = DEFAULT_SERVER_USER,
    bind: str = "127.0.0.1",
    persistence: bool = True,
    user: str | None = None,
    max_queued_messages: int = DEFAULT_MAX_QUEUED_MESSAGES,
    max_inflight_messages: int = 20,
    max_packet_size: int = 65_536,
    owner: tuple[int, int] | None = None,
) -> Path:
    """Write mosquitto.conf, passwd (0600) and acl into ``directory``; returns the config's path.

    ``accounts`` maps usernames (the server's and each device id) to hashes from ``hash_secret``.
    Persistence, when on, lives in ``directory/data``. ``owner`` (uid, gid) is the broker's own
    account when it differs from the one writing (root writes, Mosquitto runs as ``mosquitto``):
    the directory, ``data`` and every file are given to it, so the broker can read its password
    file and write its persistence, while nobody else can read the password file.
    """
    if server_user not in accounts:
        raise ValueError(f"the server's account {server_user!r} is not among the accounts")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    password_file = directory / "passwd"
    acl_file = directory / "acl"
    config_file = directory / "mosquitto.conf"
    persistence_dir = directory / "data" if persistence else None
    if persistence_dir is not None:
        persistence_dir.mkdir(mode=0o700, exist_ok=True)
    if owner is not None:
        for made in (directory, persistence_dir):
            if made is not None:
                os.chown(made, *owner)
    config = render_config(
        port=port,
        password_file=password_file,
        acl_file=acl_file,
        persistence_dir=persistence_dir,
        bind=bind,
        max_queued_messages=max_queued_messages,
        max_inflight_messages=max_inflight_messages,
        max_packet_size=max_packet_size,
        user=user,
    )
    write_password_file(password_file, accounts, owner=owner)
    _write_atomically(acl_file, render_acl(server_user), mode=0o644, owner=owner)
    _write_atomically(config_file, config, mode=0o644, owner=owner)
    return config_file


def _check_username(username: str) -> None:
    if USERNAME.fullmatch(username) is None:
        raise ValueError(f"{username!r} is not a valid account name (expected {USERNAME.pattern})")


def _write_atomically(path: Path, text: str, *, mode: int, owner: tuple[int, int] | None = None) -> None:
    # A running broker rereads these files on SIGHUP; it must see the old file or the new one,
    # never half of one.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        # The umask may have narrowed or, for the secret file, must not widen the mode.
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, *owner)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            fd = -1
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if fd != -1:
            os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
