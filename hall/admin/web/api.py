"""Setting a hall up through the API: its services, counters, departments, the halls below it and
its own names, each in the form of its entry in the hall file (docs/operations.md). Every change
is checked as a file is, logged as events, and takes effect at once.

Services and counters are an admin's or the hall's supervisor's; departments and halls an admin's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hall.admin.changes import Document, hall_entry
from hall.admin.web import actions
from hall.hallfile.plan import Change
from hall.kernel.errors import Invalid
from hall.kernel.i18n import N_
from hall.kernel.roles import Access, Role
from hall.web.access import Endpoint, guarded
from hall.web.api import json_body
from hall.web.responses import JSONResponse

ADMIN = Access.staff(Role.ADMIN)
# A hall's supervisor sets its services and counters (admins may do everything).
KEEPER = Access.staff(Role.SUPERVISOR)

_ANSWERS = """
    responses:
      200: {description: "the changes made, one line each (none when nothing changed), and the hall as it is now"}
      403: {description: "the role may not, or the hall is not the caller's"}
      404: {description: no such hall or entry}
      409: {description: "live work forbids it (code in_service): a counter in service, tickets being called"}
      422: {description: "the district would not be sound: every problem, each with its path and field"}
"""


def _body(schema: str) -> str:
    return f"""
    requestBody:
      required: true
      content:
        application/json:
          schema: {schema}
"""


_SERVICE = _body(
    "{type: object, required: [code, name], description: "
    '"a service entry of the hall file: code, name {zh, en}, prefix, width, daily_cap, hours, '
    'open_on_holidays, target_wait_minutes, default_service_minutes, one_live_ticket_per_id, active"}'
)
_COUNTER = _body(
    "{type: object, required: [number], description: "
    '"a counter entry of the hall file: number, name, services {code: weight}, department, active"}'
)
_DEPARTMENT = _body(
    '{type: object, required: [code, name], description: "a department entry: code, name {zh, en}, active"}'
)


def _switch(kind: str, key: str, active: bool, summary: str) -> Endpoint:
    """The endpoint that takes one of a hall's services or counters out of use, or puts it back."""

    async def switch(request: Request) -> Response:
        p = request.path_params
        return await _answer(request, p["hall"], await actions.set_active(request, p["hall"], kind, p[key], active))

    switch.__doc__ = f'\n    summary: "{summary}"\n' + _ANSWERS
    switch.__name__ = switch.__qualname__ = f"{'activate' if active else 'deactivate'}_{kind[:-1]}"
    return guarded(KEEPER)(switch)


async def _answer(request: Request, hall_id: int, changes: list[Change]) -> Response:
    row = await actions.hall_row(request, hall_id)
    hall = hall_entry(await actions.district(request), row.code)
    return JSONResponse({"changes": [c.text for c in changes], "hall": hall})


async def _entry(request: Request) -> Document:
    data = await json_body(request)
    data.pop("command_id", None)
    return data


@guarded(KEEPER)
async def show_setup(request: Request) -> Response:
    """
    summary: "A hall as its entry in the hall file, and the halls below it."
    responses:
      200: {description: "the hall's entry, and each hall below it as code, names, level and whether it is in service"}
      404: {description: no such hall}
    """
    hall_id = request.path_params["hall"]
    row = await actions.hall_row(request, hall_id)
    district = await actions.district(request)
    below, parents = [], {row.code}
    for hall in district["halls"]:  # parents come before their children in an export
        if hall["parent"] in parents:
            parents.add(hall["code"])
            below.append({k: hall[k] for k in ("code", "name", "level", "parent", "active")})
    return JSONResponse({"hall": hall_entry(district, row.code), "below": below})


Put = Callable[..., Awaitable[list[Change]]]


def _put(put: Put, key: str | None, access: Access, summary: str, body: str) -> Endpoint:
    """The endpoint that adds an entry (``key`` None) or replaces the one its path names."""

    async def endpoint(request: Request) -> Response:
        p = request.path_params
        entry = await _entry(request)
        if key is not None:
            entry = {**entry, key: p[key]}
        return await _answer(request, p["hall"], await put(request, p["hall"], entry, create=key is None))

    endpoint.__doc__ = f'\n    summary: "{summary}"\n' + body + _ANSWERS
    endpoint.__name__ = endpoint.__qualname__ = f"{'create' if key is None else 'change'}_{put.__name__[4:]}"
    return guarded(access)(endpoint)


create_service = _put(
    actions.put_service, None, KEEPER, "Add a service to the hall; its next ticket can be taken at once.", _SERVICE
)
change_service = _put(
    actions.put_service,
    "code",
    KEEPER,
    "Replace a service's settings (hours, cap, names …); the next ticket follows them.",
    _SERVICE,
)
create_counter = _put(actions.put_counter, None, KEEPER, "Add a counter, closed, ready to be opened.", _COUNTER)
change_counter = _put(
    actions.put_counter,
    "number",
    KEEPER,
    "Replace a counter's name, services and weights, or department; its next call follows them.",
    _COUNTER,
)
create_department = _put(actions.put_department, None, ADMIN, "Add a department (科室) to the hall.", _DEPARTMENT)
change_department = _put(
    actions.put_department, "code", ADMIN, "Rename a department, or deactivate it (active false).", _DEPARTMENT
)


deactivate_service = _switch(
    "services", "code", False, "Take a service out of use; it takes no new tickets, and those waiting are served."
)
activate_service = _switch("services", "code", True, "Put a deactivated service back into use.")
deactivate_counter = _switch(
    "counters", "number", False, "Take a closed counter out of use (one in service is refused: in_service)."
)
activate_counter = _switch("counters", "number", True, "Put a deactivated counter back into use.")


@guarded(ADMIN)
async def create_hall(request: Request) -> Response:
    hall_id = request.path_params["hall"]
    changes = await actions.add_hall(request, hall_id, await _entry(request))
    return await _answer(request, hall_id, changes)


create_hall.__doc__ = (
    '\n    summary: "Add a hall below this one (a street below a district, a community below a street)."\n'
    + _body(
        "{type: object, required: [code, name, level], description: "
        '"a hall entry of the hall file: code, name {zh, en}, level, and optionally its services and counters"}'
    )
    + _ANSWERS
)


@guarded(ADMIN)
async def change_hall(request: Request) -> Response:
    hall_id = request.path_params["hall"]
    data = await _entry(request)
    allowed = {"name", "active"}
    if not data or set(data) - allowed:
        raise Invalid(N_("a hall's change names its name {zh, en} or active, and nothing else"), field="name")
    return await _answer(request, hall_id, await actions.change_hall(request, hall_id, data))


change_hall.__doc__ = (
    '\n    summary: "Rename the hall, or take it out of service (active false: it takes no tickets)."\n'
    + _body("{type: object, properties: {name: {type: object}, active: {type: boolean}}}")
    + _ANSWERS
)
