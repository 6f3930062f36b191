"""The cases' JSON API: intake (受理) at a counter, workflow steps, to-do and "my cases" lists, the
case record with its attachments, and 督办 orders. Uploading scans is in :mod:`cases.web.files`,
what lists and boards show in :mod:`cases.board`.

Routes sit under the hall the staff member works at (``/api/v1/halls/{hall}/cases``), so the
route guard checks the hall as for every other staff route; the command itself goes to the root
of the hall's tree, which keeps the register, and names the halls its facts reach.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from cases import register, turns
from cases.board import case_json, open_cases, red_first, supervision_board
from cases.case_model import Actor
from cases.records import case_from_record
from cases.register import STEPS, Register
from cases.store import actor_args
from cases.web.assignees import may_be_assigned
from cases.web.files import attachment_path, checked_attachments
from cases.web.numbers import is_case_number
from hall.kernel.events import Command
from hall.kernel.i18n import N_, Text
from hall.kernel.roles import Access, Role, within
from hall.runtime import Runtime, runtime_of
from hall.storage.case_tables import case_attachments, cases, supervision_orders
from hall.storage.database import reading
from hall.storage.directory import hall_tree
from hall.storage.tables import halls
from hall.web.access import guarded, member_of
from hall.web.api import command_body, paging, submit
from hall.web.problems import problem
from hall.web.responses import JSONResponse
from hall.web.sessions import Staff

# The steps a case API call may take: the register's table of steps.
ACTIONS = tuple(STEPS)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = runtime_of(request)
    return runtime


def _member(request: Request) -> Staff:
    member = member_of(request)
    return member


def _by(member: Staff, hall_id: int) -> dict[str, Any]:
    # Admin acts at the hall named in the path; everyone else at their own hall.
    acting_hall = hall_id if Role.ADMIN in member.roles else member.hall_id
    return actor_args(member.id, [r.value for r in member.roles], acting_hall)


def staff_actor(member: Staff, hall_id: int) -> Actor:
    """The workflow's actor for a staff member working at the hall in the path."""
    by = _by(member, hall_id)
    return Actor(member.id, member.roles, by["hall"], None)


async def _tree(engine: AsyncEngine) -> dict[int, int | None]:
    async with reading(engine) as conn:
        return await hall_tree(conn)


async def _register(request: Request, hall_id: int) -> Register | None:
    parents = await _tree(_runtime(request).engine)
    root = register.root_of(parents, hall_id)
    found = await _runtime(request).writer.read_state(root, "cases")
    if found is None or not isinstance(found[1], Register):
        return None
    return found[1]


# -- intake ----------------------------------------------------------------------------------


@guarded(Access.staff(Role.CLERK))
async def accept_case(request: Request) -> Response:
    """
    summary: 受理 - register a case at this hall's counter.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [item, applicant]
            properties:
              command_id: {type: string}
              item: {type: string}
              applicant:
                type: object
                properties: {name: {type: string}, id_number: {type: string}, phone: {type: string}}
              materials: {type: array, items: {type: string}}
              counter: {type: integer}
              remark: {type: string}
              attachments: {type: array, items: {type: object}}
    responses:
      200: {description: "the case with its number, due time and light"}
      409: {description: not accepted here}
      422: {description: invalid applicant or missing materials}
    """
    runtime = _runtime(request)
    data, command_id = await command_body(request)
    hall_id: int = request.path_params["hall"]
    attachments = checked_attachments(runtime, data.get("attachments"), _member(request).id)
    member = _member(request)
    parents = await _tree(runtime.engine)
    root = register.root_of(parents, hall_id)
    # The deciding hall is the accepting one or above it (routing goes up the tree): the path to the
    # root covers every hall the new case's facts reach.
    also = register.reach(parents, hall_id, member.hall_id)
    args = {
        "item": data.get("item"),
        "applicant": data.get("applicant"),
        "materials": data.get("materials", []),
        "counter": data.get("counter"),
        "remark": data.get("remark", ""),
        "attachments": attachments,
        "by": _by(member, hall_id),
    }
    return await submit(request, Command(command_id, root, "case.accept", member.actor, args, also=also))


