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

from tests.timing import MS

ACCOUNT = re.compile(r"^\s+(\S+)\s+(\S+)\s+\(", re.MULTILINE)


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
        self.env = {"HALL_SECRET_FILE": str(workdir / "secret")}

    def init(self) -> dict[str, str]:
        done = hall_cli("init", "--db", self.db_url, env=self.env)
        assert done.returncode == 0, done.stderr
        self.passwords.update(dict(ACCOUNT.findall(done.stdout)))
        return self.passwords

    def add_staff(self, username: str, roles: str, hall: str = "xh", name: str | None = None) -> str:
        args = ["add-staff", username, "--roles", roles, "--hall", hall, "--db", self.db_url]
        if name:
            args += ["--name", name]
        done = hall_cli(*args, env=self.env)
        assert done.returncode == 0, done.stderr
        self.passwords.update(dict(ACCOUNT.findall(done.stdout)))
        return self.passwords[username]

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
    page = client.get("/login")
    token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert token is not None
    done = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/"},
    )
    assert done.status_code == 303, done.text
    return token.group(1)
