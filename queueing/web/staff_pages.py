"""The queue's staff pages: the live wallboard, the counter picker, the clerk's counter console and
the citizen-facing second screen of a counter (一机双屏). Apart from the public screens because
only the hall's staff open them (the citizen screen too: the clerk's second monitor), and they may
show who staffs a counter and who holds a ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from cases.light_words import LIGHT_SIGNS
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access, Role, within
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.directory import hall_tree
from hall.storage.tables import halls
from hall.web.access import guarded, member_of, staff_of
from hall.web.templating import error_page, render
from queueing.state import QueueState, Rules
from queueing.web.hall_queue import hall_and_queue
from queueing.web.wallboard_words import wallboard_words

_STATUS_LABELS = {"open": N_("Open"), "paused": N_("Paused"), "closed": N_("Closed")}

# The stages of a case still in the office's hands: what the light counts count (cases.board).
_OPEN_STAGES = "accepted,review,approval"


@guarded(Access.staff(Role.SUPERVISOR), page=True)
async def wallboard(request: Request) -> Response:
    """The hall's wallboard; a hall with halls below it (a district, a street) adds a row of tiles
    for each of them, live from their own topics, each a link into that hall's board."""
    hall_id = request.path_params["hall"]
    runtime = runtime_of(request)
    async with reading(runtime.engine) as conn:
        row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
        parents = await hall_tree(conn)
        below_ids = sorted(h for h in parents if h != hall_id and within(h, hall_id, parents))
        below = (
            (await conn.execute(select(halls).where(halls.c.id.in_(below_ids)).order_by(halls.c.id))).all()
            if below_ids
            else []
        )
    if row is None:
        return error_page(request, 404, _("No such hall."))
    assert staff_of(request) is not None
    today = datetime.now(UTC).astimezone(runtime.settings.zone).date()
    context = {
        "hall": row,
        "script_words": wallboard_words(),
        "signs": LIGHT_SIGNS,
        "below": below,
        "open_stages": _OPEN_STAGES,
        # The ledger's query spans at most a year: a light count links to the year up to today.
        "year_ago": (today - timedelta(days=365)).isoformat(),
        "today": today.isoformat(),
        "pause_limit": await _pause_limit(request, hall_id),
        # The server's clock as the page is made: the board's times in state tick from it, not
        # from the screen's own clock (a snapshot may be a cached one, older than its delivery).
        "server_now": datetime.now(UTC).isoformat(),
    }
    return render(request, "wallboard.html", context)


async def _pause_limit(request: Request, hall_id: int) -> int:
    found = await runtime_of(request).writer.read_state(hall_id, "queue")
    state = found[1] if found is not None else None
    return state.rules.pause_limit_minutes if isinstance(state, QueueState) else Rules().pause_limit_minutes


def _service_name(state: QueueState, code: str) -> str:
    service = state.services.get(code)
    if service is None:
        return code
    return service.name_en if _locale.get() == "en" and service.name_en else service.name


async def _counter_page(request: Request, template: str) -> Response:
    found = await hall_and_queue(request)
    row, state = found
    number = request.path_params["number"]
    counter = state.counters.get(number)
    if counter is None:
        return error_page(request, 404, _("No such counter."))
    member = member_of(request)
    context = {
        "hall": row,
        "counter": counter,
        "me": member,
        "is_supervisor": member.has(Role.SUPERVISOR),
        "hold_minutes": state.rules.hold_minutes,
        "aspects": state.rules.rating_aspects,
        # A supervisor at the console follows up the counter's 一事一评 work orders there too.
        "order_words": wallboard_words() if member.has(Role.SUPERVISOR) else {},
    }
    return render(request, template, context)


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def counter_picker(request: Request) -> Response:
    """The hall's counters, each with a link to its console and to its citizen screen."""
    found = await hall_and_queue(request)
    row, state = found
    listed = [
        {
            "number": number,
            "name": counter.name or str(number),
            "status": counter.status.value,
            "status_label": _STATUS_LABELS[counter.status.value],
            "services": [_service_name(state, code) for code, _w in state.line(number).services],
        }
        for number, counter in sorted(state.counters.items())
    ]
    return render(request, "counters.html", {"hall": row, "counters": listed})


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def counter_console(request: Request) -> Response:
    """The clerk's console: the counter's state, its current ticket, its line, and the actions."""
    return await _counter_page(request, "counter.html")


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def citizen_screen(request: Request) -> Response:
    """The counter's second screen, turned to the resident: who serves them, their number, a rating."""
    return await _counter_page(request, "citizen.html")
