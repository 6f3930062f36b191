"""Staff sessions: login checks, a server-side session per login, and who is asking.

The cookie holds a random token; the database keeps only its SHA-256, so logout and account
deactivation take effect at once and a copy of the database yields no live cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.roles import Role, parse_roles, within
from hall.storage.database import reading
from hall.storage.directory import hall_tree
from hall.storage.tables import sessions, staff
from hall.web.passwords import verify_password

SESSION_COOKIE = "hall_session"
SESSION_DAYS = 1
_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    staff_no: str
    roles: frozenset[Role]
    hall_id: int
    # A first or reset password: only changing it is allowed until it is changed.
    must_change_password: bool = False

    @property
    def actor(self) -> str:
        return f"staff:{self.id}"

    def has(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles


class InHall(Protocol):
    @property
    def hall_id(self) -> int: ...


def session_key(token: str) -> str:
    """What a session is known by inside the server: its token's digest, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


_digest = session_key


class Sessions:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Short cache of token → staff: a busy console should not cost a query per request.
        self._cache: dict[str, tuple[float, Staff | None]] = {}
        self._tree: tuple[float, dict[int, int | None]] | None = None
        # Told the key of every session that ends here (its open sockets are closed at once).
        self.ended: list[Callable[[str], object]] = []

    async def check_password(self, username: str, password: str) -> Staff | None:
        async with reading(self._engine) as conn:
            row = (await conn.execute(select(staff).where(staff.c.username == username))).one_or_none()
        stored = row.password_hash if row is not None and row.active else None
        if not verify_password(stored, password) or row is None:
            return None
        return _staff(row)

    async def start(self, member: Staff, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        async with self._engine.begin() as conn:
            await conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
            await conn.execute(
                insert(sessions).values(
                    token_hash=_digest(token),
                    staff_id=member.id,
                    created_at=now,
                    expires_at=now + timedelta(days=SESSION_DAYS),
                )
            )
        return token

    async def end(self, token: str) -> None:
        digest = _digest(token)
        self._cache.pop(digest, None)
        async with self._engine.begin() as conn:
            await conn.execute(delete(sessions).where(sessions.c.token_hash == digest))
        self._tell_ended([digest])

    async def end_staff(self, staff_id: int, *, keep: str | None = None) -> int:
        """Ends every session of one staff member (logged out everywhere) but the one known by
        ``keep``: call it when an account is deactivated, its roles or hall change, or its
        password is reset or changed. Returns how many ended."""
        async with self._engine.begin() as conn:
            digests = [
                row.token_hash
                for row in await conn.execute(select(sessions.c.token_hash).where(sessions.c.staff_id == staff_id))
                if row.token_hash != keep
            ]
            if digests:
                await conn.execute(delete(sessions).where(sessions.c.token_hash.in_(digests)))
        # Cached look-ups of this person answer from memory for a few seconds: drop them all.
        for digest, (_, member) in list(self._cache.items()):
            if member is not None and member.id == staff_id:
                self._cache.pop(digest, None)
        self._tell_ended(digests)
        return len(digests)

    def _tell_ended(self, digests: list[str]) -> None:
        for digest in digests:
            for listener in self.ended:
                listener(digest)

    async def lookup(self, token: str | None, now: datetime) -> Staff | None:
        if not token or len(token) > 100:
            return None
        return await self.lookup_key(_digest(token), now)

    async def lookup_key(self, digest: str, now: datetime) -> Staff | None:
        """The staff member of the session known by ``digest`` (see ``session_key``)."""
        cached = self._cache.get(digest)
        clock = time.monotonic()
        if cached is not None and cached[0] > clock:
            return cached[1]
        async with reading(self._engine) as conn:
            row = (
                await conn.execute(
                    select(staff)
                    .select_from(sessions.join(staff, staff.c.id == sessions.c.staff_id))
                    .where(sessions.c.token_hash == digest, sessions.c.expires_at > now, staff.c.active)
                )
            ).one_or_none()
        member = _staff(row) if row is not None else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (clock + _CACHE_SECONDS, member)
        return member

    async def _halls(self) -> dict[int, int | None]:
        clock = time.monotonic()
        if self._tree is None or self._tree[0] < clock:
            async with reading(self._engine) as conn:
                self._tree = (clock + 30.0, await hall_tree(conn))
        return self._tree[1]

    async def hall_exists(self, hall_id: int) -> bool:
        return hall_id in await self._halls()

    async def may_see_hall(self, member: InHall, hall_id: int) -> bool:
        """Staff see their own hall and the halls below it."""
        return within(hall_id, member.hall_id, await self._halls())


def _staff(row: object) -> Staff:
    return Staff(
        id=row.id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        display_name=row.display_name,  # type: ignore[attr-defined]
        staff_no=row.staff_no,  # type: ignore[attr-defined]
        roles=parse_roles(row.roles),  # type: ignore[attr-defined]
        hall_id=row.hall_id,  # type: ignore[attr-defined]
        must_change_password=bool(row.must_change_password),  # type: ignore[attr-defined]
    )
