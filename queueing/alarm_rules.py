"""When an alarm is due: pure rules over the hall's events and its queue at a time.

Two sources, because conditions come two ways:

* **events** (``from_events``): an unsatisfied rating (一事一评, GB/T 39734-2020 levels 1–2: the
  ``rating.alarm`` that opened a work order), a case whose light turned red, a device gone offline.
  The alarm follows the event at once.
* **time** (``due``): a wait running over its service's target, a counter paused longer than the
  hall's ``pause_limit_minutes``, and the suggestion to open a counter when ``open_counter_after``
  tickets of a service wait over target while a closed counter could serve them. Nothing happens
  at the moment these become true, so the queue clock asks at each tick, in the one process
  holding its lease.

Each returns ``Raise`` values; the book (``queueing.alarms``) raises a key once. The same two ways
say when an open alarm's condition has ended, so the system clears it: a device that comes back
online (``Back``, from events), and at each tick no wait over its service's target any more, the
suggested counters opened, the counter no longer in that pause (``settled``). An unsatisfied
rating and a red case are never cleared by themselves: someone has to look at them. The keys name the
condition's own instance (the ticket, the start of the pause, the rating, the case and when its
light turned, the device and when it went offline), so an acknowledged alarm is not raised again
for the same thing, and the next instance is a new alarm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hall.kernel.events import Event
from queueing.alarms import (
    CASE_RED,
    CLEARED,
    DEVICE_OFFLINE,
    OPEN,
    OPEN_COUNTER,
    PAUSE_OVER_LIMIT,
    UNSATISFIED_RATING,
    WAIT_OVER_TARGET,
    AlarmBook,
)
from queueing.counters import CounterStatus
from queueing.state import QueueState
from queueing.tickets import Ticket

# After a wait alarm or a suggestion cleared by itself, the service gets no new one for this long.
QUIET = timedelta(minutes=15)


@dataclass(frozen=True)
class Raise:
    """An alarm to raise: the arguments of an ``alarm.raise`` command."""

    kind: str
    key: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_args(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "data": dict(self.data)}


@dataclass(frozen=True)
class Back:
    """A device is online again (the event at ``seq`` of the hall's log): its open offline alarms
    from before that are cleared."""

    device: str
    seq: int


# The events that may call for an alarm (``from_events``).
CALLING_EVENTS = ("rating.alarm", "case.light", "device.offline")


def called_for(events: Iterable[Event]) -> list[Raise | Back]:
    """What a batch of the hall's events asks of the alarms, in the events' order: alarms to raise,
    and devices back online whose offline alarms end."""
    found: list[Raise | Back] = []
    for event in events:
        if event.type == "device.online" and event.data.get("device"):
            found.append(Back(str(event.data["device"]), event.seq))
        else:
            found.extend(from_events([event]))
    return found


def back_online(book: AlarmBook, back: Back) -> list[str]:
    """The open offline alarms of a device that has come back: those of its going offline before
    it came back. A later going offline is another alarm, open still (several processes hear a
    device's comings and goings late at times, the book then already holding the next one)."""
    return [
        a.id
        for a in book.open_of(DEVICE_OFFLINE)
        if a.data.get("device") == back.device and _int(a.data.get("offline_seq")) < back.seq
    ]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def superseded(items: Sequence[Raise | Back]) -> set[int]:
    """The places in ``items`` of offline alarms whose device came back later in the same items:
    what a catch-up need not raise at all."""
    gone: set[int] = set()
    for i, item in enumerate(items):
        if isinstance(item, Raise) and item.kind == DEVICE_OFFLINE:
            device = item.data.get("device")
            if any(isinstance(later, Back) and later.device == device for later in items[i + 1 :]):
                gone.add(i)
    return gone


def from_events(events: Iterable[Event]) -> list[Raise]:
    """The alarms a batch of the hall's events raises, in the events' order."""
    found: list[Raise] = []
    for event in events:
        data = event.data
        if event.type == "rating.alarm":
            found.append(
                Raise(
                    UNSATISFIED_RATING,
                    f"rating:{data.get('id')}",
                    {k: data.get(k) for k in ("number", "counter", "clerk", "level", "label", "ticket")},
                )
            )
        elif event.type == "case.light" and data.get("light") == "red":
            found.append(
                Raise(
                    CASE_RED,
                    f"case-red:{data.get('number')}:{data.get('turned_at')}",
                    {k: data.get(k) for k in ("number", "item", "stage", "light_for", "light_stage", "due_at")},
                )
            )
        elif event.type == "device.offline":
            found.append(
                Raise(
                    DEVICE_OFFLINE,
                    f"device-offline:{data.get('device')}:{event.at.isoformat()}",
                    {
                        "device": data.get("device"),
                        "kind": data.get("kind"),
                        "counter": data.get("counter"),
                        # Where in the log it went offline: its coming back clears only what came before.
                        "offline_seq": event.seq,
                    },
                )
            )
    return found


def waiting_since(ticket: Ticket) -> datetime:
    """When the ticket's present wait began: its last waiting stretch, as the figures count it."""
    last = ticket.spans[-1] if ticket.spans else None
    return last.start if last is not None and last.kind == "waiting" else ticket.queued_at


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def over_target(state: QueueState, now: datetime) -> dict[str, list[Ticket]]:
    """The waiting tickets whose wait has passed their service's target, longest first, by service."""
    found: dict[str, list[Ticket]] = {}
    for ticket in state.waiting():
        service = state.services.get(ticket.service)
        if service is None:
            continue
        if now - waiting_since(ticket) > timedelta(minutes=service.target_wait_minutes):
            found.setdefault(ticket.service, []).append(ticket)
    for tickets in found.values():
        tickets.sort(key=lambda t: (waiting_since(t), t.order))
    return found


def _closed_able(state: QueueState, service: str) -> list[int]:
    """Closed counters in use whose line takes ``service``: the ones a supervisor could open."""
    return [
        number
        for number, counter in sorted(state.counters.items())
        if counter.active and counter.status is CounterStatus.CLOSED and state.line(number).weight(service) is not None
    ]


def _quiet(book: AlarmBook, kind: str, now: datetime) -> set[Any]:
    """The services with an alarm of ``kind`` open, or cleared by itself within ``QUIET``."""
    return {
        a.data.get("service")
        for a in book.alarms.values()
        if a.kind == kind
        and (a.state == OPEN or (a.state == CLEARED and a.cleared_at is not None and now - a.cleared_at < QUIET))
    }


def due(state: QueueState, book: AlarmBook, paused_since: Mapping[int, datetime], now: datetime) -> list[Raise]:
    """The time-based alarms due at ``now``. ``paused_since`` is when each counter entered the state
    it is in (read from the log by the caller). A service with an open wait alarm, or an open
    suggestion, gets no second one until the first is acknowledged or cleared, nor for ``QUIET``
    after it cleared by itself: waits that hover about the target do not raise and clear by turns.

    Keys name the instance: a wait by its ticket and when that wait began (a ticket sent on to
    another line waits anew), a suggestion also by when its counters last changed state (a counter
    opened and closed again may be suggested again)."""
    found: list[Raise] = []
    open_waits = _quiet(book, WAIT_OVER_TARGET, now)
    open_suggestions = _quiet(book, OPEN_COUNTER, now)
    for code, tickets in over_target(state, now).items():
        longest = tickets[0]
        service = state.services[code]
        facts = {
            "service": code,
            "number": longest.number,
            "ticket": longest.id,
            "waited_minutes": _minutes(now - waiting_since(longest)),
            "target_minutes": service.target_wait_minutes,
            "over": len(tickets),
        }
        began = waiting_since(longest).isoformat()
        if code not in open_waits:
            found.append(Raise(WAIT_OVER_TARGET, f"wait:{longest.id}:{began}", facts))
        able = _closed_able(state, code)
        if len(tickets) >= state.rules.open_counter_after and able and code not in open_suggestions:
            moved = max((paused_since[n].isoformat() for n in able if n in paused_since), default="")
            key = f"open-counter:{code}:{longest.id}:{began}:{moved}"
            found.append(Raise(OPEN_COUNTER, key, {**facts, "counters": able}))
    limit = timedelta(minutes=state.rules.pause_limit_minutes)
    for number, counter in sorted(state.counters.items()):
        since = paused_since.get(number)
        if counter.status is not CounterStatus.PAUSED or since is None or now - since <= limit:
            continue
        found.append(
            Raise(
                PAUSE_OVER_LIMIT,
                f"pause:{number}:{since.isoformat()}",
                {
                    "counter": number,
                    "clerk": counter.clerk_id,
                    "reason": counter.pause_reason,
                    "since": since.isoformat(),
                    "paused_minutes": _minutes(now - since),
                    "limit_minutes": state.rules.pause_limit_minutes,
                },
            )
        )
    return found


def settled(state: QueueState, book: AlarmBook, paused_since: Mapping[int, datetime], now: datetime) -> list[str]:
    """The open time-based alarms whose condition has ended by ``now``: a service with no wait over
    its target any more; a suggestion whose service waits within target again, or whose counters
    have all been opened; a pause that is over (the counter resumed, closed, or paused anew)."""
    over = over_target(state, now)
    ended: list[str] = []
    for alarm in book.open():
        data = alarm.data
        if alarm.kind == WAIT_OVER_TARGET:
            if data.get("service") not in over:
                ended.append(alarm.id)
        elif alarm.kind == OPEN_COUNTER:
            service = str(data.get("service"))
            still_closed = set(_closed_able(state, service)) if service in state.services else set()
            if service not in over or not still_closed & set(data.get("counters") or ()):
                ended.append(alarm.id)
        elif alarm.kind == PAUSE_OVER_LIMIT:
            number = data.get("counter")
            counter = state.counters.get(number) if isinstance(number, int) else None
            since = paused_since.get(number) if isinstance(number, int) else None
            paused = counter is not None and counter.status is CounterStatus.PAUSED
            if not paused or since is None or since.isoformat() != data.get("since"):
                ended.append(alarm.id)
    return ended
