"""The case workflow's nouns: a case's stages, the item rules it is accepted under, its applicant,
the staff who act on it, its history steps and 补正 pauses, whose turn it is, and the state that
holds every case of a hall tree. Apart from the rules (:mod:`cases.workflow`) because records,
stores, lists and pages read cases without taking any step on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import immutables
from stdnum.cn import ric

from cases.catalog import Kind, Level
from hall.kernel.errors import Invalid
from hall.kernel.i18n import N_
from hall.kernel.idnumbers import InvalidIdNumber
from hall.kernel.masking import mask_id, mask_name, mask_phone
from hall.kernel.roles import Role

MAX_TEXT = 500
KINDS = tuple(kind.value for kind in Kind)
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
