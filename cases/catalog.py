"""The service catalog (事项目录): every public service a hall offers, with its eight disclosures (八公开).

An item is what a resident reads before coming to the hall and what a clerk registers a case
against: its name, legal basis, conditions, materials, procedure, promised time limit, fees and the
window that handles it, plus the department behind it, its kind (即办 / 承诺件 / 代办 / 备案) and where
in the hall tree (district 区 → street 街道 → community 社区) it may be accepted and is decided.

The model is plain data. Building an item never refuses anything, so an editor or an import can hold
a catalog with mistakes in it; ``Catalog.validate()`` then names every mistake at once instead of the
first one only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

# Department letters, a hyphen, a number: MZ-001 (民政), GJJ-012 (公积金).
CODE_PATTERN = re.compile(r"^[A-Z]{2,4}-\d{3}$")
# Service hotlines (12345, 12333) and landlines with an area code (0571-87654321).
_PHONE = re.compile(r"^\d(?:[\d-]*\d)?$")

# How the rule groups report a problem: the field, and what is wrong with it.
_Report = Callable[[str, str], None]


class Kind(StrEnum):
    """How an item is handled, as service lists publish it."""

    INSTANT = "instant"
    PROMISED = "promised"
    PROXIED = "proxied"
    FILING = "filing"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {Kind.INSTANT: "即办", Kind.PROMISED: "承诺件", Kind.PROXIED: "代办", Kind.FILING: "备案"}


class Level(StrEnum):
    """A level of the hall tree; the values are those of ``hall.storage.directory.LEVELS``."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {Level.DISTRICT: "区", Level.STREET: "街道", Level.COMMUNITY: "社区"}


def in_tree_order(levels: Iterable[Level]) -> list[Level]:
    """Levels from the top of the tree down, the order people read them in."""
    return sorted(levels, key=list(Level).index)


class Form(StrEnum):
    """Which paper a material is: the original, a photocopy, or both (the original is shown and returned)."""

    ORIGINAL = "original"
    COPY = "copy"
    ORIGINAL_AND_COPY = "original_and_copy"

    @property
    def label(self) -> str:
        return _FORM_LABELS[self]


_FORM_LABELS = {Form.ORIGINAL: "原件", Form.COPY: "复印件", Form.ORIGINAL_AND_COPY: "原件及复印件"}


class ItemStage(StrEnum):
    """The stages of a case that spend working days; 办结 and 领取 are moments, not spans."""

    ACCEPT = "accept"
    REVIEW = "review"
    APPROVE = "approve"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_LABELS = {ItemStage.ACCEPT: "受理", ItemStage.REVIEW: "审核", ItemStage.APPROVE: "审批"}


@dataclass(frozen=True)
class Material:
    """One paper on an item's material list (申请材料), e.g. 居民身份证, 原件, 1 份, 必需."""

    name: str
    form: Form = Form.ORIGINAL
    copies: int = 1
    required: bool = True
    note: str = ""


@dataclass(frozen=True)
class StageLimits:
    """Working days each stage may take; supervision lights a stage that runs over (环节超时)."""

    accept: int
    review: int
    approve: int

    def days(self, stage: ItemStage) -> int:
        return {ItemStage.ACCEPT: self.accept, ItemStage.REVIEW: self.review, ItemStage.APPROVE: self.approve}[stage]

    @property
    def total(self) -> int:
        return self.accept + self.review + self.approve


@dataclass(frozen=True, kw_only=True)
class Item:
    """A service item (事项). Day counts are working days on China's official calendar."""

    code: str
    name: str
    name_en: str = ""
    department: str
    kind: Kind
    legal_basis: tuple[str, ...]
    conditions: tuple[str, ...]
    materials: tuple[Material, ...]
    procedure: tuple[str, ...]
    # 承诺时限: what the hall promises; 0 for 即办.
    time_limit_days: int
    # 法定时限: what the law allows; the promise is never longer.
    statutory_limit_days: int
    fees: str
    window: str
    accept_levels: frozenset[Level]
    decide_level: Level
    stage_limits: StageLimits | None = None
    online: bool = False
    consult_phone: str = ""

    @property
    def required_materials(self) -> tuple[Material, ...]:
        return tuple(m for m in self.materials if m.required)

    @property
    def routed(self) -> bool:
        """Whether a hall that accepts it may have to pass the case on to another level (三级联动)."""
        return any(level is not self.decide_level for level in self.accept_levels)


# The eight disclosures (八公开) in the order a public page shows them: field and heading.
EIGHT_DISCLOSURES: tuple[tuple[str, str], ...] = (
    ("name", "事项名称"),
    ("legal_basis", "设定依据"),
    ("conditions", "申请条件"),
    ("materials", "申请材料"),
    ("procedure", "办理流程"),
    ("time_limit_days", "承诺时限"),
    ("fees", "收费标准"),
    ("window", "办理窗口"),
)


@dataclass(frozen=True)
class Problem:
    """One mistake in a catalog, naming the item (by code) and the field."""

    item: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.item}, {self.field}: {self.message}"


