"""Creating and filling a database: schema, sample halls, the first admin, demo staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.roles import Role
from hall.sample import load_sample
from hall.staff import create_staff
from hall.storage.migrate import upgrade
from hall.storage.tables import staff
from hall.web.passwords import hash_password, new_password


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    roles: str
    hall_code: str


async def initialise(engine: AsyncEngine, *, sample: bool = True) -> tuple[dict[str, int], Account | None]:
    """Migrate, load the sample halls, and create ``admin`` with a fresh random password if there
    is no admin yet. The password is returned to be shown once; only its hash is stored."""
    await upgrade(engine)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        ids = await load_sample(conn, now) if sample else {}
        admins = (await conn.execute(select(staff.c.id).where(staff.c.roles.contains("admin")))).first()
        created = None
        if admins is None and ids:
            password = new_password()
            top = min(ids.values())
            await create_staff(
                conn,
                username="admin",
                display_name="管理员",
                password=password,
                roles=[Role.ADMIN],
                hall_id=top,
                actor="system:init",
                now=now,
            )
            created = Account("admin", password, "admin", "xh")
    return ids, created


DEMO_STAFF = [
    # username, display name, staff number, roles, hall code
    ("clerk1", "王晓梅", "XH1001", "clerk", "xh"),
    ("clerk2", "李建国", "XH1002", "clerk", "xh"),
    ("clerk3", "张丽", "XH1003", "clerk", "xh"),
    ("clerk4", "赵明", "XH1004", "clerk", "xh"),
    ("clerk5", "孙悦", "XH1005", "clerk", "xh"),
    ("clerk6", "周杰", "XH1006", "clerk", "xh"),
    ("clerk7", "吴芳", "XH1007", "clerk", "xh"),
    ("clerk8", "郑伟", "XH1008", "clerk", "xh"),
    ("clerk9", "冯晓东", "XH1009", "clerk", "xh"),
    ("clerk10", "陈静", "XH1010", "clerk", "xh"),
    # Free clerks for the demo's own visitor: counters 11 and 12 have no simulated devices.
    ("clerk11", "杨帆", "XH1011", "clerk", "xh"),
    ("clerk12", "许文", "XH1012", "clerk", "xh"),
    ("supervisor", "陈志强", "XH2001", "supervisor", "xh"),
    ("street1", "马丽娟", "HP1001", "clerk", "xh-hp"),
    ("community1", "黄春燕", "LY1001", "clerk", "xh-hp-ly"),
    ("technician", "刘工", "XH3001", "technician", "xh"),
]


async def demo_staff(engine: AsyncEngine, ids: dict[str, int]) -> list[Account]:
    """Demo accounts with fresh random passwords at every start of the demo (never a fixed
    default); the admin's is renewed too, so the demo can always be logged into."""
    accounts: list[Account] = []
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        existing = {row.username: row.id for row in await conn.execute(select(staff.c.username, staff.c.id))}
        for username, name, number, roles, code in [*DEMO_STAFF, ("admin", "管理员", "", "admin", "xh")]:
            password = new_password()
            if username in existing:
                await conn.execute(
                    update(staff).where(staff.c.id == existing[username]).values(password_hash=hash_password(password))
                )
            else:
                await create_staff(
                    conn,
                    username=username,
                    display_name=name,
                    staff_no=number,
                    password=password,
                    roles=roles,
                    hall_id=ids[code],
                    actor="system:demo",
                    now=now,
                )
            accounts.append(Account(username, password, roles, code))
    return accounts
