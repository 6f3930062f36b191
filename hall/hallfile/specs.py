"""The hall file's shape: the pydantic models a hall file is checked against. They forbid unknown
keys; what they cannot see is checked beside them (``hall.hallfile.checks``). Apart so that what
only holds a sound file (the plan, the store) needs its shape and nothing of reading one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_TIMEZONE = "Asia/Shanghai"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Names(_Strict):
    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(default="", max_length=100)


class HallNames(_Strict):
    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(default="", max_length=200)


class ServiceSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: Names
    prefix: str = Field(default="A", pattern=r"^[A-Z]{0,2}$")
    width: int = Field(default=3, ge=1, le=4)
    # 号源: tickets a day; null is no limit (the range is checked beside, with its own words).
    daily_cap: int | None = None
    # "mon-fri": "09:00-17:00"; a day not named is closed.
    hours: dict[str, str] = Field(default_factory=lambda: {"mon-fri": "09:00-17:00"})
    open_on_holidays: bool = False
    target_wait_minutes: int = Field(default=20, ge=1, le=24 * 60)
    default_service_minutes: float = Field(default=6.0, gt=0, le=24 * 60)
    one_live_ticket_per_id: bool = False
    # A deactivated service takes no new tickets (it stays in the file: its history names it).
    active: bool = True


class QueueRulesSpec(_Strict):
    """The settings of ``queueing.state.Rules`` a hall may set; the time zone is the hall's."""

    priority_run: int | None = None
    recall_limit: int | None = None
    hold_minutes: int | None = None
    close_at_day_end: bool | None = None
    appointment_early_minutes: int | None = None
    appointment_late_minutes: int | None = None
    requeue_minutes: int | None = None
    rating_window_minutes: int | None = None
    rating_aspects: list[str] | None = None
    kiosk_priorities: list[str] | None = None
    no_counter: Literal["warn", "refuse"] | None = None
    pause_limit_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    open_counter_after: int | None = Field(default=None, ge=1, le=1000)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class DepartmentSpec(_Strict):
    """A department (科室) of a hall: the office its counters belong to."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: Names
    active: bool = True


class CounterSpec(_Strict):
    number: int = Field(ge=1, le=999)
    name: str = Field(default="", max_length=100)
    # service code → weight
    services: dict[str, float] = Field(default_factory=dict)
    # The code of one of the hall's departments.
    department: str | None = None
    # The registered devices bound to this counter (window display, keypad, rating pad, ID
    # reader, citizen screen), by id; left out, the bindings are left as they are.
    devices: list[str] | None = None
    # A deactivated counter cannot be opened; it is never removed (tickets and ratings name it).
    active: bool = True

    @property
    def title(self) -> str:
        return self.name or f"{self.number}号窗口"


class HallSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: HallNames
    level: Literal["district", "street", "community"]
    parent: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    # A deactivated hall takes no tickets; it keeps its place in the tree and its history.
    active: bool = True
    queue_rules: QueueRulesSpec = QueueRulesSpec()
    departments: list[DepartmentSpec] = Field(default_factory=list)
    services: list[ServiceSpec] = Field(default_factory=list)
    counters: list[CounterSpec] = Field(default_factory=list)


class StaffSpec(_Strict):
    username: str
    name: str = Field(min_length=1, max_length=100)
    staff_no: str = Field(default="", max_length=32)
    hall: str
    roles: list[str] = Field(min_length=1)


class HallFile(_Strict):
    version: Literal[1] = 1
    halls: list[HallSpec] = Field(default_factory=list)
    staff: list[StaffSpec] = Field(default_factory=list)