# -- workflow ----------------------------------------------------------------------------------


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def case_action(request: Request) -> Response:
    """
    summary: One step on a case - review, approve, complete, collect, refuse, supplement,
      supplement_received, return, assign.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties:
              command_id: {type: string}
              remark: {type: string, description: "the reason, for refuse, supplement and return"}
              materials: {type: array, items: {type: string}}
              assignee: {type: integer}
    responses:
      200: {description: the case after the step}
      403: {description: not this person's turn}
      409: {description: not allowed from the case's stage}
      422: {description: the assignee is not an active staff member who may take the next step}
    """
    action = request.path_params["action"]
    if action not in ACTIONS:
        return problem(404, "not_found", N_("unknown case action '{action}'"), say={"action": action})
    if action == "assign":
        # The workflow rules who may assign, but the register keeps no staff list: a case given to
        # a technician, to someone of another hall or to someone who has left would wait on nobody.
        data, _ = await command_body(request)
        assignee = data.get("assignee")
        # Anything but a staff id is the register's to refuse; an unknown case, _on_case's.
        if isinstance(assignee, int) and not isinstance(assignee, bool) and 0 < assignee < 2**31:
            async with reading(_runtime(request).engine) as conn:
                record = (
                    await conn.execute(select(cases.c.record).where(cases.c.number == request.path_params["number"]))
                ).scalar_one_or_none()
                turn = turns.waiting_on(case_from_record(record)[0], during_pause=True) if record else None
                refused = turn is not None and not await may_be_assigned(conn, assignee, turn)
            if refused:
                assert turn is not None
                return problem(
                    422,
                    "invalid",
                    N_("staff {staff} is not an active {role} of hall {hall}, where the case's next step is taken"),
                    field="assignee",
                    say={"staff": assignee, "role": Text(turn.role.value, context="role"), "hall": turn.hall},
                )
    return await _on_case(
        request,
        "case.act",
        lambda data: {
            "action": action,
            "remark": data.get("remark", data.get("reason", "")),
            "materials": data.get("materials", []),
            "assignee": data.get("assignee"),
        },
    )


