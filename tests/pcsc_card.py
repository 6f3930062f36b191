"""A real pcscd with the vsmartcard virtual reader (vpcd), and an ID card for it written in Python.

``pcscd`` starts Debian's pcscd in the foreground with a reader.conf.d of its own: the vpcd driver
(``/usr/lib/pcsc/drivers/serial/libifdvpcd.so``, from the vsmartcard-vpcd package) on a free pair of
ports, since vpcd opens two slots, ``Virtual PCD 00 00`` on the port given and ``Virtual PCD 00 01``
on the next. pcscd's socket is compiled in (/run/pcscd/pcscd.comm), so only one pcscd can run on a
machine: when another one already does, the fixture says so, and fails under CI=true.

``VirtualCard`` is the card: vpcd waits for it as a TCP server, the card connects, and from then on
every message either way is two bytes of big-endian length and a payload. A payload of one byte is a
control message from the reader (0 power off, 1 power on, 2 reset, 4 send the ATR; only the last is
answered); anything longer is a command APDU, answered with ``devices.idcard_apdu.CardApplet``. The
card closing its connection is the card leaving the reader.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from smartcard import scard

from devices.idcard_apdu import CardApplet
from tests.peers import missing, require_binary
from tests.timing import MS

DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PID_FILE = Path("/run/pcscd/pcscd.pid")
READER = "Virtual PCD 00 00"
OTHER_READER = "Virtual PCD 00 01"

_POWER_OFF, _POWER_ON, _RESET, _ATR = 0, 1, 2, 4
# T0 0x88: TD1 follows, 8 historical bytes; TD1 0x01: T=1 only; then "HALLID01" and the check byte.
_HISTORY = b"HALLID01"
_BODY = bytes([0x88, 0x01]) + _HISTORY


def _atr() -> bytes:
    check = 0
    for byte in _BODY:
        check ^= byte
    return bytes([0x3B]) + _BODY + bytes([check])


ATR = _atr()


@dataclass
class Pcscd:
    port: int
    proc: subprocess.Popen[bytes]
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


def _free_pair() -> int:
    """A port whose next port is free too (vpcd listens on both, on every address)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two free ports side by side")


def _running_pcscd() -> int | None:
    try:
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _listening(port: int) -> bool:
    """Whether vpcd listens yet; read from the socket table, since a connection vpcd accepted
    would be a card inserted."""
    try:
        return f":{port:04X} " in Path("/proc/net/tcp").read_text()
    except OSError:
        return False


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    binary = _which("pcscd") or require_binary("pcscd")
    if not DRIVER.exists():
        missing(f"the vpcd reader driver {DRIVER} (Debian's vsmartcard-vpcd)")
    other = _running_pcscd()
    if other is not None:
        missing(f"a pcscd of the tests' own: pcscd {other} already runs, and there is one pcscd socket per machine")
    directory = tmp_path_factory.mktemp("pcscd")
    port = _free_pair()
    conf = directory / "reader.conf.d"
    conf.mkdir()
    (conf / "vpcd").write_text(
        f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:{port}\nLIBPATH {DRIVER}\nCHANNELID {port}\n'
    )
    log_file = directory / "pcscd.log"
    with log_file.open("wb") as log:
        proc = subprocess.Popen([binary, "--foreground", "--config", str(conf), "--info"], stdout=log, stderr=log)
    daemon = Pcscd(port, proc, log_file)
    try:
        deadline = time.monotonic() + 10_000 * MS
        while not (_listening(port) and "daemon ready" in daemon.log()):
            if proc.poll() is not None:
                raise RuntimeError(f"pcscd exited with {proc.returncode}:\n{daemon.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"pcscd never got its vpcd reader up:\n{daemon.log()}")
            time.sleep(0.02)
        yield daemon
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _which(name: str) -> str | None:
    import shutil

    found = shutil.which(name)
    if found is None and os.access(f"/usr/sbin/{name}", os.X_OK):
        found = f"/usr/sbin/{name}"
    return found


class VirtualCard:
    """An ID card in vpcd's reader, answering from ``text`` (256 bytes of base data).

    ``vanish_after``: the card leaves (closes its connection, unanswered) when that many APDUs
    have come, as a card pulled out of the reader in the middle of a read.
    """

    def __init__(self, port: int, text: bytes, *, vanish_after: int | None = None) -> None:
        self.port = port
        self.applet = CardApplet(text)
        self.vanish_after = vanish_after
        self.apdus: list[bytes] = []
        self.gone = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def insert(self) -> VirtualCard:
        deadline = time.monotonic() + 10_000 * MS
        while True:
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._serve, name="virtual-card", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        """Take the card off, and wait until pcscd has seen the reader empty: pcscd looks at vpcd's
        slot every 0.4 s, and a card put on before it looked would pass for the same card still
        there (a swap no hand makes that fast; no insertion is reported)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.gone.set()
        wait_empty(READER)

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        try:
            while True:
                message = _receive(sock)
                if message is None:
                    return
                if len(message) == 1:
                    if message[0] == _ATR:
                        _send(sock, ATR)
                    elif message[0] in (_POWER_OFF, _RESET):
                        self.applet.selected = False  # a reset card starts with nothing selected
                    continue
                self.apdus.append(message)
                if self.vanish_after is not None and len(self.apdus) >= self.vanish_after:
                    sock.close()  # as a card pulled out, or a killed card process: no answer
                    return
                _send(sock, self.applet.respond(message))
        except OSError:
            return
        finally:
            self.gone.set()


def _receive(sock: socket.socket) -> bytes | None:
    head = _exactly(sock, 2)
    if head is None:
        return None
    (size,) = struct.unpack("!H", head)
    return _exactly(sock, size)


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack("!H", len(payload)) + payload)


def wait_empty(reader: str) -> None:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == 0, scard.SCardGetErrorMessage(hresult)
    try:
        deadline = time.monotonic() + 10_000 * MS
        state = scard.SCARD_STATE_UNAWARE
        while True:
            hresult, answers = scard.SCardGetStatusChange(context, 200, [(reader, state)])
            if hresult == 0:
                state = answers[0][1] & ~scard.SCARD_STATE_CHANGED
                if state & scard.SCARD_STATE_EMPTY:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"pcscd never saw {reader} empty")
    finally:
        scard.SCardReleaseContext(context)
