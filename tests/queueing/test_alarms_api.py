"""The wallboard's alarms over HTTP and on the clock: an unsatisfied rating raises one at once, a
supervisor of the hall or above acknowledges it (who and when kept; twice is a 409, an unknown
alarm a 404), a clerk or another hall's supervisor may not, and a pause past the hall's limit is
raised by the queue clock's look, once. An alarm whose condition ends is cleared by the system: a
pause's by the clock once the counter resumes, a device's when the device is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.testclient import TestClient

from hall.kernel.events import Command, Event, Fact
from hall.runtime import core_domains
from hall.storage.database import create_engine
from hall.storage.directory import append_events
from hall.storage.tables import staff
from hall.storage.writer import Writer
from hall.web.app import create_app
from queueing.alarm_rules import Raise, from_events
from queueing.alarm_store import AlarmWatch, check_due, raise_command
from queueing.alarms import CASE_RED, CLEARED, AlarmBook
from tests.conftest import Database, StepClock
from tests.factories import add_staff
from tests.queueing.test_wallboard import _serve_and_rate
from tests.site import Site, make_site
from tests.timing import MS

HALL = 1


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The usual site, and a supervisor of the community hall below (xh-hp-ly)."""
    config, ids, users = make_site(tmp_path)

    async def community_supervisor() -> str:
        engine = create_engine(config.db_url)
        try:
            (made,) = await add_staff(engine, ids["xh-hp-ly"], 1, roles="supervisor", prefix="cs")
            async with engine.connect() as conn:
                return str((await conn.execute(select(staff.c.username).where(staff.c.id == made))).scalar_one())
        finally:
            await engine.dispose()

    users["community-supervisor"] = asyncio.run(community_supervisor())
    with TestClient(create_app(config), follow_redirects=False) as client:
        yield Site(client, ids, users)


def _open_alarms(site: Site, hall: int = HALL, *, count: int = 1) -> list[dict[str, Any]]:
    """The hall's open alarms, once ``count`` are there: an event's alarm follows its commit."""
    deadline = time.monotonic() + 10_000 * MS
    while True:
        found = site.client.get(f"/api/v1/halls/{hall}/alarms").json()["open"]
        if len(found) >= count or time.monotonic() > deadline:
            return found  # type: ignore[no-any-return]
        time.sleep(0.05)


def _me(site: Site) -> int:
    return int(site.client.get("/api/v1/me").json()["id"])


def test_an_unsatisfied_rating_raises_an_alarm_that_a_supervisor_acknowledges_once(site: Site) -> None:
    rated, _ = _serve_and_rate(site, 1, first=True)
    token = site.login("supervisor")
    (alarm,) = _open_alarms(site)
    assert alarm["kind"] == "unsatisfied_rating"
    assert alarm["data"]["number"] == rated["work_order"]["number"] == "A001"
    assert alarm["data"]["counter"] == 1 and alarm["data"]["level"] == 1
    url = f"/api/v1/halls/{HALL}/alarms/{alarm['id']}/acknowledge"
    done = site.post(url, token)
    assert done.status_code == 200, done.text
    assert done.json()["alarm"]["state"] == "acknowledged"
    assert done.json()["alarm"]["acknowledged_by"] == _me(site)
    listed = site.client.get(f"/api/v1/halls/{HALL}/alarms").json()
    assert listed["open"] == []
    assert [a["id"] for a in listed["acknowledged"]] == [alarm["id"]]
    assert listed["cleared"] == []  # a rating's alarm never clears by itself
    again = site.post(url, token)
    assert (again.status_code, again.json()["code"]) == (409, "bad_transition")
    unknown = site.post(f"/api/v1/halls/{HALL}/alarms/0123456789abcdef/acknowledge", token)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


def test_only_a_supervisor_of_the_hall_or_above_acknowledges_and_only_with_the_pages_token(site: Site) -> None:
    runtime = site.client.app.state.hall  # type: ignore[attr-defined]
    raised = Raise(CASE_RED, "case-red:XH-T-1:2026-11-23T01:00:00+00:00", {"number": "XH-T-1"})
    community = site.halls["xh-hp-ly"]
    for hall in (HALL, community):
        outcome = site.client.portal.call(runtime.writer.submit, raise_command(hall, raised))  # type: ignore[union-attr]
        assert outcome.ok, outcome.result
    site.login("supervisor")
    (ours,) = _open_alarms(site)
    (theirs,) = _open_alarms(site, community)

    token = site.login("clerk")
    refused = site.post(f"/api/v1/halls/{HALL}/alarms/{ours['id']}/acknowledge", token)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert site.client.get(f"/api/v1/halls/{HALL}/alarms").status_code == 403

    # The community's supervisor sees their own hall's alarm, not the district's above it.
    token = site.login("community-supervisor")
    above = site.post(f"/api/v1/halls/{HALL}/alarms/{ours['id']}/acknowledge", token)
    assert above.status_code == 403
    assert site.client.get(f"/api/v1/halls/{HALL}/alarms").status_code == 403
    assert site.post(f"/api/v1/halls/{community}/alarms/{theirs['id']}/acknowledge", token).status_code == 200

    # Without the page's CSRF token nothing is acknowledged.
    site.login("supervisor")
    forged = site.client.post(f"/api/v1/halls/{HALL}/alarms/{ours['id']}/acknowledge", json={})
    assert forged.status_code == 403
    assert [a["id"] for a in _open_alarms(site)] == [ours["id"]]
    site.anonymous()
    assert site.client.get(f"/api/v1/halls/{HALL}/alarms").status_code == 401


