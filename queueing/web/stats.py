"""The queue's statistics over HTTP: the KPIs of a period for supervisors, as JSON, CSV or XLSX,
and the statistics page that charts them (``static/js/stats.js`` with the vendored ECharts).

The scope is the hall in the path and every hall below it (the route guard has checked that the
person may see it). Days are the hall's local days (``HALL_TIMEZONE``). Both take the same query
parameters, so a page's address is a bookmark of what it shows: the period, the grouping, and the
drill-down (district → hall → department → counter → clerk → the tickets), ``department``,
``counter`` (``hall:number``) and ``clerk``. The page renders the table of the drill-down itself;
each of its rows links one level down.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from hall.kernel.errors import Invalid
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.queue_tables import queue_figures_daily
from hall.storage.tables import halls, staff
from hall.web.access import guarded, staff_of
from hall.web.api import choice_param, period_param
from hall.web.responses import JSONResponse
from hall.web.templating import error_page, render
from queueing.figures import kpis
from queueing.statistics import (
    BY,
    GROUPS,
    MAX_DAYS,
    MAX_TICKETS,
    NO_DEPARTMENT,
    Line,
    Narrowing,
    Stats,
    hall_scope,
    statistics,
    ticket_lines,
)
from queueing.stats_export import COLUMNS, GROUP_HEADS, PERIOD_HEADS, stats_csv, stats_xlsx, tickets_sheet
from queueing.web.stats_drill import drill_context, service_names, state_words

FORMATS = ("json", "csv", "xlsx")


class Section(Protocol):
    """A part of the page another slice renders (the cases at the drill-down's place), handed in
    by the application as ``app.state.stats_sections``: it returns more of the page's context."""

    async def __call__(
        self,
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
    ) -> dict[str, Any]: ...


_BY_LABELS = {"day": N_("By day"), "week": N_("By week"), "month": N_("By month")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _narrowing(params: QueryParams) -> Narrowing:
    department = params.get("department") or None
    if department is not None and len(department) > 32:
        raise Invalid(N_("{field} must be text of 1 to {limit} characters"), field="department", say={"limit": 32})
    counter = None
    if params.get("counter"):
        hall, _sep, number = params["counter"].partition(":")
        if not (hall.isdigit() and number.isdigit()):
            raise Invalid(N_("counter must be a hall and a counter number, as 1:5"), field="counter")
        counter = (int(hall), int(number))
    clerk = None
    if params.get("clerk"):
        if not params["clerk"].isdigit():
            raise Invalid(N_("{field} must be a whole number"), field="clerk")
        clerk = int(params["clerk"])
    return Narrowing(department, counter, clerk)


async def _narrow_scope(conn: AsyncConnection, scope: list[int], narrowing: Narrowing) -> list[int]:
    """The scope, once the drill-down is found inside it: a counter of one of its halls, a clerk
    of one of them (or one whose work is counted there).

    Raises:
        Invalid: the counter or the clerk is not of the halls in view.
    """
    if narrowing.counter is not None and narrowing.counter[0] not in scope:
        raise Invalid(N_("counter must be a hall and a counter number, as 1:5"), field="counter")
    if narrowing.clerk is not None:
        home = select(staff.c.id).where(staff.c.id == narrowing.clerk, staff.c.hall_id.in_(scope))
        worked = select(queue_figures_daily.c.clerk).where(
            queue_figures_daily.c.clerk == narrowing.clerk, queue_figures_daily.c.hall_id.in_(scope)
        )
        if (await conn.execute(home.union_all(worked).limit(1))).first() is None:
            raise Invalid(N_("clerk is not a clerk of the halls in view"), field="clerk")
    return scope


def _label(line: Line) -> str:
    return line.label[1] if _locale.get() == "en" else line.label[0]


def _lines(lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    return [{"key": line.key, "label": _label(line), **kpis(line.sums)} for line in lines]


def stats_json(found: Stats, timezone: str) -> dict[str, Any]:
    return {
        "from": found.first.isoformat(),
        "to": found.last.isoformat(),
        "by": found.by,
        "group": found.group,
        "timezone": timezone,
        "heads": {"period": _(PERIOD_HEADS[found.by]), "group": _(GROUP_HEADS[found.group])},
        "columns": [_(column.label) for column in COLUMNS],
        "total": kpis(found.total),
        "periods": _lines(found.periods),
        "groups": _lines(found.groups),
        "hours": _lines(found.hours),
        # [ISO weekday 1–7, hour, arrived, called] for each hour that counted anything.
        "heat": [[day, hour, sums["arrived"], sums["called"]] for (day, hour), sums in sorted(found.heat.items())],
    }


@guarded(Access.staff(Role.SUPERVISOR))
async def hall_stats(request: Request) -> Response:
    """
    summary: 统计 - the queue's KPIs of a period at this hall and the halls below it, by day, week
      or month and by service, counter, clerk, department, hour of the day or hall.
    description: >
      Arrived, called, served, no-shows and their rate (of calls), transfers, mean and longest wait,
      service level (waits within their service's target), waits in buckets of 0-5, 5-10, 10-20,
      20-30, 30-60 and 60 or more minutes, mean and longest service time, ratings by GB/T 39734
      level and the satisfaction rate (基本满意 or better). Shares are fractions of 1, times minutes,
      null where nothing was counted; p90 times are estimated from the buckets; counters' idle and
      wrap-up time. Narrowed by department, counter or clerk (a drill-down), figures of no counter
      (arrivals) fall out. format=csv gives the table by group with a total;
      format=xlsx a workbook with a sheet by period, by group, by hour and by weekday and hour, and
      at a counter or a clerk one of the tickets (at most 500, newest first, applicants masked).
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: to, in: query, schema: {type: string, format: date}}
      - {name: by, in: query, schema: {type: string, enum: [day, week, month]}}
      - {name: group, in: query, schema: {type: string, enum: [service, counter, clerk, department, hour, hall]}}
      - {name: format, in: query, schema: {type: string, enum: [json, csv, xlsx]}}
      - {name: department, in: query, schema: {type: string}, description: "only this department's counters"}
      - {name: counter, in: query, schema: {type: string, pattern: "^[0-9]+:[0-9]+$"}, description: "hall:number"}
      - {name: clerk, in: query, schema: {type: integer}, description: "only this staff member's work"}
    responses:
      200: {description: "the statistics as JSON, or as a CSV or XLSX file"}
      422: {description: a parameter is invalid}
    """
    params = request.query_params
    settings = runtime_of(request).settings
    by = choice_param(params, "by", BY, "day")
    group = choice_param(params, "group", GROUPS, "service")
    chosen = choice_param(params, "format", FORMATS, "json")
    first, last = period_param(params, datetime.now(settings.zone).date(), MAX_DAYS)
    narrowing = _narrowing(params)
    hall_id: int = request.path_params["hall"]
    async with reading(runtime_of(request).engine) as conn:
        scope = await _narrow_scope(conn, await hall_scope(conn, hall_id), narrowing)
        found = await statistics(conn, scope, first, last, by=by, group=group, narrowing=narrowing)
        sheet = None
        if chosen == "xlsx" and narrowing.to_tickets:
            lines = await ticket_lines(conn, scope, first, last, narrowing)
            sheet = tickets_sheet(lines, settings.zone, await service_names(conn, scope), state_words)
    name = f"queue-stats-{hall_id}-{group}-{first}-{last}"
    if chosen == "csv":
        return _file(stats_csv(found), "text/csv; charset=utf-8", f"{name}.csv")
    if chosen == "xlsx":
        return _file(stats_xlsx(found, sheet), XLSX, f"{name}.xlsx")
    return JSONResponse(stats_json(found, str(settings.zone)))


def _file(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@guarded(Access.staff(Role.SUPERVISOR), page=True)
async def stats_page(request: Request) -> Response:
    """The statistics page: a period and a grouping, charts each beside its table (arrivals and
    services by hour, waits by bucket, the hour × weekday map, service level by service, the
    figures by group), the drill-down's table rendered here with a link one level down on each
    row, the tickets at its end, and the downloads. The charts are drawn by stats.js from the
    JSON API, asked with the page's own parameters."""
    hall_id: int = request.path_params["hall"]
    params = request.query_params
    settings = runtime_of(request).settings
    today = datetime.now(settings.zone).date()
    async with reading(runtime_of(request).engine) as conn:
        row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
        if row is None:
            return error_page(request, 404, _("No such hall."))
        try:
            by = choice_param(params, "by", BY, "day")
            group = choice_param(params, "group", GROUPS, "service")
            first, last = period_param(params, today, MAX_DAYS)
            narrowing = _narrowing(params)
            scope = await _narrow_scope(conn, await hall_scope(conn, hall_id), narrowing)
        except Invalid as error:
            return _refused_page(request, row, error)
        found = await statistics(conn, scope, first, last, by=by, group=group, narrowing=narrowing)
        tickets = await ticket_lines(conn, scope, first, last, narrowing)
        member = staff_of(request)
        home = member.hall_id if member is not None else None
        drill = await drill_context(conn, row, scope, found, tickets, settings.zone, _label, home)
        sections: dict[str, Any] = {}
        others: Sequence[Section] = getattr(request.app.state, "stats_sections", ())
        for section in others:
            found_there = await section(
                request,
                conn,
                hall_id=hall_id,
                scope=scope,
                first=first,
                last=last,
                # The cases of no department are not told apart: the hall's cases stand there.
                department=None if narrowing.department == NO_DEPARTMENT else narrowing.department,
                counter=narrowing.counter,
                clerk=narrowing.clerk,
            )
            sections.update(found_there)
    query = {"from": first.isoformat(), "to": last.isoformat(), "by": by, "group": group, **drill["kept"]}
    context = {
        "hall": row,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "by": by,
        "group": group,
        "api": f"/api/v1/halls/{hall_id}/stats?{urlencode(query)}",
        **_form_context(),
        **drill,
        **sections,
    }
    return render(request, "stats.html", context)


def _form_context() -> dict[str, Any]:
    """What the page's form and its scripts need, whatever it shows."""
    words = {
        "arrived": _("Arrived"),
        "called": _("Calls"),
        "served": _("Served"),
        "waits": _("Waits"),
        "service_level": _("Service level"),
        "hour": _("Hour"),
        "bucket": _("Wait"),
        "service": _("Service"),
        "count": _("Visits"),
        "share": _("Share"),
        "none": _("Nothing was counted in this period."),
        "failed": _("Could not load"),
        "with_detail": _("{headline}: {detail}"),
        "total": _("Total"),
        "weekday": _("Weekday"),
        "buckets": [_("0–5 min"), _("5–10 min"), _("10–20 min"), _("20–30 min"), _("30–60 min"), _("60 min or more")],
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
    }
    return {
        "max_days": MAX_DAYS,
        "max_tickets": MAX_TICKETS,
        "periods": [{"value": value, "label": _(_BY_LABELS[value])} for value in BY],
        "groups": [{"value": value, "label": _(GROUP_HEADS[value])} for value in GROUPS],
        "words": words,
    }


def _refused_page(request: Request, hall: Any, error: Invalid) -> Response:
    """The page with its form as it was asked (to fix it) and what is wrong, instead of figures."""
    params = request.query_params
    # The narrowing at fault is dropped, so the form asks for what can be shown.
    wrong = error.details.get("field")
    kept = {name: params[name] for name in ("department", "counter", "clerk") if params.get(name) and name != wrong}
    context = {
        "hall": hall,
        "first": params.get("from", ""),
        "last": params.get("to", ""),
        "by": params.get("by", "day"),
        "group": params.get("group", "service"),
        "kept": kept,
        "crumbs": [{"label": hall.name, "href": None}],
        "refused": _("These statistics cannot be shown: {reason}").replace("{reason}", error.said()),
        **_form_context(),
    }
    return render(request, "stats.html", context, status_code=400)