async def _on_case(request: Request, name: str, args_of: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """A command on the case in the path: sent to its register, declaring the halls it reaches,
    acted by the signed-in staff member at the hall in the path."""
    data, command_id = await command_body(request)
    number = request.path_params["number"]
    found = await _case_halls(request, number)
    # The same check and the same answer as reading the case: someone who may not see it learns
    # nothing of its stage, halls or next actor from why they may not act on it.
    if found is None or not await may_see_case(request, list(found[2])):
        return problem(404, "not_found", N_("no case '{case}'"), say={"case": number})
    root, case_halls, _ = found
    member = _member(request)
    args = {**args_of(data), "number": number, "by": _by(member, request.path_params["hall"])}
    return await submit(request, Command(command_id, root, name, member.actor, args, also=case_halls))


async def _case_halls(request: Request, number: str) -> tuple[int, tuple[int, ...], tuple[int, ...]] | None:
    """The case's register hall, the halls its commands reach, and the halls whose staff may see it
    (accepting, deciding, register; and the halls above them, by ``may_see_case``)."""
    engine = _runtime(request).engine
    reach = await case_reach(engine, number)
    if reach is None:
        return None
    async with reading(engine) as conn:
        row = (
            await conn.execute(
                select(cases.c.register_hall, cases.c.accepted_hall, cases.c.deciding_hall).where(
                    cases.c.number == number
                )
            )
        ).one()
    return reach[0], reach[1], (row.accepted_hall, row.deciding_hall, row.register_hall)


async def case_reach(engine: AsyncEngine, number: str) -> tuple[int, tuple[int, ...]] | None:
    """A case's register hall and the halls its facts are logged at (what its commands declare)."""
    if not is_case_number(number):
        return None
    async with reading(engine) as conn:
        row = (
            await conn.execute(
                select(cases.c.register_hall, cases.c.accepted_hall, cases.c.deciding_hall).where(
                    cases.c.number == number
                )
            )
        ).first()
        if row is None:
            return None
        parents = await hall_tree(conn)
    return row.register_hall, register.reach(parents, row.register_hall, row.accepted_hall, row.deciding_hall)


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def list_cases(request: Request) -> Response:
    """
    summary: Cases for this person at this hall - view=todo (待办, waiting on them), mine
      (registered by them, not yet completed), or open (every open case the hall takes part in).
    parameters:
      - {name: view, in: query, schema: {type: string, enum: [todo, mine, open]}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 2000, default: 500}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0, default: 0}}
    responses:
      200: {description: "the cases, applicant masked, red first then yellow then green, with the total"}
      422: {description: an unknown view or a bad page}
    """
    hall_id: int = request.path_params["hall"]
    view = request.query_params.get("view", "todo")
    state = await _register(request, hall_id)
    if state is None:
        return JSONResponse({"view": view, "total": 0, "offset": 0, "cases": []})
    member = _member(request)
    now = datetime.now(UTC)
    if view == "todo":
        chosen = turns.todo(state.cases, staff_actor(member, hall_id))
    elif view == "mine":
        chosen = turns.registered_by(state.cases, member.id)
    elif view == "open":
        chosen = open_cases(state, hall_id)
    else:
        return problem(422, "invalid", N_("view must be todo, mine or open"), field="view")
    chosen = red_first(chosen, state, now)
    page = paging(request.query_params, default=LIST_LIMIT, maximum=LIST_MAX)
    limit, offset = page
    shown = [case_json(c, state.meta_of(c.number), now) for c in chosen[offset : offset + limit]]
    return JSONResponse({"view": view, "total": len(chosen), "offset": offset, "cases": shown})


LIST_LIMIT = 500
LIST_MAX = 2000


async def case_record_json(runtime: Runtime, number: str) -> dict[str, Any] | None:
    """The whole case record as stored, with its attachments and supervision orders."""
    async with reading(runtime.engine) as conn:
        row = (await conn.execute(select(cases).where(cases.c.number == number))).first()
        if row is None:
            return None
        files = (await conn.execute(select(case_attachments).where(case_attachments.c.number == number))).all()
        orders = (
            await conn.execute(
                select(supervision_orders.c.record)
                .where(supervision_orders.c.number == number)
                .order_by(supervision_orders.c.opened_at)
            )
        ).all()
        names = {r.id: r.name for r in await conn.execute(select(halls.c.id, halls.c.name))}
    record = dict(row.record)
    return {
        "number": number,
        "record": record,
        "light": row.light,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "halls": {"accepted": names.get(row.accepted_hall), "deciding": names.get(row.deciding_hall)},
        "hall_ids": {"accepted": row.accepted_hall, "deciding": row.deciding_hall, "register": row.register_hall},
        "attachments": [
            {
                "sha256": f.sha256,
                "filename": f.filename,
                "material": f.material,
                "content_type": f.content_type,
                "size": f.size,
            }
            for f in files
        ],
        "orders": [dict(o.record) for o in orders],
    }


async def may_see_case(request: Request, hall_ids: list[int]) -> bool:
    """Whether the staff member asking works at one of the case's halls or above it (admin: always)."""
    member = _member(request)
    if Role.ADMIN in member.roles:
        return True
    parents = await _tree(_runtime(request).engine)
    return any(within(h, member.hall_id, parents) for h in hall_ids)


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def case_detail(request: Request) -> Response:
    """
    summary: The case record - the only place the applicant's full ID number is shown, to staff
      of the halls the case belongs to (or above them).
    responses:
      200: {description: "the record, attachments and supervision orders"}
      404: {description: "no such case, or not one of this person's halls"}
    """
    number = request.path_params["number"]
    found = await case_record_json(_runtime(request), number)
    if found is None or not await may_see_case(request, list(found["hall_ids"].values())):
        return problem(404, "not_found", N_("no case '{case}'"), say={"case": number})
    return JSONResponse(found)


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def attachment_file(request: Request) -> Response:
    """
    summary: One attachment of a case, for staff who may see the case.
    responses:
      200: {description: the file}
      404: {description: no such attachment}
    """
    number, sha = request.path_params["number"], request.path_params["sha256"]
    found = await case_record_json(_runtime(request), number)
    if found is None or not await may_see_case(request, list(found["hall_ids"].values())):
        return problem(404, "not_found", N_("no such attachment"))
    entry = next((a for a in found["attachments"] if a["sha256"] == sha), None)
    if entry is None:
        return problem(404, "not_found", N_("no such attachment"))
    return FileResponse(
        attachment_path(_runtime(request), sha), media_type=entry["content_type"], filename=entry["filename"] or sha
    )


# -- supervision ---------------------------------------------------------------------------------


@guarded(Access.staff(Role.SUPERVISOR))
async def open_order(request: Request) -> Response:
    """
    summary: 督办 - open a supervision order on a yellow or red case, with a note and a reply deadline.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [note, reply_due]
            properties:
              command_id: {type: string}
              note: {type: string}
              reply_due: {type: string, format: date-time}
    responses:
      200: {description: the order}
      409: {description: "the case is green, finished, or has an unanswered order"}
    """
    return await _on_case(
        request,
        "case.order_open",
        lambda data: {
            "note": data.get("note", ""),
            "reply_due": data.get("reply_due", ""),
            "order": f"DB{uuid.uuid4().hex[:12].upper()}",
        },
    )


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def answer_order(request: Request) -> Response:
    """
    summary: The deciding office's written answer to a 督办 order.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [text]
            properties: {command_id: {type: string}, text: {type: string}}
    responses:
      200: {description: the answered order}
      403: {description: not the office the order is addressed to}
    """
    order = request.path_params["order"][:40]
    return await _on_case(request, "case.order_answer", lambda data: {"order": order, "text": data.get("text", "")})


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def supervision_view(request: Request) -> Response:
    """
    summary: The hall's supervision board - open cases by light, and the orders not yet answered.
    responses:
      200: {description: "counts by light, yellow and red cases, open orders"}
    """
    hall_id: int = request.path_params["hall"]
    return JSONResponse(supervision_board(await _register(request, hall_id), hall_id, datetime.now(UTC)))
