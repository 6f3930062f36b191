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

Its twin in the API, :func:`hall_drill_cases` (``/api/v1/halls/{hall}/case-stats/cases``), takes
the page's parameters and answers the same cases as JSON (a page of them) or CSV (all of them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from cases import case_lists, ledger_csv, ledgers
from cases.case_lists import CaseLine, CasePage
from cases.ledgers import ACTION_WORDS, EXPORT_MAX, Period, Words
from cases.web.ledgers import case_line_json, period_of
from cases.web.stats import XLSX, hall_scope
from hall.kernel.errors import Invalid
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import departments
from hall.web.access import guarded
from hall.web.api import paging
from hall.web.paths import ID_PATTERN
from hall.web.problems import problem
from hall.web.responses import JSONResponse
from queueing.stats_export import both, heading, xlsx_file

# A table a person reads on the page; the API's CSV holds the rest.
LIMIT = 200
# A page of the API's JSON.
PAGE_MAX = 500
_ID = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class Place:
    """Where the drill-down stands, in the statistics page's own parameters."""

    department: str | None = None
    counter: tuple[int, int] | None = None  # (hall, number)
    clerk: int | None = None

    def query(self) -> dict[str, str]:
        found = {}
        if self.department is not None:
            found["department"] = self.department
        if self.counter is not None:
            found["counter"] = f"{self.counter[0]}:{self.counter[1]}"
        if self.clerk is not None:
            found["clerk"] = str(self.clerk)
        return found


def place_of(params: QueryParams, scope: Sequence[int]) -> Place:
    """The page's ``department``, ``counter`` (``hall:number``, a hall of the scope) and ``clerk``."""
    department = params.get("department") or None
    if department is not None and len(department) > 32:
        raise Invalid(N_("{field} must be text of 1 to {limit} characters"), field="department", say={"limit": 32})
    counter = None
    if params.get("counter"):
        hall, _sep, number = params["counter"].partition(":")
        if not (_ID.fullmatch(hall) and _ID.fullmatch(number)) or int(hall) not in scope:
            raise Invalid(N_("counter must be a hall and a counter number, as 1:5"), field="counter")
        counter = (int(hall), int(number))
    clerk = None
    if params.get("clerk"):
        if not _ID.fullmatch(params["clerk"]):
            raise Invalid(N_("{field} must be a whole number"), field="clerk")
        clerk = int(params["clerk"])
    return Place(department, counter, clerk)


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
    zone = runtime_of(request).settings.zone
    place = Place(department, counter, clerk)
    page = await _cases(request, conn, scope, Period(first, last, zone), place, limit=LIMIT)
    clock = "%Y-%m-%d %H:%M" if first.year != last.year else "%m-%d %H:%M"
    query = {"from": first.isoformat(), "to": last.isoformat(), **place.query(), "format": "csv"}
    return {
        "case_drill": {
            "total": page.total,
            "limit": LIMIT,
            "clerk": clerk is not None,
            "rows": [_row(line, hall_id, zone, clock) for line in page.lines],
            "csv": f"/api/v1/halls/{hall_id}/case-stats/cases?{urlencode(query)}",
            "xlsx": f"/api/v1/halls/{hall_id}/case-stats/cases?{urlencode({**query, 'format': 'xlsx'})}",
        }
    }


async def _cases(
    request: Request,
    conn: AsyncConnection,
    scope: Sequence[int],
    period: Period,
    place: Place,
    *,
    limit: int,
    offset: int = 0,
    whole: bool = False,
) -> CasePage:
    department = place.department
    names = await _department_names(conn, scope, department) if department is not None else frozenset()
    return await case_lists.drill_cases(
        conn,
        frozenset(scope),
        period,
        datetime.now(UTC),
        runtime_of(request).catalog,
        departments=names,
        counter=place.counter,
        clerk=place.clerk,
        limit=limit,
        offset=offset,
        whole=whole,
    )


@guarded(Access.staff(Role.SUPERVISOR))
async def hall_drill_cases(request: Request) -> Response:
    """
    summary: 办件明细 - the cases at one place of the statistics' drill-down, newest first, the
      applicant masked.
    description: >
      The cases of this hall and the halls below it with a step in the period; narrowed to a
      department's cases (its code or name), to those accepted at a counter, and to those a
      clerk took a step on in the period (each then with the clerk's steps). The parameters of
      the statistics page /stats/{hall}. format=csv or xlsx gives every case (up to 10,000).
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: to, in: query, schema: {type: string, format: date}}
      - {name: department, in: query, schema: {type: string}}
      - {name: counter, in: query, schema: {type: string, pattern: "^[0-9]+:[0-9]+$"}, description: "hall:number"}
      - {name: clerk, in: query, schema: {type: integer}}
      - {name: format, in: query, schema: {type: string, enum: [json, csv, xlsx]}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
    responses:
      200: {description: "a page of cases as JSON, or every case as a CSV or XLSX file"}
      422: {description: "a parameter is invalid, or too many cases for a CSV"}
    """
    params = request.query_params
    zone = runtime_of(request).settings.zone
    chosen = params.get("format", "json")
    if chosen not in ("json", "csv", "xlsx"):
        raise Invalid(N_("format must be json, csv or xlsx"), field="format")
    limit, offset = paging(params, default=LIMIT, maximum=PAGE_MAX)
    period = period_of(params, zone, datetime.now(zone).date())
    hall_id: int = request.path_params["hall"]
    async with reading(runtime_of(request).engine) as conn:
        scope = await hall_scope(conn, hall_id)
        place = place_of(params, scope)
        if chosen != "json":
            page = await _cases(request, conn, scope, period, place, limit=EXPORT_MAX, whole=True)
        else:
            page = await _cases(request, conn, scope, period, place, limit=limit, offset=offset)
    if chosen != "json":
        if page.total > EXPORT_MAX:
            return problem(
                422,
                "too_many",
                N_("{total} cases match, more than the {limit} a CSV holds; narrow the period or the filters"),
                total=page.total,
                say={"limit": EXPORT_MAX},
            )
        name = f"cases-{hall_id}-{period.first}-{period.last}.{chosen}"
        if chosen == "xlsx":
            header, rows = ledger_csv.case_table(page.lines, zone, with_steps=place.clerk is not None)
            sheet = (both(N_("Cases")), [heading(h) for h in header], rows)
            body, media = xlsx_file([sheet], [False] * (len(header) - 1), first_width=20), XLSX
        else:
            body = ledger_csv.cases_csv(page.lines, zone, with_steps=place.clerk is not None)
            media = "text/csv; charset=utf-8"
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return JSONResponse(
        {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            **place.query(),
            "total": page.total,
            "limit": limit,
            "offset": offset,
            "cases": [case_line_json(line, zone) for line in page.lines],
        }
    )
