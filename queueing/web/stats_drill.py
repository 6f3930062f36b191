"""The statistics page's drill-down, rendered by the server: where the view stands (its crumbs,
district → hall → department → counter → clerk), the table of its groups with a link one level
down on each row, and at the end the tickets themselves, their times in the hall's zone and their
applicant masked as everywhere but the case record.

A level down keeps the period and the narrowing so far: ``hall`` rows open that hall's page by
department, ``department`` rows its counters, ``counter`` rows their clerks, ``clerk`` rows that
clerk's own figures and tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.i18n import N_, _
from hall.kernel.roles import within
from hall.storage.directory import hall_tree
from hall.storage.queue_tables import queue_services
from hall.storage.tables import departments, halls, staff
from queueing.figures import kpis
from queueing.statistics import NO_DEPARTMENT, Line, Stats, TicketLine
from queueing.stats_export import COLUMNS, GROUP_HEADS

# The few figures of the table beside the groups' chart: (message id, KPI name).
BRIEF = (
    (N_("Calls"), "called"),
    (N_("Served"), "served"),
    (N_("90% of waits within (min)"), "wait_p90_minutes"),
    (N_("Service level"), "service_level"),
)
_SHARES = {"service_level", "no_show_rate", "satisfaction"}
_STATES = {
    "waiting": N_("Still waiting"),
    "called": N_("Called, not yet served"),
    "serving": N_("Being served"),
    "done": N_("Finished"),
    "no_show": N_("Missed"),
    "held": N_("On hold"),
    "cancelled": N_("Cancelled"),
    "closed": N_("Closed at day end"),
}
# What a click on a row of each grouping opens: the grouping one level down.
NEXT = {"hall": "department", "department": "counter", "counter": "clerk", "clerk": "clerk"}


def shown(value: object, *, share: bool = False) -> str:
    if value is None:
        return "—"
    if share and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    return str(value)


def _link(hall_id: int, query: dict[str, str]) -> str:
    return f"/stats/{hall_id}?{urlencode(query)}"


async def drill_context(
    conn: AsyncConnection,
    hall: Any,
    scope: Sequence[int],
    found: Stats,
    tickets: Sequence[TicketLine],
    zone: tzinfo,
    label: Callable[[Line], str],
    home: int | None = None,
) -> dict[str, Any]:
    """What the page's template needs of the drill-down (see the module's docstring). ``home`` is
    the viewer's own hall: a hall above it is named in the crumbs, not linked (it may not open it)."""
    narrowing = found.narrowing
    base = {"from": found.first.isoformat(), "to": found.last.isoformat(), "by": found.by}
    kept: dict[str, str] = {}
    crumbs: list[dict[str, str | None]] = []
    tree = await hall_tree(conn)
    parent = tree.get(hall.id)
    if parent is not None:
        name = (await conn.execute(select(halls.c.name).where(halls.c.id == parent))).scalar_one()
        reach = home is None or within(parent, home, tree)
        crumbs.append({"label": name, "href": _link(parent, {**base, "group": "hall"}) if reach else None})
    crumbs.append({"label": hall.name, "href": _link(hall.id, {**base, "group": "department"})})
    if narrowing.department == NO_DEPARTMENT:
        kept["department"] = NO_DEPARTMENT
        href = _link(hall.id, {**base, **kept, "group": "counter"})
        crumbs.append({"label": _("No department"), "href": href})
    elif narrowing.department is not None:
        kept["department"] = narrowing.department
        name = (
            await conn.execute(
                select(departments.c.name).where(
                    departments.c.hall_id.in_(list(scope)), departments.c.code == narrowing.department
                )
            )
        ).scalar()
        href = _link(hall.id, {**base, **kept, "group": "counter"})
        crumbs.append({"label": name or narrowing.department, "href": href})
    if narrowing.counter is not None:
        kept["counter"] = f"{narrowing.counter[0]}:{narrowing.counter[1]}"
        words = _("Counter {number}").replace("{number}", str(narrowing.counter[1]))
        crumbs.append({"label": words, "href": _link(hall.id, {**base, **kept, "group": "clerk"})})
    if narrowing.clerk is not None:
        kept["clerk"] = str(narrowing.clerk)
        name = (await conn.execute(select(staff.c.display_name).where(staff.c.id == narrowing.clerk))).scalar()
        crumbs.append({"label": name or str(narrowing.clerk), "href": None})
    else:
        crumbs[-1]["href"] = None

    # A clerk's own view is the last level: its rows lead nowhere further.
    drills = found.group in NEXT and not (found.group == "clerk" and narrowing.clerk is not None)

    def down(line: Line) -> str | None:
        if found.group == "department" and line.key == "" and drills:
            # The counters of no department (and arrivals at none): their counters one level down,
            # if any counter of theirs worked (arrivals alone lead to no counter).
            if not any(count for name, count in line.sums.items() if name != "arrived"):
                return None
            return _link(hall.id, {**base, **kept, "department": NO_DEPARTMENT, "group": "counter"})
        if not drills or line.key in ("", "0") or line.key.endswith(":0"):
            return None
        if found.group == "hall":
            return _link(int(line.key), {**base, "group": "department"})
        return _link(hall.id, {**base, **kept, found.group: line.key, "group": NEXT[found.group]})

    rows = []
    for line in found.groups:
        kpi = kpis(line.sums)
        rows.append(
            {
                "key": line.key,
                "label": label(line),
                "href": down(line),
                "brief": [shown(kpi[name], share=name in _SHARES) for _, name in BRIEF],
                "full": [shown(column.value(kpi), share=column.share) for column in COLUMNS],
            }
        )
    total = kpis(found.total)
    return {
        "kept": kept,
        "crumbs": crumbs,
        "group_head": _(GROUP_HEADS[found.group]),
        "brief_heads": [_(message) for message, _name in BRIEF],
        "columns": [_(column.label) for column in COLUMNS],
        "rows": rows,
        "total_brief": [shown(total[name], share=name in _SHARES) for _, name in BRIEF],
        "total_full": [shown(column.value(total), share=column.share) for column in COLUMNS],
        "drills": drills,
        "to_tickets": narrowing.to_tickets,
        "tickets": await _tickets(conn, scope, tickets, zone),
    }


