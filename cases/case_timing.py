"""A case's clock as the register keeps it: its due time (working days on China's calendar, 补正
pauses pushed back), when its light turns yellow and red (the whole case's limit and its stage's,
环节超时), its midway point, and the light it shows now.

A due time reaching into a year chinese-calendar has no official schedule for yet is counted on
weekdays alone and marked provisional, so the hall works on through December; the first start with
an upgraded calendar counts it again (:meth:`cases.store.CasesDomain.load`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from cases.case_model import Case, Stage
from cases.catalog import Item, ItemStage
from cases.deadlines import (
    DEFAULT_HOURS,
    Calendar,
    Pause,
    UnknownCalendarYear,
    WorkingHours,
    due_at,
    instant_on_clock,
    limit_of,
    start_of_clock,
)
from cases.lights import (
    DEFAULT_RULE,
    NEVER,
    CaseClock,
    CaseTiming,
    CurrentStage,
    Light,
    LightRule,
    StageLimit,
    schedule_for,
)

# The stage span a case is in, by the last step done: after 受理 it is being reviewed (审核),
# after 审核 it waits for approval (审批); after 审批 only the whole case's clock runs.
_SPAN = {Stage.ACCEPTED: ItemStage.REVIEW, Stage.REVIEW: ItemStage.APPROVE}


class Meta(NamedTuple):
    """What the register keeps beside a workflow case. A named tuple: the clock tick copies one
    per light change, and ``_replace`` costs a tenth of ``dataclasses.replace``."""

    counter: int | None = None
    due: datetime | None = None
    light: Light = Light.GREEN
    yellow_us: int = NEVER
    red_us: int = NEVER
    mid_us: int = NEVER
    midway_sent: bool = False
    # Due times counted on weekdays alone, because chinese-calendar has no schedule yet for a year
    # the case reaches into: corrected at the first start with an upgraded calendar.
    provisional: bool = False
    rating: int | None = None
    rating_comment: str = ""
    rated_at: datetime | None = None
    attachments: tuple[Mapping[str, Any], ...] = ()
    closed_at: datetime | None = None
    # What the light is for: the whole case's clock turns yellow at ``case_yellow_us`` (red at
    # ``due``); the current stage's (环节时限) at ``stage_yellow_us`` and red at ``stage_due``.
    case_yellow_us: int = NEVER
    stage: str | None = None
    stage_yellow_us: int = NEVER
    stage_due: datetime | None = None

    @property
    def timing(self) -> tuple[int, int]:
        return self.yellow_us, self.red_us


@dataclass(frozen=True)
class RegisterSettings:
    """How a register computes lights and escalates orders; the server passes its own."""

    hours: WorkingHours = DEFAULT_HOURS
    rule: LightRule = DEFAULT_RULE
    reminder_before: timedelta = timedelta(hours=4)
    fix_within: timedelta = timedelta(days=3)


def _weekdays_beyond(hours: WorkingHours) -> WorkingHours:
    strict = hours.calendar

    def lookup(day: date) -> bool:
        try:
            return strict.is_working_day(day)
        except UnknownCalendarYear:
            return day.weekday() < 5

    return replace(hours, calendar=Calendar(lookup))


_PROVISIONAL: dict[int, WorkingHours] = {}


def _provisional(hours: WorkingHours) -> WorkingHours:
    key = id(hours)
    if key not in _PROVISIONAL:
        _PROVISIONAL[key] = _weekdays_beyond(hours)
    return _PROVISIONAL[key]


def lenient_hours(hours: WorkingHours) -> WorkingHours:
    """``hours`` counting a year chinese-calendar does not know yet on weekdays alone."""
    return _provisional(hours)


def _pauses(case: Case) -> tuple[Pause, ...]:
    return tuple(Pause(p.start, p.end, p.reason) for p in case.pauses)


def stage_clock(case: Case, item: Item | None) -> CurrentStage | None:
    span = _SPAN.get(case.stage)
    if span is None or item is None or item.stage_limits is None:
        return None
    days = item.stage_limits.days(span)
    entered = next(
        (s.at for s in reversed(case.history) if s.stage_to is case.stage and s.stage_from is not case.stage), None
    )
    if entered is None:
        return None
    return CurrentStage(StageLimit(span.label, working_days=days), entered)


def timed(case: Case, meta: Meta, item: Item | None, settings: RegisterSettings) -> Meta:
    """The case's due time and light schedule from its facts as they stand now."""
    if case.stage.finished:
        return meta._replace(
            yellow_us=NEVER,
            red_us=NEVER,
            mid_us=NEVER,
            case_yellow_us=NEVER,
            stage=None,
            stage_yellow_us=NEVER,
            stage_due=None,
        )
    pauses = _pauses(case)
    clock = CaseClock(case.number, case.accepted_at, case.time_limit_days, pauses, stage_clock(case, item))
    for hours, provisional in ((settings.hours, False), (_provisional(settings.hours), True)):
        try:
            timing = CaseTiming.of(clock, meta.light, hours=hours, rule=settings.rule)
            whole = schedule_for(replace(clock, stage=None), hours=hours, rule=settings.rule)
            staged = schedule_for(clock, hours=hours, rule=settings.rule, whole=False) if clock.stage else None
            due = due_at(case.accepted_at, case.time_limit_days, pauses, hours)
            mid = NEVER
            if case.time_limit_days >= 2:
                start = start_of_clock(case.accepted_at, hours)
                half = limit_of(start, case.time_limit_days, hours) / 2
                moment = instant_on_clock(start, half, pauses, hours)
                mid = NEVER if moment is None else us_of(moment)
        except UnknownCalendarYear:
            if provisional:
                raise
            continue
        return meta._replace(
            due=due,
            yellow_us=timing.yellow_us,
            red_us=timing.red_us,
            mid_us=mid,
            provisional=provisional,
            case_yellow_us=whole.yellow_us,
            stage=_SPAN[case.stage].value if staged is not None else None,
            stage_yellow_us=staged.yellow_us if staged is not None else NEVER,
            stage_due=staged.red_at if staged is not None else None,
        )
    raise AssertionError("unreachable")  # pragma: no cover


