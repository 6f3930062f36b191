"""An in-process site: a migrated SQLite database, staff of every role, and a TestClient."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from hall.settings import Settings
from hall.setup import initialise
from hall.storage.database import create_engine
from hall.web.app import create_app
from tests.factories import PASSWORD, add_staff
from tests.helpers import csrf_of

ROLES = ("clerk", "supervisor", "technician", "admin")


@dataclass
class Site:
    client: TestClient
    halls: dict[str, int]
    # role → username in the district hall ("xh"); "community-clerk" lives in hall "xh-hp-ly".
    users: dict[str, str] = field(default_factory=dict)

    def login(self, who: str) -> str:
        """Log ``who`` in, after logging out whoever was; returns the CSRF token.

        One client serves every identity in turn: the application and its writer live in that
        client's event loop, and a websocket keeps the identity it connected with.
        """
        client = self.client
        client.cookies.clear()
        page = client.get("/login")
        token = csrf_of(page.text)
        done = client.post(
            "/login",
            data={"username": self.users[who], "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        # The token taken before login is bound to no session: take the new session's.
        return csrf_of(client.get("/login").text)

    def anonymous(self) -> None:
        self.client.cookies.clear()

    def post(self, path: str, token: str, body: Any = None) -> Any:
        return self.client.post(path, json={} if body is None else body, headers={"X-CSRF-Token": token})


async def _prepare(url: str) -> tuple[dict[str, int], dict[str, str]]:
    engine = create_engine(url)
    try:
        ids, _ = await initialise(engine)
        await open_all_week(engine)
        users: dict[str, str] = {}
        from sqlalchemy import select

        from hall.storage.tables import staff

        for role in ROLES:
            (staff_id,) = await add_staff(engine, ids["xh"], 1, roles=role, prefix=role)
            async with engine.connect() as conn:
                users[role] = (await conn.execute(select(staff.c.username).where(staff.c.id == staff_id))).scalar_one()
        (community,) = await add_staff(engine, ids["xh-hp-ly"], 1, roles="clerk", prefix="cc")
        async with engine.connect() as conn:
            users["community-clerk"] = (
                await conn.execute(select(staff.c.username).where(staff.c.id == community))
            ).scalar_one()
        return ids, users
    finally:
        await engine.dispose()


async def open_all_week(engine: Any) -> None:
    """Tests run at any hour: every sample service takes tickets day and night, holidays too."""
    from sqlalchemy import update

    from hall.storage.queue_tables import queue_services

    week = {str(day): ["00:00", "23:59"] for day in range(7)}
    async with engine.begin() as conn:
        await conn.execute(update(queue_services).values(week=week, open_on_holidays=True))


def make_site(tmp_path: Path, **settings: Any) -> tuple[Settings, dict[str, int], dict[str, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    ids, users = asyncio.run(_prepare(url))
    return Settings(db_url=url, secret_key="k" * 48, **settings), ids, users


def open_site(tmp_path: Path, **settings: Any) -> tuple[TestClient, Site]:
    config, ids, users = make_site(tmp_path, **settings)
    client = TestClient(create_app(config), follow_redirects=False)
    return client, Site(client, ids, users)
