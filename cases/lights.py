"""Supervision lights (红黄绿灯, 电子监察): green on track, yellow when little time is left, red overdue.

A case runs two clocks at once: the whole case's promised time (承诺时限) and the current stage's
own limit (环节超时). Its light is the worse of the two, so a stage that runs over turns the case
yellow or red even while the promised time is far off. Both clocks stop while a 补正 pause is open,
so a paused case keeps the light it had when it was paused. Clocks, pauses and working time are
counted as in :mod:`cases.deadlines`.

Yellow starts when the working time left is at most the rule's margin: a share of the clock's whole
limit, or a number of full working days, whichever is larger. Red starts at the deadline itself.
Each light starts at the first instant its condition holds, so a margin that ends on a day boundary
turns the light at the previous working day's closing time (nothing can happen overnight anyway).

Speed: the light of one case only ever changes at two instants until its facts change (a pause, a
resumption, a new stage), so :class:`Schedule` works them out once — ``yellow_us`` and ``red_us``,
microseconds since the epoch, the earlier of the case's and the stage's — and any later question is
two integer comparisons. The worse of two lights that only get worse over time is the light of the
earlier thresholds, which is why taking the minima is exact. Working the instants out costs about a
tenth of a millisecond a case, so they belong beside the case's row and are redone only when its
facts change. :func:`recompute` over 100,000 open cases is then a plain loop — a few milliseconds in
CPython when few lights change, a few tens when most do — and the two integer columns vectorise as
they stand (``numpy.where(now >= red, 2, numpy.where(now >= yellow, 1, 0))``) when kept in arrays.
A scheduler sleeps until the earliest :meth:`Schedule.next_change` and emits one event per change;
:meth:`Schedule.changes_between` over consecutive windows ``(a, b]`` yields each change exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cases.deadlines import (
    DEFAULT_HOURS,
    ZERO,
    Pause,
    WorkingHours,
    clock_reading,
    instant_on_clock,
    limit_of,
    start_of_clock,
)

# Far beyond any real instant yet a 64-bit integer, so the columns still fit numpy's int64.
NEVER = 2**62
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Light(StrEnum):
    """A supervision light; each carries a word and an icon, since colour alone tells some people
    nothing."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        """How bad: green 0, yellow 1, red 2."""
        return _RANK[self]

    @property
    def zh(self) -> str:
        return _WORDS[self][0]

    @property
    def en(self) -> str:
        return _WORDS[self][1]

    @property
    def icon(self) -> str:
        return _WORDS[self][2]

    def worse(self, other: Light) -> Light:
        return self if self.rank >= other.rank else other


_RANK = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}
_WORDS = {
    Light.GREEN: ("正常", "on track", "✓"),
    Light.YELLOW: ("预警", "due soon", "⚠"),
    Light.RED: ("超期", "overdue", "✕"),
}


@dataclass(frozen=True)
class LightRule:
    """When yellow starts: the working time left is at most ``yellow_share`` of the clock's whole
    limit, or at most ``yellow_working_days`` full working days — the larger margin wins. With
    neither, a case goes from green straight to red."""

    yellow_share: float | None = 0.2
    yellow_working_days: int | None = None

    def __post_init__(self) -> None:
        if self.yellow_share is not None and not 0.0 <= self.yellow_share <= 1.0:
            raise ValueError(f"yellow share must be between 0 and 1: {self.yellow_share}")
        if self.yellow_working_days is not None and self.yellow_working_days < 0:
            raise ValueError("yellow working days must not be negative")

    def margin(self, limit: timedelta, hours: WorkingHours = DEFAULT_HOURS) -> timedelta:
        """The working time left at which a clock of ``limit`` turns yellow."""
        margin = ZERO
        if self.yellow_share is not None:
            margin = max(margin, limit * self.yellow_share)
        if self.yellow_working_days is not None:
            margin = max(margin, hours.day_length * self.yellow_working_days)
        return margin


DEFAULT_RULE = LightRule()


@dataclass(frozen=True)
class StageLimit:
    """A stage's own time limit (环节时限), in working days (counted like the case's, 次日起算) or in
    working hours; ``rule`` overrides the case's rule for this stage."""

    name: str
    working_days: int | None = None
    working_hours: float | None = None
    rule: LightRule | None = None

    def __post_init__(self) -> None:
        if (self.working_days is None) == (self.working_hours is None):
            raise ValueError(f"stage {self.name!r}: give its limit in working days or in working hours")
        if self.working_days is not None and self.working_days < 0:
            raise ValueError(f"stage {self.name!r}: working days must not be negative")
        if self.working_hours is not None and not self.working_hours > 0:
            raise ValueError(f"stage {self.name!r}: working hours must be positive")

    def limit(self, started: datetime, hours: WorkingHours = DEFAULT_HOURS) -> timedelta:
        """The working time the stage has when its clock starts at ``started``."""
        if self.working_days is not None:
            return limit_of(started, self.working_days, hours)
        assert self.working_hours is not None
        return timedelta(hours=self.working_hours)


