"""The Alembic migrations build exactly the schema the code describes, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from hall.storage.migrate import is_current, upgrade
from hall.storage.schema import metadata
from tests.conftest import Database


def back_to(revision: str) -> Callable[[Connection], None]:
    """Alembic's downgrade to ``revision``, to run on a connection (``run_sync``)."""
    from alembic import command

    from hall.storage.migrate import alembic_config

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    return run


async def test_migrations_match_the_tables_in_code(database: Database) -> None:
    engine = database.engines[0]

    def _diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
    assert await is_current(engine)
    await upgrade(engine)  # running it again changes nothing
    assert await is_current(engine)


async def test_a_database_of_the_previous_release_upgrades_with_its_data(database: Database) -> None:
    """The schema of the last release (0005) with accounts, tickets and events in it: ``hall init``
    migrates it, and what was there is there, working, afterwards."""
    from sqlalchemy import select, text

    from hall.storage.queue_tables import queue_services
    from hall.storage.tables import counters, halls, staff

    engine = database.engines[0]

    async with engine.begin() as conn:
        await conn.run_sync(back_to("0005_cases"))
    assert not await is_current(engine)
    async with engine.begin() as conn:
        # Rows as the previous release wrote them (no must_change_password column then).
        await conn.execute(
            text(
                "INSERT INTO halls (id, code, name, name_en, level, timezone, created_at) "
                "VALUES (9, 'old', '旧大厅', 'Old hall', 'district', 'Asia/Shanghai', '2026-11-01 08:00:00')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO staff (username, display_name, staff_no, password_hash, roles, hall_id, active, "
                "created_at) VALUES ('veteran', '老王', 'OLD1', '$argon2id$v=19$x', 'clerk', 9, true, "
                "'2026-11-01 08:00:00')"
            )
        )
        # A service and a counter as that release kept them (no active flag, no department then).
        await conn.execute(
            text(
                "INSERT INTO queue_services (hall_id, code, name, prefix, week) "
                "VALUES (9, 'soc', '社会保障', 'A', '{\"0\": [\"09:00\", \"17:00\"]}')"
            )
        )
        await conn.execute(text("INSERT INTO counters (hall_id, number, name) VALUES (9, 1, '1号窗口')"))
    await upgrade(engine)
    assert await is_current(engine)
    async with engine.connect() as conn:
        row = (await conn.execute(select(staff).where(staff.c.username == "veteran"))).one()
        hall = (await conn.execute(select(halls.c.active).where(halls.c.id == 9))).one()
        service = (await conn.execute(select(queue_services.c.active, queue_services.c.prefix))).one()
        counter = (await conn.execute(select(counters.c.active, counters.c.department))).one()
    assert (row.display_name, row.roles, row.active, row.must_change_password) == ("老王", "clerk", True, False)
    # What was in service before stays in service; no counter belongs to a department yet.
    assert (hall.active, tuple(service), tuple(counter)) == (True, (True, "A"), (True, None))


async def test_the_figures_kept_before_0013_fill_its_rollups(database: Database) -> None:
    """Figures as 0010 kept them, on a Sunday and a Monday at two hours: 0013 sums them into the
    daily rollup (no hour) and the hourly one (no counter or clerk, with the ISO weekday)."""
    from sqlalchemy import select, text

    from hall.storage.queue_tables import queue_figures_daily, queue_figures_hourly

    engine = database.engines[0]

    async with engine.begin() as conn:
        await conn.run_sync(back_to("0010_figures"))
        await conn.execute(
            text(
                "INSERT INTO halls (id, code, name, name_en, level, timezone, created_at) "
                "VALUES (9, 'old', '旧大厅', 'Old hall', 'district', 'Asia/Shanghai', '2026-11-01 08:00:00')"
            )
        )
        for day, hour, counter, called, top in (
            ("2026-11-22", 9, 1, 2, 300),
            ("2026-11-23", 9, 1, 3, 600),
            ("2026-11-23", 9, 2, 4, 900),
            ("2026-11-23", 10, 1, 5, 120),
        ):
            await conn.execute(
                text(
                    "INSERT INTO queue_figures (hall_id, day, hour, service, counter, clerk, week, month, called, "
                    "wait_max) VALUES (9, :day, :hour, 'soc', :counter, 0, '2026-11-16', '2026-11-01', :called, "
                    ":wait_max)"
                ),
                {"day": date.fromisoformat(day), "hour": hour, "counter": counter, "called": called, "wait_max": top},
            )
    await upgrade(engine)
    async with engine.connect() as conn:
        d, h = queue_figures_daily.c, queue_figures_hourly.c
        daily = {
            (r.day.isoformat(), r.counter): (r.called, r.wait_max)
            for r in await conn.execute(select(d.day, d.counter, d.called, d.wait_max).where(d.hall_id == 9))
        }
        hourly = {
            (r.day.isoformat(), r.hour): (r.weekday, r.called, r.wait_max)
            for r in await conn.execute(select(h.day, h.hour, h.weekday, h.called, h.wait_max).where(h.hall_id == 9))
        }
    assert daily == {("2026-11-22", 1): (2, 300), ("2026-11-23", 1): (8, 600), ("2026-11-23", 2): (4, 900)}
    assert hourly == {("2026-11-22", 9): (7, 2, 300), ("2026-11-23", 9): (1, 7, 900), ("2026-11-23", 10): (1, 5, 120)}


