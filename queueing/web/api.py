"""The queue's JSON API: taking tickets, the clerk's counter actions, and what screens read."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from devices.kinds import Card
from hall.kernel.events import Command, repeat_key
from hall.kernel.i18n import N_
from hall.kernel.idnumbers import InvalidIdNumber, normalise
from hall.kernel.masking import mask_id, mask_phone
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import commands
from hall.web.access import guarded, member_of, staff_of
from hall.web.api import command_body, json_body, submit
from hall.web.problems import Problem, problem
from hall.web.render import public_site
from hall.web.responses import JSONResponse
from hall.web.screen_keys import KEY_HEADER, valid_key
from queueing.commands import AT_COUNTER, ON_TICKET
from queueing.paper import ticket_print
from queueing.state import QueueState
from queueing.views import counter_view, public_view, ticket_status


def _action(command: str) -> str:
    """The URL name of a command: ``ticket.call_next`` is ``call-next``."""
    return command.partition(".")[2].replace("_", "-")


# What the counter and ticket URLs offer: the queue's commands (queueing.commands) addressed to a
# counter and to a ticket.
COUNTER_ACTIONS = {_action(name): name for name in AT_COUNTER}
# Arguments each action takes from the request body, with their JSON types.
_ARGS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "pause": {"reason": str},
    "call": {"ticket": str},
    "finish": {"follow_on": str},
    "transfer": {"to_service": str, "to_counter": int, "front": bool},
    "hold": {"minutes": int},
}
TICKET_ACTIONS = {_action(name): name for name in ON_TICKET}
ISSUE_PER_MINUTE = 30


async def _queue_state(request: Request) -> QueueState | None:
    found = await runtime_of(request).writer.read_state(request.path_params["hall"], "queue")
    return None if found is None else found[1]


def _args(action: str, data: dict[str, Any]) -> dict[str, Any]:
    allowed = _ARGS.get(action, {})
    args: dict[str, Any] = {}
    for name, kind in allowed.items():
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Problem(422, "invalid", N_("{field} has the wrong type"), field=name)
        args[name] = value
    return args


@guarded(Access.anyone())
async def queue_view(request: Request) -> Response:
    """
    summary: The hall's queue as residents see it - services with people waiting and the estimated wait, counters.
    responses:
      200: {description: the public view}
      404: {description: no such hall}
    """
    state = await _queue_state(request)
    if state is None:
        return problem(404, "not_found", N_("no such hall"))
    return JSONResponse(public_view(state, datetime.now(UTC)))


@guarded(Access.anyone())
async def issue_ticket(request: Request) -> Response:
    """
    summary: Take a ticket for a service (the kiosk's button). A repeated command_id returns the same ticket.
    description: >
      Anyone may take a ticket of a priority class the hall lets its kiosks offer (its queue rules'
      kiosk_priorities; by default normal, elderly, disabled, military, shown at the counter). An
      appointment, and any class the hall leaves out, is granted to staff and registered devices
      only: an anonymous request for it is refused with priority_not_offered.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [service]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              service: {type: string}
              priority: {type: string, enum: [normal, appointment, elderly, disabled, military]}
              appointment_at: {type: string, format: date-time}
              reader:
                type: string
                description: the ID reader beside this kiosk, whose card names the applicant (key in X-Screen-Key)
    responses:
      200: {description: "the ticket, people ahead, the estimated wait, and whether no open counter serves it"}
      403: {description: "a priority class this kiosk does not offer (an appointment comes from staff or a device)"}
      409: {description: "closed, sold out, no open counter (where the hall refuses then), or not allowed"}
      429: {description: too many tickets from this kiosk}
    """
    runtime = runtime_of(request)
    client = request.client.host if request.client else "unknown"
    now = time.monotonic()
    if runtime.issue_limit.blocked(client, now):
        return problem(429, "rate_limited", N_("too many tickets from here; wait a minute"))
    data, command_id = await command_body(request)
    args: dict[str, Any] = {k: data[k] for k in ("service", "priority", "appointment_at") if k in data}
    member = staff_of(request)
    if "applicant" in data:
        # Taking a ticket in someone's name is for staff (a guide at the door) and, later, for
        # registered ID-card readers: a public kiosk endpoint must not let anyone block a
        # person's "one live ticket per ID" with their number.
        if member is None:
            return problem(403, "forbidden", N_("tickets in an applicant's name come from staff or an ID-card reader"))
        applicant = data["applicant"]
        if not isinstance(applicant, dict) or not isinstance(applicant.get("name"), str):
            return problem(422, "invalid", N_("applicant needs a name and an id_number"), field="applicant")
        try:
            number = normalise(str(applicant.get("id_number", "")))
        except InvalidIdNumber as exc:
            return problem(422, exc.code, exc.text, field="applicant.id_number")
        args["applicant"] = {"name": applicant["name"].strip()[:50], "id_number": number}
    actor = member.actor if member else f"kiosk:{client}"
    hall_id: int = request.path_params["hall"]
    if "reader" in data and "applicant" not in data:
        # The ID reader beside a kiosk read a card: the ticket is the card holder's. The page never
        # sees the number; the card is taken once, so a second press is an ordinary ticket.
        try:
            taken = _reader_card(request, data["reader"])
        except Problem:
            # A resend finds its first answer without the card.
            if not await _seen(request, repeat_key(hall_id, "ticket.issue", actor, command_id)):
                raise
        else:
            args["applicant"] = {"name": taken.name, "id_number": taken.id_number}
    runtime.issue_limit.fail(client, now)
    command = Command(command_id, hall_id, "ticket.issue", actor, args)
    return await submit(request, command)


@guarded(Access.anyone())
async def ticket_view(request: Request) -> Response:
    """
    summary: One ticket's status (state, people ahead, estimate, counter) - what its QR code shows.
    responses:
      200: {description: the ticket}
      404: {description: no live ticket with that id}
    """
    state = await _queue_state(request)
    found = ticket_status(state, request.path_params["ticket"], datetime.now(UTC)) if state else None
    if found is None:
        return problem(404, "not_found", N_("no live ticket with that id"))
    return JSONResponse(found)


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def ticket_action(request: Request) -> Response:
    """
    summary: Re-queue a late no-show, or cancel a waiting ticket.
    responses:
      200: {description: the ticket after the change}
    """
    action = request.path_params["action"]
    if action not in TICKET_ACTIONS:
        return problem(404, "not_found", N_("unknown ticket action '{action}'"), say={"action": action})
    _, command_id = await command_body(request)
    member = member_of(request)
    args = {"ticket": request.path_params["ticket"]}
    return await submit(
        request, Command(command_id, request.path_params["hall"], TICKET_ACTIONS[action], member.actor, args)
    )


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def counter_state(request: Request) -> Response:
    """
    summary: A counter's console view - its state, current ticket, waiting list, held tickets.
    responses:
      200: {description: the counter view}
      404: {description: no such counter}
    """
    state = await _queue_state(request)
    number = request.path_params["number"]
    if state is None or number not in state.counters:
        return problem(404, "not_found", N_("no such counter"))
    return JSONResponse(counter_view(state, number, datetime.now(UTC)))


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def counter_action(request: Request) -> Response:
    """
    summary: A clerk's action at a counter.
    description: >
      open, pause, resume, close, call-next, call, recall, start, finish, no-show, transfer,
      transfer-back, hold.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              reason: {type: string, maxLength: 200}
              ticket: {type: string}
              follow_on: {type: string}
              to_service: {type: string}
              to_counter: {type: integer}
              front: {type: boolean}
              minutes: {type: integer}
    responses:
      200: {description: "the result, with the sequence number of the last event"}
      403: {description: the counter is held by another clerk}
      409: {description: not allowed from the current state}
    """
    action = request.path_params["action"]
    if action not in COUNTER_ACTIONS:
        return problem(404, "not_found", N_("unknown counter action '{action}'"), say={"action": action})
    data, command_id = await command_body(request)
    args = _args(action, data)
    member = member_of(request)
    args.update(counter=request.path_params["number"], clerk=member.id, supervisor=member.has(Role.SUPERVISOR))
    command = Command(command_id, request.path_params["hall"], COUNTER_ACTIONS[action], member.actor, args)
    return await submit(request, command)


async def _seen(request: Request, key: str) -> bool:
    """Whether the writer keeps a first result under this repeat key (``Command.key``)."""
    async with reading(runtime_of(request).engine) as conn:
        found = await conn.execute(select(commands.c.id).where(commands.c.id == key))
        return found.first() is not None


def _reader_card(request: Request, reader: Any) -> Card:
    """The card the reader beside a kiosk holds, taken once; raises ``Problem`` for an unknown
    reader (404) or an empty one (409)."""
    side = runtime_of(request).devices
    hall_id = request.path_params["hall"]
    if (
        side is None
        or not isinstance(reader, str)
        or not _is_the_kiosk(request, hall_id, reader)
        or side.gateway.known.kiosk_reader(hall_id, reader) is None
    ):
        raise Problem(
            404, "not_found", N_("no ID reader of this hall stands beside a kiosk with that id"), field="reader"
        )
    card: Card | None = side.gateway.cards.take_card_of(reader)
    if card is None:
        raise Problem(409, "no_card", N_("no ID card was read: put the card on the reader first"), field="reader")
    return card


def _is_the_kiosk(request: Request, hall_id: int, reader: str) -> bool:
    """Whether the caller is the kiosk the reader stands beside (``hall.web.screen_keys``): anyone else
    is told, as for a reader that does not exist, that there is none."""
    secret = runtime_of(request).settings.secret_key
    return valid_key(secret, hall_id, reader, request.headers.get(KEY_HEADER))


@guarded(Access.anyone())
async def reader_status(request: Request) -> Response:
    """
    summary: Whether the ID reader beside a kiosk holds a card just read, and the holder's masked name.
    description: >-
      For the kiosk screen ("张* · please choose a service"); never the ID number. Only the kiosk
      beside the reader may ask: it sends the key from its address in the X-Screen-Key header.
    responses:
      200: {description: '{"card": false} or {"card": true, "name": "张*"}'}
      404: {description: no such reader beside a kiosk in this hall}
    """
    side = runtime_of(request).devices
    hall_id = request.path_params["hall"]
    reader = request.path_params["reader"]
    if (
        side is None
        or not _is_the_kiosk(request, hall_id, reader)
        or side.gateway.known.kiosk_reader(hall_id, reader) is None
    ):
        return problem(404, "not_found", N_("no ID reader of this hall stands beside a kiosk with that id"))
    card = side.gateway.cards.card_of(reader)
    return JSONResponse(card.public() if card else {"card": False})


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def check_id_number(request: Request) -> Response:
    """
    summary: Check a resident ID number's GB 11643 check digit and birth date, for a form being filled.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [id_number]
            properties:
              id_number: {type: string, maxLength: 32}
    responses:
      200: {description: '{"valid": true, "masked": "110***********002X"} or {"valid": false, "message": ...}'}
    """
    data = await json_body(request)
    raw = data.get("id_number")
    if not isinstance(raw, str) or len(raw) > 32:
        return problem(422, "invalid", N_("id_number must be text of at most 32 characters"), field="id_number")
    try:
        number = normalise(raw)
    except InvalidIdNumber as exc:
        return JSONResponse({"valid": False, "message": exc.said()})
    return JSONResponse({"valid": True, "masked": mask_id(number)})


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def mask_phone_number(request: Request) -> Response:
    """
    summary: A phone number as screens other than the case record show it (138****5678).
    description: >
      For the citizen screen beside a counter, which shows the number being typed masked: the
      browser never masks for itself, so every screen keeps hall.kernel.masking's one rule.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [phone]
            properties:
              phone: {type: string, maxLength: 32}
    responses:
      200: {description: '{"masked": "138****5678"}'}
    """
    data = await json_body(request)
    raw = data.get("phone")
    if not isinstance(raw, str) or len(raw) > 32:
        return problem(422, "invalid", N_("phone must be text of at most 32 characters"), field="phone")
    return JSONResponse({"masked": mask_phone(raw)}, headers={"cache-control": "no-store"})


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def rate(request: Request) -> Response:
    """
    summary: Rate a finished service from the citizen screen (一事一评).
    description: GB/T 39734-2020 levels, 5 非常满意 … 1 非常不满意. Levels 1 and 2 open a work order.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [ticket, service, level]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              ticket: {type: string}
              service: {type: string}
              level: {type: integer, minimum: 1, maximum: 5}
              aspects: {type: object, additionalProperties: {type: integer, minimum: 1, maximum: 5}}
              comment: {type: string, maxLength: 300}
    responses:
      200: {description: "the rating, and the work order an unsatisfied rating opened"}
      404: {description: "not finished here, or rated already"}
    """
    data, command_id = await command_body(request)
    member = member_of(request)
    args: dict[str, Any] = {k: data[k] for k in ("ticket", "service", "level", "aspects", "comment") if k in data}
    args["source"] = "citizen_screen"
    # The citizen screen runs in the serving clerk's own session: the rule lets only that clerk's
    # screen rate the ticket.
    args["served_by"] = member.id
    return await submit(request, Command(command_id, request.path_params["hall"], "rating.submit", member.actor, args))


@guarded(Access.staff(Role.SUPERVISOR))
async def work_orders(request: Request) -> Response:
    """
    summary: Open work orders from unsatisfied ratings, with their due dates.
    responses:
      200: {description: open and called-back work orders}
    """
    state = await _queue_state(request)
    if state is None:
        return problem(404, "not_found", N_("no such hall"))
    return JSONResponse(sorted((o.as_json() for o in state.work_orders.values()), key=lambda o: o["due"]))


@guarded(Access.staff(Role.SUPERVISOR))
async def work_order_action(request: Request) -> Response:
    """
    summary: Record the callback to the resident, then the fix, of a work order.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [note]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              note: {type: string, maxLength: 300}
    responses:
      200: {description: the work order after the step}
      409: {description: not allowed from its current state}
    """
    action = request.path_params["action"]
    if action not in ("callback", "resolve"):
        return problem(404, "not_found", N_("unknown work order action '{action}'"), say={"action": action})
    data, command_id = await command_body(request)
    member = member_of(request)
    args = {"order": request.path_params["order"], "note": data.get("note", ""), "by": member.id}
    return await submit(
        request, Command(command_id, request.path_params["hall"], f"workorder.{action}", member.actor, args)
    )


@guarded(Access.anyone())
async def ticket_escpos(request: Request) -> Response:
    """
    summary: A live ticket as ESC/POS bytes for a kiosk's thermal printer (zh-CN first, QR code).
    parameters:
      - {name: width, in: query, schema: {type: integer, enum: [32, 48]}}
    responses:
      200: {description: ESC/POS commands, content: {application/octet-stream: {}}}
      404: {description: no live ticket with that id}
    """
    width = 32 if request.query_params.get("width") == "32" else 48
    base = public_site(request)
    runtime = runtime_of(request)
    data = await ticket_print(
        runtime.writer,
        runtime.engine,
        runtime.hall_rows,
        request.path_params["hall"],
        request.path_params["ticket"],
        base,
        width,
    )
    if data is None:
        return problem(404, "not_found", N_("no live ticket with that id"))
    return Response(data, media_type="application/octet-stream")
