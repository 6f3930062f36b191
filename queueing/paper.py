"""A ticket on paper: the ESC/POS bytes of a live ticket, read from the writer's state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from devices.printing import TicketPrint
from devices.printing import ticket_escpos as ticket_escpos_bytes
from hall.storage.database import reading
from hall.storage.tables import halls
from hall.storage.writer import Writer
from queueing.state import QueueState
from queueing.views import ticket_status


async def ticket_print(
    writer: Writer,
    engine: AsyncEngine,
    hall_rows: dict[int, Any],
    hall_id: int,
    ticket_id: str,
    base_url: str,
    width: int = 48,
    *,
    known: Mapping[str, Any] | None = None,
) -> bytes | None:
    """A live ticket as ESC/POS bytes, for the page's download and for a kiosk's printer; the hall's
    names are read once into ``hall_rows``.
    ``known`` carries the people ahead and the estimate when the caller has them already (the
    answer to the ticket's issue), which spares a walk over every waiting ticket."""
    state: QueueState | None = writer.cached_state(hall_id, "queue") if known is not None else None
    if state is None or ticket_id not in state.tickets:
        read = await writer.read_state(hall_id, "queue")
        state = read[1] if read else None
    ticket = state.tickets.get(ticket_id) if state else None
    if known is not None:
        status: Mapping[str, Any] | None = known
    else:
        status = ticket_status(state, ticket_id, datetime.now(UTC)) if state else None
    if state is None or ticket is None or status is None:
        return None
    hall = hall_rows.get(hall_id)
    if hall is None:
        async with reading(engine) as conn:
            hall = hall_rows[hall_id] = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one()
    service = state.services[ticket.service]
    printed = TicketPrint(
        hall_name=hall.name,
        hall_name_en=hall.name_en,
        number=ticket.number,
        service_name=service.name,
        service_name_en=service.name_en,
        ahead=int(status.get("ahead", 0)),
        estimate_minutes=status.get("estimate_minutes"),
        issued_at=ticket.issued_at,
        qr_url=f"{base_url}/t/{hall_id}/{ticket_id}",
        timezone=state.rules.timezone,
    )
    return ticket_escpos_bytes(printed, width=width)
