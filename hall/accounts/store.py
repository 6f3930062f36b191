"""Staff accounts bound to storage: the writer's domain for the ``staff.*`` commands.

The state of a hall is its accounts; persisting writes each changed account's row (an account
new to the database gets its id there). Every change is thus an event in the hall's log, committed
with the row, like any other change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.accounts.rules import COMMANDS, Account, Accounts, decide
from hall.kernel.events import Command, Decision, Event
from hall.kernel.roles import parse_roles
from hall.storage.tables import staff


def account_from_row(row: Any) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        staff_no=row.staff_no,
        roles=parse_roles(row.roles),
        hall_id=row.hall_id,
        active=bool(row.active),
        password_hash=row.password_hash,
        must_change_password=bool(row.must_change_password),
    )


class AccountsDomain:
    name = "accounts"
    commands = COMMANDS

    def decide(self, state: Accounts, command: Command, now: datetime) -> Decision[Accounts]:
        decision = decide(state, command, now)
        after = decision.state
        changed = tuple(a for name, a in after.by_username.items() if state.by_username.get(name) is not a)
        return Decision(after, decision.facts, decision.result, changed)

    async def load(self, conn: AsyncConnection, hall_id: int) -> Accounts:
        rows = (await conn.execute(select(staff).where(staff.c.hall_id == hall_id))).all()
        taken = frozenset(name for (name,) in await conn.execute(select(staff.c.username)))
        return Accounts(hall_id, {row.username: account_from_row(row) for row in rows}, taken)

    async def persist(self, conn: AsyncConnection, events: Sequence[Event], changed: Sequence[tuple[int, Any]]) -> None:
        at = {e.data.get("username"): e.at for e in events}
        for _, account in changed:
            if not isinstance(account, Account):
                continue
            values = _row(account)
            # By username (an account's name for good): a new account's id is the database's.
            done = await conn.execute(update(staff).where(staff.c.username == account.username).values(**values))
            if done.rowcount == 0:
                created = at.get(account.username, events[-1].at)
                await conn.execute(insert(staff).values(username=account.username, created_at=created, **values))


def _row(account: Account) -> dict[str, Any]:
    return {
        "display_name": account.display_name,
        "staff_no": account.staff_no,
        "password_hash": account.password_hash,
        "roles": ",".join(sorted(r.value for r in account.roles)),
        "hall_id": account.hall_id,
        "active": account.active,
        "must_change_password": account.must_change_password,
    }
