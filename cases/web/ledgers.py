"""Ledgers and queries (台帐) over HTTP: the ledgers and the comprehensive query for supervisors,
a clerk's own cases, each as JSON or CSV, and the supervisor's ledger page.

The query layer and the definitions of what each ledger counts are in ``hall/ledgers.py``. Here
the parameters are read and checked (a bad one is a 422 naming it), the scope is the hall in the
path and every hall below it (the route guard has already checked the person may see it), and
the answer is drawn in the visitor's language.

Parameters shared by the routes:

- ``from``, ``to``: local days ``YYYY-MM-DD``, both included, at most 366 days apart; by default
  the first of this month to today;
- ``format``: ``json`` (default) or ``csv`` (UTF-8 with BOM, "中文 / English" headers);
- ``item``, ``department``, ``stage``, ``light``, ``staff``: narrow the cases; each may repeat or
  hold several values separated by commas;
- ``within``: a hall below the one in the path, to look at its part of the tree only;
- ``limit``, ``offset``: a page of a case list (JSON only; a CSV holds every case, up to 10,000).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from cases import case_lists, ledger_csv, ledgers
from cases.case_lists import CaseLine
from cases.case_model import Stage
from cases.catalog import Catalog
from cases.ledgers import (
    ACTION_WORDS,
    BY,
    EXPORT_MAX,
    MAX_DAYS,
    CaseFilter,
    Ledger,
    Period,
    Words,
)
from cases.lights import Light
from hall.kernel.errors import Invalid
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import halls, staff
from hall.web.access import guarded, member_of
from hall.web.api import paging, period_param
from hall.web.paths import ID_PATTERN
from hall.web.problems import problem
from hall.web.responses import JSONResponse
from hall.web.templating import error_page, render

# A page of a case list: enough to read, small enough to answer at once.
PAGE_DEFAULT = 100
PAGE_MAX = 500
# Values one filter may hold, and the length of each: longer than any code or department name.
_VALUES_MAX = 100
_VALUE_LENGTH = 100

_BY_LABELS = {
    "clerk": N_("By staff member"),
    "counter": N_("By counter"),
    "department": N_("By department and item"),
    "day": N_("By day"),
}


def _shown(words: Words) -> str:
    return words[1] if _locale.get() == "en" else words[0]


def _zone(request: Request) -> ZoneInfo:
    return runtime_of(request).settings.zone


def _catalog(request: Request) -> Catalog:
    catalog: Catalog = runtime_of(request).catalog
    return catalog


# -- parameters ------------------------------------------------------------------------------------


def period_of(params: QueryParams, zone: ZoneInfo, today: date) -> Period:
    first, last = period_param(params, today, MAX_DAYS)
    return Period(first, last, zone)


def _values(params: QueryParams, name: str) -> frozenset[str]:
    found = [part.strip() for raw in params.getlist(name) for part in raw.split(",")]
    found = [part for part in found if part]
    if len(found) > _VALUES_MAX or any(len(part) > _VALUE_LENGTH for part in found):
        raise Invalid(
            N_("{field} holds at most {count} values of at most {limit} characters"),
            field=name,
            say={"count": _VALUES_MAX, "limit": _VALUE_LENGTH},
        )
    return frozenset(found)


# An id as the database holds it: digits that fit a 64-bit column (ASCII only: '²'.isdigit()).
_ID = re.compile(ID_PATTERN)


def _ids(params: QueryParams, name: str) -> frozenset[int]:
    found = _values(params, name)
    if not all(_ID.fullmatch(part) for part in found):
        raise Invalid(N_("{field} must be staff ids (whole numbers)"), field=name)
    return frozenset(int(part) for part in found)


def _chosen(params: QueryParams, name: str, allowed: tuple[str, ...]) -> frozenset[str]:
    found = _values(params, name)
    unknown = sorted(found - set(allowed))
    if unknown:
        raise Invalid(
            N_("unknown {field} {names}; choose from {allowed}"),
            field=name,
            say={"names": ", ".join(unknown), "allowed": ", ".join(allowed)},
        )
    return found


def _format(params: QueryParams) -> str:
    chosen = params.get("format", "json")
    if chosen not in ("json", "csv"):
        raise Invalid(N_("format must be json or csv"), field="format")
    return chosen


async def _filter(request: Request, period: Period) -> CaseFilter:
    """The cases asked for under the hall in the path (or the hall ``within`` it)."""
    params = request.query_params
    hall_id: int = request.path_params["hall"]
    items = _values(params, "item")
    unknown = sorted(code for code in items if code not in _catalog(request))
    if unknown:
        raise Invalid(N_("no service item {names} in the catalog"), field="item", say={"names": ", ".join(unknown)})
    raw = params.get("within", "").strip()
    async with reading(runtime_of(request).engine) as conn:
        scope = await ledgers.hall_scope(conn, hall_id)
        if raw:
            if not _ID.fullmatch(raw) or int(raw) not in scope:
                raise Invalid(N_("within must be this hall or a hall below it"), field="within")
            scope = await ledgers.hall_scope(conn, int(raw))
    return CaseFilter(
        halls=scope,
        period=period,
        items=items,
        staff=_ids(params, "staff"),
        departments=_values(params, "department"),
        stages=_chosen(params, "stage", tuple(s.value for s in Stage)),
        lights=_chosen(params, "light", tuple(light.value for light in Light)),
    )


# -- answers ---------------------------------------------------------------------------------------


def _csv(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _too_many(total: int) -> JSONResponse:
    return problem(
        422,
        "too_many",
        N_("{total} cases match, more than the {limit} a CSV holds; narrow the period or the filters"),
        total=total,
        say={"limit": EXPORT_MAX},
    )


def ledger_json(table: Ledger) -> dict[str, Any]:
    group_head, row_head = table.heads
    return {
        "by": table.by,
        "from": table.period.first.isoformat(),
        "to": table.period.last.isoformat(),
        "timezone": str(table.period.zone),
        "heads": {"group": _(group_head), "row": _(row_head)},
        "columns": [{"key": c.key, "label": _(c.label)} for c in table.columns],
        "groups": [
            {
                "key": g.key,
                "label": _shown(g.label),
                "rows": [
                    {"key": line.key, "label": _shown(line.label), "values": dict(line.values)} for line in g.lines
                ],
                "subtotal": dict(g.subtotal),
            }
            for g in table.groups
        ],
        "total": dict(table.total),
    }


def _when(at: datetime | None, zone: ZoneInfo) -> str | None:
    # In the hall's zone with its offset: a machine reads the instant, a person the local time.
    return at.astimezone(zone).isoformat() if at is not None else None


def case_line_json(line: CaseLine, zone: ZoneInfo) -> dict[str, Any]:
    found: dict[str, Any] = {
        "number": line.number,
        "item": line.item,
        "item_name": _shown(line.item_name),
        "department": line.department,
        "accepted_hall": {"id": line.accepted_hall, "name": _shown(line.accepted_hall_name)},
        "deciding_hall": {"id": line.deciding_hall, "name": _shown(line.deciding_hall_name)},
        "counter": line.counter,
        "applicant": dict(line.applicant),
        "channel": line.channel,
        "stage": line.stage,
        "stage_label": _shown(ledgers.stage_words(line.stage)),
        "registered_by": {"id": line.registered_by, "name": line.registered_by_name},
        "accepted_at": _when(line.accepted_at, zone),
        "due_at": _when(line.due_at, zone),
        "completed_at": _when(line.completed_at, zone),
        "closed_at": _when(line.closed_at, zone),
        "light": line.light,
        "light_label": _shown(ledgers.light_words(line.light, line.light_stage)),
        "light_stage": line.light_stage,
        "overdue": line.overdue,
        "rating": line.rating,
    }
    if line.steps:
        found["my_steps"] = [
            {"action": action, "label": _shown(ACTION_WORDS.get(action, (action, action))), "at": _when(at, zone)}
            for action, at in line.steps
        ]
    return found


# -- routes ----------------------------------------------------------------------------------------


@guarded(Access.staff(Role.SUPERVISOR))
async def hall_ledger(request: Request) -> Response:
    """
    summary: 台帐 - a hall's ledger by clerk, counter, department or day, with subtotals and a total.
    description: >
      by=counter|department|day counts the cases accepted in the period (accepted, in progress,
      completed, refused, overdue, mean days to complete), subtotalled by hall, department or month;
      by=clerk counts the steps each person took in the period, subtotalled by their hall.
      The scope is this hall and the halls below it.
    parameters:
      - {name: by, in: query, required: true, schema: {type: string, enum: [clerk, counter, department, day]}}
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: to, in: query, schema: {type: string, format: date}}
      - {name: format, in: query, schema: {type: string, enum: [json, csv]}}
      - {name: item, in: query, schema: {type: string}}
      - {name: department, in: query, schema: {type: string}}
      - {name: stage, in: query, schema: {type: string}}
      - {name: light, in: query, schema: {type: string}}
      - {name: staff, in: query, schema: {type: string}}
      - {name: within, in: query, schema: {type: integer}}
    responses:
      200: {description: "the ledger as JSON, or as a CSV file"}
      422: {description: a parameter is invalid}
    """
    params = request.query_params
    zone = _zone(request)
    by = params.get("by", "")
    if by not in BY:
        return problem(422, "invalid", N_("by must be one of {names}"), field="by", say={"names": ", ".join(BY)})
    chosen = _format(params)
    period = period_of(params, zone, datetime.now(zone).date())
    wanted = await _filter(request, period)
    async with reading(runtime_of(request).engine) as conn:
        table = await ledgers.ledger(conn, by, wanted, datetime.now(UTC), _catalog(request))
    if chosen == "csv":
        hall_id = request.path_params["hall"]
        return _csv(ledger_csv.ledger_csv(table), f"ledger-{by}-{hall_id}-{period.first}-{period.last}.csv")
    return JSONResponse(ledger_json(table))


@guarded(Access.staff(Role.SUPERVISOR))
async def case_query(request: Request) -> Response:
    """
    summary: 综合查询 - the cases accepted in a period at this hall or below, by item, staff, stage,
      light, department and hall; the applicant masked.
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: to, in: query, schema: {type: string, format: date}}
      - {name: item, in: query, schema: {type: string}}
      - {name: staff, in: query, description: "cases one of these people took a step on", schema: {type: string}}
      - {name: department, in: query, schema: {type: string}}
      - {name: stage, in: query, schema: {type: string}}
      - {name: light, in: query, schema: {type: string}}
      - {name: within, in: query, schema: {type: integer}}
      - {name: format, in: query, schema: {type: string, enum: [json, csv]}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
    responses:
      200: {description: "a page of cases as JSON, or every case as a CSV file"}
      422: {description: "a parameter is invalid, or too many cases for a CSV"}
    """
    params = request.query_params
    zone = _zone(request)
    chosen = _format(params)
    limit, offset = paging(params, default=PAGE_DEFAULT, maximum=PAGE_MAX)
    period = period_of(params, zone, datetime.now(zone).date())
    wanted = await _filter(request, period)
    now = datetime.now(UTC)
    async with reading(runtime_of(request).engine) as conn:
        if chosen == "csv":
            page = await case_lists.query_cases(conn, wanted, now, _catalog(request), limit=EXPORT_MAX, whole=True)
        else:
            page = await case_lists.query_cases(conn, wanted, now, _catalog(request), limit=limit, offset=offset)
    if chosen == "csv":
        if page.total > EXPORT_MAX:
            return _too_many(page.total)
        hall_id = request.path_params["hall"]
        return _csv(ledger_csv.cases_csv(page.lines, zone), f"cases-{hall_id}-{period.first}-{period.last}.csv")
    return JSONResponse(
        {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "total": page.total,
            "limit": limit,
            "offset": offset,
            "cases": [case_line_json(line, zone) for line in page.lines],
        }
    )


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def my_cases(request: Request) -> Response:
    """
    summary: The cases the person logged in took a step on in a period (受理 among them), each
      with their own steps, and how many steps of each kind they took.
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: to, in: query, schema: {type: string, format: date}}
      - {name: format, in: query, schema: {type: string, enum: [json, csv]}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
    responses:
      200: {description: "a page of the person's cases as JSON, or every one as a CSV file"}
      422: {description: a parameter is invalid}
    """
    member = member_of(request)
    params = request.query_params
    zone = _zone(request)
    chosen = _format(params)
    limit, offset = paging(params, default=PAGE_DEFAULT, maximum=PAGE_MAX)
    period = period_of(params, zone, datetime.now(zone).date())
    now = datetime.now(UTC)
    catalog = _catalog(request)
    async with reading(runtime_of(request).engine) as conn:
        if chosen == "csv":
            page = await case_lists.personal_cases(conn, member.id, period, now, catalog, limit=EXPORT_MAX, whole=True)
        else:
            page = await case_lists.personal_cases(conn, member.id, period, now, catalog, limit=limit, offset=offset)
        summary = await case_lists.personal_summary(conn, member.id, period)
    if chosen == "csv":
        if page.total > EXPORT_MAX:
            return _too_many(page.total)
        body = ledger_csv.cases_csv(page.lines, zone, with_steps=True)
        return _csv(body, f"my-cases-{period.first}-{period.last}.csv")
    return JSONResponse(
        {
            "staff": member.id,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "steps": summary,
            "total": page.total,
            "limit": limit,
            "offset": offset,
            "cases": [case_line_json(line, zone) for line in page.lines],
        }
    )


# -- the page --------------------------------------------------------------------------------------


@guarded(Access.staff(Role.SUPERVISOR), page=True)
async def ledger_page(request: Request) -> Response:
    """The supervisor's ledgers: a grouping and a period, the table with its subtotals and total,
    its CSV; and the comprehensive query. The tables are drawn by ledgers.js from the JSON API;
    the forms name the API, so a CSV downloads without any script."""
    runtime = runtime_of(request)
    hall_id: int = request.path_params["hall"]
    async with reading(runtime.engine) as conn:
        row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
        if row is None:
            return error_page(request, 404, _("No such hall."))
        scope = await ledgers.hall_scope(conn, hall_id)
        hall_rows = (await conn.execute(select(halls).where(halls.c.id.in_(sorted(scope))).order_by(halls.c.id))).all()
        people = (
            await conn.execute(
                select(staff.c.id, staff.c.display_name, staff.c.staff_no, staff.c.hall_id)
                .where(staff.c.hall_id.in_(sorted(scope)), staff.c.active.is_(True))
                .order_by(staff.c.hall_id, staff.c.display_name, staff.c.id)
            )
        ).all()
    english = _locale.get() == "en"
    today = datetime.now(_zone(request)).date()
    catalog = _catalog(request)
    context = {
        "hall": row,
        "first": today.replace(day=1).isoformat(),
        "last": today.isoformat(),
        "max_days": MAX_DAYS,
        "groupings": [{"value": by, "label": _(_BY_LABELS[by])} for by in BY],
        "halls": [{"id": h.id, "name": (h.name_en or h.name) if english else h.name} for h in hall_rows],
        "people": [{"id": p.id, "name": f"{p.display_name} {p.staff_no}".strip()} for p in people],
        "items": [{"code": i.code, "name": (i.name_en or i.name) if english else i.name} for i in catalog],
        "departments": catalog.departments(),
        "stages": [{"value": s.value, "label": _shown(ledgers.stage_words(s.value))} for s in Stage],
        "lights": [{"value": light.value, "label": _shown(ledgers.light_words(light.value))} for light in Light],
    }
    return render(request, "ledgers.html", context)
