"""Storage adapter for the queueing rules: loads their state and stores what they decided."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.errors import DomainError
from hall.events import Command, Decision, Event
from hall.tables import counters
from queueing import counters as rules
from queueing.counters import Counter, Counters, CounterStatus


def _int_arg(command: Command, name: str) -> int:
    value = command.args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(f"{name} must be a whole number", field=name)
    return value


_STATUS_AFTER = {
    "counter.opened": CounterStatus.OPEN,
    "counter.paused": CounterStatus.PAUSED,
    "counter.resumed": CounterStatus.OPEN,
    "counter.closed": CounterStatus.CLOSED,
}


class CounterDomain:
    """Counters: open / paused / closed, and who holds them."""

    name = "counter"
    commands = frozenset({"counter.open", "counter.pause", "counter.resume", "counter.close"})

    async def load(self, conn: AsyncConnection, hall_id: int) -> Counters:
        rows = await conn.execute(select(counters).where(counters.c.hall_id == hall_id))
        return {
            row.number: Counter(row.number, row.name, CounterStatus(row.status), row.clerk_id, row.pause_reason)
            for row in rows
        }

    def decide(self, state: Counters, command: Command, now: datetime) -> Decision[Counters]:
        number = _int_arg(command, "counter")
        clerk = _int_arg(command, "clerk")
        supervisor = command.args.get("supervisor") is True
        match command.name:
            case "counter.open":
                return rules.open_counter(state, number, clerk)
            case "counter.pause":
                reason = command.args.get("reason", "")
                if not isinstance(reason, str):
                    raise DomainError("reason must be text", field="reason")
                return rules.pause_counter(state, number, clerk, reason, supervisor=supervisor)
            case "counter.resume":
                return rules.resume_counter(state, number, clerk, supervisor=supervisor)
            case "counter.close":
                return rules.close_counter(state, number, clerk, supervisor=supervisor)
        raise DomainError(f"unknown counter command {command.name!r}")

    async def persist(self, conn: AsyncConnection, events: Sequence[Event], changed: Sequence[tuple[int, Any]]) -> None:
        # Only the last change of each counter in the batch matters for its row.
        last: dict[tuple[int, int], dict[str, Any]] = {}
        for event in events:
            status = _STATUS_AFTER.get(event.type)
            if status is None:
                continue
            key = (event.hall_id, int(event.data["counter"]))
            clerk = None if status is CounterStatus.CLOSED else event.data.get("clerk")
            reason = event.data.get("reason", "") if status is CounterStatus.PAUSED else ""
            last[key] = {"h": key[0], "n": key[1], "status": status.value, "clerk": clerk, "reason": reason}
        if not last:
            return
        await conn.execute(
            update(counters)
            .where(counters.c.hall_id == bindparam("h"), counters.c.number == bindparam("n"))
            .values(status=bindparam("status"), clerk_id=bindparam("clerk"), pause_reason=bindparam("reason")),
            list(last.values()),
        )
