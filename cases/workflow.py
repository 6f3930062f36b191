"""办件 workflow: 受理 → 审核 → 审批 → 办结 → 领取, or 不予受理; 补正 pauses the clock until the
materials arrive; 退回 sends a case back one stage; 三级联动 / 通办 routes a case from the hall
that accepts it to the hall that decides it, and its progress back to where the resident collects.

A case's stage is the last step done: a case in ``review`` has passed 审核 and waits for 审批.
Who takes the next step (:func:`cases.turns.waiting_on`); admin may take any step at any hall:

- new case — accept: a clerk of any hall whose level may accept the item (通办);
- accepted — review, ask for 补正, refuse: a clerk of the deciding hall and department;
- accepted, 补正 open — materials received: a clerk of the accepting or the deciding hall;
  refuse: a clerk of the deciding hall and department;
- review — approve, return, refuse: a supervisor of the deciding hall and department;
- approval — complete, return: a clerk of the deciding hall and department;
- completed — collect: a clerk of the accepting hall, where the resident collects the result;
- collected, refused — nothing more.

A staff member with no department works for every department of their hall (a 综合窗口).
A case may be assigned to one person (by a supervisor of the hall it waits at, or claimed by
someone it waits on); then only they, or admin, take its next step.

The rules here take the steps; the case and its parts are in :mod:`cases.case_model`, and whose
turn it is in :mod:`cases.turns`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from cases.case_model import MAX_TEXT, Actor, Applicant, Case, CasesState, ItemRules, Pause, Stage, Step, Turn
from cases.catalog import Level
from cases.turns import fits, may_act, route, waiting_on
from hall.kernel.errors import DomainError, Forbidden, Invalid, NotFound, TransitionError
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_, Text
from hall.kernel.roles import Role

CHANNELS = ("window", "online", "proxied")

# Forward steps: the stage each one leads to, from the stage it needs, and its action (fact).
_FORWARD = {
    Stage.REVIEW: (Stage.ACCEPTED, "reviewed"),
    Stage.APPROVAL: (Stage.REVIEW, "approved"),
    Stage.COMPLETED: (Stage.APPROVAL, "completed"),
    Stage.COLLECTED: (Stage.COMPLETED, "collected"),
}
_PREVIOUS = {Stage.REVIEW: Stage.ACCEPTED, Stage.APPROVAL: Stage.REVIEW}
_REFUSABLE = (Stage.ACCEPTED, Stage.REVIEW)


class NotAcceptedHere(DomainError):
    code = "not_accepted_here"


class MissingMaterials(DomainError):
    code = "missing_materials"


Result = Decision[CasesState]


# -- helpers ---------------------------------------------------------------------------------


def _case(state: CasesState, number: str) -> Case:
    try:
        return state.cases[number]
    except KeyError:
        raise NotFound(N_("no case '{case}'"), case=number) from None


def _text(value: str, name: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(N_("a {field} is required"), field=name)
    if len(value) > MAX_TEXT:
        raise Invalid(N_("a {field} has at most {limit} characters"), field=name, say={"limit": MAX_TEXT})
    return value


def _materials(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({n.strip() for n in names if n.strip()}))


def _in_time(case: Case, now: datetime) -> None:
    # The history and the 补正 pauses are read as a timeline (clock stopped, days used), so a
    # step dated before the last one would corrupt every deadline computed from them.
    if case.history and now < case.history[-1].at:
        raise DomainError(N_("case {case} has a step later than {now}"), case=case.number, say={"now": now.isoformat()})


def _forbid(actor: Actor, case: Case, turn: Turn | None, wanted: str) -> None:
    """``wanted`` is what the actor tried: a stage's label, or an action's English id (``N_``)."""
    if may_act(actor, case, turn):
        return
    doing = Text(wanted)
    if turn is None:
        raise Forbidden(N_("no one may {wanted} case {case} now"), case=case.number, say={"wanted": doing})
    role = Text(turn.role.value, context="role")
    who = Text(N_("the {role} of hall {hall}"), {"role": role, "hall": turn.hall})
    if turn.department:
        who = Text(N_("the {role} of hall {hall} ({department})"), {**who.args, "department": turn.department})
    if case.assignee is not None:
        who = Text(N_("staff {staff}, assigned to it"), {"staff": case.assignee})
    raise Forbidden(N_("only {who} may {wanted} case {case}"), case=case.number, say={"who": who, "wanted": doing})


def _unpaused(case: Case, wanted: Stage | str) -> None:
    if case.paused:
        raise TransitionError(
            N_("case {case} (waiting for 补正 materials)"), case.stage.value, str(wanted), case=case.number
        )


def _fact(kind: str, case: Case, step: Step) -> Fact:
    return Fact(f"case.{kind}", {**case.summary(), **step.as_json(), "halls": case.halls})


def _record(
    state: CasesState, case: Case, actor: Actor, now: datetime, to: Stage, action: str, remark: str, **changes: Any
) -> Result:
    step = Step(case.stage, to, actor.staff_id, now, remark, action)
    if to is not case.stage:
        # The next step belongs to someone else (another role or hall); whoever assigns work
        # there decides who takes it.
        changes.setdefault("assignee", None)
    done = replace(case, stage=to, history=(*case.history, step), **changes)
    return Decision(state.with_case(done), (_fact(action, done, step),), {"case": done.summary()})


def _close_pause(case: Case, now: datetime) -> tuple[Pause, ...]:
    if not case.paused:
        return case.pauses
    return (*case.pauses[:-1], replace(case.pauses[-1], end=now))


# -- rules -----------------------------------------------------------------------------------


def accept(
    state: CasesState,
    item: ItemRules,
    clerk: Actor,
    now: datetime,
    *,
    applicant: Applicant,
    hall: int,
    number: str,
    materials: Iterable[str] = (),
    channel: str = "window",
    remark: str = "",
) -> Result:
    """受理 at ``hall``: the case is routed to the hall that decides the item.

    Every required material must be in hand: a case is never accepted incomplete. 补正 is for a
    case already accepted whose materials turn out wrong or insufficient on review; at the window
    the clerk tells the resident everything missing at once (一次性告知) and does not accept."""
    number = number.strip()
    if not number:
        raise Invalid(N_("a case needs its public number"), field="number")
    if number in state.cases:
        raise DomainError(N_("case number {case} is taken"), case=number)
    level = state.levels.get(hall)
    if level is None:
        raise NotFound(N_("no hall {hall}"), hall=hall)
    if not clerk.admin and not (Role.CLERK in clerk.roles and clerk.hall_id == hall):
        raise Forbidden(N_("only a clerk of hall {hall} may accept cases there"), hall=hall)
    if level not in item.accept_levels:
        levels = "、".join(lv.label for lv in Level if lv in item.accept_levels)
        raise NotAcceptedHere(
            N_("item {item} is accepted at {levels} halls, not here"), item=item.code, hall=hall, say={"levels": levels}
        )
    deciding = route(state, hall, item.decide_level)
    if deciding is None:
        raise NotAcceptedHere(
            N_("no {level} hall above hall {hall} decides item {item}"),
            item=item.code,
            hall=hall,
            say={"level": item.decide_level.label},
        )
    if channel not in CHANNELS:
        raise Invalid(N_("channel must be one of {names}"), field="channel", say={"names": ", ".join(CHANNELS)})
    received = _materials(materials)
    missing = [m for m in item.materials if m not in received]
    if missing:
        raise MissingMaterials(
            N_("missing required materials: {names}"), missing=missing, say={"names": "、".join(missing)}
        )
    remark = _text(remark, "remark", required=False)
    step = Step(None, Stage.ACCEPTED, clerk.staff_id, now, remark, "accepted")
    case = Case(
        number=number,
        item=item.code,
        applicant=applicant,
        accepted_hall=hall,
        deciding_hall=deciding,
        department=item.department,
        stage=Stage.ACCEPTED,
        registered_by=clerk.staff_id,
        accepted_at=now,
        time_limit_days=item.time_limit_days,
        history=(step,),
        materials=received,
        channel=channel,
        kind=item.kind,
    )
    return Decision(state.with_case(case), (_fact("accepted", case, step),), {"case": case.summary()})


def _advance(state: CasesState, number: str, actor: Actor, now: datetime, remark: str, to: Stage) -> Result:
    case = _case(state, number)
    needed, action = _FORWARD[to]
    if case.stage is not needed:
        raise TransitionError(N_("case {case}"), case.stage.value, to.value, case=number)
    _unpaused(case, to)
    _forbid(actor, case, waiting_on(case), to.label)
    _in_time(case, now)
    return _record(state, case, actor, now, to, action, _text(remark, "remark", required=False))


def review(state: CasesState, number: str, actor: Actor, now: datetime, *, remark: str = "") -> Result:
    """审核 passed: the case goes on to 审批."""
    return _advance(state, number, actor, now, remark, Stage.REVIEW)


def approve(state: CasesState, number: str, actor: Actor, now: datetime, *, remark: str = "") -> Result:
    return _advance(state, number, actor, now, remark, Stage.APPROVAL)


def complete(state: CasesState, number: str, actor: Actor, now: datetime, *, remark: str = "") -> Result:
    """办结: the result is ready, and waits at the accepting hall for the resident."""
    return _advance(state, number, actor, now, remark, Stage.COMPLETED)


def collect(state: CasesState, number: str, actor: Actor, now: datetime, *, remark: str = "") -> Result:
    return _advance(state, number, actor, now, remark, Stage.COLLECTED)


def refuse(state: CasesState, number: str, actor: Actor, now: datetime, *, reason: str) -> Result:
    """不予受理, with the reason the resident is given in writing; a refusal without one is itself
    a supervision trigger, so it is not accepted. A case waiting for 补正 may be refused too.

    Raises:
        NotFound: no case ``number``.
        TransitionError: the case's stage may not be refused (``_REFUSABLE``).
        Forbidden: it is not ``actor``'s turn on the case.
        Invalid: ``reason`` is blank or too long.
        DomainError: the case has a step later than ``now``.
    """
    case = _case(state, number)
    if case.stage not in _REFUSABLE:
        raise TransitionError(N_("case {case}"), case.stage.value, Stage.REFUSED.value, case=number)
    _forbid(actor, case, waiting_on(case, during_pause=True), N_("refuse"))
    reason = _text(reason, "reason", required=True)
    _in_time(case, now)
    return _record(
        state, case, actor, now, Stage.REFUSED, "refused", reason, refused_reason=reason, pauses=_close_pause(case, now)
    )


def request_supplement(
    state: CasesState, number: str, actor: Actor, now: datetime, *, reason: str, wanted: Iterable[str] = ()
) -> Result:
    """补正: the reviewer asks for materials; the clock stops until they arrive. Only before 审核
    passes: an approver who finds a gap returns the case to review.

    Raises:
        NotFound: no case ``number``.
        TransitionError: the case is past 受理 review, or waits for 补正 already.
        Forbidden: it is not ``actor``'s turn on the case.
        Invalid: ``reason`` is blank or too long.
        DomainError: the case has a step later than ``now``.
    """
    case = _case(state, number)
    if case.stage is not Stage.ACCEPTED:
        raise TransitionError(N_("case {case}"), case.stage.value, "supplement", case=number)
    _unpaused(case, "supplement")
    _forbid(actor, case, waiting_on(case), N_("ask for 补正 on"))
    reason = _text(reason, "reason", required=True)
    _in_time(case, now)
    pause = Pause(now, None, reason, actor.staff_id, _materials(wanted))
    return _record(state, case, actor, now, case.stage, "supplement_requested", reason, pauses=(*case.pauses, pause))


def supplement_received(
    state: CasesState, number: str, actor: Actor, now: datetime, *, materials: Iterable[str] = (), remark: str = ""
) -> Result:
    """The materials asked for arrive, at either hall (通办); the clock runs again and the case
    goes back to whoever asked (the assignee is kept).

    Raises:
        NotFound: no case ``number``.
        TransitionError: the case is not waiting for 补正.
        Forbidden: ``actor`` is of neither of the case's halls.
        MissingMaterials: a material asked for is still missing.
    """
    case = _case(state, number)
    if not case.paused:
        raise TransitionError(N_("case {case}"), case.stage.value, "supplement_received", case=number)
    accepting = Turn(Role.CLERK, case.accepted_hall, None)
    deciding = Turn(Role.CLERK, case.deciding_hall, case.department)
    if not (actor.admin or fits(actor, accepting) or fits(actor, deciding)):
        raise Forbidden(
            N_("only a clerk of hall {accepted} or {deciding} takes 补正 materials for {case}"),
            case=number,
            say={"accepted": case.accepted_hall, "deciding": case.deciding_hall},
        )
    received = _materials((*case.materials, *materials))
    missing = [m for m in case.pauses[-1].wanted if m not in received]
    if missing:
        raise MissingMaterials(N_("still missing: {names}"), missing=missing, say={"names": "、".join(missing)})
    remark = _text(remark, "remark", required=False)
    _in_time(case, now)
    return _record(
        state,
        case,
        actor,
        now,
        case.stage,
        "supplement_received",
        remark,
        materials=received,
        pauses=_close_pause(case, now),
    )


def return_to_previous(state: CasesState, number: str, actor: Actor, now: datetime, *, remark: str) -> Result:
    """退回: back one stage, to the person who took the step being undone, with the reason."""
    case = _case(state, number)
    back = _PREVIOUS.get(case.stage)
    if back is None:
        raise TransitionError(N_("case {case}"), case.stage.value, "back", case=number)
    _forbid(actor, case, waiting_on(case), N_("return"))
    remark = _text(remark, "remark", required=True)
    _in_time(case, now)
    undone = next(s for s in reversed(case.history) if s.stage_to is case.stage and s.stage_from is back)
    return _record(state, case, actor, now, back, "returned", remark, assignee=undone.actor)


def assign(state: CasesState, number: str, actor: Actor, now: datetime, *, assignee: int | None) -> Result:
    """Give the case's next step to one person (None: anyone it waits on). A supervisor of the
    hall it waits at assigns; someone it waits on may take it for themselves (认领)."""
    case = _case(state, number)
    turn = waiting_on(case, during_pause=True)
    if turn is None:
        raise TransitionError(N_("case {case}"), case.stage.value, "assigned", case=number)
    boss = actor.admin or fits(actor, turn, Role.SUPERVISOR)
    claim = assignee == actor.staff_id and case.assignee is None and fits(actor, turn)
    if not (boss or claim):
        raise Forbidden(
            N_("only a supervisor of hall {hall} may assign case {case}"), case=number, say={"hall": turn.hall}
        )
    _in_time(case, now)
    remark = "unassigned" if assignee is None else f"assigned to {assignee}"
    return _record(state, case, actor, now, case.stage, "assigned", remark, assignee=assignee)
