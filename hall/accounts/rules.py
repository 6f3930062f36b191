"""Staff accounts of one hall, as rules: create, change, deactivate, reset and change passwords.

Pure, like the queue's rules: the state is the hall's accounts, a command comes in with ``now``,
and out come the new state and the facts to log. Password hashes are made before the command (a
hash is salted, so random) and never appear in a fact; the log says what changed and who did it.
A username is the account's name for good (it is not renamed), so facts name accounts by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hall.kernel.errors import DomainError, Invalid, NotFound
from hall.kernel.events import Command, Decision, Fact
from hall.kernel.i18n import N_
from hall.kernel.roles import Role, parse_roles

COMMANDS = frozenset(
    {
        "staff.create",
        "staff.change",
        "staff.deactivate",
        "staff.activate",
        "staff.reset_password",
        "staff.change_password",
    }
)

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
NAME_MAX = 100
STAFF_NO_MAX = 32


class UsernameTaken(DomainError):
    code = "username_taken"


@dataclass(frozen=True)
class Account:
    id: int | None  # None until the database gives it one
    username: str
    display_name: str
    staff_no: str
    roles: frozenset[Role]
    hall_id: int
    active: bool
    password_hash: str
    must_change_password: bool

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "staff_no": self.staff_no,
            "roles": sorted(r.value for r in self.roles),
            "hall": self.hall_id,
            "active": self.active,
            "must_change_password": self.must_change_password,
        }


@dataclass(frozen=True)
class Accounts:
    hall_id: int
    by_username: dict[str, Account]
    # Usernames anywhere in the district: a new account may not take one (usernames are global).
    taken: frozenset[str] = frozenset()


def _text(args: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str:
    value = args.get(name, "")
    if not isinstance(value, str):
        raise Invalid(N_("{field} must be text"), field=name)
    value = value.strip()
    if required and not value:
        raise Invalid(N_("{field} is required"), field=name)
    if len(value) > limit:
        raise Invalid(N_("{field} is longer than {limit} characters"), field=name, say={"limit": limit})
    return value


def _roles(args: dict[str, Any]) -> frozenset[Role]:
    raw = args.get("roles")
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise Invalid(N_("roles must be a list of role names"), field="roles")
    try:
        roles = parse_roles(raw)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise Invalid(N_("roles are {names}"), field="roles", say={"names": names}) from None
    if not roles:
        raise Invalid(N_("an account needs at least one role"), field="roles")
    return roles


def _hash(args: dict[str, Any]) -> str:
    value = args.get("password_hash")
    if not isinstance(value, str) or not value.startswith("$argon2"):
        raise Invalid(N_("password_hash must be an argon2 hash"), field="password_hash")
    return value


def _account(state: Accounts, args: dict[str, Any]) -> Account:
    username = args.get("username")
    found = state.by_username.get(username) if isinstance(username, str) else None
    if found is None:
        raise NotFound(N_("no account {username} in this hall"), field="username", say={"username": str(username)})
    return found


def decide(state: Accounts, command: Command, now: datetime) -> Decision[Accounts]:
    args = dict(command.args)
    match command.name:
        case "staff.create":
            username = _text(args, "username", 64).lower()
            if not USERNAME.match(username):
                raise Invalid(
                    N_("a username is 2 to 64 lower-case letters, digits, dots, dashes or underscores, from a letter"),
                    field="username",
                )
            if username in state.by_username or username in state.taken:
                raise UsernameTaken(
                    N_("the username {username} is taken"), field="username", say={"username": username}
                )
            account = Account(
                id=None,
                username=username,
                display_name=_text(args, "display_name", NAME_MAX),
                staff_no=_text(args, "staff_no", STAFF_NO_MAX, required=False),
                roles=_roles(args),
                hall_id=state.hall_id,
                active=True,
                password_hash=_hash(args),
                must_change_password=True,
            )
            fact = Fact("staff.created", {**_described(account)})
        case "staff.change":
            account = _account(state, args)
            changes: dict[str, Any] = {}
            if "display_name" in args:
                changes["display_name"] = _text(args, "display_name", NAME_MAX)
            if "staff_no" in args:
                changes["staff_no"] = _text(args, "staff_no", STAFF_NO_MAX, required=False)
            if "roles" in args:
                changes["roles"] = _roles(args)
            if not changes:
                raise Invalid(N_("nothing to change: give display_name, staff_no or roles"))
            account = replace(account, **changes)
            shown = {k: sorted(r.value for r in v) if k == "roles" else v for k, v in changes.items()}
            fact = Fact("staff.changed", {"username": account.username, **shown})
        case "staff.deactivate" | "staff.activate":
            account = _account(state, args)
            wanted = command.name == "staff.activate"
            if account.active == wanted:
                raise Invalid(
                    N_("the account is already active") if wanted else N_("the account is already deactivated"),
                    field="username",
                )
            account = replace(account, active=wanted)
            fact = Fact("staff.activated" if wanted else "staff.deactivated", {"username": account.username})
        case "staff.reset_password":
            account = replace(_account(state, args), password_hash=_hash(args), must_change_password=True)
            fact = Fact("staff.password_reset", {"username": account.username})
        case "staff.change_password":
            account = replace(_account(state, args), password_hash=_hash(args), must_change_password=False)
            fact = Fact("staff.password_changed", {"username": account.username})
        case _:
            raise Invalid(N_("unknown command {name}"), say={"name": command.name})
    accounts = {**state.by_username, account.username: account}
    return Decision(replace(state, by_username=accounts), (fact,), {"account": account.public()})


def _described(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "staff_no": account.staff_no,
        "roles": sorted(r.value for r in account.roles),
    }
