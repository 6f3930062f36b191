"""The JSON API under ``/api/v1``: the same commands and role checks as the pages.

Every unsafe call with a session cookie needs the ``X-CSRF-Token`` header. Commands take a
``command_id`` (8–100 characters) that makes them idempotent: a repeated id returns the first
result and changes nothing.
"""

from __future__ import annotations

import copy
import logging
import re
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from starlette.convertors import CONVERTOR_TYPES
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.schemas import SchemaGenerator

from hall.kernel import jsontext
from hall.kernel.errors import CommandTimeout, Invalid
from hall.kernel.events import Command
from hall.kernel.i18n import N_, localized
from hall.kernel.jsontext import INT_MAX
from hall.kernel.roles import Access, Role
from hall.storage.database import reading
from hall.storage.tables import events, halls
from hall.web.access import guarded, member_of
from hall.web.problems import Problem, status_of
from hall.web.responses import JSONResponse

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
# Further than any list goes, and well inside what a database takes as an offset.
OFFSET_MAX = 2**31 - 1

PREFIX = "/api/v1"

# Every error under /api/ has this shape (hall.web.problems): whatever the status, whoever refuses.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "error", "message"],
    "properties": {"code": {"type": "string"}, "error": {"type": "string"}, "message": {"type": "string"}},
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# ``{name:convertor}`` in a route's pattern; a bare ``{name}`` is Starlette's ``str``.
_PARAMETER = re.compile(r"{(\w+)(?::(\w+))?}")
# The convertors that give a number to the endpoint; every other one gives text matching its regex.
_INTEGERS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**18 - 1},
    "int": {"type": "integer", "minimum": 0},
}


def _parameter_schema(convertor: str) -> dict[str, Any]:
    if convertor in _INTEGERS:
        return dict(_INTEGERS[convertor])
    return {"type": "string", "pattern": f"^(?:{CONVERTOR_TYPES[convertor].regex})$"}


def path_parameters(pattern: str) -> list[dict[str, Any]]:
    """The parameters a route's pattern takes, with the type its convertor gives them:
    ``{hall:id}`` an integer of at most 18 digits, ``{number:case}`` a case number's digits, ``{x}``
    text without a slash."""
    return [
        {"name": name, "in": "path", "required": True, "schema": _parameter_schema(convertor or "str")}
        for name, convertor in _PARAMETER.findall(pattern)
    ]


class ApiSchemaGenerator(SchemaGenerator):
    """The OpenAPI document of the JSON API: the operations under ``/api/v1`` with their docstrings.

    Pages, and the WAV files the displays play, are left out: they answer browsers, not programs,
    and a page's docstring is prose for people (read as YAML it made keys of its sentences). Each
    operation gets every parameter of its path from the route's pattern (a docstring may add a
    description or an example, not take one away), and the error shape for its 4xx and 5xx answers
    and for every answer it does not describe (``default``).
    """

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        schema = copy.deepcopy(self.base_schema)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = copy.deepcopy(ERROR_SCHEMA)
        paths: dict[str, dict[str, Any]] = schema.setdefault("paths", {})
        for pattern, route in _api_routes(routes, ""):
            for method in route.methods or ["GET"]:
                if method == "HEAD":
                    continue
                operation = self.parse_docstring(route.endpoint)
                if operation:
                    paths.setdefault(self._remove_converter(pattern), {})[method.lower()] = _completed(
                        operation, pattern
                    )
        return schema


def _api_routes(routes: list[BaseRoute], prefix: str) -> list[tuple[str, Route]]:
    found: list[tuple[str, Route]] = []
    for route in routes:
        if isinstance(route, Mount):
            found.extend(_api_routes(route.routes, prefix + route.path))
        elif isinstance(route, Route) and route.include_in_schema and (prefix + route.path).startswith(PREFIX + "/"):
            found.append((prefix + route.path, route))
    return found


def _completed(operation: dict[str, Any], pattern: str) -> dict[str, Any]:
    operation = copy.deepcopy(operation)
    declared = {(p.get("in"), p.get("name")): p for p in operation.get("parameters", [])}
    parameters = []
    for parameter in path_parameters(pattern):
        told = declared.pop(("path", parameter["name"]), {})
        parameters.append(
            {**parameter, **told, "required": True, "schema": {**parameter["schema"], **told.get("schema", {})}}
        )
    parameters.extend(declared.values())
    if parameters:
        operation["parameters"] = parameters
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if str(status)[0] in "45" and isinstance(response, dict):
            response.setdefault("content", copy.deepcopy(ERROR_CONTENT))
    responses.setdefault(
        "default", {"description": "refused, in the error shape", "content": copy.deepcopy(ERROR_CONTENT)}
    )
    return operation


