"""Who is at a counter, for the clerk serving there: the ID card read at its reader, and the
holder of the ticket at the counter. Personal data, so only the clerk holding the counter (and,
for the card, a supervisor) gets it, never cached by a browser or proxy."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hall.kernel.i18n import N_
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.web.access import guarded, member_of
from hall.web.problems import Problem, problem
from hall.web.responses import JSONResponse
from queueing.state import QueueState


async def _counter_state(request: Request, *, supervisor_too: bool) -> QueueState:
    """The hall's queue, if the person asking holds the counter in the path (or, where a
    supervisor may look too, supervises): what a counter's personal data is shown to."""
    found = await runtime_of(request).writer.read_state(request.path_params["hall"], "queue")
    state: QueueState | None = None if found is None else found[1]
    number = request.path_params["number"]
    if state is None or number not in state.counters:
        raise Problem(404, "not_found", N_("no such counter"))
    member = member_of(request)
    if (supervisor_too and member.has(Role.SUPERVISOR)) or state.counters[number].clerk_id == member.id:
        return state
    raise Problem(
        403, "forbidden", N_("only the clerk at counter {counter} sees who is served there"), say={"counter": number}
    )


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def counter_holder(request: Request) -> Response:
    """
    summary: Who holds the ticket at this counter - for the clerk serving it, to fill the intake form.
    description: >
      A ticket taken with an ID card carries its holder; the clerk holding the counter gets the
      name and full number once the ticket is theirs, as from a card read at the counter.
    responses:
      200: {description: the holder}
      403: {description: the counter is held by someone else}
      404: {description: "no ticket at the counter, or one taken without an ID card"}
    """
    state = await _counter_state(request, supervisor_too=False)
    number = request.path_params["number"]
    line = state.lines.get(number)
    ticket = state.tickets.get(line.current) if line is not None and line.current else None
    if ticket is None or ticket.applicant is None:
        return problem(
            404,
            "not_found",
            N_("the ticket at counter {counter} was taken without an ID card"),
            say={"counter": number},
        )
    holder = {"ticket": ticket.id, "name": ticket.applicant.name, "id_number": ticket.applicant.id_number}
    return JSONResponse(holder, headers={"cache-control": "no-store"})


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def counter_card(request: Request) -> Response:
    """
    summary: The ID card read at a counter in the last 2 minutes - name and masked number.
    description: >
      For the clerk holding the counter, or a supervisor. ``?take=1`` hands over the full number
      once, for the intake form; the card is then forgotten.
    parameters:
      - {name: take, in: query, schema: {type: integer, enum: [1]}}
    responses:
      200: {description: the card}
      403: {description: the counter is held by someone else}
      404: {description: "no card read there lately, or no such counter"}
    """
    await _counter_state(request, supervisor_too=True)  # refuses a counter that is not theirs
    number = request.path_params["number"]
    side = runtime_of(request).devices
    hall_id = request.path_params["hall"]
    take = request.query_params.get("take") == "1"
    card = None
    if side is not None:
        card = side.gateway.cards.take_card(hall_id, number) if take else side.gateway.cards.card_at(hall_id, number)
    if card is None:
        return problem(
            404,
            "not_found",
            N_("no ID card was read at counter {counter} in the last 2 minutes"),
            say={"counter": number},
        )
    if take:
        shown = {"counter": card.counter, "name": card.name, "id_number": card.id_number, **card.extra}
    else:
        shown = card.masked()
    # Personal data: never kept by a browser cache or a proxy.
    return JSONResponse(
        {**shown, "read_at": card.read_at.isoformat(), "masked": not take, "taken": take},
        headers={"cache-control": "no-store"},
    )
