"""Case deadlines (承诺时限) as specifications: when the clock starts, when a promise of N working days
ends on China's 2026 calendar with its holidays and adjusted working days (调休), and what a 补正
pause does to it. The oracle for working days is chinese-calendar itself, asked directly.

2026 as chinese-calendar has it: New Year 1–3 Jan (Sun 4 Jan worked); Spring Festival 15–23 Feb
(Sat 14 and Sat 28 Feb worked); Qingming 4–6 Apr; Labour Day 1–5 May (Sat 9 May worked); Dragon
Boat 19–21 Jun; Mid-autumn 25–27 Sep (Sun 20 Sep worked); National Day 1–7 Oct (Sat 10 Oct worked).
Working hours here are the default 09:00–17:00, Beijing time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.deadlines import (
    DEFAULT_HOURS,
    SHANGHAI,
    Calendar,
    Pause,
    UnknownCalendarYear,
    WorkingHours,
    add_working_time,
    clock_reading,
    due_at,
    limit_of,
    remaining,
    start_of_clock,
    working_time_between,
)

HOUR = timedelta(hours=1)
DAY_2026 = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
ADJUSTED_WORKING_DAYS = [day for day in DAY_2026 if day.weekday() >= 5 and chinese_calendar.is_workday(day)]
# An adjusted working day carries its holiday's name too, so "off and named" is what a holiday is.
HOLIDAY_DAYS = [
    day for day in DAY_2026 if chinese_calendar.is_holiday(day) and chinese_calendar.get_holiday_detail(day)[1]
]


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    """An instant in Beijing time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def holiday_runs() -> list[tuple[date, date]]:
    """Each 2026 public holiday as (first day off, last day off), weekends it spans included."""
    runs: list[tuple[date, date]] = []
    for day in HOLIDAY_DAYS:
        if runs and day - runs[-1][1] <= timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def working_days_after_in_2026(day: date) -> int:
    return sum(1 for other in DAY_2026 if other > day and chinese_calendar.is_workday(other))


instants_2026 = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59, 59), timezones=st.just(SHANGHAI)
)
# Late enough in the year to cross holidays, early enough that deadlines stay in the known year.
instants_to_november = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 15, 23, 59, 59), timezones=st.just(SHANGHAI)
)
promises = st.integers(min_value=0, max_value=15)


# --- when the clock starts ---------------------------------------------------------------------


def test_received_within_working_hours_the_clock_starts_at_once() -> None:
    assert start_of_clock(at(3, 3, 10, 30)) == at(3, 3, 10, 30)


def test_received_before_opening_the_clock_starts_at_opening() -> None:
    assert start_of_clock(at(3, 3, 7, 45)) == at(3, 3, 9)


def test_received_at_or_after_closing_the_clock_starts_next_working_day() -> None:
    assert start_of_clock(at(3, 3, 17)) == at(3, 4, 9)
    assert start_of_clock(at(3, 6, 20)) == at(3, 9, 9), "Friday evening waits for Monday"


def test_received_on_a_holiday_the_clock_starts_after_the_holiday() -> None:
    # Spring Festival runs to Monday 23 February.
    assert start_of_clock(at(2, 18, 11)) == at(2, 24, 9)
    # National Day week, then Thursday 8 October is the first working day.
    assert start_of_clock(at(10, 3, 10)) == at(10, 8, 9)


def test_received_on_friday_evening_before_an_adjusted_saturday_the_clock_starts_on_saturday() -> None:
    assert start_of_clock(at(2, 13, 18)) == at(2, 14, 9)


@pytest.mark.parametrize("day", ADJUSTED_WORKING_DAYS, ids=str)
def test_adjusted_weekend_days_of_2026_are_working_days(day: date) -> None:
    assert start_of_clock(datetime.combine(day, time(10), tzinfo=SHANGHAI)) == at(day.month, day.day, 10)
    day_before = day - timedelta(days=1)
    assert start_of_clock(datetime.combine(day_before, time(18), tzinfo=SHANGHAI)) == at(day.month, day.day)


def test_the_clock_starts_in_the_halls_time_zone_whatever_zone_the_instant_comes_in() -> None:
    received = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)  # 10:30 in Beijing
    assert start_of_clock(received) == at(3, 3, 10, 30)
    assert start_of_clock(received).utcoffset() == timedelta(hours=8)


def test_an_instant_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        start_of_clock(datetime(2026, 3, 3, 10))