@asynccontextmanager
async def _two_writers(
    database: Database, clock: StepClock, seen: list[Event]
) -> AsyncIterator[list[tuple[Writer, AsyncEngine]]]:
    """Two writers on one database, as two processes would be (the lease lets one clock look; here
    both do), each telling ``seen`` the alarm events it logs."""
    pairs = [(Writer(engine, core_domains(), clock=clock), engine) for engine in (database.engine(), database.engine())]
    for writer, _ in pairs:
        writer.add_listener(lambda events: seen.extend(e for e in events if e.type.startswith("alarm.")))
        await writer.start()
    try:
        yield pairs
    finally:
        for writer, _ in pairs:
            await writer.stop()


async def _counter(writer: Writer, hall: int, clerk: int, *steps: tuple[str, dict[str, Any]]) -> None:
    for name, args in steps:
        command = Command(f"t-{name}", hall, name, "staff:1", {"counter": 1, "clerk": clerk, **args})
        assert (await writer.submit(command)).ok


async def test_the_queue_clock_raises_a_pause_past_the_limit_once_whichever_writer_looks(
    database: Database, halls: dict[str, int], clock: StepClock
) -> None:
    """The clock's look (``check_due``) by two writers on one database, as two processes would if
    both looked (the lease lets one): past the limit the pause is one alarm, and looking again
    raises no second one. On SQLite and on PostgreSQL."""
    hall = halls["xh"]
    (clerk,) = await add_staff(database.engines[0], hall, 1)
    seen: list[Event] = []
    async with _two_writers(database, clock, seen) as pairs:
        start = clock.now
        await _counter(pairs[0][0], hall, clerk, ("counter.open", {}), ("counter.pause", {"reason": "午休"}))
        # Nothing at the limit (15 minutes by default); past it one alarm, whoever looks and however often.
        for minutes in (15, 16, 17):
            clock.now = start + timedelta(minutes=minutes)
            for writer, engine in pairs:
                await check_due(writer, engine, hall)
        assert [e.data["kind"] for e in seen] == ["pause_over_limit"]
        book = await pairs[1][0].read_state(hall, "alarms")
        assert book is not None
        assert [a.data["counter"] for a in book[1].open()] == [1]


async def test_alarms_that_no_process_raised_are_raised_when_the_queue_clock_starts(
    database: Database, halls: dict[str, int], clock: StepClock
) -> None:
    """A process that died between an event's commit and raising its alarm leaves the event in the
    log and no alarm: the next queue clock (after a restart, or on the survivor that takes it
    over) raises it from the last day's events, once; older events are left alone."""
    hall = halls["xh"]
    engine = database.engines[0]
    async with engine.begin() as conn:
        await append_events(
            conn, hall, [Fact("device.offline", {"device": "kiosk-old", "kind": "kiosk"})], "system:devices", clock.now
        )
    clock.now += timedelta(days=1, hours=1)
    async with engine.begin() as conn:
        await append_events(
            conn,
            hall,
            [Fact("device.offline", {"device": "kiosk-1", "kind": "kiosk", "counter": None})],
            "system:devices",
            clock.now,
        )
    writer = Writer(engine, core_domains(), clock=clock)
    raised: list[str] = []
    writer.add_listener(lambda events: raised.extend(e.data["key"] for e in events if e.type == "alarm.raised"))
    async with writer:
        watch = AlarmWatch(writer)
        assert await watch.catch_up(engine, clock.now) == 1
        assert await watch.catch_up(engine, clock.now) == 0  # the book holds it now
    assert len(raised) == 1 and raised[0].startswith("device-offline:kiosk-1:")


