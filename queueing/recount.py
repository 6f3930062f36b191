"""The queue's figures recounted from the event log alone, event by event: what the writer keeps
with each command (``queueing.figures.fold`` and ``clocks``), for the events logged before the
figures were kept or before a count was added to them (``hall figures rebuild``).

The writer decides on the state before each command; a recount has only the facts, so it keeps
what the fold reads from that state itself: when each ticket began to wait in its line (its
issue, transfer, follow-on or re-queue; a hold ends a wait without a new one), when its service
began, and the counters' free spans, and each service's target wait as the log sets it
(``service.added``, ``service.changed``), so a wait counts against the target of its day. A service
made before the log kept its settings starts from the target its first change says it had
(``targets_before``), or from today's when no change of its target says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hall.kernel.events import Fact
from queueing.figures import (
    LEVELS,
    SERVICE_BUCKET_NAMES,
    CounterClocks,
    Key,
    Tally,
    bucket,
    key_at,
    whole_seconds,
)

# Facts after which a ticket waits in a line again, counted from that moment at its next call.
_WAIT_FROM = ("ticket.issued", "ticket.transferred", "ticket.requeued")
# Facts after which its next call ends no wait: it was called, or came back from a hold.
_NO_WAIT = ("ticket.called", "ticket.held", "ticket.released")
# Facts after which a ticket is neither waiting nor served (a no-show may be re-queued: that
# starts a wait afresh): forgotten, so a year's recount holds only the tickets under way.
_GONE = ("ticket.no_show", "ticket.cancelled", "ticket.closed")


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# The events that carry a service's target wait when it is set or changed (the hall file's apply).
SETS_TARGET = ("service.added", "service.changed")


def targets_before(settings: Iterable[tuple[str, Mapping[str, Any]]], today: Mapping[str, int]) -> dict[str, int]:
    """Each service's target before the log's first word on it: ``settings`` are the hall's
    ``service.added`` and ``service.changed`` events (type, data) in the log's order. A service
    the log adds keeps today's here (its ``service.added`` sets it); one whose first word is a change
    of its target had the target the change records it replaced (``was``)."""
    targets = dict(today)
    seen: set[str] = set()
    for kind, data in settings:
        service = str(data.get("service", ""))
        if service in seen or (kind == "service.changed" and "target_wait_minutes" not in data):
            continue
        seen.add(service)
        was = data.get("was")
        before = _int(was.get("target_wait_minutes")) if kind == "service.changed" and isinstance(was, Mapping) else 0
        if before > 0:
            targets[service] = before
    return targets


class Recount:
    """Feed it a hall's events in sequence order; each answers the tallies it adds."""

    def __init__(self, timezone: str, targets: Mapping[str, int]) -> None:
        self.timezone = timezone
        self.targets = dict(targets)  # service → target wait in minutes
        self.wait_from: dict[str, datetime] = {}
        self.serving_since: dict[str, datetime] = {}
        self.clocks = CounterClocks(timezone, {}, (), {})

    def feed(self, kind: str, data: Mapping[str, Any], at: datetime) -> list[Tally]:
        if kind in SETS_TARGET and _int(data.get("target_wait_minutes")) > 0:
            self.targets[str(data.get("service", ""))] = _int(data.get("target_wait_minutes"))
        found = self._ticket(kind, data, at)
        ended = self.clocks.step(Fact(kind, dict(data)), at)
        return found if ended is None else [*found, ended]

    def _ticket(self, kind: str, data: Mapping[str, Any], at: datetime) -> list[Tally]:
        ticket = str(data.get("ticket", ""))
        service = str(data.get("service", ""))
        counter, clerk = _int(data.get("counter")), _int(data.get("clerk"))
        key = key_at(at, self.timezone, service, counter, clerk)
        found: list[Tally] = []
        if kind == "ticket.issued":
            found.append(Tally(key_at(at, self.timezone, service), arrived=1))
        elif kind == "ticket.called":
            began = self.wait_from.get(ticket)
            found.append(Tally(key, called=1) if began is None else self._waited(key, whole_seconds(at - began)))
        elif kind == "ticket.started":
            self.serving_since[ticket] = at
        elif kind == "ticket.finished":
            since = self.serving_since.pop(ticket, None)
            seconds = whole_seconds(at - since) if since is not None else 0
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
        elif kind == "ticket.no_show":
            found.append(Tally(key, no_shows=1))
        elif kind == "ticket.transferred" and not data.get("follow_on"):
            left = str(data.get("from_service") or service)
            found.append(Tally(key_at(at, self.timezone, left, _int(data.get("from_counter")), clerk), transferred=1))
        elif kind == "rating.given" and _int(data.get("level")) in LEVELS:
            found.append(Tally(key, **{f"rated_{_int(data.get('level'))}": 1}))
        if kind in _WAIT_FROM:
            self.wait_from[ticket] = at
        elif kind in _NO_WAIT or kind in _GONE:
            self.wait_from.pop(ticket, None)
        if kind in _GONE:
            self.serving_since.pop(ticket, None)
        return found

    def _waited(self, key: Key, seconds: int) -> Tally:
        target = self.targets.get(key.service)
        return Tally(
            key,
            called=1,
            wait_count=1,
            wait_sum=seconds,
            wait_max=seconds,
            wait_in_target=1 if target is not None and seconds <= target * 60 else 0,
            **{bucket(seconds): 1},
        )
