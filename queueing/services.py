"""Services (业务) as the queue sees them: ticket prefix, numbering, daily cap, opening hours.

Whether the hall is open uses China's official calendar with its adjusted working days (调休),
from chinese-calendar: a public holiday shuts the hall even on a weekday, and an adjusted working
Saturday opens it with a weekday's hours.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

import chinese_calendar

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"^[A-Z]{0,2}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class Priority(StrEnum):
    NORMAL = "normal"
    APPOINTMENT = "appointment"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    MILITARY = "military"

    @property
    def is_priority(self) -> bool:
        return self is not Priority.NORMAL


@dataclass(frozen=True)
class Hours:
    """Opening hours of one day, e.g. 09:00–17:00."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError(f"opening {self.opens} must be before closing {self.closes}")

    def covers(self, moment: time) -> bool:
        return self.opens <= moment < self.closes


WORKDAY = Hours(time(9, 0), time(17, 0))
# Monday=0 … Sunday=6; a missing weekday means closed.
DEFAULT_WEEK: Mapping[int, Hours] = {day: WORKDAY for day in range(5)}


def workday_kind(day: date) -> str:
    """ "workday", "adjusted" (a weekend day made a working day), "holiday" or "weekend"."""
    try:
        working = chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The calendar has no data for this year yet: weekdays work, weekends rest.
        log.warning("chinese-calendar has no data for %s; assuming Monday–Friday", day.year)
        return "workday" if day.weekday() < 5 else "weekend"
    if working:
        return "adjusted" if day.weekday() >= 5 else "workday"
    return "weekend" if day.weekday() >= 5 and not _official_holiday(day) else "holiday"


def _official_holiday(day: date) -> bool:
    holiday, name = chinese_calendar.get_holiday_detail(day)
    return bool(holiday and name)


def hours_on(week: Mapping[int, Hours], day: date, *, open_on_holidays: bool = False) -> Hours | None:
    """The hours a hall keeps on ``day``, or None when it is shut."""
    kind = workday_kind(day)
    if kind == "holiday" and not open_on_holidays:
        return None
    if kind == "adjusted":
        return week.get(0) or next(iter(week.values()), None)
    return week.get(day.weekday())


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    name_en: str = ""
    prefix: str = "A"
    width: int = 3
    # 号源: how many tickets a day; None is no limit.
    daily_cap: int | None = None
    week: Mapping[int, Hours] = field(default_factory=lambda: dict(DEFAULT_WEEK))
    open_on_holidays: bool = False
    target_wait_minutes: int = 20
    # The expected service time before there is history to average.
    default_service_minutes: float = 6.0
    one_live_ticket_per_id: bool = False
    # A deactivated service takes no new tickets; the tickets already waiting are served.
    active: bool = True

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"service code must be lowercase letters, digits, '-' or '_': {self.code!r}")
        if not _PREFIX.match(self.prefix):
            raise ValueError(f"ticket prefix must be up to two capital letters: {self.prefix!r}")
        if not 1 <= self.width <= 4:
            raise ValueError("number width must be 1 to 4 digits")
        if self.daily_cap is not None and self.daily_cap < 1:
            raise ValueError("a daily cap must be at least 1")

    def number(self, n: int) -> str:
        """The printed number: ``A023``, or ``23`` for a service without a prefix."""
        return f"{self.prefix}{n:0{self.width}d}" if self.prefix else str(n)

    def hours(self, day: date) -> Hours | None:
        return hours_on(self.week, day, open_on_holidays=self.open_on_holidays)

    def is_open(self, local: datetime) -> bool:
        hours = self.hours(local.date())
        return hours is not None and hours.covers(local.time())


def is_working_day(day: date) -> bool:
    return workday_kind(day) in ("workday", "adjusted")


def add_working_days(day: date, days: int) -> date:
    """The date ``days`` working days after ``day`` (China's calendar, adjusted days included)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = day
    left = days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current
