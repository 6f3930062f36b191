"""The JSON API under ``/api/v1``: the same commands and role checks as the pages.

Every unsafe call with a session cookie needs the ``X-CSRF-Token`` header. Commands take a
``command_id`` (8–100 characters) that makes them idempotent: a repeated id returns the first
result and changes nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.schemas import SchemaGenerator

from hall.kernel.errors import CommandTimeout
from hall.kernel.events import Command
from hall.kernel.roles import Access, Role
from hall.storage.database import reading
from hall.storage.tables import events, halls
from hall.web.access import guarded, staff_of

MAX_BODY = 16 * 1024
_STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "bad_transition": 409,
    "refused": 409,
    "invalid": 422,
    "invalid_id_number": 422,
    "missing_materials": 422,
}

schemas = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "hall API", "version": "1"}})


def problem(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **details}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        return problem(413, "too_large", f"body larger than {MAX_BODY} bytes")
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        return problem(400, "bad_json", "body is not valid JSON")
    if not isinstance(data, dict):
        return problem(400, "bad_json", "body must be a JSON object")
    return data


def _command_id(data: dict[str, Any]) -> str | JSONResponse:
    raw = data.get("command_id")
    if raw is None:
        return uuid.uuid4().hex
    if not isinstance(raw, str) or not 8 <= len(raw) <= 100:
        return problem(422, "invalid", "command_id must be a string of 8 to 100 characters", field="command_id")
    return raw


async def command_body(request: Request) -> tuple[dict[str, Any], str] | JSONResponse:
    """A command's JSON body and its id (the caller's, or a fresh one), or the error to answer."""
    data = await _json_body(request)
    if isinstance(data, JSONResponse):
        return data
    command_id = _command_id(data)
    if isinstance(command_id, JSONResponse):
        return command_id
    return data, command_id


@guarded(Access.anyone())
async def list_halls(request: Request) -> Response:
    """
    summary: The halls, with their place in the district → street → community tree.
    responses:
      200: {description: list of halls}
    """
    async with reading(request.app.state.hall.engine) as conn:
        rows = await conn.execute(select(halls).order_by(halls.c.id))
        return JSONResponse(
            [
                {
                    "id": r.id,
                    "code": r.code,
                    "name": r.name,
                    "name_en": r.name_en,
                    "level": r.level,
                    "parent": r.parent_id,
                }
                for r in rows
            ]
        )


@guarded(Access.staff(Role.SUPERVISOR))
async def list_events(request: Request) -> Response:
    """
    summary: A hall's event log after a sequence number (at most 1000 at a time).
    parameters:
      - {name: since, in: query, schema: {type: integer, minimum: 0}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
    responses:
      200: {description: events in sequence order}
    """
    hall_id = request.path_params["hall"]
    try:
        since = int(request.query_params.get("since", "0"))
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        return problem(422, "invalid", "since and limit must be whole numbers")
    if since < 0 or not 1 <= limit <= 1000:
        return problem(422, "invalid", "since must be ≥ 0 and limit between 1 and 1000")
    async with reading(request.app.state.hall.engine) as conn:
        rows = await conn.execute(
            select(events).where(events.c.hall_id == hall_id, events.c.seq > since).order_by(events.c.seq).limit(limit)
        )
        return JSONResponse(
            [{"seq": r.seq, "type": r.type, "data": r.data, "actor": r.actor, "at": r.at.isoformat()} for r in rows]
        )


async def submit(request: Request, command: Command) -> Response:
    """Run a command through the writer and answer with its committed outcome."""
    try:
        outcome = await request.app.state.hall.writer.submit(command)
    except CommandTimeout as exc:
        return problem(503, "timeout", str(exc), command_id=command.id)
    body = {"command_id": command.id, "duplicate": outcome.duplicate, **outcome.result}
    if outcome.events:
        body["seq"] = outcome.events[-1].seq
    if outcome.ok:
        return JSONResponse(body)
    return JSONResponse(body, status_code=_STATUS.get(str(outcome.result.get("error")), 409))


@guarded(Access.staff())
async def me(request: Request) -> Response:
    """
    summary: Who is logged in.
    responses:
      200: {description: the staff member}
    """
    member = staff_of(request)
    assert member is not None
    return JSONResponse(
        {
            "id": member.id,
            "username": member.username,
            "display_name": member.display_name,
            "staff_no": member.staff_no,
            "roles": sorted(r.value for r in member.roles),
            "hall": member.hall_id,
        }
    )


@guarded(Access.anyone())
async def openapi(request: Request) -> Response:
    """
    summary: This API's OpenAPI document, generated from the routes.
    responses:
      200: {description: OpenAPI 3 document}
    """
    return JSONResponse(schemas.get_schema(routes=request.app.routes))


@guarded(Access.staff(Role.TECHNICIAN))
async def hub_stats(request: Request) -> Response:
    """
    summary: The realtime hub's state - subscribers, events published, recent fan-out hand-off times.
    responses:
      200: {description: hub statistics}
    """
    return JSONResponse(request.app.state.hall.hub.stats())
