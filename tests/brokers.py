"""A real Mosquitto per test, configured the way a hall runs it, and a bare MQTT connection.

``broker`` starts ``mosquitto`` on a free loopback port with the hall's password file and ACL
(devices/mosquitto.py), the server's account in it and room for accounts a test adds. ``open_broker``
lets anyone in, for simulators that only need a place to talk.

Without the mosquitto binary, ``HALL_TEST_MQTT_URL`` (``mqtt://user:password@host:port``) points
the fixtures at a broker someone else runs; tests that need what only our own broker can do
(accounts, restarts) then skip, or fail under CI=true, like any missing peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devices.mosquitto import DEFAULT_SERVER_USER, hash_secret, render_config, write_broker_files, write_password_file
from tests.peers import missing
from tests.serverproc import free_port
from tests.timing import MS

MQTT_URL_ENV = "HALL_TEST_MQTT_URL"
HOST = "127.0.0.1"


def find_mosquitto() -> str | None:
    """The broker binary; Debian puts it in /usr/sbin, which is often not on a user's PATH."""
    found = shutil.which("mosquitto")
    if found is None and os.access("/usr/sbin/mosquitto", os.X_OK):
        found = "/usr/sbin/mosquitto"
    return found


class Broker:
    """One broker: our own ``mosquitto`` process (``own``) or an external one from the environment."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        server_user: str = DEFAULT_SERVER_USER,
        server_password: str = "",
        directory: Path | None = None,
        binary: str | None = None,
        anonymous: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.server_user = server_user
        self.server_password = server_password
        self.directory = directory
        self.binary = binary
        self.anonymous = anonymous
        self.accounts: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def own(self) -> bool:
        return self.directory is not None and self.binary is not None

    @property
    def config_file(self) -> Path:
        return self._directory() / "mosquitto.conf"

    @property
    def password_file(self) -> Path:
        return self._directory() / "passwd"

    @property
    def log_file(self) -> Path:
        return self._directory() / "mosquitto.log"

    def log(self) -> str:
        if self.directory is None or not self.log_file.exists():
            return ""
        return self.log_file.read_text(errors="replace")

    def require_own(self, what: str) -> None:
        """Skip (fail under CI) a test that needs to control the broker when it is not ours."""
        if not self.own:
            missing(f"a mosquitto of the tests' own ({what} cannot be done on {self.url})")

    def add_account(self, user: str, password: str) -> None:
        """Add or change an account; a running broker rereads the password file on SIGHUP."""
        self._rewrite_accounts("adding an account", user, hash_secret(password))
        # The reload happens on the broker's next loop turn, so a test connecting right away could
        # race it; wait until the broker itself accepts the new password.
        self._wait_until(lambda: _connack_code(self.host, self.port, user, password) == 0, f"{user} accepted")

    def remove_account(self, user: str, password: str) -> None:
        """Remove an account; ``password`` is its last one, to see the broker refuse it."""
        self._rewrite_accounts("removing an account", user, None)
        self._wait_until(lambda: _connack_code(self.host, self.port, user, password) != 0, f"{user} refused")

    def start(self) -> None:
        """Start (or restart) on the same port; persistence keeps retained messages and sessions."""
        self.require_own("starting the broker")
        assert self.binary is not None
        if self.proc is not None:
            raise RuntimeError("the broker is already running")
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config_file)], stdout=log, stderr=subprocess.STDOUT
            )
        user = None if self.anonymous else self.server_user
        password = None if self.anonymous else self.server_password
        self._poll(lambda: _connack_code(self.host, self.port, user, password) == 0, "listening")

    def stop(self) -> None:
        """SIGTERM, so that Mosquitto saves its persistence file on the way out."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: nothing is saved since the last autosave, as after a power cut."""
        self.require_own("killing the broker")
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def _rewrite_accounts(self, what: str, user: str, stored: str | None) -> None:
        self.require_own(what)
        if self.anonymous:
            raise RuntimeError("the open broker has no password file")
        if stored is None:
            del self.accounts[user]
        else:
            self.accounts[user] = stored
        write_password_file(self.password_file, self.accounts)
        if self.proc is not None:
            self.proc.send_signal(signal.SIGHUP)

    def _wait_until(self, done: Callable[[], bool], what: str) -> None:
        if self.proc is None:
            return  # a stopped broker reads the files when it starts
        self._poll(done, what)

    def _directory(self) -> Path:
        if self.directory is None:
            raise RuntimeError(f"the broker at {self.url} is not ours; it has no files here")
        return self.directory

    def _poll(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 10_000 * MS
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if done():
                    return
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto never got to {what}:\n{self.log()}")
            time.sleep(0.01)


def own_broker(directory: Path, *, anonymous: bool = False) -> Broker | None:
    """A started broker of our own in ``directory``, or None without the mosquitto binary."""
    binary = find_mosquitto()
    if binary is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    made = Broker(
        HOST,
        free_port(),
        server_password=secrets.token_urlsafe(16),
        directory=directory,
        binary=binary,
        anonymous=anonymous,
    )
    # When the tests run as root Mosquitto would drop to the "mosquitto" user, which cannot read
    # files under the test's tmp_path.
    user = pwd.getpwuid(os.getuid()).pw_name
    if anonymous:
        (directory / "data").mkdir(exist_ok=True)
        config = render_config(
            port=made.port,
            password_file=None,
            acl_file=None,
            persistence_dir=directory / "data",
            bind=HOST,
            allow_anonymous=True,
            user=user,
        )
        made.config_file.write_text(config, encoding="utf-8")
    else:
        made.accounts[made.server_user] = hash_secret(made.server_password)
        write_broker_files(directory, port=made.port, accounts=made.accounts, bind=HOST, user=user)
    made.start()
    return made


def external_broker() -> Broker | None:
    """The broker named by HALL_TEST_MQTT_URL, if any."""
    url = os.environ.get(MQTT_URL_ENV)
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or parts.hostname is None:
        raise RuntimeError(f"{MQTT_URL_ENV} must look like mqtt://user:password@host:port, not {url!r}")
    return Broker(
        parts.hostname,
        parts.port or 1883,
        server_user=parts.username or DEFAULT_SERVER_USER,
        server_password=parts.password or "",
    )


def _broker_for(directory: Path, *, anonymous: bool) -> Broker:
    made = own_broker(directory, anonymous=anonymous) or external_broker()
    if made is None:
        missing("mosquitto")
        raise AssertionError("missing() always skips or fails")
    return made


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker as a hall runs it: no anonymous access, the hall ACL, the server's account."""
    made = _broker_for(tmp_path / "mosquitto", anonymous=False)
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def open_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker that lets anyone connect and use any topic, for simulators."""
    made = _broker_for(tmp_path / "mosquitto-open", anonymous=True)
    try:
        yield made
    finally:
        made.stop()


# A bare MQTT 3.1.1 connection. Library clients always say goodbye properly; a device that loses
# power or a hostile one does not, and that is what these exercise.

DISCONNECT = b"\xe0\x00"


def connect_packet(
    client_id: str,
    username: str | None = None,
    password: str | None = None,
    *,
    will: tuple[str, bytes] | None = None,
    keepalive: int = 60,
) -> bytes:
    """CONNECT with a clean session; the Will, if any, is QoS 1 and retained as the hall's are."""
    flags = 0x02
    payload = _string(client_id.encode())
    if will is not None:
        flags |= 0x04 | 0x08 | 0x20
        payload += _string(will[0].encode()) + _string(will[1])
    if username is not None:
        flags |= 0x80
        payload += _string(username.encode())
    if password is not None:
        flags |= 0x40
        payload += _string(password.encode())
    variable = _string(b"MQTT") + bytes([4, flags]) + keepalive.to_bytes(2, "big")
    return _packet(0x10, variable + payload)


def publish_packet(topic: str, payload: bytes, *, retain: bool = False) -> bytes:
    """PUBLISH at QoS 0."""
    return _packet(0x30 | (0x01 if retain else 0), _string(topic.encode()) + payload)


class RefusedError(Exception):
    """The broker answered CONNECT with a non-zero return code (5: not authorised)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"CONNACK return code {code}")
        self.code = code


class RawClient:
    """An MQTT connection made by hand, that can be dropped without a DISCONNECT."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(
        cls,
        broker: Broker,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        *,
        will: tuple[str, bytes] | None = None,
    ) -> RawClient:
        reader, writer = await asyncio.open_connection(broker.host, broker.port)
        made = cls(reader, writer)
        try:
            writer.write(connect_packet(client_id, username, password, will=will))
            connack = await reader.readexactly(4)
        except BaseException:
            made.abort()
            raise
        if connack[3] != 0:
            made.abort()
            raise RefusedError(connack[3])
        return made

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.writer.write(publish_packet(topic, payload, retain=retain))
        await self.writer.drain()

    async def closed_by_broker(self) -> bool:
        """Read (and drop) whatever comes until the broker hangs up; True once it has."""
        try:
            while await self.reader.read(65_536):
                pass
        except ConnectionError:
            pass
        self.abort()
        return True

    def abort(self) -> None:
        """Drop the connection without DISCONNECT, as a crashed device would."""
        self.writer.transport.abort()


def _connack_code(host: str, port: int, user: str | None, password: str | None) -> int:
    """Connect, read the CONNACK's return code and leave politely."""
    with socket.create_connection((host, port), timeout=1) as sock:
        sock.sendall(connect_packet(f"probe-{secrets.token_hex(4)}", user, password))
        connack = b""
        while len(connack) < 4:
            chunk = sock.recv(4 - len(connack))
            if not chunk:
                return -1  # hung up without a CONNACK
            connack += chunk
        with contextlib.suppress(OSError):
            sock.sendall(DISCONNECT)
        return connack[3]


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def _packet(first_byte: int, body: bytes) -> bytes:
    length = len(body)
    encoded = bytearray()
    while True:
        digit, length = length % 128, length // 128
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            break
    return bytes([first_byte]) + bytes(encoded) + body