@given(instants_2026)
def test_the_clock_starts_at_the_first_working_moment_not_before_receipt(received: datetime) -> None:
    try:
        start = start_of_clock(received)
    except UnknownCalendarYear:
        assert received >= at(12, 31, 17), "only the last evening of 2026 needs 2027's calendar"
        return
    assert start >= received
    assert chinese_calendar.is_workday(start.date())
    assert time(9) <= start.time() < time(17)
    within_hours = chinese_calendar.is_workday(received.date()) and time(9) <= received.time() < time(17)
    if within_hours:
        assert start == received
    else:
        assert start.time() == time(9)
        skipped = [day for day in DAY_2026 if received.date() < day < start.date()]
        assert not any(chinese_calendar.is_workday(day) for day in skipped)


# --- when a promise ends -----------------------------------------------------------------------


def test_the_day_the_clock_starts_is_not_counted() -> None:
    assert due_at(at(3, 2, 10), 1) == at(3, 3, 17)
    assert due_at(at(3, 2, 10), 5) == at(3, 9, 17), "Tue to Fri are days 1–4, next Monday day 5"


def test_received_after_hours_the_next_working_day_is_the_starting_day() -> None:
    assert due_at(at(3, 2, 18), 1) == at(3, 4, 17)


def test_an_instant_item_is_due_at_closing_time_the_day_the_clock_starts() -> None:
    assert due_at(at(3, 2, 10), 0) == at(3, 2, 17)
    assert due_at(at(3, 2, 18), 0) == at(3, 3, 17)
    assert due_at(at(10, 1, 10), 0) == at(10, 8, 17)


def test_holidays_are_skipped_and_adjusted_days_count() -> None:
    # Wednesday 30 September: day 1 is Thursday 8 October, after the National Day week.
    assert due_at(at(9, 30, 10), 1) == at(10, 8, 17)
    # Friday 9 October: days are Sat 10 Oct (adjusted), Mon 12, Tue 13.
    assert due_at(at(10, 9, 10), 3) == at(10, 13, 17)
    # Friday 13 February: Sat 14 Feb worked, then the Spring Festival until Mon 23, Tue 24 is day 2.
    assert due_at(at(2, 13, 10), 2) == at(2, 24, 17)


def test_a_deadline_the_calendar_cannot_reach_is_an_error_not_a_guess() -> None:
    with pytest.raises(UnknownCalendarYear, match="2027"):
        due_at(at(12, 28, 10), 5)


def test_a_year_chinese_calendar_does_not_know_is_a_clear_error() -> None:
    with pytest.raises(UnknownCalendarYear, match="no official holiday schedule for 2027") as raised:
        start_of_clock(at(3, 1, 10, year=2027))
    assert raised.value.day == date(2027, 3, 1)
    assert isinstance(raised.value.__cause__, NotImplementedError)


def test_working_time_before_1_january_does_not_ask_the_calendar_about_the_new_year() -> None:
    assert working_time_between(at(12, 31, 16), at(1, 1, 8, year=2027)) == HOUR


def test_other_working_hours_are_configurable() -> None:
    hours = WorkingHours(time(8, 30), time(17, 30))
    assert hours.day_length == timedelta(hours=9)
    assert start_of_clock(at(3, 2, 8, 40), hours) == at(3, 2, 8, 40)
    assert due_at(at(3, 2, 8, 40), 1, hours=hours) == at(3, 3, 17, 30)
    with pytest.raises(ValueError, match="before closing"):
        WorkingHours(time(17), time(9))


def test_working_hours_in_another_zone_count_in_that_zone() -> None:
    urumqi = WorkingHours(time(10), time(18), ZoneInfo("Asia/Urumqi"))
    received = datetime(2026, 3, 2, 11, tzinfo=SHANGHAI)  # 09:00 in Ürümqi: before opening there
    assert start_of_clock(received, urumqi) == datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Urumqi"))


@given(instants_2026, promises)
def test_every_deadline_in_2026_falls_on_a_working_day_at_closing_time(received: datetime, days: int) -> None:
    if received >= at(12, 31, 17):
        with pytest.raises(UnknownCalendarYear):
            due_at(received, days)
        return
    start = start_of_clock(received)
    if working_days_after_in_2026(start.date()) < days:
        with pytest.raises(UnknownCalendarYear, match="2027"):
            due_at(received, days)
        return
    due = due_at(received, days)
    assert chinese_calendar.is_workday(due.date())
    assert not chinese_calendar.is_holiday(due.date())
    assert due.time() == time(17)
    counted = [day for day in DAY_2026 if start.date() < day <= due.date() and chinese_calendar.is_workday(day)]
    assert len(counted) == days


