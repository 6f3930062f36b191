"""Deadlines of cases in working days on China's official calendar (承诺时限), with 补正 pauses.

The rules, as this module counts them:

- **Working days** are China's, from chinese-calendar: public holidays are off even on a weekday,
  and the adjusted working days (调休, e.g. Saturday 2026-02-28 or Sunday 2026-09-20) are working
  days with ordinary hours. A year the library has no data for raises :class:`UnknownCalendarYear`;
  guessing Monday–Friday would put deadlines on holidays nobody announced yet.
- **The clock starts** (:func:`start_of_clock`) at the instant the application is received when that
  falls within working hours on a working day. Before opening it starts at that day's opening;
  after closing, on a weekend or on a holiday it starts at the next working day's opening — nobody
  can act on an application the hall is closed for.
- **The day the clock starts is not counted** (次日起算): a promise of N working days ends at the
  closing time of the N-th working day *after* that day. This is the general rule for periods
  counted in days (民法典 第二百零一条: 开始的当日不计入,自下一日开始计算), with the last day
  ending when business stops (第二百零三条: 有业务时间的,停止业务活动的时间为截止时间), and the
  common hall rule for promised items (限时办结制: 以工作日为单位,从收到相关文件、材料的次日起计算).
  行政许可法 第八十二条 counts such limits in working days, without public holidays. So an
  application accepted on Monday with 1 working day promised is due Tuesday at closing time, and
  one received on Monday evening (the clock starts Tuesday) is due Wednesday at closing time.
- **Instant items** (即办, 0 working days) are due at closing time of the day the clock starts.
- **The deadline is an instant**: at the closing time itself the case is overdue.
- **补正 pauses the clock** (中止, not 重新计算): a :class:`Pause` pushes the deadline by the working
  time it covered — a pause over a weekend or a holiday week costs nothing. Some halls restart the
  whole limit once the materials arrive; the case workflow here pauses, as the issue asks. A pause
  that starts once the case is already overdue does not clear the overdue. An open pause (materials
  not arrived yet) has pushed nothing so far: :func:`due_at` gives the deadline as it stood when the
  clock stopped, and :func:`remaining` stands still at the pause's start.

Everything is pure: instants are timezone-aware datetimes, ``now`` is always passed in. Arithmetic
between instants goes through UTC, so a working-hours zone with summer time still counts real time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import chinese_calendar

from hall.kernel.zones import DEFAULT_ZONE, zone

# The default zone, for rules built without a server; the server passes HALL_TIMEZONE's.
SHANGHAI = zone(DEFAULT_ZONE)
ONE_DAY = timedelta(days=1)
ZERO = timedelta(0)


class UnknownCalendarYear(LookupError):
    """chinese-calendar has no holiday data for the year: working days cannot be counted."""

    def __init__(self, day: date, detail: str) -> None:
        super().__init__(
            f"no official holiday schedule for {day.year} in chinese-calendar ({detail}); "
            f"cannot tell whether {day.isoformat()} is a working day — upgrade chinese-calendar "
            "once the State Council has published that year's schedule"
        )
        self.day = day


class Calendar:
    """Which days are working days: chinese-calendar, remembered per date.

    The library answers from tables but walks them on every call; deadlines ask about the same few
    hundred dates again and again, hence the cache. A year it does not know raises
    :class:`UnknownCalendarYear` (never cached, so an upgraded library is picked up on restart).
    """

    def __init__(self, lookup: Callable[[date], bool] = chinese_calendar.is_workday, *, cache_days: int = 4096) -> None:
        self._lookup = lookup
        self._cached: Callable[[date], bool] = lru_cache(maxsize=cache_days)(self._ask)

    def _ask(self, day: date) -> bool:
        try:
            return bool(self._lookup(day))
        except NotImplementedError as exc:
            raise UnknownCalendarYear(day, str(exc)) from exc

    def is_working_day(self, day: date) -> bool:
        """True on weekdays that are not public holidays and on adjusted working days (调休)."""
        return self._cached(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += ONE_DAY
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def working_day_after(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself not counted); 0 is ``day``."""
        if count < 0:
            raise ValueError("count must not be negative")
        for _ in range(count):
            day = self.next_working_day(day)
        return day