@dataclass(frozen=True)
class CurrentStage:
    """The stage a case is in now and when it entered it."""

    limit: StageLimit
    started_at: datetime


@dataclass(frozen=True)
class CaseClock:
    """The facts a case's light follows from: when it was received, its promised working days
    (0 for 即办), its 补正 pauses and its current stage."""

    case_id: str
    received_at: datetime
    working_days: int
    pauses: tuple[Pause, ...] = ()
    stage: CurrentStage | None = None


@dataclass(frozen=True)
class _Clock:
    start: datetime
    limit: timedelta
    margin: timedelta

    @property
    def yellow_reading(self) -> timedelta:
        return max(self.limit - self.margin, ZERO)


def _clocks(case: CaseClock, hours: WorkingHours, rule: LightRule) -> list[_Clock]:
    start = start_of_clock(case.received_at, hours)
    limit = limit_of(start, case.working_days, hours)
    clocks = [_Clock(start, limit, rule.margin(limit, hours))]
    if case.stage is not None:
        stage_start = start_of_clock(case.stage.started_at, hours)
        stage_limit = case.stage.limit.limit(stage_start, hours)
        stage_rule = case.stage.limit.rule or rule
        clocks.append(_Clock(stage_start, stage_limit, stage_rule.margin(stage_limit, hours)))
    return clocks


def light_for(
    case: CaseClock, now: datetime, *, hours: WorkingHours = DEFAULT_HOURS, rule: LightRule = DEFAULT_RULE
) -> Light:
    """The case's light at ``now``, read straight off its clocks: the worse of the whole case's and
    the current stage's. Counts working time afresh on every call; for many cases at once use
    :class:`Schedule` and :func:`recompute`, which give the same answers.

    Kept as the reference the tests and bench/ check the fast paths against: the server itself
    turns lights through the register's schedule (cases.register.tick)."""
    light = Light.GREEN
    for clock in _clocks(case, hours, rule):
        reading = clock_reading(clock.start, case.pauses, now, hours)
        if reading is None:
            continue
        if reading >= clock.limit:
            return Light.RED
        if reading >= clock.yellow_reading:
            light = Light.YELLOW
    return light


def _us(moment: datetime | None) -> int:
    if moment is None:
        return NEVER
    return (moment - _EPOCH) // _MICROSECOND


