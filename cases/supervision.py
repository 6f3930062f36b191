"""督办 supervision orders: a supervisor opens an order on a case whose light is yellow or red, with
a note and a reply deadline; the office deciding the case answers it in writing.

Escalation follows 电子监察 practice: a reminder shortly before the reply deadline; a yellow card
(黄牌) with a written notice and a fix deadline once the reply deadline passes unanswered; a red card
(红牌) when the fix deadline passes too. Each level is reached once, in that order, and an answer
stops the escalation. The fix deadline is a plain ``timedelta`` after the reply deadline, so the
caller decides how working days map onto it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from cases.case_model import MAX_TEXT, Actor, Case, Turn
from cases.lights import Light
from cases.turns import fits
from hall.kernel.errors import DomainError, Forbidden, Invalid, NotFound
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_
from hall.kernel.roles import Role, within
from hall.kernel.zones import DEFAULT_ZONE, zone


class EscalationLevel(StrEnum):
    NONE = "none"
    REMINDER = "reminder"
    YELLOW_CARD = "yellow_card"
    RED_CARD = "red_card"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        return _ORDER.index(self)


_ORDER = (EscalationLevel.NONE, EscalationLevel.REMINDER, EscalationLevel.YELLOW_CARD, EscalationLevel.RED_CARD)
_LEVEL_LABELS = {
    EscalationLevel.NONE: "无",
    EscalationLevel.REMINDER: "提醒",
    EscalationLevel.YELLOW_CARD: "黄牌",
    EscalationLevel.RED_CARD: "红牌",
}


@dataclass(frozen=True)
class Order:
    id: str
    case: str
    accepted_hall: int
    deciding_hall: int
    department: str
    opened_by: int
    opened_at: datetime
    note: str
    reply_due: datetime
    light: Light
    answer: str | None = None
    answered_at: datetime | None = None
    answered_by: int | None = None
    level: EscalationLevel = EscalationLevel.NONE
    # Set with the yellow card: the written notice and the deadline it gives.
    notice: str | None = None
    fix_due: datetime | None = None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case": self.case,
            "halls": sorted({self.accepted_hall, self.deciding_hall}),
            "accepted_hall": self.accepted_hall,
            "deciding_hall": self.deciding_hall,
            "department": self.department,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at.isoformat(),
            "note": self.note,
            "reply_due": self.reply_due.isoformat(),
            "light": self.light.value,
            "answer": self.answer,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "answered_by": self.answered_by,
            "late": self.answered_at is not None and self.answered_at > self.reply_due,
            "level": self.level.value,
            "level_label": self.level.label,
            "notice": self.notice,
            "fix_due": self.fix_due.isoformat() if self.fix_due else None,
        }


@dataclass(frozen=True)
class SupervisionState:
    orders: Mapping[str, Order] = field(default_factory=dict)
    # Orders changed since the storage adapter last drained this.
    changed: tuple[Order, ...] = ()

    def with_order(self, order: Order) -> SupervisionState:
        orders = dict(self.orders)
        orders[order.id] = order
        return replace(self, orders=orders, changed=(*self.changed, order))


Result = Decision[SupervisionState]


def _text(value: str, name: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_TEXT:
        raise Invalid(N_("a {field} is required, in at most {limit} characters"), field=name, say={"limit": MAX_TEXT})
    return value


def _order(state: SupervisionState, order_id: str) -> Order:
    try:
        return state.orders[order_id]
    except KeyError:
        raise NotFound(N_("no supervision order '{order}'"), order=order_id) from None


def _fact(kind: str, order: Order, **extra: Any) -> Fact:
    return Fact(f"supervision.{kind}", {**order.as_json(), **extra})


# -- queries ---------------------------------------------------------------------------------


def orders_for_case(state: SupervisionState, number: str) -> list[Order]:
    """Every order on a case with its answer: the supervision record shown beside the case."""
    return sorted((o for o in state.orders.values() if o.case == number), key=lambda o: (o.opened_at, o.id))


def unanswered_at(state: SupervisionState, hall: int) -> list[Order]:
    """Orders the deciding office at ``hall`` still owes an answer to."""
    waiting = (o for o in state.orders.values() if o.deciding_hall == hall and not o.answered)
    return sorted(waiting, key=lambda o: (o.reply_due, o.id))


def due_level(order: Order, now: datetime, *, reminder_before: timedelta, fix_within: timedelta) -> EscalationLevel:
    """The level an unanswered order has reached at ``now``; an answered one escalates no further."""
    if order.answered:
        return order.level
    if now >= order.reply_due + fix_within:
        return EscalationLevel.RED_CARD
    if now >= order.reply_due:
        return EscalationLevel.YELLOW_CARD
    if now >= order.reply_due - reminder_before:
        return EscalationLevel.REMINDER
    return EscalationLevel.NONE


# -- rules -----------------------------------------------------------------------------------


def open_order(
    state: SupervisionState,
    case: Case,
    supervisor: Actor,
    now: datetime,
    *,
    note: str,
    reply_due: datetime,
    case_light: Light,
    order_id: str,
    hall_parents: Mapping[int, int | None],
) -> Result:
    """督办 on a case that is late or nearly so. A supervisor watches their hall and the halls
    below it, so either of the case's halls must be within theirs."""
    if not supervisor.admin:
        if Role.SUPERVISOR not in supervisor.roles:
            raise Forbidden(N_("only a supervisor opens supervision orders"))
        if not any(within(h, supervisor.hall_id, hall_parents) for h in (case.accepted_hall, case.deciding_hall)):
            raise Forbidden(N_("case {case} is outside the halls this supervisor watches"), case=case.number)
    if case_light is Light.GREEN:
        raise DomainError(N_("case {case} is on track (green); 督办 is for yellow or red cases"), case=case.number)
    if case.stage.finished:
        raise DomainError(N_("case {case} is {stage} already"), case=case.number, say={"stage": case.stage.label})
    if order_id in state.orders:
        raise DomainError(N_("supervision order {order} exists"), order=order_id)
    pending = [o.id for o in state.orders.values() if o.case == case.number and not o.answered]
    if pending:
        raise DomainError(
            N_("case {case} has order {order} still unanswered"), order=pending[0], say={"case": case.number}
        )
    if reply_due <= now:
        raise Invalid(N_("the reply deadline must be in the future"), field="reply_due")
    order = Order(
        id=order_id,
        case=case.number,
        accepted_hall=case.accepted_hall,
        deciding_hall=case.deciding_hall,
        department=case.department,
        opened_by=supervisor.staff_id,
        opened_at=now,
        note=_text(note, "note"),
        reply_due=reply_due,
        light=case_light,
    )
    return Decision(state.with_order(order), (_fact("opened", order),), {"order": order.as_json()})