def us_of(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def light_now(meta: Meta, now: datetime) -> Light:
    at = us_of(now)
    if at >= meta.red_us:
        return Light.RED
    if at >= meta.yellow_us:
        return Light.YELLOW
    return Light.GREEN


def case_light_now(meta: Meta, now: datetime) -> Light:
    """The light of the whole case's clock alone (承诺时限), leaving its stage's limit aside: what the
    applicant was promised, and so what the public tracking page shows them."""
    if meta.due is not None and now >= meta.due:
        return Light.RED
    return Light.YELLOW if us_of(now) >= meta.case_yellow_us else Light.GREEN


class LightReason(NamedTuple):
    """What a light is for: ``"case"`` (the promised time, 承诺时限) or ``"stage"`` (the current
    stage's own limit, 环节超时), and the due time of that clock; a green light is for nothing."""

    light: Light
    clock: str | None
    due: datetime | None
    stage: str | None


def light_reason(meta: Meta, light: Light, now: datetime) -> LightReason:
    """Why ``light`` (the case's light at ``now``) shows: the whole case's clock when it has reached
    that light itself, else the stage's. A case past its deadline is red for the case, whatever its
    stage, since that is the promise to the applicant."""
    if light is Light.GREEN:
        return LightReason(light, None, None, None)
    case_light = case_light_now(meta, now)
    if case_light.rank >= light.rank or meta.stage is None:
        return LightReason(light, "case", meta.due, None)
    return LightReason(light, "stage", meta.stage_due, meta.stage)


def reason_json(meta: Meta, light: Light, now: datetime) -> dict[str, Any]:
    """The light's reason as lists, boards and events carry it beside the light."""
    reason = light_reason(meta, light, now)
    return {
        "light_for": reason.clock,
        "light_due": reason.due.isoformat() if reason.due else None,
        "light_stage": reason.stage,
        "stage_due_at": meta.stage_due.isoformat() if meta.stage_due else None,
    }
