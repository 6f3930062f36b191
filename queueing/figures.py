"""The queue's figures: what each command adds to the hall's statistics, folded from the facts it
logged and the state it was decided on, so that a view of a year reads summed rows, not a year of
events (the Queue KPIs of the leading commercial systems: arrived, served, no-shows, waits and
their service level and buckets, service times, GB/T 39734-2020 ratings).

A command's figures are keyed by the hall's local day and hour of the moment they happened, and by
service, counter and clerk (0 where there is none: a ticket issued at a kiosk has no counter yet).
What counts:

- *arrived*: a ticket issued, under its service;
- *called*: a call (a recall is not another call); a re-queued no-show called again counts again;
- *a wait*, counted at the call that ends it: the time the ticket waited in its service's line,
  from its issue, or from the transfer, follow-on or re-queue that put it in that line. A ticket
  coming back from a hold, or called out of a hold, adds no wait: it waited already. The wait is
  compared with its service's target (service level) and put in one of the buckets ``BUCKETS``;
- *served*: a service finished, with its service time (from the start of serving to the finish)
  and that time's bucket (the same bounds as the waits'); a visit with a follow-on service counts
  once for each service;
- *no-show*: a called ticket marked no-show;
- *transferred*: a ticket sent on to another service or counter, under the one it left (a
  follow-on after a finish is not a transfer);
- *rated*: a rating, by level, under the service, counter and clerk rated, at the time it is given;
- *idle* and *wrap-up* time of a counter (``clocks``), counted when the span ends, under the
  counter and the clerk who held it and no service. A counter is *free* while it is open (not
  paused) with no ticket in hand. A free span that began with a ticket leaving the counter (a
  finish, no-show, transfer, hold or day-end close) is *wrap-up*; one that began with the counter
  opening or resuming is *idle*. The span ends at the next call, pause or close. A span is counted
  whole in the hour it ends; one that crosses the hall's midnight is not counted at all (a counter
  left open over night was not idle all night).

Seconds are whole (rounded), so sums are exact on every backend and in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from hall.kernel.events import Fact
from hall.kernel.zones import zone
from queueing.counters import CounterStatus
from queueing.state import QueueState
from queueing.tickets import Ticket, TicketState

# Upper bounds of the wait buckets in minutes: 0–5, 5–10, 10–20, 20–30, 30–60 and 60 or more.
BUCKETS: tuple[int, ...] = (5, 10, 20, 30, 60)
BUCKET_NAMES: tuple[str, ...] = ("wait_0_5", "wait_5_10", "wait_10_20", "wait_20_30", "wait_30_60", "wait_60")
SERVICE_BUCKET_NAMES: tuple[str, ...] = tuple(name.replace("wait_", "service_") for name in BUCKET_NAMES)
LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
MAXIMA: tuple[str, ...] = ("wait_max", "service_max")


@dataclass(frozen=True, order=True)
class Key:
    """Where a figure counts: the hall's local day and hour, the service, counter and clerk."""

    day: date
    hour: int
    service: str
    counter: int = 0
    clerk: int = 0

    @property
    def week(self) -> date:
        """Monday of the day's week (ISO weeks, as Chinese calendars print them)."""
        return self.day - timedelta(days=self.day.weekday())

    @property
    def month(self) -> date:
        return self.day.replace(day=1)

    @property
    def weekday(self) -> int:
        """ISO weekday: Monday 1 to Sunday 7."""
        return self.day.isoweekday()


