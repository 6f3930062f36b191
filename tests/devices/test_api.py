"""The technician's device API, and the clerk's read of the ID card swiped at their counter.

Who may use it; registration that shows a device's secret once and keeps only its hash; bad input
refused with nothing changed; binding, new secrets and retirement; commands that need a device bus,
and, on an in-process bus with a fake device, a ping acknowledged; the card read at a counter,
masked unless its clerk takes it for the intake form.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from devices.bus import Connector
from devices.mosquitto import verify_secret
from hall.kernel.events import Command
from hall.runtime import Runtime
from hall.storage.database import create_engine, reading
from hall.storage.device_tables import devices
from hall.storage.queue_tables import tickets
from hall.storage.tables import events, staff
from hall.web.app import create_app
from tests.devicehall import fake_device
from tests.factories import add_staff
from tests.helpers import csrf_of
from tests.memory_broker import MemoryBroker
from tests.site import Site, make_site

VALID_ID = "11010519491231002X"
DEVICES = "/api/v1/halls/1/devices"


@contextmanager
def _site(tmp_path: Path, connect: Connector | None = None) -> Iterator[tuple[Site, Runtime]]:
    """The test site, with a second clerk of the district hall and, given a connector, a device bus."""
    config, ids, users = make_site(tmp_path)
    users["other-clerk"] = asyncio.run(_add_clerk(config.db_url, ids["xh"]))
    runtime = Runtime.build(config, connect=connect)
    client = TestClient(create_app(runtime=runtime), follow_redirects=False)
    with client:
        yield Site(client, ids, users), runtime


async def _add_clerk(url: str, hall_id: int) -> str:
    engine = create_engine(url)
    try:
        (clerk,) = await add_staff(engine, hall_id, 1, roles="clerk", prefix="other")
        async with engine.connect() as conn:
            return str((await conn.execute(select(staff.c.username).where(staff.c.id == clerk))).scalar_one())
    finally:
        await engine.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A site without a device bus, as a hall runs before it has a broker."""
    with _site(tmp_path) as (made, _):
        yield made


@pytest.fixture
def memory_bus() -> MemoryBroker:
    return MemoryBroker()


@pytest.fixture
def bus_site(tmp_path: Path, memory_bus: MemoryBroker) -> Iterator[tuple[Site, Runtime]]:
    with _site(tmp_path, memory_bus.connector()) as made:
        assert made[1].devices is not None
        made[0].client.portal.call(_connected, made[1])  # type: ignore[union-attr]
        yield made


async def _connected(runtime: Runtime) -> None:
    assert runtime.devices is not None
    async with asyncio.timeout(10):
        await runtime.devices.bus.wait_connected()


def _in_loop(site: Site, work: Callable[..., Any], *args: Any) -> Any:
    """Run a coroutine function in the application's event loop (the bus and writer live there)."""
    portal = site.client.portal
    assert portal is not None
    return portal.call(work, *args)


def _register(site: Site, token: str, device: str, kind: str, counter: int | None = None, **extra: Any) -> Any:
    return site.post(DEVICES, token, {"device": device, "kind": kind, "counter": counter, **extra})


def _listed(site: Site) -> dict[str, Any]:
    answer = site.client.get(DEVICES)
    assert answer.status_code == 200, answer.text
    return {d["id"]: d for d in answer.json()["devices"]}


def _stored(site: Site, runtime: Runtime, device: str) -> Any:
    async def read() -> Any:
        async with reading(runtime.engine) as conn:
            return (await conn.execute(select(devices).where(devices.c.id == device))).one_or_none()

    return _in_loop(site, read)


def _event_count(site: Site, runtime: Runtime) -> int:
    async def count() -> int:
        async with reading(runtime.engine) as conn:
            return len((await conn.execute(select(events.c.seq))).all())

    return int(_in_loop(site, count))


def _until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


# -- who may -----------------------------------------------------------------------------------