async def test_case_ratings_logged_before_0015_are_counted_by_it(
    database: Database, halls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two cases completed on Wednesday 25 November 2026 through the writer, then the schema taken
    back to 0014 and their online ratings logged as that release logged them (no department in the
    event, a copy in the log of every hall the case reaches). 0015 counts each rating once, at the
    hall that accepted the case, on its local day in Beijing, under 办结, its department read from
    the case; added to the completion's figures where the key is the same:

    - MZ-004, accepted and completed at the district centre, rated 2 不满意 at 16:00: the centre's
      row of that day, which holds its completion, gains a rating, not satisfied;
    - MZ-006, accepted at the community, rated 4 满意 at 00:30 on Thursday (16:30 on Wednesday in
      UTC): a new row, the community's, of Thursday, satisfied.
    """
    from sqlalchemy import func, insert, select

    from hall.storage.case_tables import case_figures, case_figures_daily, case_figures_monthly
    from hall.storage.tables import events
    from tests.cases.test_figures import Hall, local, people_of

    monkeypatch.setenv("HALL_TIMEZONE", "Asia/Shanghai")
    engine = database.engines[0]
    people = await people_of(engine, halls)
    hall = Hall(engine, halls, people)
    async with hall.writer:
        far = await hall.accept(local(23, 9, 30), "community", "MZ-006")
        near = await hall.accept(local(25, 14), "district", "MZ-004")
        for number, at in ((far, local(25, 9)), (near, local(25, 14, 10))):
            await hall.act(at, "district", number, "review")
            await hall.act(at + timedelta(minutes=10), "supervisor", number, "approve")
            await hall.act(at + timedelta(minutes=20), "district", number, "complete")

    async with engine.begin() as conn:
        await conn.run_sync(back_to("0014_case_rollups"))
        heads = dict(
            (await conn.execute(select(events.c.hall_id, func.max(events.c.seq)).group_by(events.c.hall_id))).all()
        )
        ratings = (
            (far, "MZ-006", halls["xh-hp-ly"], 4, "满意", "", local(26, 0, 30)),
            (near, "MZ-004", halls["xh"], 2, "不满意", "等候太久", local(25, 16)),
        )
        for number, item, accepted_hall, level, label, comment, at in ratings:
            data = {
                "number": number,
                "item": item,
                "level": level,
                "label": label,
                "comment": comment,
                "accepted_hall": accepted_hall,
                "deciding_hall": halls["xh"],
                "registered_by": people["district"],
                "counter": None,
                "halls": sorted({accepted_hall, halls["xh"]}),
            }
            reached = [h for h in halls.values() if accepted_hall == halls["xh-hp-ly"] or h == halls["xh"]]
            for hall_id in reached:
                heads[hall_id] = heads.get(hall_id, 0) + 1
                row = {"hall_id": hall_id, "seq": heads[hall_id], "type": "case.rated", "data": data}
                await conn.execute(insert(events), {**row, "actor": "public:track", "at": at, "command_id": None})
    await upgrade(engine)

    completed = case_figures.c.stage == "completed"
    async with engine.connect() as conn:
        c = case_figures.c
        found = {
            (r.hall_id, r.day.isoformat(), r.item, r.department): (r.completed, r.rated, r.satisfied)
            for r in await conn.execute(
                select(c.hall_id, c.day, c.item, c.department, c.completed, c.rated, c.satisfied).where(completed)
            )
        }
        d = case_figures_daily.c
        daily = {
            (r.hall_id, r.day.isoformat()): (r.completed, r.rated, r.satisfied)
            for r in await conn.execute(select(d.hall_id, d.day, d.completed, d.rated, d.satisfied))
        }
        m = case_figures_monthly.c
        monthly = {
            (r.hall_id, r.item): (r.completed, r.rated, r.satisfied)
            for r in await conn.execute(
                select(m.hall_id, m.item, m.completed, m.rated, m.satisfied).where(m.stage == "completed")
            )
        }
    centre, community = halls["xh"], halls["xh-hp-ly"]
    assert found == {
        (centre, "2026-11-25", "MZ-006", "区民政局"): (1, 0, 0),
        (centre, "2026-11-25", "MZ-004", "区民政局"): (1, 1, 0),
        (community, "2026-11-26", "MZ-006", "区民政局"): (0, 1, 1),
    }
    assert (daily[centre, "2026-11-25"], daily[community, "2026-11-26"]) == ((2, 1, 0), (0, 1, 1))
    assert monthly == {(centre, "MZ-006"): (1, 0, 0), (centre, "MZ-004"): (1, 1, 0), (community, "MZ-006"): (0, 1, 1)}
