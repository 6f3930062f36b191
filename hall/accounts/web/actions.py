"""What the account pages and the account API both do: each change is a command to the writer,
with the password hashed here (never in the rules, never in the log), and the sessions of an
account whose rights changed ended at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.requests import Request

from hall.accounts.rules import UsernameTaken
from hall.kernel.errors import Forbidden, Invalid, NotFound
from hall.kernel.events import Command
from hall.kernel.i18n import N_, TEXT_KEY, Text
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import staff
from hall.web.access import member_of
from hall.web.passwords import hash_password, new_password, verify_password, weakness
from hall.web.problems import Problem, status_of


@dataclass(frozen=True)
class Done:
    account: dict[str, Any]
    # A one-time password to hand over (creation and reset), shown once and kept nowhere.
    password: str | None = None


async def _run(request: Request, hall_id: int, name: str, args: dict[str, Any], command_id: str | None) -> Done:
    member = member_of(request)
    command = Command(command_id or uuid.uuid4().hex, hall_id, name, member.actor, args)
    outcome = await runtime_of(request).writer.submit(command)
    if not outcome.ok:
        # The rules' refusal, with its code and status, to be said in the reader's language.
        result = dict(outcome.result)
        stored = result.pop(TEXT_KEY, None)
        code = str(result.pop("code", "refused"))
        result.pop("error", None)
        english = str(result.pop("message", code))
        message = Text.from_json(stored) if isinstance(stored, dict) else Text(english, {})
        raise Problem(status_of(code), code, message, **result)
    return Done(dict(outcome.result["account"]))


async def account_row(request: Request, username: str) -> Any:
    async with reading(runtime_of(request).engine) as conn:
        return (await conn.execute(select(staff).where(staff.c.username == username))).one_or_none()


async def _own_hall_account(request: Request, hall_id: int, username: str) -> Any:
    row = await account_row(request, username)
    if row is None or row.hall_id != hall_id:
        raise NotFound(N_("no account {username} in this hall"), field="username", say={"username": username})
    return row


def _checked(password: str, username: str, name: str) -> str:
    why = weakness(password, hints=(username, name))
    if why is not None:
        raise Invalid(why, field="new_password")
    return hash_password(password)


async def create(request: Request, hall_id: int, data: dict[str, Any], command_id: str | None = None) -> Done:
    username = data.get("username")
    if isinstance(username, str) and await account_row(request, username.strip().lower()) is not None:
        raise UsernameTaken(
            N_("the username {username} is taken"), field="username", say={"username": username.strip().lower()}
        )
    password = new_password()
    args: dict[str, Any] = {k: data[k] for k in ("username", "display_name", "staff_no", "roles") if k in data}
    done = await _run(request, hall_id, "staff.create", {**args, "password_hash": hash_password(password)}, command_id)
    row = await account_row(request, done.account["username"])
    return Done({**done.account, "id": row.id if row is not None else None}, password)


async def change(request: Request, hall_id: int, username: str, data: dict[str, Any]) -> Done:
    row = await _own_hall_account(request, hall_id, username)
    member = member_of(request)
    args: dict[str, Any] = {k: data[k] for k in ("display_name", "staff_no", "roles") if k in data}
    if row.id == member.id and "roles" in args and "admin" not in args["roles"]:
        raise Forbidden(N_("you may not take the admin role from your own account"), field="roles")
    done = await _run(request, hall_id, "staff.change", {"username": username, **args}, None)
    if "roles" in args:
        # Rights changed: every open page and socket of the account starts again from a login.
        await runtime_of(request).sessions.end_staff(row.id)
    return done


async def set_active(request: Request, hall_id: int, username: str, active: bool) -> Done:
    row = await _own_hall_account(request, hall_id, username)
    if row.id == member_of(request).id and not active:
        raise Forbidden(N_("you may not deactivate your own account"), field="username")
    name = "staff.activate" if active else "staff.deactivate"
    done = await _run(request, hall_id, name, {"username": username}, None)
    if not active:
        await runtime_of(request).sessions.end_staff(row.id)
    return done


async def reset_password(request: Request, hall_id: int, username: str) -> Done:
    row = await _own_hall_account(request, hall_id, username)
    password = new_password()
    done = await _run(
        request, hall_id, "staff.reset_password", {"username": username, "password_hash": hash_password(password)}, None
    )
    await runtime_of(request).sessions.end_staff(row.id)
    return Done(done.account, password)


async def change_own_password(request: Request, old: str, new: str, confirm: str | None = None) -> Done:
    member = member_of(request)
    row = await account_row(request, member.username)
    if row is None or not verify_password(row.password_hash, old):
        raise Invalid(N_("The current password is wrong."), field="old_password")
    if confirm is not None and confirm != new:
        raise Invalid(N_("The two new passwords differ."), field="confirm")
    if new == old:
        raise Invalid(N_("The new password must differ from the current one."), field="new_password")
    hashed = _checked(new, member.username, member.display_name)
    done = await _run(
        request, member.hall_id, "staff.change_password", {"username": member.username, "password_hash": hashed}, None
    )
    # Whoever else held this account's sessions (the reason to change a password) is logged out;
    # this browser goes on, and is no longer held to the password page.
    await runtime_of(request).sessions.end_staff(member.id, keep=request.scope["hall.session"] or None)
    return done
