"""Staff accounts through the API: an admin lists, creates, changes, deactivates and resets; each
member of staff changes their own password."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from hall.accounts.web import actions
from hall.kernel.errors import Invalid
from hall.kernel.i18n import N_
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import staff
from hall.web.access import guarded
from hall.web.api import command_body, json_body
from hall.web.responses import JSONResponse

ADMIN = Access.staff(Role.ADMIN)


def _listed(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "staff_no": row.staff_no,
        "roles": sorted(r for r in row.roles.split(",") if r),
        "hall": row.hall_id,
        "active": bool(row.active),
        "must_change_password": bool(row.must_change_password),
    }


async def hall_accounts(request: Request, hall_id: int) -> list[dict[str, Any]]:
    async with reading(runtime_of(request).engine) as conn:
        rows = await conn.execute(select(staff).where(staff.c.hall_id == hall_id).order_by(staff.c.username))
        return [_listed(row) for row in rows]


def _done(done: actions.Done) -> Response:
    body: dict[str, Any] = {"account": done.account}
    if done.password is not None:
        body["password"] = done.password
    return JSONResponse(body)


@guarded(ADMIN)
async def list_staff(request: Request) -> Response:
    """
    summary: The staff accounts of a hall, active and deactivated.
    responses:
      200: {description: "the accounts; never a password or its hash"}
    """
    return JSONResponse({"staff": await hall_accounts(request, request.path_params["hall"])})


_CREATE = """
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [username, display_name, roles]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              username: {type: string, pattern: "^[a-z][a-z0-9._-]{1,63}$"}
              display_name: {type: string, minLength: 1, maxLength: 100}
              staff_no: {type: string, maxLength: 32}
              roles:
                type: array
                minItems: 1
                items: {type: string, enum: [clerk, supervisor, technician, admin]}
"""


@guarded(ADMIN)
async def create_staff(request: Request) -> Response:
    data, command_id = await command_body(request)
    return _done(await actions.create(request, request.path_params["hall"], data, command_id))


create_staff.__doc__ = (
    """
    summary: Create a staff account; its one-time first password is in the answer, and only there.
    description: The owner must change it at their first login before doing anything else."""
    + _CREATE
    + """
    responses:
      200: {description: the account and its one-time password}
      409: {description: the username is taken}
    """
)


@guarded(ADMIN)
async def change_staff(request: Request) -> Response:
    """
    summary: Change an account's name, staff number or roles (new roles end its sessions).
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            properties:
              display_name: {type: string, minLength: 1, maxLength: 100}
              staff_no: {type: string, maxLength: 32}
              roles:
                type: array
                minItems: 1
                items: {type: string, enum: [clerk, supervisor, technician, admin]}
    responses:
      200: {description: the account as it is now}
      404: {description: no such account in this hall}
    """
    p = request.path_params
    return _done(await actions.change(request, p["hall"], p["username"], await json_body(request)))


@guarded(ADMIN)
async def deactivate_staff(request: Request) -> Response:
    """
    summary: Deactivate an account; its sessions and open pages end at once. Its history is kept.
    responses:
      200: {description: "the account, deactivated"}
      404: {description: no such account in this hall}
    """
    p = request.path_params
    return _done(await actions.set_active(request, p["hall"], p["username"], False))


@guarded(ADMIN)
async def activate_staff(request: Request) -> Response:
    """
    summary: Activate a deactivated account again.
    responses:
      200: {description: "the account, active"}
      404: {description: no such account in this hall}
    """
    p = request.path_params
    return _done(await actions.set_active(request, p["hall"], p["username"], True))


@guarded(ADMIN)
async def reset_staff_password(request: Request) -> Response:
    """
    summary: Give an account a new one-time password (in the answer only); its sessions end.
    responses:
      200: {description: the account and its one-time password}
      404: {description: no such account in this hall}
    """
    p = request.path_params
    return _done(await actions.reset_password(request, p["hall"], p["username"]))


@guarded(Access.staff(), before_password_change=True)
async def change_my_password(request: Request) -> Response:
    """
    summary: Change one's own password, with the current one; other sessions of the account end.
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [old_password, new_password]
            properties:
              old_password: {type: string, maxLength: 200}
              new_password: {type: string, minLength: 10, maxLength: 200}
    responses:
      200: {description: changed}
      422: {description: "the current password is wrong, or the new one too weak"}
    """
    data = await json_body(request)
    old, new = data.get("old_password"), data.get("new_password")
    if not isinstance(old, str) or not isinstance(new, str):
        raise Invalid(N_("old_password and new_password must be text"), field="new_password")
    return _done(await actions.change_own_password(request, old, new))