@pytest.mark.parametrize("days", [0, 1, 5])
def test_every_day_of_2026_morning_and_evening_is_due_on_a_working_day(days: int) -> None:
    for day in DAY_2026[:-14]:
        for hour in (8, 12, 17, 21):
            due = due_at(datetime.combine(day, time(hour), tzinfo=SHANGHAI), days)
            assert chinese_calendar.is_workday(due.date()), (day, hour)


@given(instants_to_november, promises)
def test_a_longer_promise_ends_later(received: datetime, days: int) -> None:
    assert due_at(received, days) < due_at(received, days + 1)


@given(instants_to_november, instants_to_november, promises)
def test_a_later_receipt_is_never_due_earlier(first: datetime, second: datetime, days: int) -> None:
    earlier, later = sorted((first, second))
    assert due_at(earlier, days) <= due_at(later, days)


@given(instants_to_november, promises)
def test_the_limit_is_the_working_time_from_start_to_deadline(received: datetime, days: int) -> None:
    start = start_of_clock(received)
    due = due_at(received, days)
    assert working_time_between(start, due) == limit_of(received, days)
    assert limit_of(received, days) >= days * DEFAULT_HOURS.day_length


# --- working time ------------------------------------------------------------------------------


def test_working_time_skips_nights_weekends_and_holidays() -> None:
    assert working_time_between(at(3, 6, 16), at(3, 9, 10)) == 2 * HOUR, "Friday 16:00 to Monday 10:00"
    assert working_time_between(at(9, 30, 16), at(10, 8, 10)) == 2 * HOUR, "across National Day"
    assert working_time_between(at(3, 9, 10), at(3, 6, 16)) == -2 * HOUR, "backwards is negative"


def test_adding_working_time_ends_at_closing_time_rather_than_next_morning() -> None:
    assert add_working_time(at(3, 6, 9), 8 * HOUR) == at(3, 6, 17)
    assert add_working_time(at(3, 6, 9), 9 * HOUR) == at(3, 9, 10)


@given(instants_to_november, instants_to_november, instants_to_november)
def test_working_time_adds_up(a: datetime, b: datetime, c: datetime) -> None:
    assert working_time_between(a, b) + working_time_between(b, c) == working_time_between(a, c)


@given(instants_to_november, st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=80)))
def test_adding_working_time_is_undone_by_measuring_it(start: datetime, amount: timedelta) -> None:
    end = add_working_time(start, amount)
    assert working_time_between(start, end) == amount
    if amount:
        assert working_time_between(start, end - timedelta(microseconds=1)) < amount, "the earliest such instant"


# --- 补正 pauses -------------------------------------------------------------------------------


def test_a_pause_pushes_the_deadline_by_the_working_time_it_covered() -> None:
    received = at(9, 28, 10)  # Monday; 5 days end on the adjusted Saturday 10 October
    assert due_at(received, 5) == at(10, 10, 17)
    materials = Pause(at(9, 30, 12), at(10, 9, 10), reason="缺身份证复印件")
    # Covered: 30 Sep 12–17 (5 h), 8 Oct (8 h), 9 Oct 9–10 (1 h) = 14 h; Sunday off, so Mon 8 h + Tue 6 h.
    assert due_at(received, 5, [materials]) == at(10, 13, 15)


def test_a_pause_over_the_national_day_week_costs_nothing() -> None:
    received = at(9, 28, 10)
    over_the_holiday = Pause(at(9, 30, 17), at(10, 8, 9))
    assert due_at(received, 5, [over_the_holiday]) == due_at(received, 5)


def test_a_pause_over_a_weekend_costs_nothing() -> None:
    assert due_at(at(3, 2, 10), 5, [Pause(at(3, 6, 17, 30), at(3, 9, 8))]) == at(3, 9, 17)


def test_overlapping_pauses_stop_the_clock_once() -> None:
    one = Pause(at(3, 3, 9), at(3, 3, 13))
    other = Pause(at(3, 3, 11), at(3, 3, 15))
    assert due_at(at(3, 2, 10), 5, [one, other]) == due_at(at(3, 2, 10), 5, [Pause(at(3, 3, 9), at(3, 3, 15))])


def test_a_pause_starting_once_overdue_does_not_clear_the_overdue() -> None:
    assert due_at(at(3, 2, 10), 1, [Pause(at(3, 4, 10), at(3, 6, 10))]) == at(3, 3, 17)