@dataclass(frozen=True)
class Tally:
    """What one key adds. Every field but the maxima adds up; the maxima keep the larger."""

    key: Key
    arrived: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    transferred: int = 0
    wait_count: int = 0
    wait_sum: int = 0
    wait_max: int = 0
    wait_in_target: int = 0
    wait_0_5: int = 0
    wait_5_10: int = 0
    wait_10_20: int = 0
    wait_20_30: int = 0
    wait_30_60: int = 0
    wait_60: int = 0
    service_count: int = 0
    service_sum: int = 0
    service_max: int = 0
    service_0_5: int = 0
    service_5_10: int = 0
    service_10_20: int = 0
    service_20_30: int = 0
    service_30_60: int = 0
    service_60: int = 0
    rated_1: int = 0
    rated_2: int = 0
    rated_3: int = 0
    rated_4: int = 0
    rated_5: int = 0
    idle_sum: int = 0
    wrap_count: int = 0
    wrap_sum: int = 0

    def plus(self, other: Tally) -> Tally:
        if other.key != self.key:
            raise ValueError(f"cannot add figures of {other.key} to those of {self.key}")
        changes = {
            name: max(getattr(self, name), getattr(other, name))
            if name in MAXIMA
            else getattr(self, name) + getattr(other, name)
            for name in COUNTS
        }
        return replace(self, **changes)

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


# Every count a tally holds, in the order of the table's columns; the maxima keep the larger value.
COUNTS: tuple[str, ...] = tuple(f.name for f in fields(Tally) if f.name != "key")


def whole_seconds(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds()))


def bucket(seconds: int, names: tuple[str, ...] = BUCKET_NAMES) -> str:
    """The name of the bucket ``seconds`` falls in (a wait's, or of ``names``): a bucket holds its
    lower bound."""
    for name, upper in zip(names, BUCKETS, strict=False):
        if seconds < upper * 60:
            return name
    return names[-1]


def key_at(at: datetime, timezone: str, service: str, counter: int | None = 0, clerk: int | None = 0) -> Key:
    local = at.astimezone(zone(timezone))
    return Key(local.date(), local.hour, service, counter or 0, clerk or 0)


def _wait(ticket: Ticket, now: datetime) -> int | None:
    """The wait a call ends, or None when the call ends none (see the module's docstring)."""
    if ticket.state is not TicketState.WAITING or not ticket.spans or ticket.spans[-1].kind != "waiting":
        return None
    if len(ticket.spans) > 1 and ticket.spans[-2].kind == "held":
        return None
    return whole_seconds(now - ticket.spans[-1].start)


def _served(ticket: Ticket | None, now: datetime) -> int | None:
    if ticket is None or not ticket.spans or ticket.spans[-1].kind != "serving":
        return None
    return whole_seconds(now - ticket.spans[-1].start)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def fold(before: QueueState, facts: Sequence[Fact], now: datetime) -> tuple[Tally, ...]:
    """What ``facts``, logged by one command decided on ``before`` at ``now``, add to the figures:
    one tally per key, in key order."""
    timezone = before.rules.timezone
    found: list[Tally] = []
    for fact in facts:
        data = fact.data
        service = str(data.get("service", ""))
        counter, clerk = _int(data.get("counter")), _int(data.get("clerk"))
        if fact.type == "ticket.issued":
            found.append(Tally(key_at(now, timezone, service), arrived=1))
        elif fact.type == "ticket.called":
            key = key_at(now, timezone, service, counter, clerk)
            ticket = before.tickets.get(str(data.get("ticket")))
            waited = _wait(ticket, now) if ticket is not None else None
            found.append(Tally(key, called=1) if waited is None else _waited(key, waited, before))
        elif fact.type == "ticket.finished":
            seconds = _served(before.tickets.get(str(data.get("ticket"))), now) or 0
            key = key_at(now, timezone, service, counter, clerk)
            found.append(
                Tally(
                    key,
                    served=1,
                    service_count=1,
                    service_sum=seconds,
                    service_max=seconds,
                    **{bucket(seconds, SERVICE_BUCKET_NAMES): 1},
                )
            )
        elif fact.type == "ticket.no_show":
            found.append(Tally(key_at(now, timezone, service, counter, clerk), no_shows=1))
        elif fact.type == "ticket.transferred" and not data.get("follow_on"):
            left = str(data.get("from_service") or service)
            found.append(Tally(key_at(now, timezone, left, _int(data.get("from_counter")), clerk), transferred=1))
        elif fact.type == "rating.given" and _int(data.get("level")) in LEVELS:
            level = _int(data.get("level"))
            found.append(Tally(key_at(now, timezone, service, counter, clerk), **{f"rated_{level}": 1}))
    return merged(found)


