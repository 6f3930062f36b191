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
- *served*: a service finished, with its service time (from the start of serving to the finish);
  a visit with a follow-on service counts once for each service;
- *no-show*: a called ticket marked no-show;
- *transferred*: a ticket sent on to another service or counter, under the one it left (a
  follow-on after a finish is not a transfer);
- *rated*: a rating, by level, under the service, counter and clerk rated, at the time it is given.

Seconds are whole (rounded), so sums are exact on every backend and in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from hall.kernel.events import Fact
from hall.kernel.zones import zone
from queueing.state import QueueState
from queueing.tickets import Ticket, TicketState

# Upper bounds of the wait buckets in minutes: 0–5, 5–10, 10–20, 20–30, 30–60 and 60 or more.
BUCKETS: tuple[int, ...] = (5, 10, 20, 30, 60)
BUCKET_NAMES: tuple[str, ...] = ("wait_0_5", "wait_5_10", "wait_10_20", "wait_20_30", "wait_30_60", "wait_60")
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
    rated_1: int = 0
    rated_2: int = 0
    rated_3: int = 0
    rated_4: int = 0
    rated_5: int = 0

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


def bucket(seconds: int) -> str:
    """The name of the wait bucket ``seconds`` falls in: a bucket holds its lower bound."""
    for name, upper in zip(BUCKET_NAMES, BUCKETS, strict=False):
        if seconds < upper * 60:
            return name
    return BUCKET_NAMES[-1]


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
            found.append(Tally(key, served=1, service_count=1, service_sum=seconds, service_max=seconds))
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


def kpis(sums: Mapping[str, int]) -> dict[str, object]:
    """The KPIs of summed figures (see ``COUNTS``): shares as fractions of 1, times in minutes,
    None where there is nothing to divide by.

    - no-show rate: no-shows of all calls;
    - service level: waits within their service's target, of all waits;
    - satisfaction (好评率 as the 好差评 system counts it): ratings 基本满意 or better, of all ratings.
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
        "service_level": _share(sums["wait_in_target"], waits),
        "wait_buckets": {name: sums[name] for name in BUCKET_NAMES},
        "service_mean_minutes": _minutes(sums["service_sum"] / services if services else None),
        "service_max_minutes": _minutes(sums["service_max"] if services else None),
        "ratings": {str(level): sums[f"rated_{level}"] for level in LEVELS},
        "rated": rated,
        "satisfaction": _share(sum(sums[f"rated_{level}"] for level in (3, 4, 5)), rated),
    }


def empty_sums() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)