async def test_the_queue_clock_clears_a_pause_alarm_once_the_counter_resumes_whichever_writer_looks(
    database: Database, halls: dict[str, int], clock: StepClock
) -> None:
    """Counter 1 paused past the limit has its alarm; nobody acknowledges it, and the clerk comes
    back. The clock's next look clears it, once, with when: two writers looking change nothing more.
    On SQLite and on PostgreSQL."""
    hall = halls["xh"]
    (clerk,) = await add_staff(database.engines[0], hall, 1)
    seen: list[Event] = []
    async with _two_writers(database, clock, seen) as pairs:
        start = clock.now
        await _counter(pairs[0][0], hall, clerk, ("counter.open", {}), ("counter.pause", {"reason": "午休"}))
        clock.now = start + timedelta(minutes=16)
        await check_due(*pairs[0], hall)
        clock.now = start + timedelta(minutes=20)
        await _counter(pairs[0][0], hall, clerk, ("counter.resume", {}))
        for writer, engine in pairs:
            await check_due(writer, engine, hall)
            await check_due(writer, engine, hall)
        assert [e.type for e in seen] == ["alarm.raised", "alarm.cleared"]
        cleared = seen[1].data
        assert (cleared["state"], cleared["cleared_at"]) == (CLEARED, (start + timedelta(minutes=20)).isoformat())
        assert (cleared["id"], cleared["acknowledged_by"]) == (seen[0].data["id"], None)
        book = await pairs[1][0].read_state(hall, "alarms")
        assert book is not None and book[1].open() == []


async def test_a_device_back_online_has_its_offline_alarm_cleared_by_the_watch(
    database: Database, halls: dict[str, int], clock: StepClock
) -> None:
    """A kiosk goes offline and comes back before anyone looks: the watch raises its alarm and
    then clears it, in the log's order; another device's alarm stays open."""
    hall = halls["xh"]
    engine = database.engines[0]
    writer = Writer(engine, core_domains(), clock=clock)
    async with writer:
        watch = AlarmWatch(writer)
        running = asyncio.ensure_future(watch.run())
        try:
            kiosk = {"device": "kiosk-1", "kind": "kiosk", "counter": None}
            led = {"device": "led-1", "kind": "led", "counter": None}
            watch.offer([Event(hall, 1, "device.offline", kiosk, "system:devices", clock.now)])
            watch.offer([Event(hall, 2, "device.offline", led, "system:devices", clock.now)])
            watch.offer([Event(hall, 3, "device.online", kiosk, "system:devices", clock.now)])
            deadline = time.monotonic() + 10_000 * MS
            while True:
                found = await writer.read_state(hall, "alarms")
                assert found is not None and isinstance(found[1], AlarmBook)
                states = {a.data["device"]: a.state for a in found[1].alarms.values()}
                if states.get("kiosk-1") == CLEARED or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
            assert states == {"kiosk-1": CLEARED, "led-1": "open"}
        finally:
            running.cancel()


async def test_a_catch_up_clears_what_a_return_ended_and_raises_nothing_a_return_made_moot(
    database: Database, halls: dict[str, int], clock: StepClock
) -> None:
    """The last day's log, as a process that died left it: the display went offline and its alarm
    was raised, then the kiosk and the LED strip went offline (only the strip's alarm raised), then
    the kiosk and the display came back before anyone cleared anything. The next queue clock's
    catch-up raises nothing for the kiosk (back already), clears the display's alarm, and leaves
    the strip's open: it is offline still."""
    hall = halls["xh"]
    engine = database.engines[0]

    def gone(device: str) -> Fact:
        return Fact("device.offline", {"device": device, "kind": "kiosk", "counter": None})

    async with engine.begin() as conn:
        (display,) = await append_events(conn, hall, [gone("display-1")], "system:devices", clock.now)
        _kiosk, led = await append_events(conn, hall, [gone("kiosk-1"), gone("led-1")], "system:devices", clock.now)
        await append_events(
            conn,
            hall,
            [Fact("device.online", {"device": d, "kind": "kiosk", "counter": None}) for d in ("kiosk-1", "display-1")],
            "system:devices",
            clock.now,
        )
    writer = Writer(engine, core_domains(), clock=clock)
    async with writer:
        for event in (display, led):
            (wanted,) = from_events([event])
            assert (await writer.submit(raise_command(hall, wanted))).ok
        assert await AlarmWatch(writer).catch_up(engine, clock.now) == 0
        found = await writer.read_state(hall, "alarms")
    assert found is not None and isinstance(found[1], AlarmBook)
    assert {a.data["device"]: a.state for a in found[1].alarms.values()} == {"display-1": CLEARED, "led-1": "open"}


def test_a_lower_halls_board_names_the_supervisor_above_who_acknowledges_its_alarms(site: Site) -> None:
    """The district's supervisor acknowledges the community hall's alarms: that hall's board must
    name them, so its snapshot's staff includes the people of the halls above it."""
    site.login("supervisor")
    me = _me(site)
    community = site.halls["xh-hp-ly"]
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{community}/wallboard"})
        for _ in range(50):
            frame = ws.receive_json()
            if frame["type"] == "snapshot":
                break
    assert frame["type"] == "snapshot"
    named = frame["data"]["staff"]
    assert str(me) in named and named[str(me)]["name"]
