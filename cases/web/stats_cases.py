"""The cases at the end of the statistics' drill-down (district → hall → department → counter →
clerk → the tickets and cases themselves): the 办件 of the period at the place the statistics
page stands, rendered by the server into that page (``case_drill_section.html``).

The statistics page belongs to the queue's slice, which may not import this one; the application
hands it :func:`case_section` (``hall/web/app.py``), and the page calls it with its own narrowing
in plain values. The route guard of the page has checked that the person may see the hall.

Which cases: those of the hall and the halls below it (accepted or decided there) that had a step
in the period; at a department, the cases of its items (a case carries its department's name,
the queue's departments a code and a name, so either matches); at a counter, the cases accepted
at it; at a clerk, the cases that clerk took a step on in the period, with those steps. The
newest first, at most :data:`LIMIT`; the applicant masked as in the ledgers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from cases import case_lists, ledgers
from cases.case_lists import CaseLine
from cases.ledgers import ACTION_WORDS, Period, Words
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.runtime import runtime_of
from hall.storage.tables import departments

# A table a person reads on the page; the ledgers' query holds the rest.
LIMIT = 200


def _shown(words: Words) -> str:
    return words[1] if _locale.get() == "en" else words[0]


async def _department_names(conn: AsyncConnection, scope: Sequence[int], code: str) -> frozenset[str]:
    rows = await conn.execute(
        select(departments.c.name).where(departments.c.hall_id.in_(list(scope)), departments.c.code == code)
    )
    return frozenset({code, *(name for (name,) in rows if name)})


def _timeliness(line: CaseLine) -> str:
    """On time or not: for a completed case against its due time, for an open one so far."""
    if line.due_at is None or line.stage == "refused":
        return "—"
    if line.completed_at is not None:
        return _(N_("Late")) if line.overdue else _(N_("On time"))
    return _(N_("Overdue")) if line.overdue else _(N_("Not yet due"))


def _row(line: CaseLine, hall_id: int, zone: ZoneInfo, clock: str) -> dict[str, Any]:
    def at(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime(clock) if moment is not None else "—"

    person = line.applicant
    return {
        "number": line.number,
        "href": f"/cases/{hall_id}/{line.number}",
        "item": f"{line.item} {_shown(line.item_name)}",
        "stage": _shown(ledgers.stage_words(line.stage)),
        "light": line.light,
        "light_label": _shown(ledgers.light_words(line.light, line.light_stage)),
        "accepted": at(line.accepted_at),
        "completed": at(line.completed_at),
        "on_time": _timeliness(line),
        "applicant": " ".join(part for part in (person.get("name"), person.get("id_number")) if part) or "—",
        "steps": [f"{_shown(ACTION_WORDS.get(action, (action, action)))} {at(when)}" for action, when in line.steps],
    }


async def case_section(
    request: Request,
    conn: AsyncConnection,
    *,
    hall_id: int,
    scope: Sequence[int],
    first: date,
    last: date,
    department: str | None,
    counter: tuple[int, int] | None,
    clerk: int | None,
) -> dict[str, Any]:
    """The statistics page's ``case_drill``: the cases at the place it stands (see the module)."""
    runtime = runtime_of(request)
    zone = runtime.settings.zone
    names = await _department_names(conn, scope, department) if department is not None else frozenset()
    page = await case_lists.drill_cases(
        conn,
        frozenset(scope),
        Period(first, last, zone),
        datetime.now(UTC),
        runtime.catalog,
        departments=names,
        counter=counter,
        clerk=clerk,
        limit=LIMIT,
    )
    clock = "%Y-%m-%d %H:%M" if first.year != last.year else "%m-%d %H:%M"
    return {
        "case_drill": {
            "total": page.total,
            "limit": LIMIT,
            "clerk": clerk is not None,
            "rows": [_row(line, hall_id, zone, clock) for line in page.lines],
        }
    }
