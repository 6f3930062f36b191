"""The case register of one hall tree: the workflow, the lights, 督办 and what to tell the applicant,
as one pure state the writer keeps at the tree's root hall.

Every fact about a case is logged at its accepting and deciding halls and every hall above them up
to the root (``Fact.also``): a community hall's log shows the progress of what it accepted, a
district office's log what it decides, and each hall watches the halls below it.

The register adds to :mod:`cases.workflow` what the rules there leave to their caller: the public
case number, the counter a case was taken at, its due time and light schedule, the light last
announced, the midway reminder, the resident's rating, and the notices owed to the applicant.
The clock tick (:func:`tick`) turns each light exactly when its schedule says, once per change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import immutables

from cases import supervision, workflow
from cases.case_model import Actor, Applicant, Case, CasesState, ItemRules, Stage
from cases.case_timing import EPOCH, MICROSECOND, Meta, RegisterSettings, light_now, reason_json, timed, us_of
from cases.catalog import Item, Level
from cases.deadlines import (
    WorkingHours,
)
from cases.lights import NEVER, Light
from cases.notices import NoticeKind
from hall.kernel.errors import DomainError, Invalid, NotFound
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_
from queueing.rating_records import Level as RatingLevel

RATING_DAYS = 30
# A 督办 order asks for an answer within days, not years.
MAX_REPLY = timedelta(days=30)


@dataclass(frozen=True)
class NoticeDue:
    """A message the applicant is owed; the storage adapter renders and queues it."""

    number: str
    kind: str
    phone: str
    item: str
    hall: int
    due: datetime | None


@dataclass(frozen=True)
class Register:
    root: int
    cases: CasesState
    orders: supervision.SupervisionState = field(default_factory=supervision.SupervisionState)
    meta: Mapping[str, Meta] = field(default_factory=immutables.Map)
    # The last number given: (local day as YYYYMMDD, count that day).
    last_number: tuple[str, int] = ("", 0)
    # Drained by the storage adapter after each batch.
    notices: tuple[NoticeDue, ...] = ()
    changed_meta: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Persistent, like the cases: a step replaces one entry without copying the rest.
        if not isinstance(self.meta, immutables.Map):
            object.__setattr__(self, "meta", immutables.Map(self.meta))

    def case(self, number: str) -> Case:
        case = self.cases.cases.get(number)
        if case is None:
            raise NotFound(N_("no case '{case}'"), case=number)
        return case

    def meta_of(self, number: str) -> Meta:
        return self.meta.get(number, Meta())


Result = Decision[Register]


def item_rules(item: Item) -> ItemRules:
    """What the workflow needs of a catalog item."""
    return ItemRules(
        code=item.code,
        accept_levels=item.accept_levels,
        decide_level=item.decide_level,
        kind=item.kind.value,
        time_limit_days=item.time_limit_days,
        department=item.department,
        materials=tuple(m.name for m in item.required_materials),
    )


# -- facts -----------------------------------------------------------------------------------


def _shown(case: Case, meta: Meta) -> dict[str, Any]:
    return {
        "counter": meta.counter,
        "due_at": meta.due.isoformat() if meta.due else None,
        "light": meta.light.value,
        "provisional": meta.provisional,
    }


def reach(parents: Mapping[int, int | None], *halls: int) -> tuple[int, ...]:
    """The halls whose logs carry a case's facts: its accepting and deciding halls and every hall
    above them up to the root, since staff watch their own hall and the halls below it."""
    found: set[int] = set()
    for hall in halls:
        current: int | None = hall
        while current is not None and current not in found:
            found.add(current)
            current = parents.get(current)
    return tuple(sorted(found))


def _reach(reg: Register, case: Case) -> tuple[int, ...]:
    return reach(reg.cases.parents, case.accepted_hall, case.deciding_hall, reg.root)


def _logged(decision: Decision[Any], reg: Register, case: Case, meta: Meta) -> tuple[Fact, ...]:
    """A rule's facts as the register logs them: with the case's timing, at every hall that watches it."""
    halls = _reach(reg, case)
    return tuple(Fact(f.type, {**f.data, **_shown(case, meta)}, also=halls) for f in decision.facts)


def _with(reg: Register, cases: CasesState, number: str, meta: Meta, **changes: Any) -> Register:
    assert isinstance(reg.meta, immutables.Map)
    metas = reg.meta.set(number, meta)
    return replace(reg, cases=cases, meta=metas, changed_meta=reg.changed_meta | {number}, **changes)


def _owed(reg: Register, case: Case, kind: str, meta: Meta, item: Item | None) -> tuple[NoticeDue, ...]:
    if not case.applicant.phone:
        return reg.notices
    notice = NoticeDue(
        case.number, kind, case.applicant.phone, item.name if item else case.item, case.accepted_hall, meta.due
    )
    return (*reg.notices, notice)


def next_number(reg: Register, now: datetime, hours: WorkingHours) -> tuple[str, tuple[str, int]]:
    """The public case number: the local date, the register's hall, and the count that day —
    readable over the phone and unique across the installation."""
    day = hours.local(now).strftime("%Y%m%d")
    # A clock set back across midnight must not start an earlier day's count again: its numbers
    # are taken. Keep counting on the last day given.
    day = max(day, reg.last_number[0])
    count = reg.last_number[1] + 1 if reg.last_number[0] == day else 1
    if count > 99_999:
        raise DomainError(N_("the register has given its 99,999 numbers for today"))
    return f"{day}{reg.root:03d}{count:05d}", (day, count)


# -- rules -----------------------------------------------------------------------------------


def accept(
    reg: Register,
    item: Item,
    clerk: Actor,
    now: datetime,
    *,
    applicant: Applicant,
    hall: int,
    settings: RegisterSettings,
    materials: Iterable[str] = (),
    counter: int | None = None,
    channel: str = "window",
    remark: str = "",
    attachments: Iterable[Mapping[str, Any]] = (),
) -> Result:
    """受理 at a counter: the case gets its number, due time and light, and the applicant is told.

    Raises:
        Invalid: a number cannot be given; the channel is unknown.
        DomainError: the case number is taken.
        NotFound: ``hall`` is not in the tree.
        Forbidden: ``clerk`` is not a clerk of ``hall``.
        NotAcceptedHere: the item is not accepted at this hall's level or this hall.
        MissingMaterials: a required material is missing.
    """
    number, last = next_number(reg, now, settings.hours)
    decided = workflow.accept(
        reg.cases,
        item_rules(item),
        clerk,
        now,
        applicant=applicant,
        hall=hall,
        number=number,
        materials=materials,
        channel=channel,
        remark=remark,
    )
    case = decided.state.cases[number]
    meta = timed(case, Meta(counter=counter, attachments=tuple(dict(a) for a in attachments)), item, settings)
    meta = meta._replace(light=light_now(meta, now))
    state = _with(reg, decided.state, number, meta, last_number=last)
    state = replace(state, notices=_owed(state, case, NoticeKind.ACCEPTED, meta, item))
    result = {"case": {**case.summary(), **_shown(case, meta)}}
    return Decision(state, _logged(decided, reg, case, meta), result)


class StepArgs(NamedTuple):
    """What a workflow step may be given beyond its case, actor and time."""

    remark: str
    materials: Iterable[str]
    assignee: int | None


Step = Callable[[CasesState, str, Actor, datetime, StepArgs], workflow.Result]
# The steps ``act`` takes, by the name the case API uses: one table, read by the API's list of actions.
STEPS: Mapping[str, Step] = {
    "review": lambda cases, number, actor, now, o: workflow.review(cases, number, actor, now, remark=o.remark),
    "approve": lambda cases, number, actor, now, o: workflow.approve(cases, number, actor, now, remark=o.remark),
    "complete": lambda cases, number, actor, now, o: workflow.complete(cases, number, actor, now, remark=o.remark),
    "collect": lambda cases, number, actor, now, o: workflow.collect(cases, number, actor, now, remark=o.remark),
    "refuse": lambda cases, number, actor, now, o: workflow.refuse(cases, number, actor, now, reason=o.remark),
    "supplement": lambda cases, number, actor, now, o: workflow.request_supplement(
        cases, number, actor, now, reason=o.remark, wanted=o.materials
    ),
    "supplement_received": lambda cases, number, actor, now, o: workflow.supplement_received(
        cases, number, actor, now, materials=o.materials, remark=o.remark
    ),
    "return": lambda cases, number, actor, now, o: workflow.return_to_previous(
        cases, number, actor, now, remark=o.remark
    ),
    "assign": lambda cases, number, actor, now, o: workflow.assign(cases, number, actor, now, assignee=o.assignee),
}


def act(
    reg: Register,
    number: str,
    actor: Actor,
    now: datetime,
    *,
    action: str,
    settings: RegisterSettings,
    item: Item | None,
    remark: str = "",
    materials: Iterable[str] = (),
    assignee: int | None = None,
) -> Result:
    """One workflow step on a case: review, approve, complete, collect, refuse, supplement,
    supplement_received, return or assign. The light schedule is redone from the new facts.

    Raises:
        Invalid: ``action`` is not a step (``STEPS``); a reason or remark the step needs is
            blank or too long.
        NotFound: no case ``number``.
        TransitionError: the step is not allowed from the case's stage, or the case waits for
            补正 materials.
        Forbidden: it is not ``actor``'s turn on the case (or, to assign, not a supervisor's).
        MissingMaterials: 补正 arrives without a material that was asked for.
        DomainError: the case has a step later than ``now``.
    """
    step = STEPS.get(action)
    if step is None:
        raise Invalid(N_("unknown case action '{action}'"), field="action", say={"action": action})
    decided = step(reg.cases, number, actor, now, StepArgs(remark, materials, assignee))
    case = decided.state.cases[number]
    before = reg.meta_of(number)
    meta = timed(case, before, item, settings)
    if (case.stage.finished and before.closed_at is None) or case.stage is Stage.COLLECTED:
        # Collection closes the case again: the rating window runs from the hand-over.
        meta = meta._replace(closed_at=now)
    state = _with(reg, decided.state, number, meta)
    if case.stage is Stage.COMPLETED and before.closed_at is None:
        state = replace(state, notices=_owed(state, case, NoticeKind.READY, meta, item))
    if case.stage is Stage.COLLECTED and meta.rating is None:
        state = replace(state, notices=_owed(state, case, NoticeKind.RATE, meta, item))
    facts = list(_logged(decided, reg, case, meta))
    # A step can change the light at once (a stage running over, a pause ending late): one event.
    light = light_now(meta, now) if not case.stage.finished else meta.light
    if light is not meta.light:
        state, fact = _relit(state, case, light, now)
        facts.append(fact)
    result = {"case": {**case.summary(), **_shown(case, state.meta_of(number))}}
    return Decision(state, tuple(facts), result)


def _light_fact(reg: Register, case: Case, meta: Meta, now: datetime) -> Fact:
    """One light change, with the instant the schedule says it turned (the tick notices it a
    little later) and the moment it was noticed."""
    turned = meta.red_us if meta.light is Light.RED else meta.yellow_us if meta.light is Light.YELLOW else us_of(now)
    data = {
        "number": case.number,
        "item": case.item,
        "stage": case.stage.value,
        "light": meta.light.value,
        "light_label": meta.light.zh,
        "accepted_hall": case.accepted_hall,
        "deciding_hall": case.deciding_hall,
        "department": case.department,
        "due_at": meta.due.isoformat() if meta.due else None,
        "halls": case.halls,
        "turned_at": (EPOCH + min(turned, us_of(now)) * MICROSECOND).isoformat(),
        **reason_json(meta, meta.light, now),
        "at": now.isoformat(),
    }
    return Fact("case.light", data, also=_reach(reg, case))


def _relit(reg: Register, case: Case, light: Light, now: datetime) -> tuple[Register, Fact]:
    meta = reg.meta_of(case.number)._replace(light=light)
    return _with(reg, reg.cases, case.number, meta), _light_fact(reg, case, meta, now)


def next_change(reg: Register, now: datetime) -> datetime | None:
    """When the clock next has something to do for the cases: the earliest light turn or midway
    reminder still ahead (督办 deadlines are looked at on every tick anyway)."""
    at = us_of(now)
    soonest = NEVER
    for meta in reg.meta.values():
        if meta.closed_at is not None:
            continue
        for moment in (meta.yellow_us, meta.red_us, meta.mid_us if not meta.midway_sent else NEVER):
            if at < moment < soonest:
                soonest = moment
    return None if soonest >= NEVER else EPOCH + soonest * MICROSECOND


def tick(reg: Register, now: datetime, settings: RegisterSettings, items: Mapping[str, Item]) -> Result:
    """The clock: lights that turned since the last tick (one event each), midway reminders, and
    督办 escalation. Two integer comparisons per open case; the register is copied once."""
    at = us_of(now)
    facts: list[Fact] = []
    updates: dict[str, Meta] = {}
    notices: list[NoticeDue] = []
    cases = reg.cases.cases
    for number, meta in reg.meta.items():
        if meta.closed_at is not None:
            continue
        light = Light.RED if at >= meta.red_us else Light.YELLOW if at >= meta.yellow_us else Light.GREEN
        midway = not meta.midway_sent and at >= meta.mid_us
        if light is meta.light and not midway:
            continue
        case = cases[number]
        if light is not meta.light:
            meta = meta._replace(light=light)
            facts.append(_light_fact(reg, case, meta, now))
        if midway:
            meta = meta._replace(midway_sent=True)
            if case.applicant.phone:
                item = items.get(case.item)
                notices.append(
                    NoticeDue(
                        number,
                        NoticeKind.MIDWAY,
                        case.applicant.phone,
                        item.name if item else case.item,
                        case.accepted_hall,
                        meta.due,
                    )
                )
            facts.append(Fact("case.midway", {"number": number, "halls": case.halls}, also=_reach(reg, case)))
        updates[number] = meta
    state = reg
    if updates:
        assert isinstance(reg.meta, immutables.Map)
        state = replace(
            reg,
            meta=reg.meta.update(updates),
            changed_meta=reg.changed_meta | updates.keys(),
            notices=(*reg.notices, *notices),
        )
    escalated = supervision.escalate(
        state.orders,
        now,
        reminder_before=settings.reminder_before,
        fix_within=settings.fix_within,
        timezone=str(settings.hours.tz),
    )
    for fact in escalated.facts:
        halls = reach(reg.cases.parents, fact.data["accepted_hall"], fact.data["deciding_hall"], reg.root)
        facts.append(Fact(fact.type, fact.data, also=halls))
    if escalated.facts:
        state = replace(state, orders=escalated.state)
    return Decision(state, tuple(facts), {"changes": len(facts)})


def open_order(
    reg: Register,
    number: str,
    supervisor: Actor,
    now: datetime,
    *,
    note: str,
    reply_due: datetime,
    order_id: str,
) -> Result:
    """督办: a supervisor orders the halls of a late case to answer by ``reply_due``.

    Raises:
        NotFound: no case ``number``.
        Invalid: ``reply_due`` is past or too far ahead; ``note`` is blank or too long.
        Forbidden: ``supervisor`` is no supervisor, or does not watch the case's halls.
        DomainError: the case is green or finished, has an unanswered order, or ``order_id``
            exists.
    """
    case = reg.case(number)
    meta = reg.meta_of(number)
    if reply_due > now + MAX_REPLY:
        raise Invalid(
            N_("the reply deadline is at most {days} days ahead"), field="reply_due", say={"days": MAX_REPLY.days}
        )
    decided = supervision.open_order(
        reg.orders,
        case,
        supervisor,
        now,
        note=note,
        reply_due=reply_due,
        case_light=meta.light,
        order_id=order_id,
        hall_parents=reg.cases.parents,
    )
    halls = _reach(reg, case)
    facts = tuple(Fact(f.type, f.data, also=halls) for f in decided.facts)
    return Decision(replace(reg, orders=decided.state), facts, decided.result)


def answer_order(reg: Register, number: str, actor: Actor, now: datetime, *, order_id: str, text: str) -> Result:
    """The office's written answer to a 督办 order.

    Raises:
        NotFound: no order ``order_id`` on case ``number``.
        DomainError: the order is answered already.
        Forbidden: ``actor`` is not of the deciding office, nor the case's assignee.
        Invalid: ``text`` is blank or too long.
    """
    order = reg.orders.orders.get(order_id)
    if order is None or order.case != number:
        raise NotFound(N_("no supervision order '{order}'"), order=order_id)
    case = reg.case(order.case)
    decided = supervision.answer(reg.orders, order_id, actor, now, case=case, text=text)
    halls = _reach(reg, case)
    facts = tuple(Fact(f.type, f.data, also=halls) for f in decided.facts)
    return Decision(replace(reg, orders=decided.state), facts, decided.result)


def rate(reg: Register, number: str, now: datetime, *, phone_tail: str, level: int, comment: str) -> Result:
    """一事一评 online: the resident who holds the case number and the phone rates a completed case,
    once, within ``RATING_DAYS`` of its completion."""
    case = reg.cases.cases.get(number)
    digits = "".join(ch for ch in case.applicant.phone if ch.isdigit()) if case is not None else ""
    if case is None or len(phone_tail) != 4 or not digits.endswith(phone_tail):
        raise NotFound(N_("no such case"))
    meta = reg.meta_of(number)
    if case.stage not in (Stage.COMPLETED, Stage.COLLECTED):
        raise DomainError(N_("a case is rated once it is completed"), case=number)
    if meta.rating is not None:
        raise DomainError(N_("this case has been rated"), case=number)
    if meta.closed_at is not None and now - meta.closed_at > timedelta(days=RATING_DAYS):
        raise DomainError(
            N_("ratings are taken within {days} days of completion"), case=number, say={"days": RATING_DAYS}
        )
    try:
        chosen = RatingLevel(level)
    except ValueError:
        raise Invalid(N_("level must be 1 to 5"), field="level") from None
    comment = comment.strip()
    if len(comment) > 300:
        raise Invalid(N_("a comment has at most {limit} characters"), field="comment", say={"limit": 300})
    if chosen <= RatingLevel.DISSATISFIED and not comment:
        raise Invalid(N_("please tell us what went wrong"), field="comment")
    meta = meta._replace(rating=int(chosen), rating_comment=comment, rated_at=now)
    state = _with(reg, reg.cases, number, meta)
    data = {
        "number": number,
        "item": case.item,
        # The case figures count the rating under the item's department (cases/figures.py).
        "department": case.department,
        "level": int(chosen),
        "label": chosen.label,
        "comment": comment,
        "accepted_hall": case.accepted_hall,
        "deciding_hall": case.deciding_hall,
        "registered_by": case.registered_by,
        "counter": meta.counter,
        "halls": case.halls,
    }
    fact = Fact("case.rated", data, also=_reach(reg, case))
    return Decision(state, (fact,), {"rated": int(chosen)})


def root_of(parents: Mapping[int, int | None], hall: int) -> int:
    current = hall
    seen = {hall}
    while (parent := parents.get(current)) is not None and parent not in seen:
        seen.add(parent)
        current = parent
    return current


__all__ = [
    "Level",
    "Meta",
    "NoticeDue",
    "NoticeKind",
    "Register",
    "RegisterSettings",
    "accept",
    "act",
    "answer_order",
    "item_rules",
    "light_now",
    "next_change",
    "next_number",
    "open_order",
    "rate",
    "reach",
    "root_of",
    "tick",
    "timed",
]
