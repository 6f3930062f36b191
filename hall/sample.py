"""A sample network of halls for ``hall init`` and ``hall demo``: one district hall with a street
hall and a community hall below it, each with numbered counters."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.storage.database import upsert
from hall.storage.directory import create_counters, create_hall
from hall.storage.queue_tables import counter_services, queue_rules, queue_services
from hall.storage.tables import halls
from queueing.services import Hours, Service
from queueing.store import service_row

_WEEK = {day: Hours(time(9, 0), time(17, 0)) for day in range(5)}
# District halls also open on Saturday mornings.
_DISTRICT_WEEK = {**_WEEK, 5: Hours(time(9, 0), time(12, 0))}

SAMPLE_ASPECTS = ("服务态度", "办事效率", "环境设施")

SAMPLE_SERVICES = [
    Service(
        "soc",
        "社会保障",
        "Social security",
        prefix="A",
        week=_DISTRICT_WEEK,
        target_wait_minutes=20,
        default_service_minutes=6,
    ),
    Service(
        "fund",
        "住房公积金",
        "Housing provident fund",
        prefix="B",
        week=_DISTRICT_WEEK,
        target_wait_minutes=20,
        default_service_minutes=8,
    ),
    Service(
        "hukou",
        "户籍办理",
        "Household registration",
        prefix="C",
        week=_WEEK,
        daily_cap=200,
        target_wait_minutes=30,
        default_service_minutes=10,
        one_live_ticket_per_id=True,
    ),
    Service(
        "civil", "民政服务", "Civil affairs", prefix="D", week=_WEEK, target_wait_minutes=20, default_service_minutes=7
    ),
    Service(
        "disab",
        "残疾人服务",
        "Disability services",
        prefix="E",
        week=_WEEK,
        target_wait_minutes=10,
        default_service_minutes=9,
    ),
    Service(
        "info",
        "综合咨询",
        "General enquiries",
        prefix="F",
        week=_DISTRICT_WEEK,
        target_wait_minutes=10,
        default_service_minutes=3,
    ),
]

# counter number → (service, weight): specialised windows, and 综合窗口 that take everything.
_DISTRICT_COUNTERS = {
    1: [("soc", 1.0)],
    2: [("soc", 1.0)],
    3: [("soc", 1.0), ("info", 0.5)],
    4: [("fund", 1.0)],
    5: [("fund", 1.0)],
    6: [("hukou", 1.0)],
    7: [("hukou", 1.0)],
    8: [("civil", 1.0)],
    9: [("civil", 1.0), ("disab", 1.0)],
    10: [("disab", 1.0), ("civil", 0.5)],
    11: [(s.code, 1.0) for s in SAMPLE_SERVICES],
    12: [(s.code, 1.0) for s in SAMPLE_SERVICES],
}
_STREET_COUNTERS = {
    1: [("soc", 1.0), ("info", 1.0)],
    2: [("soc", 1.0), ("civil", 1.0)],
    3: [("civil", 1.0), ("disab", 1.0)],
    4: [(s.code, 1.0) for s in SAMPLE_SERVICES],
}
_COMMUNITY_COUNTERS = {1: [(s.code, 1.0) for s in SAMPLE_SERVICES], 2: [(s.code, 1.0) for s in SAMPLE_SERVICES]}

SAMPLE_HALLS = [
    # code, name, English name, level, parent code, counters with their services
    ("xh", "星河区政务服务中心", "Xinghe District Government Service Center", "district", None, _DISTRICT_COUNTERS),
    ("xh-hp", "和平街道便民服务中心", "Heping Street Service Center", "street", "xh", _STREET_COUNTERS),
    ("xh-hp-ly", "柳荫社区党群服务站", "Liuyin Community Service Station", "community", "xh-hp", _COMMUNITY_COUNTERS),
]


async def load_sample(conn: AsyncConnection, now: datetime) -> dict[str, int]:
    """Create the sample halls once; return their ids by code (existing ones are left alone)."""
    existing = {row.code: row.id for row in await conn.execute(select(halls.c.code, halls.c.id))}
    ids = dict(existing)
    for code, name, name_en, level, parent, lines in SAMPLE_HALLS:
        if code in ids:
            continue
        hall_id = await create_hall(
            conn,
            code=code,
            name=name,
            name_en=name_en,
            level=level,
            parent_id=ids[parent] if parent else None,
            actor="system:init",
            now=now,
        )
        ids[code] = hall_id
        await create_counters(conn, hall_id, [(n, f"{n}号窗口") for n in sorted(lines)], actor="system:init", now=now)
        if level == "district":
            # The district hall asks residents to score three aspects besides the overall level.
            await conn.execute(
                insert(queue_rules).values(hall_id=hall_id, rules={"rating_aspects": list(SAMPLE_ASPECTS)})
            )
        offered = {code for pairs in lines.values() for code, _ in pairs}
        await upsert(
            conn,
            queue_services,
            [service_row(hall_id, s, i) for i, s in enumerate(SAMPLE_SERVICES) if s.code in offered],
            ("hall_id", "code"),
        )
        await upsert(
            conn,
            counter_services,
            [
                {"hall_id": hall_id, "counter": n, "service": code, "weight": weight}
                for n, pairs in lines.items()
                for code, weight in pairs
            ],
            ("hall_id", "counter", "service"),
        )
    return ids
