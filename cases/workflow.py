"""办件 workflow: 受理 → 审核 → 审批 → 办结 → 领取, or 不予受理; 补正 pauses the clock until the
materials arrive; 退回 sends a case back one stage; 三级联动 / 通办 routes a case from the hall
that accepts it to the hall that decides it, and its progress back to where the resident collects.

A case's stage is the last step done: a case in ``review`` has passed 审核 and waits for 审批.
Who takes the next step (``waiting_on``); admin may take any step at any hall:

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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import immutables
from stdnum.cn import ric

from cases.catalog import Kind, Level
from hall.kernel.errors import DomainError, Forbidden, Invalid, NotFound, TransitionError
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_, Text
from hall.kernel.idnumbers import InvalidIdNumber
from hall.kernel.masking import mask_id, mask_name, mask_phone
from hall.kernel.roles import Role

MAX_TEXT = 500
KINDS = tuple(kind.value for kind in Kind)
CHANNELS = ("window", "online", "proxied")
_PHONE = re.compile(r"^\+?[0-9][0-9-]{4,19}$")


class Stage(StrEnum):
    ACCEPTED = "accepted"
    REVIEW = "review"
    APPROVAL = "approval"
    COMPLETED = "completed"
    COLLECTED = "collected"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]

    @property
    def finished(self) -> bool:
        """办结 or beyond: the office's work on the case is over."""
        return self in (Stage.COMPLETED, Stage.COLLECTED, Stage.REFUSED)


_STAGE_LABELS = {
    Stage.ACCEPTED: "受理",
    Stage.REVIEW: "审核",
    Stage.APPROVAL: "审批",
    Stage.COMPLETED: "办结",
    Stage.COLLECTED: "领取",
    Stage.REFUSED: "不予受理",
}

# Forward steps: the stage each one leads to, from the stage it needs, and its action (fact).
_FORWARD = {
    Stage.REVIEW: (Stage.ACCEPTED, "reviewed"),
    Stage.APPROVAL: (Stage.REVIEW, "approved"),
    Stage.COMPLETED: (Stage.APPROVAL, "completed"),
    Stage.COLLECTED: (Stage.COMPLETED, "collected"),
}
_PREVIOUS = {Stage.REVIEW: Stage.ACCEPTED, Stage.APPROVAL: Stage.REVIEW}
_REFUSABLE = (Stage.ACCEPTED, Stage.REVIEW)
# Who takes the next step from each stage, and at which of the case's two halls.
_NEXT = {
    Stage.ACCEPTED: (Role.CLERK, "deciding"),
    Stage.REVIEW: (Role.SUPERVISOR, "deciding"),
    Stage.APPROVAL: (Role.CLERK, "deciding"),
    Stage.COMPLETED: (Role.CLERK, "accepting"),
}


class NotAcceptedHere(DomainError):
    code = "not_accepted_here"


class MissingMaterials(DomainError):
    code = "missing_materials"


@dataclass(frozen=True)
class ItemRules:
    """What the workflow needs of a 事项: where it may be accepted and decided, by which department,
    its kind, promised working days and the materials it requires."""

    code: str
    accept_levels: frozenset[Level]
    decide_level: Level
    kind: str = "promised"
    time_limit_days: int = 0
    department: str = ""
    materials: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.code or not self.accept_levels:
            raise ValueError("an item needs a code and at least one level that accepts it")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if self.time_limit_days < 0:
            raise ValueError("time_limit_days must be ≥ 0")


@dataclass(frozen=True)
class Applicant:
    """Who applies. The full ID number and phone stay in the case record; facts, screens and
    exports carry the masked forms only."""

    name: str
    id_number: str
    phone: str = ""

    def __post_init__(self) -> None:
        name = self.name.strip()
        if not name or len(name) > 100:
            raise Invalid(N_("the applicant's name is required (at most 100 characters)"), field="name")
        if not ric.is_valid(self.id_number):
            raise InvalidIdNumber(N_("not a valid ID number"), field="id_number")
        phone = self.phone.strip()
        if phone and not _PHONE.match(phone):
            raise Invalid(N_("not a phone number"), field="phone")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "id_number", str(ric.compact(self.id_number)))
        object.__setattr__(self, "phone", phone)

    @classmethod
    def stored(cls, name: str, id_number: str, phone: str) -> Applicant:
        """An applicant read back from a case record, checked when the case was accepted: loading a
        large register should not check every ID number again."""
        applicant = object.__new__(cls)
        object.__setattr__(applicant, "name", name)
        object.__setattr__(applicant, "id_number", id_number)
        object.__setattr__(applicant, "phone", phone)
        return applicant

    def masked(self) -> dict[str, str]:
        return {"name": mask_name(self.name), "id_number": mask_id(self.id_number), "phone": mask_phone(self.phone)}


@dataclass(frozen=True)
class Actor:
    """A staff member acting on cases. ``department`` None: every department of the hall."""

    staff_id: int
    roles: frozenset[Role]
    hall_id: int
    department: str | None = None

    @property
    def admin(self) -> bool:
        return Role.ADMIN in self.roles


