"""The cases' figures: what each case command adds to the statistics, folded from the facts it
logged and the register it was decided on, so that a month's or a year's view reads summed rows,
not the event log (the supervisors' figures of 电子监察: accepted, completed, 按时办结率, 提速率).

A step's figures are keyed by the hall's local day of the moment it was taken, the hall where it
was taken (受理 and 领取 at the accepting hall, every other step at the deciding office, as the
ledgers count them), the service item (事项), its department, and the stage the figure is about.
What counts:

- *accepted*: 受理, under the stage ``accepted``;
- *entered*: a step that moved a case into a stage (受理, 审核, 审批, 办结, 领取, 不予受理, and
  退回 into the stage it returns to), under that stage: the cases by stage;
- *completed*: 办结, *on time* when it came before the due time (the deadline is an instant: at
  it the case is overdue), else *late*, with the working time the case's clock shows (``work_sum``:
  working hours of working days since the clock started, 补正 pauses left out);
- *提速率* (speed-up): ``(承诺时限 − 实际办理时间) / 承诺时限`` of a completed case, both on the
  case's own clock: the promise is the working time its limit gives (the rest of the starting day
  and N working days after it, 次日起算), the time taken is the clock's reading at 办结. A case
  done at its deadline saved 0, a late one a negative share. It is kept per case in basis points
  (``speed_sum``, ``speed_count``) and averaged over the completed cases that had a promise of at
  least one working day: an instant item (即办, 0 days) promises nothing to beat;
- *refused* (不予受理), *collected* (领取), *supplements* (补正 asked for) and *returned* (退回);
- *rated*: a resident's online rating of a completed case (一事一评, ``case.rated``, GB/T
  39734-2020's five levels), under the stage ``completed`` on the local day of the rating, at the
  accepting hall: the rating is of the service the resident met, and the resident met the hall that
  took the case in, whichever office decided it; *satisfied* when 基本满意 or better, as the
  queue's satisfaction counts a counter's ratings.

Every figure is a whole number, so sums are exact on every backend and in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from cases.case_timing import lenient_hours
from cases.deadlines import ZERO, Pause, UnknownCalendarYear, WorkingHours, clock_reading, limit_of, start_of_clock
from cases.register import Register
from hall.kernel.events import Fact
from queueing.rating_records import Level

STAGES: tuple[str, ...] = ("accepted", "review", "approval", "completed", "collected", "refused")
# A share in basis points: 1 is 10 000.
BASIS = 10_000


@dataclass(frozen=True, order=True)
class Key:
    """Where a figure counts: the local day, the hall, the item and its department, the stage."""

    day: date
    hall: int
    item: str
    department: str
    stage: str

    @property
    def week(self) -> date:
        """Monday of the day's week (ISO weeks, as Chinese calendars print them)."""
        return self.day - timedelta(days=self.day.weekday())

    @property
    def month(self) -> date:
        return self.day.replace(day=1)


@dataclass(frozen=True)
class Tally:
    """What one key adds; every field adds up."""

    key: Key
    accepted: int = 0
    entered: int = 0
    completed: int = 0
    on_time: int = 0
    late: int = 0
    work_sum: int = 0
    speed_count: int = 0
    speed_sum: int = 0
    refused: int = 0
    collected: int = 0
    supplements: int = 0
    returned: int = 0
    rated: int = 0
    satisfied: int = 0

    def plus(self, other: Tally) -> Tally:
        if other.key != self.key:
            raise ValueError(f"cannot add figures of {other.key} to those of {self.key}")
        return replace(self, **{name: getattr(self, name) + getattr(other, name) for name in COUNTS})

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


# Every count a tally holds, in the order of the table's columns.
COUNTS: tuple[str, ...] = tuple(f.name for f in fields(Tally) if f.name != "key")


def speed_up(
    accepted_at: datetime, limit_days: int, pauses: Sequence[Pause], completed_at: datetime, hours: WorkingHours
) -> tuple[float | None, int]:
    """提速率 of one case completed at ``completed_at`` (None for a promise of 0 working days), and
    the working seconds its clock shows then."""
    try:
        return _speed_up(accepted_at, limit_days, pauses, completed_at, hours)
    except UnknownCalendarYear:
        # A promise reaching into a year without an official schedule: weekdays, as its due time.
        return _speed_up(accepted_at, limit_days, pauses, completed_at, lenient_hours(hours))


def _speed_up(
    accepted_at: datetime, limit_days: int, pauses: Sequence[Pause], completed_at: datetime, hours: WorkingHours
) -> tuple[float | None, int]:
    used = clock_reading(accepted_at, pauses, completed_at, hours) or ZERO
    seconds = max(0, round(used.total_seconds()))
    if limit_days <= 0:
        return None, seconds
    promised = limit_of(start_of_clock(accepted_at, hours), limit_days, hours)
    return (promised - used) / promised, seconds


def basis_points(share: float) -> int:
    return round(share * BASIS)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _key(data: Mapping[str, object], now: datetime, hours: WorkingHours, stage: str, *, accepting: bool) -> Key:
    hall = _int(data.get("accepted_hall" if accepting else "deciding_hall"))
    department = str(data.get("department") or "")
    return Key(hours.local(now).date(), hall, str(data.get("item", "")), department, stage)