def test_anonymous_visitors_must_log_in_and_other_roles_are_refused(site: Site) -> None:
    site.anonymous()
    assert site.client.get(DEVICES).status_code == 401
    assert site.client.get("/devices/1").headers["location"] == "/login?next=/devices/1"
    for role in ("clerk", "supervisor"):
        token = site.login(role)
        assert site.client.get(DEVICES).status_code == 403, role
        assert _register(site, token, "xh-kiosk-9", "kiosk").status_code == 403, role
        assert site.client.get("/devices/1").status_code == 403, role
    for role in ("technician", "admin"):
        site.login(role)
        assert site.client.get(DEVICES).status_code == 200, role


def test_a_technician_sees_the_console_and_an_empty_hall_of_devices(site: Site) -> None:
    site.login("technician")
    answer = site.client.get(DEVICES)
    assert answer.status_code == 200
    body = answer.json()
    assert body["devices"] == []
    assert body["bus"] is None  # this server runs without a device bus
    assert body["counters"][:3] == [1, 2, 3]
    page = site.client.get("/devices/1")
    assert page.status_code == 200
    assert "设备运维" in page.text and "未配置设备总线" in page.text
    assert 'data-topic="hall/1/devices"' in page.text
    home = site.client.get("/")
    assert 'href="/devices/1"' in home.text


# -- registration ------------------------------------------------------------------------------


def test_registering_shows_the_secret_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    with _site(tmp_path) as (site, runtime):
        token = site.login("technician")
        answer = _register(site, token, "xh-kiosk-9", "kiosk", command_id="register-kiosk-9")
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["secret_shown_once"] is True
        assert body["username"] == "xh-kiosk-9"
        assert body["device"]["status"] == "active" and body["device"]["has_secret"] is True
        assert answer.headers["cache-control"] == "no-store"
        secret = body["secret"]
        assert len(secret) >= 24

        row = _stored(site, runtime, "xh-kiosk-9")
        assert row.secret_hash != secret and secret not in row.secret_hash
        assert verify_secret(row.secret_hash, secret)

        # The same request again (a double click, a retry) registers nothing new and shows no secret.
        again = _register(site, token, "xh-kiosk-9", "kiosk", command_id="register-kiosk-9")
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert "secret" not in again.json()
        assert _stored(site, runtime, "xh-kiosk-9").secret_hash == row.secret_hash

        # Neither the list nor the live topic ever carries the secret or its hash.
        listed = site.client.get(DEVICES).text
        assert secret not in listed and row.secret_hash not in listed and "secret_hash" not in listed
        with site.client.websocket_connect("/ws") as ws:
            ws.send_json({"type": "subscribe", "topic": "hall/1/devices"})
            snapshot = _frame(ws, "snapshot")
        assert [d["id"] for d in snapshot["data"]["devices"]] == ["xh-kiosk-9"]
        assert "secret_hash" not in json.dumps(snapshot)


def _frame(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.receive_text())
        if frame["type"] == kind:
            return frame