async def service_names(conn: AsyncConnection, scope: Sequence[int]) -> dict[str, str]:
    """Each service code's name in the halls of ``scope`` (the first hall's where they differ)."""
    names: dict[str, str] = {}
    query = select(queue_services.c.code, queue_services.c.name).where(queue_services.c.hall_id.in_(list(scope)))
    for code, name in await conn.execute(query.order_by(queue_services.c.hall_id)):
        names.setdefault(code, name)
    return names


def state_words(state: str) -> str:
    """A ticket's state as the page says it (the message id; the page translates it)."""
    return _STATES.get(state, state)


async def _tickets(
    conn: AsyncConnection, scope: Sequence[int], tickets: Sequence[TicketLine], zone: tzinfo
) -> list[dict[str, str]]:
    if not tickets:
        return []
    names = await service_names(conn, scope)
    several_days = len({t.issued_at.astimezone(zone).date() for t in tickets}) > 1
    clock = "%m-%d %H:%M" if several_days else "%H:%M"

    def at(moment: Any) -> str:
        return moment.astimezone(zone).strftime(clock) if moment is not None else "—"

    def minutes(seconds: int | None) -> str:
        return "—" if seconds is None else f"{seconds / 60:.1f}"

    return [
        {
            "number": t.number,
            "service": names.get(t.service, t.service),
            "state": _(_STATES.get(t.state, t.state)),
            "issued": at(t.issued_at),
            "called": at(t.called_at),
            "finished": at(t.finished_at),
            "wait": minutes(t.wait_seconds),
            "served": minutes(t.service_seconds),
            "applicant": t.applicant or "—",
        }
        for t in tickets
    ]
