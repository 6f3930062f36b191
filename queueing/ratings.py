"""一事一评: every finished service may be rated once, within a window, in the five levels of
GB/T 39734-2020 (非常满意 … 非常不满意), optionally with scored aspects the hall chooses.
An unsatisfied rating raises an alarm and opens a work order that needs a recorded callback and
a fix, due within five working days as halls commonly practise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any

from hall.errors import DomainError, NotFound, TransitionError
from hall.events import Decision, Fact
from queueing.services import add_working_days
from queueing.state import QueueState

WORK_ORDER_DAYS = 5
MAX_COMMENT = 300


class Level(IntEnum):
    """GB/T 39734-2020's five levels, 5 best."""

    VERY_SATISFIED = 5
    SATISFIED = 4
    BASICALLY_SATISFIED = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def unsatisfied(self) -> bool:
        return self <= Level.DISSATISFIED


_LABELS = {
    Level.VERY_SATISFIED: "非常满意",
    Level.SATISFIED: "满意",
    Level.BASICALLY_SATISFIED: "基本满意",
    Level.DISSATISFIED: "不满意",
    Level.VERY_DISSATISFIED: "非常不满意",
}


@dataclass(frozen=True)
class Rateable:
    """A finished service that may still be rated."""

    ticket: str
    number: str
    service: str
    counter: int
    clerk: int | None
    finished_at: datetime

    @property
    def key(self) -> str:
        return f"{self.ticket}:{self.service}"


@dataclass(frozen=True)
class Rating:
    id: str
    ticket: str
    number: str
    service: str
    counter: int
    clerk: int | None
    level: Level
    aspects: Mapping[str, int]
    comment: str
    source: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticket": self.ticket,
            "number": self.number,
            "service": self.service,
            "counter": self.counter,
            "clerk": self.clerk,
            "level": int(self.level),
            "label": self.level.label,
            "aspects": dict(self.aspects),
            "comment": self.comment,
            "source": self.source,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class WorkOrder:
    """The follow-up a bad rating demands: a callback to the resident, then a fix."""

    id: str
    rating: str
    ticket: str
    number: str
    counter: int
    clerk: int | None
    level: Level
    state: str  # open → called_back → resolved
    due: date
    created_at: datetime
    callback_note: str = ""
    callback_at: datetime | None = None
    callback_by: int | None = None
    resolution: str = ""
    resolved_at: datetime | None = None
    resolved_by: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rating": self.rating,
            "ticket": self.ticket,
            "number": self.number,
            "counter": self.counter,
            "clerk": self.clerk,
            "level": int(self.level),
            "label": self.level.label,
            "state": self.state,
            "due": self.due.isoformat(),
            "created_at": self.created_at.isoformat(),
            "callback_note": self.callback_note,
            "resolution": self.resolution,
        }


def rateable_after_finish(state: QueueState, item: Rateable) -> QueueState:
    # Expired entries are dropped by the clock tick, not here: a finish must stay cheap.
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
    service: str,
    level: int,
    now: datetime,
    *,
    aspects: Mapping[str, int] | None = None,
    comment: str = "",
    source: str = "citizen_screen",
) -> Decision[QueueState]:
    item = state.rateable.get(f"{ticket}:{service}")
    if item is None:
        raise NotFound("this service was not finished here, or it is rated already", ticket=ticket)
    if _expired(state, item, now):
        raise DomainError(
            f"the time to rate this service ({state.rules.rating_window_minutes} minutes) has passed", ticket=ticket
        )
    try:
        grade = Level(level)
    except ValueError:
        raise DomainError("level must be 1 (非常不满意) to 5 (非常满意)", field="level") from None
    scored = dict(aspects or {})
    unknown = set(scored) - set(state.rules.rating_aspects)
    if unknown:
        raise DomainError(f"unknown aspects: {', '.join(sorted(unknown))}", field="aspects")
    if any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5 for v in scored.values()):
        raise DomainError("each aspect is scored 1 to 5", field="aspects")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(f"a comment has at most {MAX_COMMENT} characters", field="comment")
    rating = Rating(
        item.key, item.ticket, item.number, item.service, item.counter, item.clerk, grade, scored, comment, source, now
    )
    rateable = dict(state.rateable)
    del rateable[item.key]
    state = replace(state, rateable=rateable, changed=(*state.changed, rating))
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
        raise NotFound(f"no open work order {order_id!r}") from None


def _note(note: str) -> str:
    note = note.strip()
    if not note or len(note) > MAX_COMMENT:
        raise DomainError(f"write what was done, in at most {MAX_COMMENT} characters", field="note")
    return note


def record_callback(state: QueueState, order_id: str, note: str, by: int, now: datetime) -> Decision[QueueState]:
    order = _order(state, order_id)
    if order.state != "open":
        raise TransitionError(f"work order {order.id}", order.state, "called_back")
    done = replace(order, state="called_back", callback_note=_note(note), callback_at=now, callback_by=by)
    orders = dict(state.work_orders)
    orders[done.id] = done
    state = replace(state, work_orders=orders, changed=(*state.changed, done))
    return Decision(state, (Fact("workorder.called_back", done.as_json()),), {"work_order": done.as_json()})


def resolve(state: QueueState, order_id: str, note: str, by: int, now: datetime) -> Decision[QueueState]:
    order = _order(state, order_id)
    if order.state != "called_back":
        raise TransitionError(f"work order {order.id}", order.state, "resolved")
    done = replace(order, state="resolved", resolution=_note(note), resolved_at=now, resolved_by=by)
    orders = {k: v for k, v in state.work_orders.items() if k != done.id}
    state = replace(state, work_orders=orders, changed=(*state.changed, done))
    return Decision(state, (Fact("workorder.resolved", done.as_json()),), {"work_order": done.as_json()})