def _waited(key: Key, seconds: int, before: QueueState) -> Tally:
    service = before.services.get(key.service)
    target = service.target_wait_minutes * 60 if service is not None else None
    return Tally(
        key,
        called=1,
        wait_count=1,
        wait_sum=seconds,
        wait_max=seconds,
        wait_in_target=1 if target is not None and seconds <= target else 0,
        **{bucket(seconds): 1},
    )


@dataclass(frozen=True)
class Free:
    """Since when a counter has been free, and whether a ticket leaving it began that (wrap-up)
    rather than its opening or resuming (idle)."""

    since: datetime
    wrap: bool


# Facts by which a ticket leaves the counter named by the field given.
_LEAVING = {
    "ticket.finished": "counter",
    "ticket.no_show": "counter",
    "ticket.held": "counter",
    "ticket.closed": "counter",
}


def _left_counter(fact: Fact) -> int:
    if fact.type == "ticket.transferred":
        return 0 if fact.data.get("follow_on") else _int(fact.data.get("from_counter"))
    field = _LEAVING.get(fact.type)
    return _int(fact.data.get(field)) if field else 0


class CounterClocks:
    """The free spans of a hall's counters, stepped by facts alone: what the writer keeps with
    each counter's row (``Counter.free_since``) and what a recount of the event log rebuilds.
    ``open`` holds the counters open and not paused, ``in_hand`` the ticket each one holds."""

    def __init__(
        self, timezone: str, free: Mapping[int, Free], open_: Iterable[int], in_hand: Mapping[int, str]
    ) -> None:
        self.timezone = timezone
        self.free = dict(free)
        self.open = set(open_)
        self.in_hand = dict(in_hand)

    def step(self, fact: Fact, now: datetime) -> Tally | None:
        """What ``fact``, logged at ``now``, ends: the tally of a free span, or None."""
        data, kind = fact.data, fact.type
        number = _int(data.get("counter"))
        if kind in ("counter.opened", "counter.resumed"):
            self.open.add(number)
            if number not in self.in_hand:
                self.free[number] = Free(now, wrap=False)
            return None
        if kind in ("counter.paused", "counter.closed"):
            self.open.discard(number)
            return self._end(number, _int(data.get("clerk")), now)
        if kind == "ticket.called":
            self.in_hand[number] = str(data.get("ticket"))
            return self._end(number, _int(data.get("clerk")), now)
        left = _left_counter(fact)
        # A ticket that names a counter without being in its hand (a no-show closed at day end)
        # leaves nothing free.
        if left and self.in_hand.get(left) == str(data.get("ticket")):
            del self.in_hand[left]
            if left in self.open:
                self.free[left] = Free(now, wrap=True)
        return None

    def _end(self, number: int, clerk: int, now: datetime) -> Tally | None:
        span = self.free.pop(number, None)
        if span is None:
            return None
        started, ended = (at.astimezone(zone(self.timezone)) for at in (span.since, now))
        if started.date() != ended.date():
            return None
        seconds = whole_seconds(now - span.since)
        key = key_at(now, self.timezone, "", number, clerk)
        return Tally(key, wrap_count=1, wrap_sum=seconds) if span.wrap else Tally(key, idle_sum=seconds)


def clocks(
    before: QueueState, facts: Sequence[Fact], now: datetime
) -> tuple[dict[int, Free | None], tuple[Tally, ...]]:
    """What ``facts``, logged by one command decided on ``before`` at ``now``, change in the
    counters' free spans (counter → its new span, None for none) and the idle and wrap-up time
    they end (see the module's docstring)."""
    free = {n: Free(c.free_since, c.free_wrap) for n, c in before.counters.items() if c.free_since is not None}
    open_ = (n for n, c in before.counters.items() if c.status is CounterStatus.OPEN)
    in_hand = {n: line.current for n, line in before.lines.items() if line.current is not None}
    stepping = CounterClocks(before.rules.timezone, free, open_, in_hand)
    ended = [tally for fact in facts if (tally := stepping.step(fact, now)) is not None]
    changed = {n: stepping.free.get(n) for n in set(free) | set(stepping.free) if free.get(n) != stepping.free.get(n)}
    return changed, merged(ended)


