"""`hall demo` on a fresh directory: a living hall at once, with its accounts printed, counters
left free for the visitor, a quiet log, and nothing left behind that git would see."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest

from hall.demo import FREE_CLERKS, FREE_COUNTERS
from tests.serverproc import ACCOUNT, free_port, login
from tests.timing import MS

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


async def watch_the_bus(port: int) -> list[tuple[str, bool]]:
    """What anyone on the machine sees with mosquitto_sub -t 'hall/#', until a retained display
    content and a kiosk's event have both come by."""
    seen: list[tuple[str, bool]] = []
    async with asyncio.timeout(60_000 * MS), aiomqtt.Client("127.0.0.1", port) as watcher:
        await watcher.subscribe("hall/#", qos=1)
        async for message in watcher.messages:
            seen.append((message.topic.value, bool(message.retain)))
            shown = any(topic.endswith("/display") and retained for topic, retained in seen)
            pressed = any("-kiosk-" in topic and topic.endswith("/evt") for topic, _ in seen)
            if shown and pressed:
                break
    return seen


def test_the_demo_serves_a_moving_hall(tmp_path: Path) -> None:
    port, broker_port = free_port(), free_port()
    out = tmp_path / "demo.log"
    command = ["demo", "--port", str(port), "--speed", "300", "--seed", "3", "--broker-port", str(broker_port)]
    with out.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hall.cli", *command],
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

            # Wired devices beside them, on pseudo-terminals the banner names, online and answering.
            said = out.read_text()
            assert "wired devices on pseudo-terminals: keypad bus /dev/" in said, said[-2000:]
            login(client, "admin", accounts["admin"])
            deadline = time.monotonic() + 60_000 * MS
            lines: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                lines = client.get("/api/v1/halls/1/serial").json()["lines"]
                online = {d["id"] for line in lines for d in line["devices"] if d["online"]}
                if {"xh-c1-wired-keypad", "xh-wired-led", "xh-wired-idr"} <= online:
                    break
                time.sleep(0.3)
            assert {"xh-c1-wired-keypad", "xh-c2-wired-keypad", "xh-wired-led", "xh-wired-idr"} <= online, lines
            assert all(line["state"] == "open" and line["good"] > 0 and line["bad"] == 0 for line in lines), lines
            listed = {d["id"]: d for d in client.get("/api/v1/halls/1/devices").json()["devices"]}
            assert listed["xh-wired-led"]["online"] and listed["xh-wired-led"]["wire"]["port"].startswith("/dev/")

            # Its devices are on a real broker, which a technician's client may watch.
            assert f"mqtt://127.0.0.1:{broker_port}" in out.read_text()
            seen = asyncio.run(watch_the_bus(broker_port))
            assert any(topic.endswith("/display") for topic, retained in seen if retained)

            # The visitor's counters: no simulated device there, nobody at them, and calls elsewhere.
            log_ = client.get("/api/v1/halls/1/events?limit=1000").json()
            called_at = {e["data"].get("counter") for e in log_ if e["type"] == "ticket.called"}
            assert called_at and not called_at & set(FREE_COUNTERS)
            registered = {e["data"].get("device") for e in log_ if e["type"] == "device.registered"}
            assert not [d for d in registered if any(f"-c{n}-" in str(d) for n in FREE_COUNTERS)]
            counters = {c["number"]: c["status"] for c in client.get("/api/v1/halls/1/queue").json()["counters"]}
            assert all(counters[n] == "closed" for n in FREE_COUNTERS)

        # Their clerks are free: the visitor opens counter 11 as clerk11 at once.
        assert set(FREE_CLERKS) <= set(accounts)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as visitor:
            token = login(visitor, FREE_CLERKS[0], accounts[FREE_CLERKS[0]])
            opened = visitor.post(
                f"/api/v1/halls/1/counters/{FREE_COUNTERS[0]}/open", json={}, headers={"X-CSRF-Token": token}
            )
            assert opened.status_code == 200, opened.text
        assert (tmp_path / "hall-demo.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    said = out.read_text()
    assert "Traceback" not in said and "KeyError" not in said, said[-3000:]
    # Refused presses are counted for the device console, not logged one warning after another.
    assert not [line for line in said.splitlines() if "WARNING devices.gateway: device " in line], said[-3000:]
    # Whatever the demo left in its directory is ignored by git in a checkout.
    left = [path.name for path in tmp_path.iterdir() if path != out]
    assert left
    for name in left:
        ignored = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", "--no-index", name], check=False)
        assert ignored.returncode == 0, f"{name} would show in git status"
