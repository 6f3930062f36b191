"""Supervision lights (红黄绿灯) as specifications: when a case turns yellow and red, how a stage
running over its own limit (环节超时) shows, that a paused case (补正) keeps its light, and that the
fast paths — a case's precomputed :class:`Schedule` and :func:`recompute` over many cases — agree
with reading the clocks directly. Dates are 2026 in Beijing time, working hours 09:00–17:00.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.deadlines import SHANGHAI, Pause, due_at, limit_of, remaining, start_of_clock
from cases.lights import (
    CaseClock,
    CaseTiming,
    CurrentStage,
    Light,
    LightRule,
    StageLimit,
    changes_between,
    light_for,
    recompute,
    schedule_for,
)

MICROSECOND = timedelta(microseconds=1)
GREEN, YELLOW, RED = Light.GREEN, Light.YELLOW, Light.RED


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def case(
    received: datetime, days: int, *pauses: Pause, stage: CurrentStage | None = None, case_id: str = "c1"
) -> CaseClock:
    return CaseClock(case_id, received, days, tuple(pauses), stage)


# Monday 2 March, 09:00, 5 working days: due Monday 9 March 17:00. The clock has 48 working hours
# (Monday itself and five days after it); 20 % of that is 9 h 36 min.
FIVE_DAYS = case(at(3, 2), 5)


# --- what a light says --------------------------------------------------------------------------


def test_each_light_has_a_word_and_an_icon_so_colour_is_never_the_only_sign() -> None:
    assert [(light.zh, light.en, light.icon) for light in Light] == [
        ("正常", "on track", "✓"),
        ("预警", "due soon", "⚠"),
        ("超期", "overdue", "✕"),
    ]
    assert GREEN.worse(YELLOW) is YELLOW
    assert RED.worse(YELLOW) is RED


# --- the whole case -----------------------------------------------------------------------------


def test_a_case_is_green_then_yellow_with_a_fifth_of_its_time_left_then_red_at_its_deadline() -> None:
    assert light_for(FIVE_DAYS, at(3, 2)) is GREEN
    assert light_for(FIVE_DAYS, at(3, 6, 15, 23)) is GREEN
    assert light_for(FIVE_DAYS, at(3, 6, 15, 24)) is YELLOW
    assert light_for(FIVE_DAYS, at(3, 9, 16, 59)) is YELLOW
    assert light_for(FIVE_DAYS, at(3, 9, 17)) is RED, "the deadline is the closing instant"


def test_yellow_by_working_days_starts_at_the_previous_closing_time() -> None:
    one_day_left = LightRule(yellow_share=None, yellow_working_days=1)
    schedule = schedule_for(FIVE_DAYS, rule=one_day_left)
    assert schedule.yellow_at == at(3, 6, 17), "Friday's close: only Monday is left"
    assert light_for(FIVE_DAYS, at(3, 8, 12), rule=one_day_left) is YELLOW


def test_the_larger_margin_of_share_and_days_wins() -> None:
    rule = LightRule(yellow_share=0.2, yellow_working_days=2)
    assert schedule_for(FIVE_DAYS, rule=rule).yellow_at == at(3, 5, 17)


def test_without_a_yellow_rule_a_case_goes_straight_to_red_in_one_change() -> None:
    schedule = schedule_for(FIVE_DAYS, rule=LightRule(yellow_share=None))
    assert schedule.yellow_at == schedule.red_at == at(3, 9, 17)
    assert schedule.changes_between(at(3, 2), at(3, 31)) == [(at(3, 9, 17), RED)]


def test_before_its_clock_starts_a_case_received_on_a_holiday_is_green() -> None:
    over_spring_festival = case(at(2, 18, 10), 0)
    assert light_for(over_spring_festival, at(2, 20, 10)) is GREEN
    assert schedule_for(over_spring_festival).red_at == at(2, 24, 17)


def test_an_instant_item_turns_red_at_closing_time() -> None:
    instant = case(at(3, 2, 10), 0)
    assert light_for(instant, at(3, 2, 15, 30)) is GREEN
    assert light_for(instant, at(3, 2, 15, 36)) is YELLOW, "a fifth of 7 hours is 1 h 24 min"
    assert light_for(instant, at(3, 2, 17)) is RED


# --- a stage's own limit ------------------------------------------------------------------------

REVIEW_ONE_DAY = StageLimit("审核", working_days=1)


def test_a_stage_over_its_limit_turns_the_case_red_while_the_case_is_in_time() -> None:
    # 20 working days promised, but review started Monday 10:00 and has one working day: due
    # Tuesday 17:00, with 15 working hours on its clock and yellow at 3 hours left.
    in_review = case(at(3, 2, 10), 20, stage=CurrentStage(REVIEW_ONE_DAY, at(3, 2, 10)))
    assert light_for(replace(in_review, stage=None), at(3, 4, 10)) is GREEN
    assert light_for(in_review, at(3, 3, 13, 59)) is GREEN
    assert light_for(in_review, at(3, 3, 14)) is YELLOW
    assert light_for(in_review, at(3, 3, 17)) is RED


def test_a_stage_limited_in_working_hours_counts_only_working_hours() -> None:
    four_hours = StageLimit("审批", working_hours=4, rule=LightRule(yellow_share=None))
    approval = case(at(3, 2, 10), 20, stage=CurrentStage(four_hours, at(3, 6, 15)))
    assert schedule_for(approval).red_at == at(3, 9, 11), "Friday 15:00 plus 4 working hours"


def test_the_next_stage_brings_its_own_clock() -> None:
    late_review = case(at(3, 2, 10), 20, stage=CurrentStage(REVIEW_ONE_DAY, at(3, 2, 10)))
    moved_on = replace(late_review, stage=CurrentStage(StageLimit("审批", working_days=3), at(3, 4, 10)))
    assert light_for(late_review, at(3, 4, 11)) is RED
    assert light_for(moved_on, at(3, 4, 11)) is GREEN


def test_a_stage_limit_is_given_one_way() -> None:
    with pytest.raises(ValueError, match="working days or in working hours"):
        StageLimit("审核")
    with pytest.raises(ValueError, match="working days or in working hours"):
        StageLimit("审核", working_days=1, working_hours=4)
    with pytest.raises(ValueError, match="positive"):
        StageLimit("审核", working_hours=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        LightRule(yellow_share=1.5)


# --- 补正 pauses ---------------------------------------------------------------------------------


def test_a_paused_case_keeps_the_light_it_had_when_paused() -> None:
    yellow_then_paused = case(at(3, 2), 5, Pause(at(3, 9, 10), reason="补正:缺营业执照副本"))
    assert light_for(yellow_then_paused, at(3, 9, 10)) is YELLOW
    assert light_for(yellow_then_paused, at(4, 20, 10)) is YELLOW, "long after the old deadline"
    schedule = schedule_for(yellow_then_paused)
    assert schedule.red_at is None
    assert schedule.next_change(at(3, 9, 10)) is None

    green_then_paused = case(at(3, 2), 5, Pause(at(3, 3, 10)))
    assert light_for(green_then_paused, at(5, 1, 10)) is GREEN


def test_once_the_materials_arrive_the_clock_runs_on_from_where_it_stopped() -> None:
    resumed = case(at(3, 2), 5, Pause(at(3, 9, 10), at(3, 16, 10)))
    assert light_for(resumed, at(3, 16, 12)) is YELLOW
    assert schedule_for(resumed).red_at == at(3, 16, 17), "the 7 hours left when paused"


# --- the scheduler's view -----------------------------------------------------------------------


def test_a_scheduler_wakes_only_when_the_light_changes() -> None:
    schedule = schedule_for(FIVE_DAYS)
    assert schedule.next_change(at(3, 2)) == at(3, 6, 15, 24)
    assert schedule.next_change(at(3, 6, 15, 24)) == at(3, 9, 17)
    assert schedule.next_change(at(3, 9, 17)) is None


def test_changes_are_reported_once_across_consecutive_windows() -> None:
    schedule = schedule_for(FIVE_DAYS)
    assert changes_between(schedule, at(3, 2), at(3, 6, 15, 24)) == [(at(3, 6, 15, 24), YELLOW)]
    assert changes_between(schedule, at(3, 6, 15, 24), at(3, 9, 17)) == [(at(3, 9, 17), RED)]
    assert changes_between(schedule, at(3, 9, 17), at(3, 31)) == []


def test_recompute_reports_only_the_cases_whose_light_changed() -> None:
    friday_afternoon = at(3, 6, 16)
    stored = [
        CaseTiming.of(replace(FIVE_DAYS, case_id="still-green"), GREEN, rule=LightRule(yellow_share=0.1)),
        CaseTiming.of(replace(FIVE_DAYS, case_id="already-yellow"), YELLOW),
        CaseTiming.of(replace(FIVE_DAYS, case_id="turned-yellow"), GREEN),
        CaseTiming.of(case(at(3, 2), 5, Pause(at(3, 3, 10)), case_id="paused-green"), GREEN),
    ]
    assert recompute(stored, friday_afternoon) == [("turned-yellow", YELLOW)]


def test_recompute_at_the_deadline_itself_reports_red() -> None:
    assert recompute([CaseTiming.of(FIVE_DAYS, YELLOW)], at(3, 9, 17)) == [("c1", RED)]
    assert recompute([CaseTiming.of(FIVE_DAYS, YELLOW)], at(3, 9, 16, 59)) == []


# --- properties over 2026 -----------------------------------------------------------------------

receipts = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 15, 23, 59, 59), timezones=st.just(SHANGHAI)
)
offsets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=25))
stage_limits = st.one_of(
    st.builds(StageLimit, name=st.just("审核"), working_days=st.integers(0, 3)),
    st.builds(StageLimit, name=st.just("审批"), working_hours=st.sampled_from([0.5, 1.0, 4.0, 12.0])),
)
rules = st.builds(
    LightRule,
    yellow_share=st.one_of(st.none(), st.sampled_from([0.1, 0.2, 1 / 3, 0.5])),
    yellow_working_days=st.one_of(st.none(), st.integers(0, 3)),
)


@st.composite
def pauses(draw: st.DrawFn, received: datetime, *, allow_open: bool = True) -> tuple[Pause, ...]:
    drawn: list[Pause] = []
    for _ in range(draw(st.integers(0, 2))):
        begins = received + draw(offsets)
        if allow_open and draw(st.booleans()) and not any(p.is_open for p in drawn):
            drawn.append(Pause(begins))
        else:
            length = draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)))
            drawn.append(Pause(begins, begins + length))
    return tuple(drawn)


@st.composite
def cases(draw: st.DrawFn, *, with_stage: bool = True, allow_open: bool = True, case_id: str = "c") -> CaseClock:
    received = draw(receipts)
    stage = None
    if with_stage and draw(st.booleans()):
        stage = CurrentStage(draw(stage_limits), received + draw(offsets))
    return CaseClock(case_id, received, draw(st.integers(0, 10)), draw(pauses(received, allow_open=allow_open)), stage)


# The last instant the properties look at: 2027's holidays are not in the calendar yet.
END = at(12, 31, 23)


def moments(received: datetime) -> st.SearchStrategy[datetime]:
    """Instants from shortly before receipt to weeks after it, within 2026."""
    spans = st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=50))
    return spans.map(lambda span: min(received + span, END))


@given(st.data(), cases(with_stage=False, allow_open=False))
def test_never_red_before_the_deadline_and_always_red_from_it(data: st.DataObject, clock: CaseClock) -> None:
    due = due_at(clock.received_at, clock.working_days, clock.pauses)
    now = data.draw(moments(clock.received_at))
    assert (light_for(clock, now) is RED) == (now >= due)
    assert light_for(clock, due) is RED
    assert light_for(clock, due - MICROSECOND) is not RED


@given(st.data(), cases(), rules)
def test_lights_only_get_worse_and_yellow_comes_before_red(
    data: st.DataObject, clock: CaseClock, rule: LightRule
) -> None:
    earlier, later = sorted((data.draw(moments(clock.received_at)), data.draw(moments(clock.received_at))))
    assert light_for(clock, earlier, rule=rule).rank <= light_for(clock, later, rule=rule).rank
    schedule = schedule_for(clock, rule=rule)
    if schedule.yellow_at is not None and schedule.red_at is not None and schedule.yellow_at < schedule.red_at:
        assert light_for(clock, schedule.yellow_at, rule=rule) is YELLOW
        assert light_for(clock, schedule.red_at - MICROSECOND, rule=rule) is YELLOW


@given(cases(with_stage=False, allow_open=False))
def test_with_the_default_rule_a_case_is_yellow_for_a_while_before_it_is_red(clock: CaseClock) -> None:
    schedule = schedule_for(clock)
    assert schedule.yellow_at is not None and schedule.red_at is not None
    assert start_of_clock(clock.received_at) < schedule.yellow_at < schedule.red_at


@given(st.data(), cases(with_stage=False, allow_open=False), st.integers(0, 3))
def test_a_stage_over_its_limit_makes_the_case_red_or_yellow_even_while_the_case_is_in_time(
    data: st.DataObject, clock: CaseClock, stage_days: int
) -> None:
    stage_start = clock.received_at + data.draw(offsets)
    in_stage = replace(clock, stage=CurrentStage(StageLimit("审核", working_days=stage_days), stage_start))
    stage_due = due_at(stage_start, stage_days, clock.pauses)
    now = data.draw(moments(clock.received_at))
    case_alone = light_for(clock, now)
    light = light_for(in_stage, now)
    assert light.rank >= case_alone.rank
    assert (light is RED) == (now >= stage_due or case_alone is RED)
    if all(p.end is not None and p.end <= now for p in clock.pauses) and now >= start_of_clock(stage_start):
        stage_limit = limit_of(stage_start, stage_days)
        if remaining(stage_due, now, clock.pauses) <= stage_limit * 0.2:
            assert light is not GREEN


@given(st.data(), cases(), rules)
def test_the_schedule_agrees_with_reading_the_clocks(data: st.DataObject, clock: CaseClock, rule: LightRule) -> None:
    schedule = schedule_for(clock, rule=rule)
    for now in data.draw(st.lists(moments(clock.received_at), min_size=1, max_size=5)):
        assert schedule.light_at(now) is light_for(clock, now, rule=rule)
    for instant in (schedule.yellow_at, schedule.red_at):
        if instant is not None:
            assert schedule.light_at(instant) is light_for(clock, instant, rule=rule)
            before = instant - MICROSECOND
            assert schedule.light_at(before) is light_for(clock, before, rule=rule)


@given(st.data(), st.lists(cases(), min_size=1, max_size=8), rules)
def test_recompute_equals_computing_each_light_directly(
    data: st.DataObject, clocks: list[CaseClock], rule: LightRule
) -> None:
    clocks = [replace(clock, case_id=f"case-{n}") for n, clock in enumerate(clocks)]
    now = data.draw(moments(clocks[0].received_at))
    stored = [CaseTiming.of(clock, data.draw(st.sampled_from(Light)), rule=rule) for clock in clocks]
    expected = [
        (clock.case_id, light_for(clock, now, rule=rule))
        for clock, timing in zip(clocks, stored, strict=True)
        if light_for(clock, now, rule=rule) is not timing.light
    ]
    assert recompute(stored, now) == expected
    for clock, timing in zip(clocks, stored, strict=True):
        for instant in (timing.yellow_at, timing.red_at):
            if instant is not None:
                just_before = replace(timing, light=light_for(clock, instant - MICROSECOND, rule=rule))
                assert recompute([just_before], instant) == [(clock.case_id, light_for(clock, instant, rule=rule))]


@given(st.data(), cases(), rules)
def test_changes_between_reports_each_change_once_whatever_the_windows(
    data: st.DataObject, clock: CaseClock, rule: LightRule
) -> None:
    schedule = schedule_for(clock, rule=rule)
    ticks = sorted(data.draw(st.lists(moments(clock.received_at), min_size=2, max_size=12)))
    reported = [change for a, b in pairwise(ticks) for change in changes_between(schedule, a, b)]
    assert reported == changes_between(schedule, ticks[0], ticks[-1])
    assert len({light for _, light in reported}) == len(reported), "no light is announced twice"
    previous = light_for(clock, ticks[0], rule=rule)
    for instant, light in reported:
        assert light_for(clock, instant - MICROSECOND, rule=rule) is previous
        assert light_for(clock, instant, rule=rule) is light is not previous
        previous = light
    assert previous is light_for(clock, ticks[-1], rule=rule), "nothing changed unreported"


@given(st.data(), cases(), rules)
def test_the_light_holds_until_the_next_change(data: st.DataObject, clock: CaseClock, rule: LightRule) -> None:
    schedule = schedule_for(clock, rule=rule)
    now = data.draw(moments(clock.received_at))
    following = schedule.next_change(now)
    if following is None:
        assert light_for(clock, END, rule=rule) is light_for(clock, now, rule=rule)
        return
    assert following > now
    assert light_for(clock, following - MICROSECOND, rule=rule) is light_for(clock, now, rule=rule)
    assert light_for(clock, following, rule=rule) is not light_for(clock, now, rule=rule)
