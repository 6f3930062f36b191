"""A real ``hall serve`` process on a free port, for tests that need one (kill -9, browsers)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import csrf_of
from tests.timing import MS

ACCOUNT = re.compile(r"^\s+(\S+)\s+(\S+)\s+\(", re.MULTILINE)
# The same lines of ``hall init`` / ``hall add-staff``, with the account's roles.
ACCOUNT_ROLES = re.compile(r"^\s+(\S+)\s+\S+\s+\(([^ ]+), hall ", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hall_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hall.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


class ServerProcess:
    """``hall init`` then ``hall serve`` in a child process; passwords read from the CLI output."""

    def __init__(self, workdir: Path, db_url: str | None = None) -> None:
        self.workdir = workdir
        self.db_url = db_url or f"sqlite+aiosqlite:///{workdir / 'hall.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.passwords: dict[str, str] = {}
        # role → the first account made with it ("admin" from ``hall init``), for logging in as a role.
        self.roles: dict[str, str] = {}
        self.env = {"HALL_SECRET_FILE": str(workdir / "secret")}

    def init(self) -> dict[str, str]:
        done = hall_cli("init", "--db", self.db_url, env=self.env)
        assert done.returncode == 0, done.stderr
        self._accounts(done.stdout)
        return self.passwords

    def add_staff(
        self, username: str, roles: str, hall: str = "xh", name: str | None = None, staff_no: str | None = None
    ) -> str:
        args = ["add-staff", username, "--roles", roles, "--hall", hall, "--db", self.db_url]
        if name:
            args += ["--name", name]
        if staff_no:
            args += ["--staff-no", staff_no]
        done = hall_cli(*args, env=self.env)
        assert done.returncode == 0, done.stderr
        self._accounts(done.stdout)
        return self.passwords[username]

    def _accounts(self, printed: str) -> None:
        self.passwords.update(dict(ACCOUNT.findall(printed)))
        for username, roles in ACCOUNT_ROLES.findall(printed):
            for role in roles.split(","):
                self.roles.setdefault(role, username)

    def start(self) -> None:
        with (self.workdir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hall.cli", "serve", "--db", self.db_url, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        deadline = time.monotonic() + 20_000 * MS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def login(client: httpx.Client, username: str, password: str) -> str:
    """Log a client in through the login form; returns the CSRF token for later unsafe calls."""
    token = csrf_of(client.get("/login").text)
    done = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
    )
    assert done.status_code == 303, done.text
    # The token taken before login is bound to no session: take the new session's.
    return csrf_of(client.get("/login").text)
