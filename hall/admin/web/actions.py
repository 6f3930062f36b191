"""What the admin pages and the admin API both do: each action is an edit of the district's hall
file, made by ``hall.admin.changes.change_district`` with the member of staff as its actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from starlette.requests import Request

from hall.admin.changes import Document, change_district, hall_entry, put
from hall.hallfile.plan import Change
from hall.hallfile.store import export
from hall.kernel.errors import Forbidden, Invalid, NotFound
from hall.kernel.i18n import N_
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import halls
from hall.web.access import member_of

# The level a hall's children have.
BELOW = {"district": "street", "street": "community"}


async def hall_row(request: Request, hall_id: int) -> Any:
    async with reading(runtime_of(request).engine) as conn:
        row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
    if row is None:
        raise NotFound(N_("no hall with id {hall}"), say={"hall": hall_id})
    return row


async def district(request: Request) -> Document:
    """The district as the hall file has it, as JSON (``hall setup --export``'s content)."""
    async with reading(runtime_of(request).engine) as conn:
        return (await export(conn)).model_dump(mode="json")


async def _change(request: Request, edit: Callable[[Document], None]) -> list[Change]:
    runtime = runtime_of(request)
    queue = next(d for d in runtime.writer.domains if d.name == "queue")
    return await change_district(runtime.writer, edit, actor=member_of(request).actor, load=queue.load)


def _taken(items: list[Document], key: str, value: Any) -> bool:
    return any(item.get(key) == value for item in items)


async def put_service(request: Request, hall_id: int, entry: Document, *, create: bool) -> list[Change]:
    code = (await hall_row(request, hall_id)).code

    def edit(document: Document) -> None:
        services = hall_entry(document, code)["services"]
        exists = _taken(services, "code", entry.get("code"))
        if create and exists:
            raise Invalid(
                N_("there is already a service {service} in this hall"),
                field="code",
                say={"service": entry.get("code")},
            )
        if not create and not exists:
            raise NotFound(N_("no service '{service}' in this hall"), service=entry.get("code"))
        put(services, "code", entry)

    return await _change(request, edit)


async def put_counter(request: Request, hall_id: int, entry: Document, *, create: bool) -> list[Change]:
    code = (await hall_row(request, hall_id)).code

    def edit(document: Document) -> None:
        counters = hall_entry(document, code)["counters"]
        exists = _taken(counters, "number", entry.get("number"))
        if create and exists:
            raise Invalid(
                N_("there is already a counter {counter} in this hall"),
                field="number",
                say={"counter": entry.get("number")},
            )
        if not create and not exists:
            raise NotFound(N_("no counter number {counter} in this hall"), counter=entry.get("number"))
        put(counters, "number", entry)

    return await _change(request, edit)


async def put_department(request: Request, hall_id: int, entry: Document, *, create: bool) -> list[Change]:
    code = (await hall_row(request, hall_id)).code

    def edit(document: Document) -> None:
        departments = hall_entry(document, code)["departments"]
        exists = _taken(departments, "code", entry.get("code"))
        if create and exists:
            raise Invalid(
                N_("there is already a department {department} in this hall"),
                field="code",
                say={"department": entry.get("code")},
            )
        if not create and not exists:
            raise NotFound(N_("no department {department} in this hall"), say={"department": entry.get("code")})
        put(departments, "code", entry)

    return await _change(request, edit)


async def set_active(request: Request, hall_id: int, kind: str, key: Any, active: bool) -> list[Change]:
    """Deactivate or activate one of a hall's services (``kind`` "services", key its code), counters
    ("counters", its number) or departments ("departments", its code)."""
    code = (await hall_row(request, hall_id)).code
    field = "number" if kind == "counters" else "code"

    def edit(document: Document) -> None:
        for item in hall_entry(document, code)[kind]:
            if item[field] == key:
                item["active"] = active
                return
        raise NotFound(N_("nothing called {name} in this hall"), say={"name": key})

    return await _change(request, edit)


async def add_hall(request: Request, parent_id: int, entry: Document) -> list[Change]:
    """A new hall below ``parent_id``, one level down (a street below a district, a community below a
    street or a district)."""
    parent = await hall_row(request, parent_id)
    if parent.level == "community":
        raise Invalid(N_("a community hall has no halls below it"), field="level")

    def edit(document: Document) -> None:
        if _taken(document["halls"], "code", entry.get("code")):
            raise Invalid(N_("there is already a hall {hall}"), field="code", say={"hall": entry.get("code")})
        document["halls"].append({**entry, "parent": parent.code})

    return await _change(request, edit)


async def _own_or_below(request: Request, target: Any) -> None:
    if not await runtime_of(request).sessions.may_see_hall(member_of(request), target.id):
        raise Forbidden(N_("this hall is not yours"), field="hall")


async def change_hall(request: Request, target_id: int, changes: Document) -> list[Change]:
    """A hall's names or whether it is in service; ``target_id`` is the hall or one below it."""
    target = await hall_row(request, target_id)
    await _own_or_below(request, target)

    def edit(document: Document) -> None:
        hall_entry(document, target.code).update(changes)

    return await _change(request, edit)