CHINA = Calendar()


@dataclass(frozen=True)
class WorkingHours:
    """The hours the clock runs on a working day, in the hall's time zone (default 09:00–17:00,
    Beijing time). One span a day: a lunch break stops nobody's promised time in practice."""

    opens: time = time(9, 0)
    closes: time = time(17, 0)
    tz: tzinfo = SHANGHAI
    calendar: Calendar = field(default=CHINA, compare=False)

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening and closing are local times: give them without a time zone")
        if not self.opens < self.closes:
            raise ValueError(f"opening {self.opens} must be before closing {self.closes}")

    @property
    def day_length(self) -> timedelta:
        """The working time of one full working day (8 hours by default)."""
        day = date(2000, 1, 3)
        return _span(self.opening(day), self.closing(day))

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"an instant needs a time zone: {moment!r}")
        return moment.astimezone(self.tz)

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, tzinfo=self.tz)

    def closing(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, tzinfo=self.tz)

    def is_working_day(self, day: date) -> bool:
        return self.calendar.is_working_day(day)


DEFAULT_HOURS = WorkingHours()


@dataclass(frozen=True)
class Pause:
    """The clock stopped from ``start`` to ``end`` — a 补正 waiting for materials; ``end`` None
    while they have not arrived."""

    start: datetime
    end: datetime | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"a pause cannot end ({self.end}) before it starts ({self.start})")

    @property
    def is_open(self) -> bool:
        return self.end is None


def _span(a: datetime, b: datetime) -> timedelta:
    # Aware datetimes sharing one tzinfo subtract as wall clocks; UTC makes it real elapsed time.
    return b.astimezone(UTC) - a.astimezone(UTC)


def _plus(moment: datetime, amount: timedelta, hours: WorkingHours) -> datetime:
    return (moment.astimezone(UTC) + amount).astimezone(hours.tz)


def start_of_clock(received_at: datetime, hours: WorkingHours = DEFAULT_HOURS) -> datetime:
    """The instant the promised time starts running for an application received at ``received_at``.

    Within working hours on a working day: that instant. Before opening on a working day: that
    day's opening. At or after closing, on a weekend or a holiday (but not on an adjusted working
    day): the next working day's opening.
    """
    local = hours.local(received_at)
    day = local.date()
    if hours.is_working_day(day):
        if local < hours.opening(day):
            return hours.opening(day)
        if local < hours.closing(day):
            return local
    return hours.opening(hours.calendar.next_working_day(day))


def working_time_between(a: datetime, b: datetime, hours: WorkingHours = DEFAULT_HOURS) -> timedelta:
    """Working time from ``a`` to ``b``: the parts of working days' hours between them; negative
    when ``b`` is before ``a``. Nights, weekends and holidays count nothing."""
    if b < a:
        return -working_time_between(b, a, hours)
    a, b = hours.local(a), hours.local(b)
    total = ZERO
    day = a.date()
    while day <= b.date():
        lo = max(a, hours.opening(day))
        hi = min(b, hours.closing(day))
        # The calendar is asked only about days whose hours the span touches: a span ending on the
        # night of 31 December must not need next year's holidays.
        if lo < hi and hours.is_working_day(day):
            total += _span(lo, hi)
        day += ONE_DAY
    return total


def add_working_time(start: datetime, amount: timedelta, hours: WorkingHours = DEFAULT_HOURS) -> datetime:
    """The earliest instant at which ``amount`` of working time has passed since ``start``.

    Earliest: when the amount runs out exactly at a closing time, the answer is that closing time,
    not the next opening — the two are the same point on the working clock, and a deadline belongs
    to the day it ends on. An amount of zero is ``start`` itself.
    """
    if amount < ZERO:
        raise ValueError("working time to add must not be negative")
    start = hours.local(start)
    if amount == ZERO:
        return start
    left = amount
    day = start.date()
    while True:
        lo = max(start, hours.opening(day))
        hi = hours.closing(day)
        if lo < hi and hours.is_working_day(day):
            available = _span(lo, hi)
            if left <= available:
                return _plus(lo, left, hours)
            left -= available
        day += ONE_DAY


