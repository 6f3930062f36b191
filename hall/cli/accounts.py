"""``hall add-staff``, and the printing of staff accounts with their one-time passwords, which
``init``, ``setup`` and ``demo`` share."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from hall.kernel.errors import SettingsError
from hall.kernel.roles import parse_roles
from hall.settings import Settings
from hall.setup import Account
from hall.staff import create_staff
from hall.storage.database import create_engine
from hall.storage.migrate import is_current
from hall.storage.tables import halls, staff
from hall.web.passwords import new_password


def show_accounts(accounts: Sequence[Account], heading: str) -> None:
    if not accounts:
        return
    print(heading)
    for account in accounts:
        print(f"  {account.username:<12} {account.password}   ({account.roles}, hall {account.hall_code})")
    print("These passwords are shown only now; the database keeps their hashes alone.")


async def add_staff(settings: Settings, args: argparse.Namespace) -> None:
    try:
        roles = parse_roles(args.roles)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if not roles:
        raise SettingsError("--roles names no role")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{2,64}", args.username):
        raise SettingsError("a username has 2 to 64 letters, digits, '.', '_' or '-'")
    engine = create_engine(settings.db_url)
    try:
        if not await is_current(engine):
            raise SettingsError(f"the database {settings.db_url} has no current hall schema; run `hall init` first")
        async with engine.begin() as conn:
            hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == args.hall))).scalar_one_or_none()
            if hall_id is None:
                raise SettingsError(f"no hall with code {args.hall!r}")
            taken = (await conn.execute(select(staff.c.id).where(staff.c.username == args.username))).first()
            if taken is not None:
                raise SettingsError(f"the username {args.username!r} is taken")
            password = new_password()
            await create_staff(
                conn,
                username=args.username,
                display_name=args.name or args.username,
                staff_no=args.staff_no,
                password=password,
                roles=roles,
                hall_id=hall_id,
                actor="system:cli",
                now=datetime.now(UTC),
            )
    finally:
        await engine.dispose()
    show_accounts([Account(args.username, password, ",".join(sorted(roles)), args.hall)], "Created:")
