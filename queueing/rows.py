"""The queue's records as the rows of their tables, and back: a service (``queue_services``), a
ticket with its spans (``tickets``), a rating, a work order, and a hall's stored rule set.

Apart from the store (``queueing.store``), which runs the queries, because the mapping is pure and
is shared: applying a hall file (``hall.hallfile_store``) writes services with ``service_row`` too.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from queueing.rating_records import Level, Rating, WorkOrder
from queueing.services import Hours, Priority, Service
from queueing.state import Rules
from queueing.tickets import Holder, Span, Ticket, TicketState


def rules_from_stored(stored: dict[str, Any]) -> Rules:
    values = dict(stored)
    for name in ("rating_aspects", "kiosk_priorities"):
        if name in values:
            values[name] = tuple(values[name])
    return Rules(**values)


def service_from_row(row: Any) -> Service:
    week = {int(day): Hours(time.fromisoformat(span[0]), time.fromisoformat(span[1])) for day, span in row.week.items()}
    return Service(
        code=row.code,
        name=row.name,
        name_en=row.name_en,
        prefix=row.prefix,
        width=row.width,
        daily_cap=row.daily_cap,
        week=week,
        open_on_holidays=row.open_on_holidays,
        target_wait_minutes=row.target_wait_minutes,
        default_service_minutes=row.default_service_minutes,
        one_live_ticket_per_id=row.one_live_ticket_per_id,
        active=bool(row.active),
    )


def service_row(hall_id: int, service: Service, position: int) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "code": service.code,
        "name": service.name,
        "name_en": service.name_en,
        "prefix": service.prefix,
        "width": service.width,
        "daily_cap": service.daily_cap,
        "week": {
            str(d): [h.opens.isoformat("minutes"), h.closes.isoformat("minutes")] for d, h in service.week.items()
        },
        "open_on_holidays": service.open_on_holidays,
        "target_wait_minutes": service.target_wait_minutes,
        "default_service_minutes": service.default_service_minutes,
        "one_live_ticket_per_id": service.one_live_ticket_per_id,
        "active": service.active,
        "position": position,
    }


def ticket_from_row(row: Any) -> Ticket:
    applicant = (
        Holder(row.applicant_name or "", row.applicant_id_number) if row.applicant_id_number is not None else None
    )
    return Ticket(
        id=row.id,
        day=row.day,
        n=row.n,
        number=row.number,
        service=row.service,
        priority=Priority(row.priority),
        state=TicketState(row.state),
        issued_at=row.issued_at,
        queued_at=row.queued_at,
        order=row.order_no,
        boosted=row.boosted,
        counter=row.counter,
        clerk=row.clerk,
        target_counter=row.target_counter,
        previous_service=row.previous_service,
        recalls=row.recalls,
        hold_until=row.hold_until,
        applicant=applicant,
        estimate_minutes=row.estimate_minutes,
        spans=tuple(Span.from_json(s) for s in row.spans),
    )


def ticket_row(hall_id: int, ticket: Ticket) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "id": ticket.id,
        "day": ticket.day,
        "n": ticket.n,
        "number": ticket.number,
        "service": ticket.service,
        "priority": ticket.priority.value,
        "state": ticket.state.value,
        "issued_at": ticket.issued_at,
        "queued_at": ticket.queued_at,
        "order_no": ticket.order,
        "boosted": ticket.boosted,
        "counter": ticket.counter,
        "clerk": ticket.clerk,
        "target_counter": ticket.target_counter,
        "previous_service": ticket.previous_service,
        "recalls": ticket.recalls,
        "hold_until": ticket.hold_until,
        "applicant_name": ticket.applicant.name if ticket.applicant else None,
        "applicant_id_number": ticket.applicant.id_number if ticket.applicant else None,
        "estimate_minutes": ticket.estimate_minutes,
        "spans": [s.as_json() for s in ticket.spans],
    }


def rating_row(hall_id: int, rating: Rating) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "id": rating.id,
        "ticket": rating.ticket,
        "number": rating.number,
        "service": rating.service,
        "counter": rating.counter,
        "clerk": rating.clerk,
        "level": int(rating.level),
        "aspects": dict(rating.aspects),
        "comment": rating.comment,
        "source": rating.source,
        "at": rating.at,
    }


def order_row(hall_id: int, order: WorkOrder) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "id": order.id,
        "rating": order.rating,
        "ticket": order.ticket,
        "number": order.number,
        "counter": order.counter,
        "clerk": order.clerk,
        "level": int(order.level),
        "state": order.state,
        "due": order.due,
        "created_at": order.created_at,
        "callback_note": order.callback_note,
        "callback_at": order.callback_at,
        "callback_by": order.callback_by,
        "resolution": order.resolution,
        "resolved_at": order.resolved_at,
        "resolved_by": order.resolved_by,
        "escalated_at": order.escalated_at,
    }


def order_from_row(row: Any) -> WorkOrder:
    return WorkOrder(
        id=row.id,
        rating=row.rating,
        ticket=row.ticket,
        number=row.number,
        counter=row.counter,
        clerk=row.clerk,
        level=Level(row.level),
        state=row.state,
        due=row.due,
        created_at=row.created_at,
        callback_note=row.callback_note,
        callback_at=row.callback_at,
        callback_by=row.callback_by,
        resolution=row.resolution,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        escalated_at=row.escalated_at,
    )
