"""The monthly report (月度工作简报) of a hall, or of a district with one row per hall below it: the
month's queue figures (``queue_figures``) and case figures (``case_figures``, residents' online
ratings of cases among them) beside the previous month's, charts drawn as SVG so they print, and
the worst service items (lowest on-time rate) and counters (lowest service level, then
satisfaction). A page of its own, without the site's top bar: what prints is the report alone, on
A4. Chinese first, English beside it, whatever the reader's language: a report is filed and passed
on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from cases import figures as case_figures
from cases.statistics import case_statistics
from cases.web.stats import hall_scope, item_words, label
from hall.kernel.i18n import N_, _
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import halls
from hall.web.access import guarded
from hall.web.templating import error_page, render
from queueing import figures as queue_figures
from queueing.statistics import statistics
from queueing.stats_export import both

Words = tuple[str, str]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# How many of the worst items and counters the report names.
WORST = 5


def month_of(text: str) -> date | None:
    """The first day of the month ``yyyy-mm``, or None when ``text`` is not one."""
    found = _MONTH.match(text)
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    return date(year, month, 1) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def share(value: object) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "—"


def number(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "—"


def change(now: object, before: object, *, is_share: bool) -> str:
    """The change from last month: a difference in counts, or in percentage points for shares."""
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return "—"
    if is_share:
        points = round((now - before) * 100, 1)
        return f"{points:+.1f} pp" if points else "±0"
    delta = round(now - before, 2)
    return f"{delta:+g}" if delta else "±0"


MEASURES: tuple[tuple[str, str, str, bool], ...] = (
    (N_("Arrived"), "queue", "arrived", False),
    (N_("Served"), "queue", "served", False),
    (N_("Mean wait (min)"), "queue", "wait_mean_minutes", False),
    (N_("Service level"), "queue", "service_level", True),
    (N_("Satisfaction"), "queue", "satisfaction", True),
    (N_("Cases accepted"), "cases", "accepted", False),
    (N_("Cases completed"), "cases", "completed", False),
    (N_("Completed late"), "cases", "late", False),
    (N_("On-time rate"), "cases", "on_time_rate", True),
    (N_("Speed-up"), "cases", "speed_up", True),
    (N_("Case ratings"), "cases", "rated", False),
    (N_("Case satisfaction"), "cases", "satisfaction", True),
)


def _kpis(queue_sums: Mapping[str, int], case_sums: Mapping[str, int]) -> dict[str, dict[str, object]]:
    return {"queue": queue_figures.kpis(queue_sums), "cases": case_figures.kpis(case_sums)}


def comparison(now: dict[str, dict[str, object]], before: dict[str, dict[str, object]]) -> list[dict[str, Any]]:
    rows = []
    for message, source, key, is_share in MEASURES:
        shown = share if is_share else number
        this, last = now[source][key], before[source][key]
        rows.append(
            {
                "words": both(message),
                "now": shown(this),
                "before": shown(last),
                "change": change(this, last, is_share=is_share),
            }
        )
    return rows


def worst_items(lines: Sequence[Any]) -> list[dict[str, Any]]:
    """Items with completed cases, lowest on-time rate first (then most late, then slowest)."""
    found = [(line, case_figures.kpis(line.sums)) for line in lines if line.sums["completed"]]
    found.sort(key=lambda pair: (pair[1]["on_time_rate"], -pair[0].sums["late"], pair[1]["speed_up"] or 0.0))
    return [
        {
            "words": line.label,
            "completed": kpi["completed"],
            "late": kpi["late"],
            "on_time_rate": share(kpi["on_time_rate"]),
            "speed_up": share(kpi["speed_up"]),
        }
        for line, kpi in found[:WORST]
    ]


def counter_words(key: str, hall_names: Mapping[int, Words]) -> Words:
    """A counter named by its hall and number (``hall:number`` in the statistics' keys)."""
    hall, _, counter = key.partition(":")
    zh, en = hall_names.get(int(hall), (hall, hall))
    return (f"{zh} {counter}号窗口", f"{en}, counter {counter}")


def worst_counters(lines: Sequence[Any], hall_names: Mapping[int, Words]) -> list[dict[str, Any]]:
    """Counters that waits or ratings were counted at, lowest service level first, then lowest
    satisfaction; a counter with no waits or no ratings sorts after those with them."""
    # Counter 0 holds the tickets issued and not yet called: no counter to name.
    found = [
        (line, queue_figures.kpis(line.sums))
        for line in lines
        if not line.key.endswith(":0")
        and (line.sums["wait_count"] or any(line.sums[f"rated_{n}"] for n in range(1, 6)))
    ]

    def order(pair: tuple[Any, dict[str, object]]) -> tuple[float, float]:
        level, satisfied = pair[1]["service_level"], pair[1]["satisfaction"]
        return (
            level if isinstance(level, float) else 2.0,
            satisfied if isinstance(satisfied, float) else 2.0,
        )

    found.sort(key=order)
    return [
        {
            "words": counter_words(line.key, hall_names),
            "served": kpi["served"],
            "wait_mean": number(kpi["wait_mean_minutes"]),
            "service_level": share(kpi["service_level"]),
            "satisfaction": share(kpi["satisfaction"]),
        }
        for line, kpi in found[:WORST]
    ]


def spans(first: date, today: date) -> tuple[date, date, date, bool]:
    """The days of the month ``first`` the report counts and those of the previous month it is
    compared with: ``(through, before_first, before_last, to_date)``. The month still under way
    counts up to ``today`` and is compared with the same days of the previous month (to that
    month's end, when it is shorter); a month that is over, with the whole previous month."""
    last = month_end(first)
    before = previous_month(first)
    if not first <= today <= last:
        return last, before, month_end(before), False
    return today, before, min(before + (today - first), month_end(before)), True


def day_words(day: date) -> Words:
    return f"{day.month}月{day.day}日", f"{day.day} {day.strftime('%B')}"


def to_date_words(first: date, through: date, before_first: date, before_last: date) -> Words:
    """The note on a month still under way: how far it counts, and what it is compared with."""
    zh, en = both(
        N_("Month to date: {first} to {through}, compared with the same days of the previous month, {start} to {end}.")
    )
    days = [day_words(day) for day in (first, through, before_first, before_last)]
    names = ("first", "through", "start", "end")
    return (
        zh.format(**{name: words[0] for name, words in zip(names, days, strict=True)}),
        en.format(**{name: words[1] for name, words in zip(names, days, strict=True)}),
    )


async def _report(
    conn: AsyncConnection, hall_id: int, first: date, items: Mapping[str, Words], today: date
) -> dict[str, Any]:
    last = month_end(first)
    through, before, before_last, to_date = spans(first, today)
    scope = await hall_scope(conn, hall_id)
    queue_now = await statistics(conn, scope, first, through, by="day", group="counter")
    queue_halls = await statistics(conn, scope, first, through, by="month", group="hall")
    queue_before = await statistics(conn, scope, before, before_last, by="month", group="service")
    cases_now = await case_statistics(conn, scope, first, through, by="day", group="item", items=items)
    cases_halls = await case_statistics(conn, scope, first, through, by="month", group="hall")
    cases_before = await case_statistics(conn, scope, before, before_last, by="month", group="item")
    names = {
        row.id: (row.name, row.name_en or row.name)
        for row in await conn.execute(select(halls.c.id, halls.c.name, halls.c.name_en).where(halls.c.id.in_(scope)))
    }
    queue_by_hall = {line.key: line.sums for line in queue_halls.groups}
    cases_by_hall = {line.key: line.sums for line in cases_halls.groups}
    hall_rows = []
    for member in scope:
        kpi = _kpis(
            queue_by_hall.get(str(member), queue_figures.empty_sums()),
            cases_by_hall.get(str(member), case_figures.empty_sums()),
        )
        hall_rows.append(
            {
                "words": names.get(member, (str(member), str(member))),
                "arrived": number(kpi["queue"]["arrived"]),
                "served": number(kpi["queue"]["served"]),
                "service_level": share(kpi["queue"]["service_level"]),
                "satisfaction": share(kpi["queue"]["satisfaction"]),
                "accepted": number(kpi["cases"]["accepted"]),
                "completed": number(kpi["cases"]["completed"]),
                "on_time_rate": share(kpi["cases"]["on_time_rate"]),
                "speed_up": share(kpi["cases"]["speed_up"]),
                "case_rated": number(kpi["cases"]["rated"]),
                "case_satisfaction": share(kpi["cases"]["satisfaction"]),
            }
        )
    now_kpis = _kpis(queue_now.total, cases_now.total)
    days = [first + timedelta(days=n) for n in range((through - first).days + 1)]
    queue_days = {line.key: line.sums for line in queue_now.periods}
    case_days = {line.key: line.sums for line in cases_now.periods}
    chart = {
        "days": [f"{d.day}" for d in days],
        "arrived": [queue_days.get(d.isoformat(), {}).get("arrived", 0) for d in days],
        "served": [queue_days.get(d.isoformat(), {}).get("served", 0) for d in days],
        "accepted": [case_days.get(d.isoformat(), {}).get("accepted", 0) for d in days],
        "completed": [case_days.get(d.isoformat(), {}).get("completed", 0) for d in days],
        # Each item by its name, in the reader's language; the code stays in the tables.
        "items": [label(items.get(line.key, line.label)) for line in cases_now.groups if line.sums["completed"]],
        "on_time": [
            round(line.sums["on_time"] / line.sums["completed"] * 100, 1)
            for line in cases_now.groups
            if line.sums["completed"]
        ],
    }
    daily: list[dict[str, Any]] = [
        {
            "day": day,
            "arrived": queue_days.get(day.isoformat(), {}).get("arrived", 0),
            "served": queue_days.get(day.isoformat(), {}).get("served", 0),
            "accepted": case_days.get(day.isoformat(), {}).get("accepted", 0),
            "completed": case_days.get(day.isoformat(), {}).get("completed", 0),
        }
        for day in days
    ]
    on_time_rows = [
        {
            "words": line.label,
            "completed": line.sums["completed"],
            "on_time_rate": f"{line.sums['on_time'] / line.sums['completed'] * 100:.1f}%",
        }
        for line in cases_now.groups
        if line.sums["completed"]
    ]
    return {
        "hall_words": names.get(hall_id, (str(hall_id), str(hall_id))),
        "first": first,
        "last": last,
        "through": through,
        "to_date": to_date_words(first, through, before, before_last) if to_date else None,
        "before": before,
        "daily": daily,
        "on_time_rows": on_time_rows,
        "next": month_end(first) + timedelta(days=1),
        "compare": comparison(now_kpis, _kpis(queue_before.total, cases_before.total)),
        "halls": hall_rows,
        "several": len(scope) > 1,
        "worst_items": worst_items(cases_now.groups),
        "worst_counters": worst_counters(queue_now.groups, names),
        "chart": chart,
    }


_WORDS = {
    "title": N_("Monthly report"),
    "print": N_("Print"),
    "previous": N_("Previous month"),
    "next": N_("Next month"),
    "back": N_("Statistics"),
    "summary": N_("The month in figures"),
    "measure": N_("Measure"),
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "month_to_date": N_("Month to date"),
    "same_days": N_("Same days last month"),
    "day": N_("Day"),
    "change": N_("Change"),
    "halls": N_("By hall"),
    "hall": N_("Hall"),
    "arrived": N_("Arrived"),
    "served": N_("Served"),
    "service_level": N_("Service level"),
    "satisfaction": N_("Satisfaction"),
    "accepted": N_("Cases accepted"),
    "completed": N_("Cases completed"),
    "late": N_("Completed late"),
    "on_time_rate": N_("On-time rate"),
    "speed_up": N_("Speed-up"),
    "case_rated": N_("Case ratings"),
    "case_satisfaction": N_("Case satisfaction"),
    "charts": N_("Day by day"),
    "daily_queue": N_("Arrivals and services by day"),
    "daily_cases": N_("Cases accepted and completed by day"),
    "on_time_by_item": N_("On-time rate by service item"),
    "worst_items": N_("Service items with the lowest on-time rate"),
    "worst_counters": N_("Counters with the lowest service level and satisfaction"),
    "item": N_("Service item"),
    "counter": N_("Counter"),
    "wait_mean": N_("Mean wait (min)"),
    "nothing": N_("Nothing was counted in this period."),
    "notes": N_(
        "Service level: waits within their service's target. Satisfaction: ratings of basically satisfied or better. "
        "On-time rate: completed before the due time, of completed cases. Speed-up: the mean share of the "
        "promised working time saved. Case satisfaction: residents' online ratings of completed cases, basically "
        "satisfied or better, counted at the hall that accepted the case."
    ),
    "made": N_("Made"),
}


@guarded(Access.staff(Role.SUPERVISOR), page=True)
async def monthly_report(request: Request) -> Response:
    """月度工作简报: a month of a hall (and the halls below it), print-ready on A4."""
    hall_id: int = request.path_params["hall"]
    first = month_of(request.path_params["month"])
    if first is None:
        return error_page(request, 404, _("No such month: give it as yyyy-mm."))
    runtime = runtime_of(request)
    today = datetime.now(runtime.settings.zone).date()
    async with reading(runtime.engine) as conn:
        known = (await conn.execute(select(halls.c.id).where(halls.c.id == hall_id))).one_or_none()
        if known is None:
            return error_page(request, 404, _("No such hall."))
        report = await _report(conn, hall_id, first, item_words(runtime.catalog), today)
    words = {key: both(message) for key, message in _WORDS.items()}
    made = datetime.now(runtime.settings.zone).strftime("%Y-%m-%d %H:%M")
    context = {"hall_id": hall_id, "words": words, "made": made, **report}
    return render(request, "monthly_report.html", context)