def answer(state: SupervisionState, order_id: str, clerk: Actor, now: datetime, *, case: Case, text: str) -> Result:
    """The office's written answer. A late answer is still taken (and marked late); it stops
    escalation but leaves any card already given on the record."""
    order = _order(state, order_id)
    if case.number != order.case:
        raise DomainError(
            N_("order {order} is about case {case}, not {other}"),
            order=order_id,
            say={"case": order.case, "other": case.number},
        )
    if order.answered:
        raise DomainError(N_("order {order} is answered already"), order=order_id)
    deciding = Turn(Role.CLERK, order.deciding_hall, order.department)
    if not (clerk.admin or clerk.staff_id == case.assignee or fits(clerk, deciding)):
        raise Forbidden(
            N_("only the case's assignee or a clerk of hall {hall} answers order {order}"),
            order=order_id,
            say={"hall": order.deciding_hall},
        )
    done = replace(order, answer=_text(text, "answer"), answered_at=now, answered_by=clerk.staff_id)
    return Decision(state.with_order(done), (_fact("answered", done),), {"order": done.as_json()})


def escalate(
    state: SupervisionState,
    now: datetime,
    *,
    reminder_before: timedelta,
    fix_within: timedelta,
    timezone: str = DEFAULT_ZONE,
) -> Result:
    """Run on the clock tick: raise each unanswered order to the level it has reached. Levels are
    given in order, each once; a reminder is skipped when the reply deadline has already passed
    (a tick that came late), but a red card always follows a yellow card's written notice."""
    tz = zone(timezone)
    facts: list[Fact] = []
    for order in sorted(state.orders.values(), key=lambda o: (o.reply_due, o.id)):
        target = due_level(order, now, reminder_before=reminder_before, fix_within=fix_within)
        for level in _ORDER[order.level.rank + 1 : target.rank + 1]:
            if level is EscalationLevel.REMINDER and target is not EscalationLevel.REMINDER:
                continue
            order = _escalated(order, level, fix_within, tz)
            facts.append(_fact(level.value, order))
        if order is not state.orders[order.id]:
            state = state.with_order(order)
    return Decision(state, tuple(facts), {"escalated": len(facts)})


def _escalated(order: Order, level: EscalationLevel, fix_within: timedelta, tz: ZoneInfo) -> Order:
    if level is not EscalationLevel.YELLOW_CARD:
        return replace(order, level=level)
    # The fix deadline counts from the reply deadline, not from the tick that noticed it, so a
    # late tick does not give the office more time.
    fix_due = order.reply_due + fix_within
    notice = (
        f"督办黄牌通知：办件 {order.case} 的督办单 {order.id} 答复期限 {order.reply_due.astimezone(tz):%Y-%m-%d %H:%M} "
        f"已过，未收到答复。请于 {fix_due.astimezone(tz):%Y-%m-%d %H:%M} 前整改并书面答复，逾期将亮红牌。"
    )
    return replace(order, level=level, notice=notice, fix_due=fix_due)
