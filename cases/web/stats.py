"""The cases' statistics over HTTP (办件统计): the KPIs of a period for supervisors, as JSON, CSV or
XLSX; the statistics page (``/stats/{hall}``) draws them in its 办件 section (``static/js/casestats.js``).

The scope is the hall in the path and every hall below it (the route guard has checked that the
person may see it). Days are the hall's local days (``HALL_TIMEZONE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from cases.catalog import Catalog
from cases.figures import kpis
from cases.statistics import BY, GROUPS, CaseStats, Line, Words, case_statistics
from cases.stats_export import COLUMNS, GROUP_HEADS, PERIOD_HEADS, case_stats_csv, case_stats_xlsx
from hall.kernel.i18n import _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access, Role, within
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.directory import hall_tree
from hall.web.access import guarded
from hall.web.api import choice_param, period_param
from hall.web.responses import JSONResponse

FORMATS = ("json", "csv", "xlsx")
# A period of at most this many days: a year and a leap day, as the ledgers allow.
MAX_DAYS = 366
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def hall_scope(conn: AsyncConnection, hall_id: int) -> list[int]:
    """The hall and every hall below it, in id order."""
    parents = await hall_tree(conn)
    return sorted(h for h in parents if within(h, hall_id, parents))


def item_words(catalog: Catalog) -> Mapping[str, Words]:
    """Each service item's name in Chinese and English, by code."""
    return {item.code: (item.name, item.name_en or item.name) for item in catalog.items}


def label(words: Words) -> str:
    return words[1] if _locale.get() == "en" else words[0]


def _lines(lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    return [{"key": line.key, "label": label(line.label), **kpis(line.sums)} for line in lines]


def case_stats_json(found: CaseStats, timezone: str) -> dict[str, Any]:
    return {
        "from": found.first.isoformat(),
        "to": found.last.isoformat(),
        "by": found.by,
        "group": found.group,
        "timezone": timezone,
        "heads": {"period": _(PERIOD_HEADS[found.by]), "group": _(GROUP_HEADS[found.group])},
        "columns": [{"key": column.key, "label": _(column.label), "share": column.share} for column in COLUMNS],
        "total": kpis(found.total),
        "periods": _lines(found.periods),
        "groups": _lines(found.groups),
    }


@guarded(Access.staff(Role.SUPERVISOR))
async def hall_case_stats(request: Request) -> Response:
    """
    summary: 办件统计 - the cases' KPIs of a period at this hall and the halls below it, by day,
      week or month and by service item, department, stage or hall.
    description: >
      Cases accepted (受理), steps into each stage, completed (办结) on time and late, the on-time
      rate (按时办结率, of completed cases), the speed-up (提速率: the mean share of the promised
      working time saved, over completed cases with a promise of at least one working day), the
      mean working days to completion, refused, collected, 补正 asked and returned. 受理 and 领取
      count at the accepting hall, the other steps at the deciding office. Residents' online
      ratings of completed cases (一事一评) count at the accepting hall on the day they were given:
      rated, satisfied (基本满意 or better) and the case satisfaction (办件满意率, satisfied of
      rated). Shares are fractions of
      1, null where nothing was counted. format=csv gives the table by group with a total;
      format=xlsx a workbook with a sheet by period and one by group.
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: to, in: query, schema: {type: string, format: date}}
      - {name: by, in: query, schema: {type: string, enum: [day, week, month]}}
      - {name: group, in: query, schema: {type: string, enum: [item, department, stage, hall]}}
      - {name: format, in: query, schema: {type: string, enum: [json, csv, xlsx]}}
    responses:
      200: {description: "the statistics as JSON, or as a CSV or XLSX file"}
      422: {description: a parameter is invalid}
    """
    params = request.query_params
    runtime = runtime_of(request)
    by = choice_param(params, "by", BY, "day")
    group = choice_param(params, "group", GROUPS, "item")
    chosen = choice_param(params, "format", FORMATS, "json")
    first, last = period_param(params, datetime.now(runtime.settings.zone).date(), MAX_DAYS)
    hall_id: int = request.path_params["hall"]
    async with reading(runtime.engine) as conn:
        scope = await hall_scope(conn, hall_id)
        found = await case_statistics(conn, scope, first, last, by=by, group=group, items=item_words(runtime.catalog))
    name = f"case-stats-{hall_id}-{group}-{first}-{last}"
    if chosen == "csv":
        return _file(case_stats_csv(found), "text/csv; charset=utf-8", f"{name}.csv")
    if chosen == "xlsx":
        return _file(case_stats_xlsx(found), XLSX, f"{name}.xlsx")
    return JSONResponse(case_stats_json(found, str(runtime.settings.zone)))


def _file(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