@dataclass(frozen=True)
class Catalog:
    """The items in the order they are listed; lookups keep that order."""

    items: tuple[Item, ...] = ()

    def __post_init__(self) -> None:
        # Callers naturally pass a list; a tuple keeps the catalog immutable and comparable.
        object.__setattr__(self, "items", tuple(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def __getitem__(self, code: str) -> Item:
        return self.by_code[code]

    @cached_property
    def by_code(self) -> Mapping[str, Item]:
        """Items by code; where a code is repeated (``validate`` reports it) the first item wins."""
        index: dict[str, Item] = {}
        for item in self.items:
            index.setdefault(item.code, item)
        return index

    def get(self, code: str) -> Item | None:
        return self.by_code.get(code)

    def departments(self) -> list[str]:
        return list(dict.fromkeys(item.department for item in self.items))

    def by_department(self, department: str) -> list[Item]:
        return [item for item in self.items if item.department == department]

    def accepted_at(self, level: Level) -> list[Item]:
        """What a hall of this level may register a case for."""
        return [item for item in self.items if level in item.accept_levels]

    def decided_at(self, level: Level) -> list[Item]:
        return [item for item in self.items if item.decide_level is level]

    def validate(self) -> list[Problem]:
        """Every mistake in the catalog, in the order of the items; empty when the catalog is sound."""
        problems: list[Problem] = []
        repeats = Counter(item.code for item in self.items)
        reported: set[str] = set()
        for item in self.items:
            if repeats[item.code] > 1 and item.code not in reported:
                reported.add(item.code)
                names = "、".join(other.name for other in self.items if other.code == item.code)
                problems.append(Problem(item.code, "code", f"{repeats[item.code]} items share this code: {names}"))
            problems.extend(_item_problems(item))
        return problems


def _item_problems(item: Item) -> list[Problem]:
    problems: list[Problem] = []

    def problem(name: str, message: str) -> None:
        problems.append(Problem(item.code or "(no code)", name, message))

    if not CODE_PATTERN.match(item.code):
        problem("code", f"{item.code!r} is not a code like MZ-001 (2–4 capital letters, a hyphen, three digits)")
    if not item.name.strip():
        problem("name", "is blank")
    if not item.department.strip():
        problem("department", "is blank")
    if not item.fees.strip():
        problem("fees", "is blank; fees are one of the eight disclosures (write 不收费 for a free item)")
    if not item.window.strip():
        problem("window", "is blank; residents must be told which window or authority handles the item")
    for name, texts in (
        ("legal_basis", item.legal_basis),
        ("conditions", item.conditions),
        ("procedure", item.procedure),
    ):
        if not texts:
            problem(name, "is empty; it is one of the eight disclosures")
        for number, text in enumerate(texts, 1):
            if not text.strip():
                problem(name, f"entry {number} is blank")
    _material_problems(item, problem)
    _time_problems(item, problem)
    _level_problems(item, problem)
    if item.consult_phone and not _PHONE.match(item.consult_phone):
        problem("consult_phone", f"{item.consult_phone!r} is not a phone number (digits, and hyphens between them)")
    return problems


def _material_problems(item: Item, problem: _Report) -> None:
    if not item.materials:
        problem("materials", "is empty; an item lists at least the applicant's identity document")
    seen: set[str] = set()
    for number, material in enumerate(item.materials, 1):
        where = f"materials[{number}]"
        if not material.name.strip():
            problem(f"{where}.name", "is blank")
        elif material.name in seen:
            problem(f"{where}.name", f"{material.name} is listed twice")
        seen.add(material.name)
        if not isinstance(material.form, Form):
            problem(f"{where}.form", f"{material.form!r} is not 原件, 复印件 or 原件及复印件")
        if material.copies < 1:
            problem(f"{where}.copies", f"must be at least 1, not {material.copies}")


def _time_problems(item: Item, problem: _Report) -> None:
    if not isinstance(item.kind, Kind):
        problem("kind", f"{item.kind!r} is not a kind ({_choices(Kind)})")
        return
    if item.time_limit_days < 0:
        problem("time_limit_days", f"must not be negative, not {item.time_limit_days}")
    if item.statutory_limit_days < 0:
        problem("statutory_limit_days", f"must not be negative, not {item.statutory_limit_days}")
    if item.statutory_limit_days < item.time_limit_days:
        problem(
            "statutory_limit_days",
            f"the statutory limit of {item.statutory_limit_days} working days is shorter than the promised "
            f"{item.time_limit_days}; a hall never promises more time than the law allows",
        )
    if item.kind is Kind.INSTANT and item.time_limit_days != 0:
        problem("time_limit_days", f"a 即办 item is done on the spot, so its limit is 0, not {item.time_limit_days}")
    if item.kind in (Kind.PROMISED, Kind.PROXIED) and item.time_limit_days == 0:
        problem("time_limit_days", f"a {item.kind.label} item promises at least one working day; 0 means 即办")
    limits = item.stage_limits
    if limits is None:
        return
    if item.kind is Kind.INSTANT:
        problem("stage_limits", "a 即办 item is done on the spot and has no stages to time")
        return
    for stage in ItemStage:
        if limits.days(stage) < 0:
            problem(f"stage_limits.{stage.value}", f"must not be negative, not {limits.days(stage)}")
    if limits.total > item.time_limit_days:
        problem(
            "stage_limits",
            f"the stages add up to {limits.total} working days, more than the promised {item.time_limit_days}",
        )


def _level_problems(item: Item, problem: _Report) -> None:
    if not item.accept_levels:
        problem("accept_levels", "is empty; no hall level may accept the item, so no resident can apply")
    for level in item.accept_levels:
        if not isinstance(level, Level):
            problem("accept_levels", f"{level!r} is not a hall level ({_choices(Level)})")
    if not isinstance(item.decide_level, Level):
        problem("decide_level", f"{item.decide_level!r} is not a hall level ({_choices(Level)})")


def _choices(kind: type[Kind] | type[Level]) -> str:
    return ", ".join(f"{member.value} {member.label}" for member in kind)