def _instant(us: int) -> datetime:
    return _EPOCH + us * _MICROSECOND


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a case's light changes, as long as its facts stay as they are: yellow from ``yellow_us``,
    red from ``red_us`` (microseconds since the epoch; :data:`NEVER` while a pause holds the clock
    short of it). ``yellow_us <= red_us`` always; equal when the case goes straight to red.
    Rebuild it with :func:`schedule_for` whenever a pause starts or ends or the stage changes."""

    case_id: str
    yellow_us: int
    red_us: int

    @property
    def yellow_at(self) -> datetime | None:
        return None if self.yellow_us >= NEVER else _instant(self.yellow_us)

    @property
    def red_at(self) -> datetime | None:
        return None if self.red_us >= NEVER else _instant(self.red_us)

    def light_at(self, now: datetime) -> Light:
        at = _us(now)
        if at >= self.red_us:
            return Light.RED
        if at >= self.yellow_us:
            return Light.YELLOW
        return Light.GREEN

    def next_change(self, now: datetime) -> datetime | None:
        """The first instant after ``now`` at which the light changes (in UTC), or None if it never
        will while the facts stay the same."""
        at = _us(now)
        if at < self.yellow_us < self.red_us:
            return _instant(self.yellow_us)
        if at < self.red_us < NEVER:
            return _instant(self.red_us)
        return None

    def changes_between(self, a: datetime, b: datetime) -> list[tuple[datetime, Light]]:
        """The changes in ``(a, b]`` with the light each one turns to, in order. Windows that
        follow on from each other never report a change twice nor miss one."""
        start, end = _us(a), _us(b)
        changes: list[tuple[datetime, Light]] = []
        if start < self.yellow_us <= end and self.yellow_us < self.red_us:
            changes.append((_instant(self.yellow_us), Light.YELLOW))
        if start < self.red_us <= end:
            changes.append((_instant(self.red_us), Light.RED))
        return changes


@dataclass(frozen=True, slots=True)
class CaseTiming(Schedule):
    """A case's schedule and the light last emitted for it (the stored one)."""

    light: Light = Light.GREEN

    @classmethod
    def of(
        cls,
        case: CaseClock,
        light: Light = Light.GREEN,
        *,
        hours: WorkingHours = DEFAULT_HOURS,
        rule: LightRule = DEFAULT_RULE,
    ) -> CaseTiming:
        schedule = schedule_for(case, hours=hours, rule=rule)
        return cls(schedule.case_id, schedule.yellow_us, schedule.red_us, light)


def schedule_for(
    case: CaseClock, *, hours: WorkingHours = DEFAULT_HOURS, rule: LightRule = DEFAULT_RULE, whole: bool = True
) -> Schedule:
    """Works out once when the case's light will turn yellow and red: the earliest instant each of
    its clocks reaches the yellow and the red reading, pauses skipped. With ``whole=False``, the
    current stage's clock alone (what a stage's light is for)."""
    yellow = red = NEVER
    clocks = _clocks(case, hours, rule)
    for clock in clocks if whole else clocks[1:]:
        yellow = min(yellow, _us(instant_on_clock(clock.start, clock.yellow_reading, case.pauses, hours)))
        red = min(red, _us(instant_on_clock(clock.start, clock.limit, case.pauses, hours)))
    return Schedule(case.case_id, yellow, red)


def changes_between(case: Schedule, a: datetime, b: datetime) -> list[tuple[datetime, Light]]:
    """The light changes of ``case`` in ``(a, b]``; see :meth:`Schedule.changes_between`."""
    return case.changes_between(a, b)


def recompute(cases: Sequence[CaseTiming], now: datetime) -> list[tuple[str, Light]]:
    """The cases whose light at ``now`` differs from their stored one, with the new light.

    Two integer comparisons per case against the precomputed instants; no calendar, no working-time
    arithmetic. Kept as the reference the tests and bench/ check the register's tick against: the
    server turns lights through cases.register.tick, which visits only the cases that are due."""
    at = _us(now)
    green, yellow, red = Light.GREEN, Light.YELLOW, Light.RED
    changed: list[tuple[str, Light]] = []
    for case in cases:
        if at >= case.red_us:
            light = red
        elif at >= case.yellow_us:
            light = yellow
        else:
            light = green
        if light is not case.light:
            changed.append((case.case_id, light))
    return changed