def merged(tallies: Iterable[Tally]) -> tuple[Tally, ...]:
    """Tallies of the same key added up, one per key, in key order."""
    by_key: dict[Key, Tally] = {}
    for tally in tallies:
        before = by_key.get(tally.key)
        by_key[tally.key] = tally if before is None else before.plus(tally)
    return tuple(by_key[k] for k in sorted(by_key))


def as_mapping(tallies: Iterable[Tally]) -> Mapping[Key, dict[str, int]]:
    """Tallies as plain counts by key: what a recomputation is compared with."""
    return {t.key: t.counts() for t in merged(tallies)}


# -- what the sums say ---------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def percentile(counts: Sequence[int], longest: int, share: float = 0.9) -> float | None:
    """The time in seconds under which ``share`` of the counted times fall, estimated from their
    ``BUCKETS`` counts: linear within the bucket it falls in, the open last bucket closed by the
    longest time counted. None when nothing was counted.

    Why buckets and not the times themselves: a percentile of a sum of periods is not the sum of
    their percentiles, but bucket counts do add up, so a year is estimated from summed rows like a
    day. The estimate is off by at most the width of its bucket (5 minutes for most waits), and
    never past the longest time.
    """
    total = sum(counts)
    if not total:
        return None
    rank = share * total
    lower = 0
    for count, upper in zip(counts, (*(b * 60 for b in BUCKETS), max(longest, BUCKETS[-1] * 60)), strict=True):
        if count and rank <= count:
            return min(float(longest), lower + (upper - lower) * rank / count)
        rank -= count
        lower = upper
    return float(longest)


def kpis(sums: Mapping[str, int]) -> dict[str, object]:
    """The KPIs of summed figures (see ``COUNTS``): shares as fractions of 1, times in minutes,
    None where there is nothing to divide by; p90 times as ``percentile`` estimates them.

    - no-show rate: no-shows of all calls;
    - service level: waits within their service's target, of all waits;
    - satisfaction (好评率 as the 好差评 system counts it): ratings 基本满意 or better, of all ratings;
    - idle and wrap-up: the counters' time in minutes, and the mean wrap-up.
    """
    waits, services, calls = sums["wait_count"], sums["service_count"], sums["called"]
    rated = sum(sums[f"rated_{level}"] for level in LEVELS)
    return {
        "arrived": sums["arrived"],
        "called": calls,
        "served": sums["served"],
        "no_shows": sums["no_shows"],
        "no_show_rate": _share(sums["no_shows"], calls),
        "transferred": sums["transferred"],
        "waits": waits,
        "wait_mean_minutes": _minutes(sums["wait_sum"] / waits if waits else None),
        "wait_max_minutes": _minutes(sums["wait_max"] if waits else None),
        "wait_p90_minutes": _minutes(percentile([sums[n] for n in BUCKET_NAMES], sums["wait_max"])),
        "service_level": _share(sums["wait_in_target"], waits),
        "wait_buckets": {name: sums[name] for name in BUCKET_NAMES},
        "service_mean_minutes": _minutes(sums["service_sum"] / services if services else None),
        "service_max_minutes": _minutes(sums["service_max"] if services else None),
        "service_p90_minutes": _minutes(percentile([sums[n] for n in SERVICE_BUCKET_NAMES], sums["service_max"])),
        "service_buckets": {name: sums[name] for name in SERVICE_BUCKET_NAMES},
        "ratings": {str(level): sums[f"rated_{level}"] for level in LEVELS},
        "rated": rated,
        "satisfaction": _share(sum(sums[f"rated_{level}"] for level in (3, 4, 5)), rated),
        "idle_minutes": _minutes(sums["idle_sum"]),
        "wrap_ups": sums["wrap_count"],
        "wrap_minutes": _minutes(sums["wrap_sum"]),
        "wrap_mean_minutes": _minutes(sums["wrap_sum"] / sums["wrap_count"] if sums["wrap_count"] else None),
    }


def empty_sums() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)