# A case's clock as 办结 reads it: when it started, the working days promised, the 补正 pauses.
CaseClock = tuple[datetime, int, Sequence[Pause]]


def fold(before: Register, facts: Sequence[Fact], now: datetime, hours: WorkingHours) -> tuple[Tally, ...]:
    """What ``facts``, logged by one case command decided on ``before`` at ``now``, add to the
    figures: one tally per key, in key order."""
    found = (tally(fact, now, hours, _clock(before, fact)) for fact in facts)
    return merged(t for t in found if t is not None)


def _clock(before: Register, fact: Fact) -> CaseClock | None:
    case = before.cases.cases.get(str(fact.data.get("number"))) if fact.type == "case.completed" else None
    if case is None:
        return None
    return case.accepted_at, case.time_limit_days, tuple(Pause(p.start, p.end) for p in case.pauses)


def tally(fact: Fact, now: datetime, hours: WorkingHours, clock: CaseClock | None = None) -> Tally | None:
    """What one fact logged at ``now`` adds (None: nothing). ``clock`` is the case's clock before
    the fact, which 办结 reads for 提速率 and the working time; without it those count 0."""
    data = fact.data
    to = str(data.get("to") or "")
    if fact.type == "case.accepted":
        return Tally(_key(data, now, hours, "accepted", accepting=True), accepted=1, entered=1)
    if fact.type in ("case.reviewed", "case.approved"):
        return Tally(_key(data, now, hours, to, accepting=False), entered=1)
    if fact.type == "case.completed":
        return _completed(clock, data, now, hours)
    if fact.type == "case.collected":
        return Tally(_key(data, now, hours, "collected", accepting=True), entered=1, collected=1)
    if fact.type == "case.refused":
        return Tally(_key(data, now, hours, "refused", accepting=False), entered=1, refused=1)
    if fact.type == "case.returned":
        return Tally(_key(data, now, hours, to, accepting=False), entered=1, returned=1)
    if fact.type == "case.supplement_requested":
        return Tally(_key(data, now, hours, to, accepting=False), supplements=1)
    if fact.type == "case.rated":
        return _rated(data, now, hours)
    return None


def _rated(data: Mapping[str, object], now: datetime, hours: WorkingHours) -> Tally:
    key = _key(data, now, hours, "completed", accepting=True)
    try:
        satisfied = not Level(_int(data.get("level"))).unsatisfied
    except ValueError:
        # The rules accept levels 1 to 5 only; a fact without one counts as rated, not satisfied.
        satisfied = False
    return Tally(key, rated=1, satisfied=int(satisfied))


def _completed(clock: CaseClock | None, data: Mapping[str, object], now: datetime, hours: WorkingHours) -> Tally:
    key = _key(data, now, hours, "completed", accepting=False)
    due = data.get("due_at")
    late = isinstance(due, str) and now >= datetime.fromisoformat(due)
    on_time = isinstance(due, str) and not late
    share: float | None = None
    seconds = 0
    if clock is not None:
        share, seconds = speed_up(*clock, now, hours)
    return Tally(
        key,
        entered=1,
        completed=1,
        on_time=int(on_time),
        late=int(late),
        work_sum=seconds,
        speed_count=0 if share is None else 1,
        speed_sum=0 if share is None else basis_points(share),
    )


def merged(tallies: Iterable[Tally]) -> tuple[Tally, ...]:
    """Tallies of the same key added up, one per key, in key order."""
    by_key: dict[Key, Tally] = {}
    for tally in tallies:
        known = by_key.get(tally.key)
        by_key[tally.key] = tally if known is None else known.plus(tally)
    return tuple(by_key[k] for k in sorted(by_key))


# -- what the sums say ---------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def kpis(sums: Mapping[str, int], day_seconds: int = 8 * 3600) -> dict[str, object]:
    """The KPIs of summed figures (see ``COUNTS``): shares as fractions of 1, None where there is
    nothing to divide by. ``day_seconds`` is one working day on the hall's clock.

    - on-time rate (按时办结率): completed before their due time, of all completed;
    - speed-up (提速率): the mean share of the promised time saved (module docstring);
    - mean working days to completion, on the case's clock;
    - case satisfaction (办件满意率): online ratings of 基本满意 or better, of all of them.
    """
    completed = sums["completed"]
    speeds = sums["speed_count"]
    return {
        "accepted": sums["accepted"],
        "entered": sums["entered"],
        "completed": completed,
        "on_time": sums["on_time"],
        "late": sums["late"],
        "on_time_rate": _share(sums["on_time"], completed),
        "speed_up": round(sums["speed_sum"] / speeds / BASIS, 4) if speeds else None,
        "work_days_mean": round(sums["work_sum"] / completed / day_seconds, 2) if completed else None,
        "refused": sums["refused"],
        "collected": sums["collected"],
        "supplements": sums["supplements"],
        "returned": sums["returned"],
        "rated": sums["rated"],
        "satisfied": sums["satisfied"],
        "satisfaction": _share(sums["satisfied"], sums["rated"]),
    }


def empty_sums() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)
