"""The demo's register: cases of the last weeks written through the writer, from every level of the
tree to the district office, some of them late, and written once however often the demo starts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cases.catalog_io import sample_catalog
from hall.demo_cases import seed_cases
from hall.setup import demo_staff, initialise
from hall.storage.case_tables import cases, notifications

# Thursday 2026-11-26 15:00 Beijing.
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


async def test_the_demo_opens_on_cases_with_every_light_and_sends_no_message(tmp_path: object) -> None:
    from hall.storage.database import create_engine

    engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    try:
        ids, _ = await initialise(engine)
        await demo_staff(engine, ids)
        made = await seed_cases(engine, sample_catalog(), ids, NOW)
        again = await seed_cases(engine, sample_catalog(), ids, NOW)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(cases.c.light, cases.c.accepted_hall, cases.c.deciding_hall))).all()
            statuses = {row.status for row in await conn.execute(select(notifications.c.status))}
    finally:
        await engine.dispose()
    assert (made, again) == (40, 0)
    assert set(Counter(row.light for row in rows)) == {"green", "yellow", "red"}
    assert {row.accepted_hall for row in rows} == {ids["xh"], ids["xh-hp"], ids["xh-hp-ly"]}
    assert {row.deciding_hall for row in rows} == {ids["xh"]}
    assert statuses == {"failed"}  # made-up phones: marked, never handed to a gateway


async def _seeded_moments(tmp_path: object, now: datetime) -> list[datetime]:
    from hall.storage.case_tables import case_steps
    from hall.storage.database import create_engine

    engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    try:
        ids, _ = await initialise(engine)
        await demo_staff(engine, ids)
        await seed_cases(engine, sample_catalog(), ids, now)
        async with engine.connect() as conn:
            moments = [row.accepted_at for row in await conn.execute(select(cases.c.accepted_at))]
            done = await conn.execute(select(cases.c.completed_at).where(cases.c.completed_at.is_not(None)))
            moments += [row.completed_at for row in done]
            moments += [row.at for row in await conn.execute(select(case_steps.c.at))]
    finally:
        await engine.dispose()
    return moments


async def test_no_demo_case_happens_after_now_before_the_hall_opens(tmp_path: object) -> None:
    # Tuesday 2026-12-08 05:50 Beijing: the hall has not opened yet, so nothing is today.
    now = datetime(2026, 12, 7, 21, 50, tzinfo=UTC)
    moments = await _seeded_moments(tmp_path, now)
    assert moments
    assert max(moments) <= now


async def test_no_demo_case_happens_after_now_in_the_morning(tmp_path: object) -> None:
    # Tuesday 2026-12-08 10:00 Beijing: today's cases fall between the opening and now.
    now = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    moments = await _seeded_moments(tmp_path, now)
    assert moments
    assert max(moments) <= now
