"""Staff roles and the access rule every route and websocket topic declares.

``Access.public()`` is open to anyone (residents' screens); ``Access.staff(...)`` names the roles
that may use it. Admin may do everything staff may. Staff see their own hall and the halls below it
(a district supervisor watches its streets and communities).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    TECHNICIAN = "technician"
    ADMIN = "admin"


def parse_roles(text: str | Iterable[str]) -> frozenset[Role]:
    names = text.split(",") if isinstance(text, str) else list(text)
    roles = set()
    for name in names:
        name = name.strip()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            raise ValueError(f"unknown role {name!r}; roles are {', '.join(r.value for r in Role)}") from None
    return frozenset(roles)


@dataclass(frozen=True)
class Access:
    """Who may use a route or topic. ``roles`` empty and ``public`` true: anyone."""

    public: bool
    roles: frozenset[Role] = frozenset()

    @classmethod
    def anyone(cls) -> Access:
        return cls(public=True)

    @classmethod
    def staff(cls, *roles: Role) -> Access:
        """Any of ``roles``; with none named, any logged-in staff member."""
        return cls(public=False, roles=frozenset(roles))

    def allows(self, roles: frozenset[Role] | None) -> bool:
        if self.public:
            return True
        if roles is None:
            return False
        if Role.ADMIN in roles or not self.roles:
            return True
        return bool(self.roles & roles)

    def describe(self) -> str:
        if self.public:
            return "public"
        return "staff: " + (", ".join(sorted(r.value for r in self.roles)) or "any role")


def within(hall_id: int, home_hall: int, parents: Mapping[int, int | None]) -> bool:
    """Whether ``hall_id`` is ``home_hall`` or below it in the hall tree."""
    current: int | None = hall_id
    seen = set()
    while current is not None and current not in seen:
        if current == home_hall:
            return True
        seen.add(current)
        current = parents.get(current)
    return False