schemas = ApiSchemaGenerator({"openapi": "3.0.3", "info": {"title": "hall API", "version": "1"}})


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body); raises ``Problem`` when it is too
    large or not a JSON object."""
    # The stream is read once: a second reader (an endpoint and the helper it calls) gets the same.
    cached = getattr(request.state, "json_body", None)
    if isinstance(cached, dict):
        return cached
    # Read no further than the limit: a huge body costs the server nothing beyond it.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Problem(413, "too_large", N_("body larger than {limit} bytes"), say={"limit": MAX_BODY})
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        request.state.json_body = {}
        return {}
    try:
        data = jsontext.loads(body)
    except jsontext.BadJson as exc:
        raise Problem(400, exc.code, N_("body refused: {reason}"), say={"reason": exc.message}) from None
    if not isinstance(data, dict):
        raise Problem(400, "bad_json", N_("body must be a JSON object"))
    request.state.json_body = data
    return data


def _command_id(data: dict[str, Any]) -> str:
    raw = data.get("command_id")
    if raw is None:
        return uuid.uuid4().hex
    if not isinstance(raw, str) or not 8 <= len(raw) <= 100:
        raise Invalid(N_("command_id must be a string of 8 to 100 characters"), field="command_id")
    return raw


async def command_body(request: Request) -> tuple[dict[str, Any], str]:
    """A command's JSON body and its id (the caller's, or a fresh one).

    Raises:
        Problem: the body is too large or not a JSON object.
        Invalid: the ``command_id`` is not text of 8 to 100 characters.
    """
    data = await json_body(request)
    return data, _command_id(data)


def date_param(params: QueryParams, name: str) -> date | None:
    """The query parameter ``name`` as a date written YYYY-MM-DD, or None when it is absent.

    Raises:
        Invalid: it is given and is not such a date (``field`` names it).
    """
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(
            N_("{field} must be a date written YYYY-MM-DD, not '{value}'"), field=name, say={"value": raw[:20]}
        ) from None


def period_param(params: QueryParams, today: date, max_days: int) -> tuple[date, date]:
    """The period of ``from`` and ``to`` (YYYY-MM-DD, both included): by default the month so far.

    Raises:
        Invalid: a date is not one, ``to`` comes before ``from``, or the period is longer than
            ``max_days``.
    """
    last = date_param(params, "to") or today
    first = date_param(params, "from") or last.replace(day=1)
    if last < first:
        raise Invalid(N_("to must be on or after from"), field="to")
    if (last - first).days + 1 > max_days:
        raise Invalid(N_("a period is at most {days} days; choose a shorter one"), field="from", say={"days": max_days})
    return first, last


def choice_param(params: QueryParams, name: str, allowed: tuple[str, ...], default: str) -> str:
    """The query parameter ``name``, one of ``allowed`` (``default`` when absent).

    Raises:
        Invalid: it is given and is not one of them.
    """
    chosen = params.get(name, default)
    if chosen not in allowed:
        raise Invalid(N_("{field} must be one of {names}"), field=name, say={"names": ", ".join(allowed)})
    return chosen


def paging(params: QueryParams, *, default: int, maximum: int) -> tuple[int, int]:
    """``limit`` and ``offset`` of a list that comes in pages: ``limit`` 1 to ``maximum`` (``default``
    when absent), ``offset`` 0 or more.

    Raises:
        Invalid: either is not a whole number, or out of its range (``field`` names which).
    """
    try:
        limit = int(params.get("limit", str(default)))
    except ValueError:
        raise Invalid(N_("limit must be a whole number"), field="limit") from None
    try:
        offset = int(params.get("offset", "0"))
    except ValueError:
        raise Invalid(N_("offset must be a whole number"), field="offset") from None
    if not 1 <= limit <= maximum:
        raise Invalid(N_("limit must be between 1 and {maximum}"), field="limit", say={"maximum": maximum})
    if not 0 <= offset <= OFFSET_MAX:
        raise Invalid(N_("offset must be 0 to {maximum}"), field="offset", say={"maximum": OFFSET_MAX})
    return limit, offset


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
        raise Invalid(N_("since and limit must be whole numbers")) from None
    if not 0 <= since <= INT_MAX or not 1 <= limit <= 1000:
        raise Invalid(N_("since must be 0 to 2⁶³−1 and limit between 1 and 1000"))
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
        raise Problem(
            503, "timeout", N_("the server did not finish this in time; it may still be done"), command_id=command.id
        ) from exc
    # A refusal is stored untranslated; it is said here in the language of whoever asked.
    body = {"command_id": command.id, "duplicate": outcome.duplicate, **localized(outcome.result)}
    if outcome.events:
        body["seq"] = outcome.events[-1].seq
    if outcome.ok:
        return JSONResponse(body)
    return JSONResponse(body, status_code=status_of(str(outcome.result.get("code", outcome.result.get("error")))))


@guarded(Access.staff(), before_password_change=True)
async def me(request: Request) -> Response:
    """
    summary: Who is logged in.
    responses:
      200: {description: the staff member}
    """
    member = member_of(request)
    return JSONResponse(
        {
            "id": member.id,
            "username": member.username,
            "display_name": member.display_name,
            "staff_no": member.staff_no,
            "roles": sorted(r.value for r in member.roles),
            "hall": member.hall_id,
            "must_change_password": member.must_change_password,
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


@guarded(Access.staff(Role.ADMIN))
async def unlock_login(request: Request) -> Response:
    """
    summary: Lift the failed-login limits on one account, from every address (an admin's unlock).
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [username]
            properties:
              username: {type: string, minLength: 1, maxLength: 64}
    responses:
      200: {description: the account may try again at once}
    """
    data = await json_body(request)
    username = data.get("username")
    if not isinstance(username, str) or not 0 < len(username.strip()) <= 64:
        raise Invalid(N_("username must be text of 1 to 64 characters"), field="username")
    username = username.strip()
    dropped = request.app.state.hall.attempts.unlock(username)
    # Who lifted a lock on whose account is worth keeping in the server's log.
    log.info("%s lifted the login limits on %r (%d keys)", member_of(request).actor, username, dropped)
    return JSONResponse({"username": username, "unlocked": True})
