"""A case whose stage has run over its own limit (环节超时) while its promised deadline is still
ahead, written through the writer with its clock set back, as the demo writes its cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from cases.catalog_io import sample_catalog
from cases.deadlines import DEFAULT_HOURS
from cases.store import CasesDomain, actor_args
from hall.kernel.events import Command
from hall.storage.database import create_engine
from hall.storage.tables import halls, staff
from hall.storage.writer import Writer

# 八十周岁以上老年人高龄津贴申领: 10 working days in all, 6 of them for 审核 after 受理.
ITEM = "MZ-006"


def working_days_ago(days: int, now: datetime) -> datetime:
    """10:00 local on the working day ``days`` working days before today."""
    hours = DEFAULT_HOURS
    day = hours.local(now).date()
    while days:
        day -= timedelta(days=1)
        if hours.is_working_day(day):
            days -= 1
    return hours.opening(day) + timedelta(hours=1)


async def accept_late_case(db_url: str, clerk: str, *, days_ago: int = 7) -> str:
    """A community clerk's 受理 of ``ITEM`` ``days_ago`` working days ago; returns its number. At 7
    days its 审核 stage (6 days) is over its limit and the case (10 days) is on time."""
    catalog = sample_catalog()
    item = catalog[ITEM]
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            ids = {r.code: r.id for r in await conn.execute(select(halls.c.code, halls.c.id))}
            clerk_id = (await conn.execute(select(staff.c.id).where(staff.c.username == clerk))).scalar_one()
        moment = working_days_ago(days_ago, datetime.now(UTC))
        writer = Writer(engine, [CasesDomain(catalog)], clock=lambda: moment)
        await writer.start()
        try:
            args = {
                "item": ITEM,
                "applicant": {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"},
                "materials": [m.name for m in item.required_materials],
                "counter": 1,
                "by": actor_args(clerk_id, ["clerk"], ids["xh-hp-ly"]),
            }
            also = tuple(sorted(ids[c] for c in ("xh", "xh-hp", "xh-hp-ly")))
            command = Command("late-stage-case", ids["xh"], "case.accept", f"staff:{clerk_id}", args, also=also)
            outcome = await writer.submit(command)
            assert outcome.ok, outcome.result
            return str(outcome.result["case"]["number"])
        finally:
            await writer.stop()
    finally:
        await engine.dispose()