@dataclass(frozen=True)
class Step:
    """One entry of a case's history: every command that changed the case adds exactly one."""

    stage_from: Stage | None
    stage_to: Stage
    actor: int
    at: datetime
    remark: str
    action: str

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.stage_from.value if self.stage_from else None,
            "to": self.stage_to.value,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "remark": self.remark,
            "action": self.action,
        }


@dataclass(frozen=True)
class Pause:
    """A 补正 request: the clock stops from ``start`` until the materials arrive (``end``)."""

    start: datetime
    end: datetime | None
    reason: str
    requested_by: int
    wanted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    """Whose move it is on a case: a role at a hall, and at the deciding hall its department."""

    role: Role
    hall: int
    department: str | None


@dataclass(frozen=True)
class Case:
    number: str
    item: str
    applicant: Applicant
    accepted_hall: int
    deciding_hall: int
    department: str
    stage: Stage
    registered_by: int
    accepted_at: datetime
    time_limit_days: int
    history: tuple[Step, ...]
    materials: tuple[str, ...] = ()
    assignee: int | None = None
    pauses: tuple[Pause, ...] = ()
    refused_reason: str | None = None
    channel: str = "window"
    kind: str = "promised"

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    @property
    def halls(self) -> list[int]:
        """Where the case's facts are logged: progress flows back to the accepting hall."""
        return sorted({self.accepted_hall, self.deciding_hall})

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "item": self.item,
            "kind": self.kind,
            "channel": self.channel,
            "applicant": self.applicant.masked(),
            "accepted_hall": self.accepted_hall,
            "deciding_hall": self.deciding_hall,
            "department": self.department,
            "stage": self.stage.value,
            "stage_label": self.stage.label,
            "assignee": self.assignee,
            "registered_by": self.registered_by,
            "accepted_at": self.accepted_at.isoformat(),
            "time_limit_days": self.time_limit_days,
            "paused": self.paused,
            "materials": list(self.materials),
            "refused_reason": self.refused_reason,
        }


@dataclass(frozen=True)
class CasesState:
    """Cases by number, and the hall tree they are routed through."""

    # A persistent map: each step makes a new state sharing all but one path with the old, so a
    # register of a hundred thousand open cases is not copied on every command.
    cases: Mapping[str, Case] = field(default_factory=immutables.Map)
    parents: Mapping[int, int | None] = field(default_factory=dict)
    levels: Mapping[int, Level] = field(default_factory=dict)
    # Cases changed since the storage adapter last drained this.
    changed: tuple[Case, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.cases, immutables.Map):
            object.__setattr__(self, "cases", immutables.Map(self.cases))

    def with_case(self, case: Case) -> CasesState:
        assert isinstance(self.cases, immutables.Map)
        return replace(self, cases=self.cases.set(case.number, case), changed=(*self.changed, case))


Result = Decision[CasesState]


# -- routing and turns -----------------------------------------------------------------------


def route(state: CasesState, hall: int, level: Level) -> int | None:
    """The hall that decides for ``hall``: itself or its nearest ancestor at ``level``."""
    current: int | None = hall
    seen: set[int] = set()
    while current is not None and current not in seen:
        if state.levels.get(current) == level:
            return current
        seen.add(current)
        current = state.parents.get(current)
    return None


def waiting_on(case: Case, *, during_pause: bool = False) -> Turn | None:
    """Who takes the case's next step; None when it is finished, or waits for the resident's 补正."""
    if case.paused and not during_pause:
        return None
    if case.stage not in _NEXT:
        return None
    role, where = _NEXT[case.stage]
    if where == "accepting":
        return Turn(role, case.accepted_hall, None)
    return Turn(role, case.deciding_hall, case.department)


def fits(actor: Actor, turn: Turn, role: Role | None = None) -> bool:
    """Whether the actor holds the turn's role at its hall and department (admin not counted)."""
    return (
        (role or turn.role) in actor.roles
        and actor.hall_id == turn.hall
        and (turn.department is None or actor.department in (None, turn.department))
    )


def may_act(actor: Actor, case: Case, turn: Turn | None) -> bool:
    """Whether the actor may take the step ``turn`` describes: admin always; else whoever fits
    it, unless the case is assigned to someone else."""
    if actor.admin:
        return True
    return turn is not None and fits(actor, turn) and case.assignee in (None, actor.staff_id)


# -- queries ---------------------------------------------------------------------------------


def todo(state: CasesState, actor: Actor) -> list[Case]:
    """待办: the cases waiting on this person. Admin may act anywhere, but nothing waits on admin;
    an admin who also works cases holds the clerk or supervisor role too."""
    mine = []
    for case in state.cases.values():
        turn = waiting_on(case)
        if turn is not None and fits(actor, turn) and case.assignee in (None, actor.staff_id):
            mine.append(case)
    return sorted(mine, key=lambda c: (c.accepted_at, c.number))


def registered_by(state: CasesState, staff_id: int) -> list[Case]:
    """The cases this person accepted ("my registered cases") that are not yet 办结 or refused."""
    mine = [c for c in state.cases.values() if c.registered_by == staff_id and not c.stage.finished]
    return sorted(mine, key=lambda c: (c.accepted_at, c.number))


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
