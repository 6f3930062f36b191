"""`hall demo` on a fresh directory: a living hall at once, with its accounts printed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.serverproc import ACCOUNT, free_port, login
from tests.timing import MS

pytestmark = pytest.mark.slow


def test_the_demo_serves_a_moving_hall(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "demo.log"
    with out.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hall.cli", "demo", "--port", str(port), "--speed", "300", "--seed", "3"],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
    try:
        deadline = time.monotonic() + 60_000 * MS
        issued = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            while time.monotonic() < deadline:
                assert proc.poll() is None, out.read_text()
                try:
                    view = client.get("/api/v1/halls/1/queue")
                except httpx.HTTPError:
                    time.sleep(0.2)
                    continue
                if view.status_code == 200:
                    counters = view.json()["counters"]
                    if sum(c["status"] == "open" for c in counters) >= 3:
                        break
                time.sleep(0.2)
            accounts = dict(ACCOUNT.findall(out.read_text()))
            assert {"admin", "supervisor", "clerk1"} <= set(accounts)
            login(client, "supervisor", accounts["supervisor"])
            deadline = time.monotonic() + 60_000 * MS
            while time.monotonic() < deadline and issued < 3:
                log_ = client.get("/api/v1/halls/1/events?limit=1000").json()
                issued = sum(e["type"] == "ticket.issued" for e in log_)
                time.sleep(0.3)
        assert issued >= 3, out.read_text()[-2000:]
        assert (tmp_path / "hall-demo.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
