"""``hall figures rebuild`` for the case figures (hall/figures/case_rebuild.py), on both backends: after the
hand-worked district of test_figures.py — four cases from Monday 23 November to 10 December 2026
at the district and its community, with a 补正 pause, a late completion, a refusal and residents'
ratings, over two months — the rebuild writes the rows the writer kept, from the district's log.

The halls' local days with case events, in Beijing time: 23, 24, 25 and 26 November, 1 and 10
December (a rating refused on the 27th logs nothing). The ratings are logged after every step,
with their own earlier times, as by a clock set back: the 24th, 26th and 10th come twice in the
log, and the rebuild adds their second runs to what the first wrote.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from cases.deadlines import DEFAULT_HOURS
from hall.figures.case_rebuild import rebuild
from hall.storage.case_tables import case_figures, case_figures_daily, case_figures_monthly
from hall.storage.database import reading
from tests.cases.test_figures import play
from tests.conftest import Database
from tests.serverproc import hall_cli

TABLES = (case_figures, case_figures_daily, case_figures_monthly)
NOVEMBER = [date(2026, 11, day) for day in (23, 24, 25, 26)]
DECEMBER = [date(2026, 12, 1), date(2026, 12, 10)]
FAR = date(2100, 1, 1)


@pytest.fixture
async def played(database: Database, halls: dict[str, int]) -> tuple[Database, int]:
    await play(database.engines[0], halls)
    return database, halls["xh"]


async def every_table(database: Database) -> dict[str, set[tuple[Any, ...]]]:
    async with reading(database.engines[0]) as conn:
        return {table.name: {tuple(row) for row in await conn.execute(select(table))} for table in TABLES}


async def wipe(database: Database, *, after: date | None = None, before: date | None = None) -> None:
    """The case figures of the days after ``after``, or before ``before``, gone; their months'
    rollup rows with them (all of them with ``before``)."""
    async with database.engines[0].begin() as conn:
        for table in TABLES:
            if table is case_figures_monthly:
                await conn.execute(delete(table).where(table.c.month > after) if after else delete(table))
            else:
                await conn.execute(delete(table).where(table.c.day > after if after else table.c.day < before))


async def test_a_rebuild_writes_the_rows_the_writer_kept_and_a_second_changes_nothing(
    played: tuple[Database, int],
) -> None:
    database, district = played
    kept = await every_table(database)
    assert all(kept.values())
    written = await rebuild(database.engines[0], district, DEFAULT_HOURS, until=FAR)
    assert [day.day for day in written] == [*NOVEMBER, *DECEMBER, NOVEMBER[1], NOVEMBER[3], DECEMBER[1]]
    assert all(day.rows for day in written)
    assert await every_table(database) == kept
    await rebuild(database.engines[0], district, DEFAULT_HOURS, until=FAR)
    assert await every_table(database) == kept


async def test_case_figures_emptied_as_before_they_were_kept_come_back(played: tuple[Database, int]) -> None:
    """The rows of every day before today wiped, as in a database from before 0011 (today's, and
    the later ones the script's clock reached, are the writer's), and the month rollup with them:
    ``hall figures rebuild`` writes them again — the command on SQLite, whose file another process
    opens, its function on PostgreSQL."""
    database, district = played
    today = date.today()
    # The script ends on 10 December 2026; its 1 December, at least, is before today.
    assert today > DECEMBER[0]
    kept = await every_table(database)
    await wipe(database, before=today)
    if database.backend == "sqlite":
        done = await asyncio.to_thread(hall_cli, "figures", "rebuild", "--db", database.url)
        assert done.returncode == 0, done.stderr
        monday = sum(1 for row in kept["case_figures"] if row[1] == NOVEMBER[0])
        assert f"xh cases 2026-11-23: {monday} case figure rows, events up to seq " in done.stdout
        days = len([day for day in NOVEMBER + DECEMBER if day < today])
        assert f"xh: {days} days of case figures rebuilt" in done.stdout
        # The street's and the community's cases are the district's: no lines of their own.
        assert "xh-hp-ly cases" not in done.stdout and "xh-hp cases" not in done.stdout
    else:
        await rebuild(database.engines[0], district, DEFAULT_HOURS, until=today)
    assert await every_table(database) == kept


async def test_a_stopped_rebuild_resumes_after_the_last_day_it_wrote(played: tuple[Database, int]) -> None:
    database, district = played
    engine = database.engines[0]
    kept = await every_table(database)
    monday = (await rebuild(engine, district, DEFAULT_HOURS, until=NOVEMBER[1]))[-1]
    assert monday.day == NOVEMBER[0]
    # Stopped after Monday: the later days' rows are missing (wiped here), Monday's are not written again.
    await wipe(database, after=NOVEMBER[0])
    resumed = await rebuild(engine, district, DEFAULT_HOURS, until=FAR, after=monday.last_seq)
    assert [day.day for day in resumed] == [*NOVEMBER[1:], *DECEMBER, NOVEMBER[1], NOVEMBER[3], DECEMBER[1]]
    assert await every_table(database) == kept


async def test_days_from_until_on_are_left_to_the_writer(played: tuple[Database, int]) -> None:
    """December's rows, changed here, stay as they are; November's are written, and November's
    month is summed again from them."""
    database, district = played
    kept = await every_table(database)
    async with database.engines[0].begin() as conn:
        await conn.execute(
            update(case_figures).where(case_figures.c.day >= DECEMBER[0]).values(entered=case_figures.c.entered + 100)
        )
        await conn.execute(update(case_figures).where(case_figures.c.day < DECEMBER[0]).values(accepted=0))
    changed = await every_table(database)
    written = await rebuild(database.engines[0], district, DEFAULT_HOURS, until=DECEMBER[0])
    assert [day.day for day in written] == [*NOVEMBER, NOVEMBER[1], NOVEMBER[3]]
    now = await every_table(database)

    def of(rows: set[tuple[Any, ...]], december: bool) -> set[tuple[Any, ...]]:
        # Column 1 is the day (case_figures, daily) or the month (monthly).
        return {row for row in rows if (row[1] >= DECEMBER[0]) == december}

    assert of(now["case_figures"], december=True) == of(changed["case_figures"], december=True)
    for table in TABLES:
        assert of(now[table.name], december=False) == of(kept[table.name], december=False), table.name


def test_a_rating_logged_without_its_department_counts_under_the_cases_department() -> None:
    """Ratings logged before they carried the case's department (migration 0015 fills those from
    the cases table): the recount takes it from the case's own earlier events, so a rebuilt
    rating counts beside its case's completion, not under no department."""
    from datetime import UTC, datetime

    from cases.recount import Recount

    recount = Recount(DEFAULT_HOURS)
    case = {"number": "2026120100001", "item": "MZ-006", "accepted_hall": 3, "deciding_hall": 1}
    at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    accepted = recount.feed("case.accepted", {**case, "department": "民政局"}, at)
    rated = recount.feed("case.rated", {**case, "level": 5}, at)
    assert accepted is not None and rated is not None
    assert rated.key.department == "民政局" == accepted.key.department
    assert (rated.rated, rated.satisfied) == (1, 1)
