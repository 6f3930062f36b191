"""A hall's time zone is one setting (HALL_TIMEZONE) that the queue follows: a service's opening
hours and the ticket day (its numbers start again at A001) are those of the hall's clock, not of
Beijing's, and the server hands that one setting to every part."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from cases.store import CasesDomain
from hall.kernel.events import Command
from hall.runtime import Runtime
from hall.settings import Settings
from hall.storage.queue_tables import queue_rules
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from tests.conftest import Database, StepClock
from tests.helpers import csrf_of
from tests.site import open_all_week, open_site

# A Monday, a working day in 2026: the sample services take tickets 09:00–17:00 on weekdays.
MONDAY = date(2026, 11, 23)


def _at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _issue(hall: int) -> Command:
    return Command(uuid.uuid4().hex, hall, "ticket.issue", "kiosk:test", {"service": "soc"})


@pytest.mark.parametrize(
    ("zone", "instant", "takes_tickets"),
    [
        ("UTC", _at(8, 30), False),  # 08:30 in the hall; 16:30 in Beijing
        ("UTC", _at(9, 30), True),  # 09:30 in the hall; 17:30 in Beijing, closed there
        ("Asia/Urumqi", _at(2, 30), False),  # 08:30 in Ürümqi (UTC+6)
        ("Asia/Urumqi", _at(3, 30), True),  # 09:30 in Ürümqi; 11:30 in Beijing
        ("Asia/Shanghai", _at(8, 30), True),  # 16:30 in Beijing
        ("Asia/Shanghai", _at(9, 30), False),  # 17:30 in Beijing
    ],
)
async def test_opening_hours_are_read_on_the_halls_clock(
    database: Database, halls: dict[str, int], zone: str, instant: datetime, takes_tickets: bool
) -> None:
    hall = halls["xh"]
    async with Writer(database.engines[0], [QueueDomain(zone)], clock=StepClock(instant)) as writer:
        outcome = await writer.submit(_issue(hall))
    assert outcome.ok is takes_tickets, outcome.result
    if not takes_tickets:
        assert outcome.result["code"] == "closed"
        assert "09:00–17:00" in outcome.result["message"]


@pytest.mark.parametrize(
    ("zone", "days", "numbers"),
    [
        # 23:50 and 00:10 UTC are two days in a hall on UTC: the second ticket starts the day again.
        ("UTC", ["20261123", "20261124"], ["A001", "A001"]),
        # In Beijing both are the morning of the 24th: one day, numbered on.
        ("Asia/Shanghai", ["20261124", "20261124"], ["A001", "A002"]),
    ],
)
async def test_the_ticket_day_turns_at_the_halls_midnight(
    database: Database, halls: dict[str, int], zone: str, days: list[str], numbers: list[str]
) -> None:
    engine = database.engines[0]
    await open_all_week(engine)
    hall = halls["xh"]
    clock = StepClock(_at(23, 50))
    issued: list[Any] = []
    async with Writer(engine, [QueueDomain(zone)], clock=clock) as writer:
        issued.append(await writer.submit(_issue(hall)))
        clock.now += timedelta(minutes=20)
        issued.append(await writer.submit(_issue(hall)))
    tickets = [outcome.result["ticket"] for outcome in issued]
    assert [t["id"].split("-")[0] for t in tickets] == days
    assert [t["number"] for t in tickets] == numbers


async def test_a_stored_rule_set_does_not_override_the_setting(database: Database, halls: dict[str, int]) -> None:
    engine = database.engines[0]
    hall = halls["xh-hp"]
    async with engine.begin() as conn:
        await conn.execute(insert(queue_rules).values(hall_id=hall, rules={"timezone": "Asia/Shanghai"}))
    async with engine.connect() as conn:
        assert (await QueueDomain("Asia/Urumqi").load(conn, hall)).rules.timezone == "Asia/Urumqi"


def test_the_server_gives_its_one_zone_to_the_queue_and_the_cases(tmp_path: Path) -> None:
    settings = Settings(db_url=f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}", secret_key="k" * 48, timezone="UTC")
    runtime = Runtime.build(settings)
    queue = next(d for d in runtime.writer.domains if isinstance(d, QueueDomain))
    cases = next(d for d in runtime.writer.domains if isinstance(d, CasesDomain))
    assert queue.timezone == "UTC"
    assert cases.settings.hours.tz == ZoneInfo("UTC")
    assert settings.zone == ZoneInfo("UTC")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_ticket_taken_over_http_is_dated_on_the_halls_clock(tmp_path: Path, zone: str) -> None:
    # These two zones are 25 hours apart: at any moment their dates differ, and one of them
    # differs from Beijing's, so a ticket dated on the wrong clock cannot pass both.
    before = datetime.now(ZoneInfo(zone)).strftime("%Y%m%d")
    client, site = open_site(tmp_path, timezone=zone)
    with client:
        site.anonymous()
        token = csrf_of(client.get("/login").text)
        taken = site.post(f"/api/v1/halls/{site.halls['xh']}/tickets", token, {"service": "soc"})
    after = datetime.now(ZoneInfo(zone)).strftime("%Y%m%d")
    assert taken.status_code == 200, taken.text
    assert taken.json()["ticket"]["id"].split("-")[0] in {before, after}