def test_a_pending_device_is_listed_first_and_registered_with_what_it_said(tmp_path: Path) -> None:
    with _site(tmp_path) as (site, runtime):
        token = site.login("technician")
        assert _register(site, token, "xh-led-1", "led").status_code == 201
        seen = Command(uuid.uuid4().hex, 1, "device.seen_unknown", "system:devices",
                       {"device": "xh-c2-pad", "kind": "rating_pad", "firmware": "2.1"})  # fmt: skip
        assert _in_loop(site, runtime.writer.submit, seen).ok

        listed = site.client.get(DEVICES).json()["devices"]
        assert [(d["id"], d["status"]) for d in listed] == [("xh-c2-pad", "pending"), ("xh-led-1", "active")]
        assert listed[0]["kind"] == "rating_pad" and listed[0]["has_secret"] is False

        done = _register(site, token, "xh-c2-pad", "rating_pad", counter=2)
        assert done.status_code == 201, done.text
        device = _listed(site)["xh-c2-pad"]
        assert (device["status"], device["counter"], device["firmware"]) == ("active", 2, "2.1")
        assert verify_secret(_stored(site, runtime, "xh-c2-pad").secret_hash, done.json()["secret"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"device": "XH-Kiosk", "kind": "kiosk"}, "device"),
        ({"device": "-kiosk", "kind": "kiosk"}, "device"),
        ({"device": "k", "kind": "kiosk"}, "device"),
        ({"device": "k" * 41, "kind": "kiosk"}, "device"),
        ({"device": "hall/1/#", "kind": "kiosk"}, "device"),
        ({"device": 7, "kind": "kiosk"}, "device"),
        ({"device": "xh-toaster", "kind": "toaster"}, "kind"),
        ({"device": "xh-kiosk-9"}, "kind"),
        ({"device": "xh-c99-window", "kind": "window", "counter": 99}, "counter"),
        ({"device": "xh-c1-window", "kind": "window", "counter": "1"}, "counter"),
        ({"device": "xh-c1-window", "kind": "window", "counter": True}, "counter"),
        ({"device": "xh-window", "kind": "window"}, "counter"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(tmp_path: Path, body: dict[str, Any], field: str) -> None:
    with _site(tmp_path) as (site, runtime):
        token = site.login("technician")
        before = _event_count(site, runtime)
        answer = site.post(DEVICES, token, body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "invalid" and answer.json()["field"] == field
        assert answer.json()["message"]
        assert _listed(site) == {}
        assert _event_count(site, runtime) == before


def test_a_device_is_registered_once_and_in_one_hall_only(site: Site) -> None:
    token = site.login("technician")
    assert _register(site, token, "xh-kiosk-9", "kiosk").status_code == 201
    twice = _register(site, token, "xh-kiosk-9", "kiosk")
    assert twice.status_code == 409 and twice.json()["message"] == "设备“xh-kiosk-9”已登记"
    # Device ids are MQTT usernames, unique across the installation: another hall cannot take it.
    community = site.halls["xh-hp-ly"]
    elsewhere = site.post(f"/api/v1/halls/{community}/devices", token, {"device": "xh-kiosk-9", "kind": "kiosk"})
    assert elsewhere.status_code == 409 and elsewhere.json()["message"] == "设备“xh-kiosk-9”属于其他大厅"
    assert _listed(site)["xh-kiosk-9"]["status"] == "active"


# -- binding, new secrets, retirement ----------------------------------------------------------


def test_a_device_is_bound_rekeyed_and_retired(tmp_path: Path) -> None:
    with _site(tmp_path) as (site, runtime):
        token = site.login("technician")
        first = _register(site, token, "xh-c1-window", "window", counter=1).json()["secret"]

        moved = site.post(f"{DEVICES}/xh-c1-window/bind", token, {"counter": 3})
        assert moved.status_code == 200, moved.text
        assert moved.json()["device"]["counter"] == 3
        # A counter's display cannot float free of a counter; a counter must exist.
        assert site.post(f"{DEVICES}/xh-c1-window/bind", token, {"counter": None}).status_code == 409
        assert site.post(f"{DEVICES}/xh-c1-window/bind", token, {"counter": 42}).json()["field"] == "counter"
        assert site.post(f"{DEVICES}/xh-c1-window/bind", token, {}).status_code == 422
        assert _listed(site)["xh-c1-window"]["counter"] == 3

        rekeyed = site.post(f"{DEVICES}/xh-c1-window/rekey", token)
        assert rekeyed.status_code == 200 and rekeyed.json()["secret_shown_once"] is True
        second = rekeyed.json()["secret"]
        stored = _stored(site, runtime, "xh-c1-window").secret_hash
        assert verify_secret(stored, second) and not verify_secret(stored, first)

        retired = site.post(f"{DEVICES}/xh-c1-window/retire", token)
        assert retired.status_code == 200
        assert retired.json()["device"]["status"] == "retired"
        assert retired.json()["device"]["counter"] is None and retired.json()["device"]["has_secret"] is False
        assert _stored(site, runtime, "xh-c1-window").secret_hash == ""
        assert site.post(f"{DEVICES}/xh-c1-window/retire", token).status_code == 409
        assert site.post(f"{DEVICES}/xh-c1-window/bind", token, {"counter": 1}).status_code == 409
        assert site.post(f"{DEVICES}/xh-c1-window/rekey", token).status_code == 409


def test_an_unknown_device_is_a_404_and_changes_nothing(tmp_path: Path) -> None:
    with _site(tmp_path) as (site, runtime):
        token = site.login("technician")
        before = _event_count(site, runtime)
        for action, body in (("bind", {"counter": 1}), ("rekey", {}), ("retire", {})):
            answer = site.post(f"{DEVICES}/nobody-here/{action}", token, body)
            assert answer.status_code == 404, (action, answer.text)
            assert answer.json()["error"] == "not_found"
        assert site.client.get(f"{DEVICES}/nobody-here/commands").status_code == 404
        assert site.post(f"{DEVICES}/nobody-here/commands", token, {"name": "ping"}).status_code == 404
        assert _event_count(site, runtime) == before


# -- commands ----------------------------------------------------------------------------------


def test_commands_need_a_device_bus(site: Site) -> None:
    token = site.login("technician")
    _register(site, token, "xh-kiosk-9", "kiosk")
    answer = site.post(f"{DEVICES}/xh-kiosk-9/commands", token, {"name": "ping"})
    assert answer.status_code == 503
    assert answer.json()["error"] == "no_bus"
    # What is wrong with the command itself is said first, bus or not.
    assert site.post(f"{DEVICES}/xh-kiosk-9/commands", token, {"name": "format_disk"}).status_code == 422
    assert site.post(f"{DEVICES}/xh-kiosk-9/commands", token, {"name": "show"}).json()["field"] == "name"
    assert site.client.get(f"{DEVICES}/xh-kiosk-9/commands").json() == {
        "device": "xh-kiosk-9",
        "in_flight": [],
        "recent": [],
    }


async def _kiosk_on_the_bus(connect: Connector, device: str) -> None:
    """A kiosk that reports in and acknowledges every command it gets, until cancelled."""
    async with fake_device(connect, "xh", device) as kiosk:
        await kiosk.send("state", {"status": "online", "kind": "kiosk", "firmware": "1.4.2"}, retain=True)
        await kiosk.send("tele", {"temperature": 41.5, "paper": "near_end"})
        answered: set[str] = set()
        while True:
            command = await kiosk.wait_for("cmd", lambda c: c["id"] not in answered, timeout=3600)
            answered.add(command["id"])
            await kiosk.send("ack", {"id": command["id"], "ok": True, "result": {"pong": command["name"] == "ping"}})


def test_a_ping_to_a_device_on_the_bus_is_acknowledged_and_listed(
    bus_site: tuple[Site, Runtime], memory_bus: MemoryBroker
) -> None:
    site, _runtime = bus_site
    token = site.login("technician")
    assert _register(site, token, "xh-kiosk-1", "kiosk").status_code == 201
    portal = site.client.portal
    assert portal is not None
    kiosk = portal.start_task_soon(_kiosk_on_the_bus, memory_bus.connector(), "xh-kiosk-1")
    try:
        # Its state and its telemetry are two messages, taken in turn.
        _until(lambda: _listed(site)["xh-kiosk-1"]["paper"] == "near_end", "the kiosk reported its paper")
        listed = site.client.get(DEVICES).json()
        assert listed["bus"] == {"connected": True, "waiting": 0}
        device = listed["devices"][0]
        assert (device["firmware"], device["paper"]) == ("1.4.2", "near_end")
        assert device["telemetry"]["temperature"] == 41.5 and device["last_seen"] is not None
        assert device["rejected_total"] == 0

        answer = site.post(f"{DEVICES}/xh-kiosk-1/commands", token, {"name": "ping"})
        assert answer.status_code == 200, answer.text
        outcome = answer.json()
        assert (outcome["name"], outcome["status"], outcome["attempts"]) == ("ping", "succeeded", 1)
        assert outcome["result"] == {"pong": True}
        refill = site.post(f"{DEVICES}/xh-kiosk-1/commands", token, {"name": "paper_refill"})
        assert refill.json()["status"] == "succeeded"

        def recorded() -> list[dict[str, Any]]:
            return list(site.client.get(f"{DEVICES}/xh-kiosk-1/commands").json()["recent"])

        _until(lambda: len(recorded()) == 2, "both outcomes are recorded")
        assert [(c["name"], c["status"], c["attempts"]) for c in recorded()] == [
            ("paper_refill", "succeeded", 1),
            ("ping", "succeeded", 1),
        ]
        # A kiosk shows no test pattern: refused before anything is sent.
        assert site.post(f"{DEVICES}/xh-kiosk-1/commands", token, {"name": "show"}).status_code == 422

        # The technician's page retries a request whose answer it lost: the same command, not a second.
        again = {"name": "ping", "command_id": "ping-0000-retry"}
        first = site.post(f"{DEVICES}/xh-kiosk-1/commands", token, again).json()
        _until(lambda: len(recorded()) == 3, "the ping is recorded")
        second = site.post(f"{DEVICES}/xh-kiosk-1/commands", token, again).json()
        assert (second["id"], second["status"], second["duplicate"]) == (first["id"], "succeeded", True)
        assert len(recorded()) == 3
    finally:
        kiosk.cancel()


# -- the ID card at a counter ------------------------------------------------------------------


async def _swipe(connect: Connector, device: str) -> dict[str, Any]:
    async with fake_device(connect, "xh", device) as reader:
        return await reader.reply(await reader.event("card", {"name": "李四", "id_number": VALID_ID, "sex": "男"}))


def test_the_card_read_at_a_counter_is_masked_and_handed_over_once_to_its_clerk(
    bus_site: tuple[Site, Runtime], memory_bus: MemoryBroker
) -> None:
    site, runtime = bus_site
    card = "/api/v1/halls/1/counters/2/card"
    token = site.login("technician")
    assert _register(site, token, "xh-c2-idr", "id_reader", counter=2).status_code == 201
    assert site.client.get(card).status_code == 403  # a technician is not at the counter
    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/counters/2/open", token).status_code == 200
    assert site.client.get(card).status_code == 404  # nothing read yet

    _until(
        lambda: runtime.devices is not None and runtime.devices.gateway.known.device("xh-c2-idr") is not None, "known"
    )
    assert _in_loop(site, _swipe, memory_bus.connector(), "xh-c2-idr")["ok"] is True

    masked = site.client.get(card)
    assert masked.status_code == 200, masked.text
    assert masked.json()["name"] == "李四"
    assert masked.json()["id_number"] == "110***********002X" and masked.json()["masked"] is True
    assert masked.headers["cache-control"] == "no-store"

    site.login("other-clerk")
    refused = site.client.get(f"{card}?take=1")
    assert refused.status_code == 403
    site.login("clerk")
    taken = site.client.get(f"{card}?take=1")
    assert taken.status_code == 200
    assert (taken.json()["id_number"], taken.json()["sex"], taken.json()["taken"]) == (VALID_ID, "男", True)
    # Handed over once: then it is gone, for the clerk as for anyone.
    assert site.client.get(card).status_code == 404
    assert site.client.get(f"{card}?take=1").status_code == 404


# -- the ID reader beside a kiosk ----------------------------------------------------------------


def test_a_ticket_taken_after_a_card_read_at_the_kiosk_reader_is_in_the_residents_name(
    bus_site: tuple[Site, Runtime], memory_bus: MemoryBroker
) -> None:
    site, runtime = bus_site
    token = site.login("technician")
    assert _register(site, token, "xh-kiosk-idr", "id_reader").status_code == 201  # bound to no counter
    assert _register(site, token, "xh-c2-idr", "id_reader", counter=2).status_code == 201
    _until(
        lambda: runtime.devices is not None and runtime.devices.gateway.known.device("xh-kiosk-idr") is not None,
        "known",
    )
    listed = site.client.get("/api/v1/halls/1/devices").json()["devices"]
    kiosk_url = next(d["screen_url"] for d in listed if d["id"] == "xh-kiosk-idr")
    assert not any("screen_url" in d for d in listed if d["id"] == "xh-c2-idr")
    key = {"X-Screen-Key": parse_qs(urlsplit(kiosk_url).query)["key"][0]}
    site.anonymous()
    token = csrf_of(site.client.get("/login").text)
    kiosk = {"X-CSRF-Token": token, **key}
    status = "/api/v1/halls/1/readers/xh-kiosk-idr"
    assert site.client.get(status, headers=key).json() == {"card": False}
    assert site.client.get("/api/v1/halls/1/readers/xh-c2-idr", headers=key).status_code == 404  # a counter's reader
    no_card = site.client.post(
        "/api/v1/halls/1/tickets", json={"service": "soc", "reader": "xh-kiosk-idr"}, headers=kiosk
    )
    assert no_card.status_code == 409 and no_card.json()["error"] == "no_card"

    assert _in_loop(site, _swipe, memory_bus.connector(), "xh-kiosk-idr")["ok"] is True
    # Anyone but the reader's own kiosk is told there is no such reader, and cannot spend the card.
    for stranger in ({}, {"X-Screen-Key": "0" * 32}):
        assert site.client.get(status, headers=stranger).status_code == 404
        spent = site.client.post(
            "/api/v1/halls/1/tickets",
            json={"service": "soc", "reader": "xh-kiosk-idr"},
            headers={"X-CSRF-Token": token, **stranger},
        )
        assert spent.status_code == 404, stranger
    assert site.client.get(status, headers=key).json() == {"card": True, "name": "李*"}  # never the number
    body = {"service": "soc", "reader": "xh-kiosk-idr", "command_id": "kiosk-press-0001"}
    taken = site.client.post("/api/v1/halls/1/tickets", json=body, headers=kiosk)
    assert taken.status_code == 200, taken.text
    assert VALID_ID not in taken.text
    # The card is used once; the kiosk's resend of the same press gets the same ticket.
    assert site.client.get(status, headers=key).json() == {"card": False}
    again = site.client.post("/api/v1/halls/1/tickets", json=body, headers=kiosk)
    assert again.json()["ticket"]["number"] == taken.json()["ticket"]["number"]

    async def holder() -> Any:
        async with reading(runtime.engine) as conn:
            return (await conn.execute(select(tickets.c.applicant_name, tickets.c.applicant_id_number))).all()

    assert [tuple(row) for row in _in_loop(site, holder)] == [("李四", VALID_ID)]


async def _keypad_at_a_closed_counter(connect: Connector, device: str, presses: int) -> None:
    async with fake_device(connect, "xh", device) as keypad:
        for _ in range(presses):
            await keypad.reply(await keypad.event("call"))


def test_presses_the_hall_refused_are_counted_apart_from_faulty_messages(
    bus_site: tuple[Site, Runtime], memory_bus: MemoryBroker
) -> None:
    site, _runtime = bus_site
    token = site.login("technician")
    assert _register(site, token, "xh-c1-keypad", "keypad", counter=1).status_code == 201
    portal = site.client.portal
    assert portal is not None
    portal.call(_keypad_at_a_closed_counter, memory_bus.connector(), "xh-c1-keypad", 2)
    keypad = _listed(site)["xh-c1-keypad"]
    assert (keypad["refused"], keypad["refused_total"]) == ({"counter_closed": 2}, 2)
    assert (keypad["rejected"], keypad["rejected_total"]) == ({}, 0)
