"""一事一评: every finished service may be rated once, within a window, in the five levels of
GB/T 39734-2020 (非常满意 … 非常不满意), optionally with scored aspects the hall chooses.
An unsatisfied rating raises an alarm and opens a work order that needs a recorded callback and
a fix, due within five working days as halls commonly practise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from hall.kernel.errors import DomainError, Forbidden, NotFound, TransitionError
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_
from queueing.rating_records import Level, Rateable, Rating, WorkOrder
from queueing.services import add_working_days
from queueing.state import QueueState

WORK_ORDER_DAYS = 5
MAX_COMMENT = 300


def rateable_after_finish(state: QueueState, item: Rateable) -> QueueState:
    # Expired entries are dropped by the clock tick, not here: a finish must stay cheap.
    if item.key in state.rated:
        return state
    rateable = dict(state.rateable)
    rateable[item.key] = item
    return replace(state, rateable=rateable)


def forget_expired_ratings(state: QueueState, now: datetime) -> QueueState:
    if not any(_expired(state, item, now) for item in state.rateable.values()):
        return state
    return replace(state, rateable={k: v for k, v in state.rateable.items() if not _expired(state, v, now)})


def _expired(state: QueueState, item: Rateable, now: datetime) -> bool:
    return now - item.finished_at > timedelta(minutes=state.rules.rating_window_minutes)


def rate(
    state: QueueState,
    ticket: str,
    now: datetime,
    *,
    service: str,
    level: int,
    aspects: Mapping[str, int] | None = None,
    comment: str = "",
    source: str = "citizen_screen",
    served_by: int | None = None,
) -> Decision[QueueState]:
    """The resident rates one finished service of their ticket; a low level opens a work order.

    ``served_by`` is the staff member whose session runs the citizen screen the rating comes from:
    only the screen of the clerk who served the ticket may rate it, so no clerk rates a
    colleague's service (and opens a work order against them). A rating pad bound to the counter
    and the resident's online rating name nobody.

    Raises:
        NotFound: no finished, unrated service ``service`` of ``ticket`` is known here.
        Forbidden: ``served_by`` is not the clerk who served it.
        DomainError: the rating window has passed; ``level`` is not 1 to 5; an aspect is unknown
            or not scored 1 to 5; ``comment`` is too long.
    """
    item = state.rateable.get(f"{ticket}:{service}")
    if item is None:
        raise NotFound(N_("this service was not finished here, or it is rated already"), ticket=ticket)
    if served_by is not None and item.clerk != served_by:
        raise Forbidden(N_("only the citizen screen of the counter that served this ticket may rate it"), ticket=ticket)
    if _expired(state, item, now):
        raise DomainError(
            N_("the time to rate this service ({minutes} minutes) has passed"),
            ticket=ticket,
            say={"minutes": state.rules.rating_window_minutes},
        )
    try:
        grade = Level(level)
    except ValueError:
        raise DomainError(N_("level must be 1 (very dissatisfied) to 5 (very satisfied)"), field="level") from None
    scored = dict(aspects or {})
    unknown = set(scored) - set(state.rules.rating_aspects)
    if unknown:
        raise DomainError(N_("unknown aspects: {names}"), field="aspects", say={"names": ", ".join(sorted(unknown))})
    if any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5 for v in scored.values()):
        raise DomainError(N_("each aspect is scored 1 to 5"), field="aspects")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(N_("a comment has at most {limit} characters"), field="comment", say={"limit": MAX_COMMENT})
    rating = Rating(
        item.key, item.ticket, item.number, item.service, item.counter, item.clerk, grade, scored, comment, source, now
    )
    rateable = dict(state.rateable)
    del rateable[item.key]
    state = replace(state, rateable=rateable, rated=state.rated | {item.key}, changed=(*state.changed, rating))
    facts = [Fact("rating.given", {k: v for k, v in rating.as_json().items() if k not in ("comment", "at")})]
    result: dict[str, Any] = {"rating": rating.as_json()}
    if grade.unsatisfied:
        local_day = state.rules.local(now).date()
        order = WorkOrder(
            id=f"WO-{item.key}",
            rating=rating.id,
            ticket=item.ticket,
            number=item.number,
            counter=item.counter,
            clerk=item.clerk,
            level=grade,
            state="open",
            due=add_working_days(local_day, WORK_ORDER_DAYS),
            created_at=now,
        )
        orders = dict(state.work_orders)
        orders[order.id] = order
        state = replace(state, work_orders=orders, changed=(*state.changed, order))
        facts.append(Fact("rating.alarm", order.as_json()))
        result["work_order"] = order.as_json()
    return Decision(state, tuple(facts), result)


def _order(state: QueueState, order_id: str) -> WorkOrder:
    try:
        return state.work_orders[order_id]
    except KeyError:
        raise NotFound(N_("no open work order '{order}'"), say={"order": order_id}) from None


def _note(note: str) -> str:
    note = note.strip()
    if not note or len(note) > MAX_COMMENT:
        raise DomainError(
            N_("write what was done, in at most {limit} characters"), field="note", say={"limit": MAX_COMMENT}
        )
    return note


def record_callback(state: QueueState, order_id: str, by: int, now: datetime, *, note: str) -> Decision[QueueState]:
    """The hall called the unhappy resident back, and notes what was said.

    Raises:
        NotFound: ``order_id`` is not an open work order.
        TransitionError: the work order is not open.
        DomainError: ``note`` is blank or too long.
    """
    order = _order(state, order_id)
    if order.state != "open":
        raise TransitionError(N_("work order {order}"), order.state, "called_back", order=order.id)
    done = replace(order, state="called_back", callback_note=_note(note), callback_at=now, callback_by=by)
    orders = dict(state.work_orders)
    orders[done.id] = done
    state = replace(state, work_orders=orders, changed=(*state.changed, done))
    return Decision(state, (Fact("workorder.called_back", done.as_json()),), {"work_order": done.as_json()})


def resolve(state: QueueState, order_id: str, by: int, now: datetime, *, note: str) -> Decision[QueueState]:
    """The work order is closed with what was done.

    Raises:
        NotFound: ``order_id`` is not an open work order.
        TransitionError: the resident has not been called back yet.
        DomainError: ``note`` is blank or too long.
    """
    order = _order(state, order_id)
    if order.state != "called_back":
        raise TransitionError(N_("work order {order}"), order.state, "resolved", order=order.id)
    done = replace(order, state="resolved", resolution=_note(note), resolved_at=now, resolved_by=by)
    orders = {k: v for k, v in state.work_orders.items() if k != done.id}
    state = replace(state, work_orders=orders, changed=(*state.changed, done))
    return Decision(state, (Fact("workorder.resolved", done.as_json()),), {"work_order": done.as_json()})


def escalate_overdue(state: QueueState, now: datetime) -> Decision[QueueState]:
    """Run on the clock tick: a work order still unresolved once its due day is over is escalated,
    once, with an event the wallboard shows (as 督办 orders and case lights escalate on the clock).
    The due day is the hall's local date, so the order turns at the hall's midnight."""
    today = state.rules.local(now).date()
    late = sorted(
        (o for o in state.work_orders.values() if o.escalated_at is None and o.state != "resolved" and o.due < today),
        key=lambda o: (o.due, o.id),
    )
    if not late:
        return Decision(state)
    orders = dict(state.work_orders)
    facts: list[Fact] = []
    changed = list(state.changed)
    for order in late:
        escalated = replace(order, escalated_at=now)
        orders[order.id] = escalated
        changed.append(escalated)
        facts.append(Fact("workorder.overdue", escalated.as_json()))
    return Decision(replace(state, work_orders=orders, changed=tuple(changed)), tuple(facts))
