"""An administrator's change to a running district, made the way the hall file makes it.

A form or an API call edits the district as a hall file: what the database holds is exported,
the edit is made to that document, the whole is checked by the hall file's own rules
(``hall.hallfile.reading.check``), the changes are planned (``hall.hallfile.plan``) and applied
(``hall.hallfile.store``) — so a page and a file are held to the same rules and log the same
events. It all runs on the writer's task in one transaction (``Writer.run``): its events are
ordered with every command's and pushed live, and the halls it touched are loaded afresh by the
next command, so a service's new hours apply to the next ticket and a counter's new services to
its next call.

Before applying, what live work forbids is checked against the queue as it stands
(``queueing.retiring``): a counter in service is not deactivated, a hall with work under way is
not closed, a service's numbers do not change while they are being called.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.hallfile.plan import Change, plan
from hall.hallfile.reading import Problem, check
from hall.hallfile.store import apply, export, known_devices
from hall.kernel.errors import Invalid, NotFound
from hall.kernel.events import Event
from hall.kernel.i18n import N_, Text
from hall.storage.tables import events, hall_heads, halls
from hall.storage.writer import Writer
from queueing.retiring import counter_may_retire, hall_may_retire, numbering_may_change
from queueing.state import QueueState

Document = dict[str, Any]
# Makes the edit on the district's document (the hall file as JSON), in place.
Edit = Callable[[Document], None]
Load = Callable[[AsyncConnection, int], Awaitable[QueueState]]


class Unsound(Invalid):
    """The district the change would make is not sound; ``problems`` says every reason, each with
    its place (``halls[0].services[2].prefix``) and the field of the form it came from."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(N_("the change was not made: {problem}"), say={"problem": first.text}, field=_field(first))
        self.problems = list(problems)

    def as_json(self, locale: str | None = None) -> dict[str, Any]:
        listed = [{"path": p.where, "field": _field(p), "message": p.text.said(locale)} for p in self.problems]
        return super().as_json(locale) | {"problems": listed}


def _field(problem: Problem) -> str | None:
    named = [step for step in problem.path if isinstance(step, str)]
    return named[-1] if named else None


async def change_district(writer: Writer, edit: Edit, *, actor: str, load: Load) -> list[Change]:
    """Make ``edit`` to the district, checked and applied as a hall file; returns the changes made
    (none when the edit changes nothing). Raises ``Unsound``, ``InService`` or the edit's own error,
    and then changes nothing."""

    async def work(conn: AsyncConnection, now: datetime) -> tuple[list[Change], Sequence[Event]]:
        current = await export(conn)
        document = current.model_dump(mode="json")
        edit(document)
        wanted, problems = check(document, known_devices=await known_devices(conn))
        if problems or wanted is None:
            raise Unsound(problems or [Problem((), Text(N_("the change was not made")))])
        changes = plan(current, wanted).changes
        if not changes:
            return [], []
        await _spare_live_work(conn, changes, load)
        heads = {row.hall_id: int(row.last_seq) for row in await conn.execute(select(hall_heads))}
        await apply(conn, changes, now, actor=actor)
        return changes, await _logged_since(conn, heads)

    return await writer.run(work)


async def _spare_live_work(conn: AsyncConnection, changes: Sequence[Change], load: Load) -> None:
    ids = {row.code: row.id for row in await conn.execute(select(halls.c.code, halls.c.id))}
    states: dict[str, QueueState] = {}

    async def state_of(code: str) -> QueueState:
        if code not in states:
            states[code] = await load(conn, ids[code])
        return states[code]

    for change in changes:
        if change.op != "change" or change.hall not in ids:
            continue
        fields: Mapping[str, Any] = change.fields
        if change.kind == "counter" and fields.get("active") is False:
            counter_may_retire(await state_of(change.hall), change.wanted.number)
        elif change.kind == "hall" and fields.get("active") is False:
            hall_may_retire(await state_of(change.hall))
        elif change.kind == "service" and ("prefix" in fields or "width" in fields):
            numbering_may_change(await state_of(change.hall), change.wanted.code, change.wanted.prefix)


async def _logged_since(conn: AsyncConnection, heads: Mapping[int, int]) -> list[Event]:
    """The events the change logged: every hall's log past the head it had before (a new hall's
    whole log)."""
    rows = await conn.execute(select(hall_heads))
    moved = [(row.hall_id, heads.get(row.hall_id, 0)) for row in rows if int(row.last_seq) != heads.get(row.hall_id)]
    logged: list[Event] = []
    for hall_id, after in moved:
        for row in await conn.execute(
            select(events).where(events.c.hall_id == hall_id, events.c.seq > after).order_by(events.c.seq)
        ):
            logged.append(Event(row.hall_id, row.seq, row.type, row.data, row.actor, row.at, row.command_id))
    return logged


# Edits: each finds its entry in the document by code and says so when there is none.


def hall_entry(document: Document, code: str) -> Document:
    found: list[Document] = document["halls"]
    for hall in found:
        if hall["code"] == code:
            return hall  # the document's own entry: the edit changes it in place
    raise NotFound(N_("no hall {hall}"), say={"hall": code})


def entry(items: list[Document], key: str, value: Any, missing: Text) -> Document:
    for item in items:
        if item.get(key) == value:
            return item
    raise NotFound(missing.id, say=dict(missing.args))


def put(items: list[Document], key: str, replacement: Document) -> None:
    """Replace the entry with ``replacement``'s key, or add it at the end."""
    for index, item in enumerate(items):
        if item.get(key) == replacement.get(key):
            items[index] = replacement
            return
    items.append(replacement)
