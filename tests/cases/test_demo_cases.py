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