def test_while_paused_the_time_left_stands_still() -> None:
    received = at(3, 2, 10)
    waiting = Pause(at(3, 3, 15))
    due = due_at(received, 1, [waiting])
    assert due == at(3, 3, 17), "an open pause has pushed nothing yet"
    assert remaining(due, at(3, 3, 15), [waiting]) == 2 * HOUR
    assert remaining(due, at(3, 20, 11), [waiting]) == 2 * HOUR
    arrived = Pause(waiting.start, at(3, 20, 11))
    due_after = due_at(received, 1, [arrived])
    assert due_after == at(3, 20, 13)
    assert remaining(due_after, at(3, 20, 11), [arrived]) == 2 * HOUR


def test_time_left_runs_negative_once_overdue() -> None:
    due = due_at(at(3, 2, 10), 1)
    assert remaining(due, at(3, 3, 16)) == HOUR
    assert remaining(due, at(3, 4, 10)) == -HOUR


def test_a_pause_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Pause(at(3, 3, 12), at(3, 3, 11))


@pytest.mark.parametrize(("first_off", "last_off"), holiday_runs(), ids=lambda day: str(day))
def test_a_pause_over_any_2026_holiday_costs_no_working_time(first_off: date, last_off: date) -> None:
    before = first_off - timedelta(days=1)
    while not chinese_calendar.is_workday(before):
        before -= timedelta(days=1)
    after = last_off + timedelta(days=1)
    while not chinese_calendar.is_workday(after):
        after += timedelta(days=1)
    pause = Pause(
        datetime.combine(before, time(17), tzinfo=SHANGHAI), datetime.combine(after, time(9), tzinfo=SHANGHAI)
    )
    assert working_time_between(pause.start, pause.end or pause.start) == timedelta(0)
    received = datetime.combine(before, time(10), tzinfo=SHANGHAI)
    assert due_at(received, 3, [pause]) == due_at(received, 3)


@st.composite
def closed_pauses(draw: st.DrawFn, received: datetime) -> list[Pause]:
    pauses = []
    for _ in range(draw(st.integers(0, 3))):
        begins = received + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
        pauses.append(Pause(begins, begins + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=12)))))
    return pauses


@given(st.data(), instants_to_november, st.integers(0, 10))
def test_the_deadline_moves_by_exactly_the_working_time_paused_before_it(
    data: st.DataObject, received: datetime, days: int
) -> None:
    pauses = data.draw(closed_pauses(received))
    due = due_at(received, days, pauses)
    start = start_of_clock(received)
    assert clock_reading(start, pauses, due) == limit_of(received, days), "the clock shows the whole limit"
    paused = sum(
        (working_time_between(max(p.start, start), min(p.end or due, due)) for p in _union(pauses) if p.start < due),
        timedelta(0),
    )
    assert working_time_between(due_at(received, days), due) == paused
    assert chinese_calendar.is_workday(due.date())


@given(instants_to_november, st.integers(1, 10), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)))
def test_one_pause_inside_the_limit_pushes_the_deadline_by_its_working_time(
    received: datetime, days: int, offset: timedelta
) -> None:
    base = due_at(received, days)
    begins = min(start_of_clock(received) + offset, base - timedelta(minutes=1))
    pause = Pause(begins, begins + timedelta(days=3, hours=5))
    assert working_time_between(base, due_at(received, days, [pause])) == working_time_between(
        pause.start, pause.end or begins
    )


def _union(pauses: list[Pause]) -> list[Pause]:
    """The oracle's own join of overlapping pauses (what is paused twice is paused once)."""
    joined: list[Pause] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        assert pause.end is not None
        last_end = joined[-1].end if joined else None
        if joined and last_end is not None and pause.start <= last_end:
            joined[-1] = Pause(joined[-1].start, max(last_end, pause.end))
        else:
            joined.append(pause)
    return joined


# --- the calendar wrapper ----------------------------------------------------------------------


def test_the_calendar_asks_chinese_calendar_once_per_date() -> None:
    asked: list[date] = []

    def lookup(day: date) -> bool:
        asked.append(day)
        return bool(chinese_calendar.is_workday(day))

    calendar = Calendar(lookup)
    assert calendar.is_working_day(date(2026, 2, 28)), "adjusted Saturday"
    assert not calendar.is_working_day(date(2026, 10, 5)), "National Day Monday"
    assert calendar.is_working_day(date(2026, 2, 28))
    assert asked == [date(2026, 2, 28), date(2026, 10, 5)]
    assert calendar.working_day_after(date(2026, 9, 30), 2) == date(2026, 10, 9)