def merged_pauses(pauses: Iterable[Pause], since: datetime) -> list[tuple[datetime, datetime | None]]:
    """Pauses in order, overlaps joined and cut to begin no earlier than ``since``: overlapping 补正
    requests stop one clock once, and time before the clock started was never on it."""
    spans: list[tuple[datetime, datetime | None]] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        start = max(pause.start, since)
        end = pause.end
        if end is not None and end <= start:
            continue
        if spans:
            last_start, last_end = spans[-1]
            if last_end is None:
                break
            if start <= last_end:
                spans[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        spans.append((start, end))
    return spans


def clock_reading(
    start: datetime, pauses: Sequence[Pause], now: datetime, hours: WorkingHours = DEFAULT_HOURS
) -> timedelta | None:
    """The working time on the clock at ``now``: working time since ``start`` less the paused part
    (an open pause counts up to ``now``). None before the clock has started."""
    start = start_of_clock(start, hours)
    if now < start:
        return None
    reading = working_time_between(start, now, hours)
    for pause_start, pause_end in merged_pauses(pauses, start):
        if pause_start >= now:
            break
        stop = now if pause_end is None else min(pause_end, now)
        reading -= working_time_between(pause_start, stop, hours)
    return reading


def instant_on_clock(
    start: datetime, reading: timedelta, pauses: Sequence[Pause], hours: WorkingHours = DEFAULT_HOURS
) -> datetime | None:
    """The earliest instant at which the clock started at ``start`` shows ``reading``, pauses
    skipped; None when an open pause stopped it short of that.

    Each pause that begins before the instant found so far moves it on by the working time the pause
    covered; a pause beginning at or after it changes nothing (the reading was already reached).
    """
    start = start_of_clock(start, hours)
    moment = add_working_time(start, reading, hours)
    for pause_start, pause_end in merged_pauses(pauses, start):
        if pause_start >= moment:
            break
        if pause_end is None:
            return None
        moment = add_working_time(moment, working_time_between(pause_start, pause_end, hours), hours)
    return moment


def limit_of(start: datetime, working_days: int, hours: WorkingHours = DEFAULT_HOURS) -> timedelta:
    """The working time a promise of ``working_days`` gives a clock started at ``start``: the rest of
    the starting day plus ``working_days`` full working days (次日起算)."""
    if working_days < 0:
        raise ValueError("working days must not be negative")
    start = start_of_clock(start, hours)
    last = hours.calendar.working_day_after(start.date(), working_days)
    return working_time_between(start, hours.closing(last), hours)


def due_at(
    start: datetime, working_days: int, pauses: Sequence[Pause] = (), hours: WorkingHours = DEFAULT_HOURS
) -> datetime:
    """The deadline of a promise of ``working_days`` on a clock started at ``start`` (given as
    received, it is moved to :func:`start_of_clock` first), in the hall's time zone.

    Without pauses: closing time of the ``working_days``-th working day after the starting day (0:
    the starting day's closing time). Each closed pause that began before the deadline pushes it by
    the working time it covered. An open pause is left out: the deadline as it stood when the clock
    stopped (see :func:`remaining`).
    """
    clock_start = start_of_clock(start, hours)
    closed = [pause for pause in pauses if not pause.is_open]
    moment = instant_on_clock(clock_start, limit_of(clock_start, working_days, hours), closed, hours)
    if moment is None:  # pragma: no cover - only open pauses stop the clock, and they were left out
        raise AssertionError("a clock with closed pauses always reaches its limit")
    return moment


def remaining(
    due: datetime, now: datetime, pauses: Sequence[Pause] = (), hours: WorkingHours = DEFAULT_HOURS
) -> timedelta:
    """Working time left until ``due`` (from :func:`due_at` with the same pauses); negative once
    overdue. While a pause is open the clock stands still at the pause's start."""
    at = now
    for pause in pauses:
        if pause.is_open and pause.start <= at:
            at = pause.start
    return working_time_between(at, due, hours)
