"""Alarms on the wallboard (告警): conditions a supervisor must see and acknowledge, kept as state.

An alarm is raised once for its condition: its ``key`` names the condition (a ticket's wait over
target, one pause of a counter, one unsatisfied rating, a case's red light, a device going
offline, a suggestion to open a counter), and a key the book already holds is never raised again,
so two processes noticing the same condition, or a clock ticking over it again, raise one alarm.
Acknowledging records who and when; an acknowledged alarm stays in the book, with its key, so the
same condition does not come back. An alarm whose condition ends before anyone acknowledges it (the
device is back, no wait is over target any more, the counter resumed) is cleared by the system, with
when: it leaves the open list without a supervisor's click, and the board says it cleared by itself.

What raises and clears alarms is ``queueing.alarm_rules`` (pure, from events and from the queue's
state at a time); this module is the book and its three commands, ``alarm.raise``,
``alarm.acknowledge`` and ``alarm.clear``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hall.kernel.errors import DomainError, Invalid, NotFound, TransitionError
from hall.kernel.events import Command, Decision, Fact
from hall.kernel.i18n import N_

# The kinds of alarm, each named by what it is about (the wallboard writes a sentence for each).
WAIT_OVER_TARGET = "wait_over_target"
PAUSE_OVER_LIMIT = "pause_over_limit"
UNSATISFIED_RATING = "unsatisfied_rating"
CASE_RED = "case_red"
DEVICE_OFFLINE = "device_offline"
OPEN_COUNTER = "open_counter"
KINDS = (WAIT_OVER_TARGET, PAUSE_OVER_LIMIT, UNSATISFIED_RATING, CASE_RED, DEVICE_OFFLINE, OPEN_COUNTER)

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
CLEARED = "cleared"
COMMANDS = frozenset({"alarm.raise", "alarm.acknowledge", "alarm.clear"})
_MAX_KEY = 200


def alarm_id(key: str) -> str:
    """An alarm's id, the same for the same key in every process: what the acknowledge URL names."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Alarm:
    id: str
    key: str
    kind: str
    data: Mapping[str, Any]
    raised_at: datetime
    state: str = OPEN
    acknowledged_by: int | None = None
    acknowledged_at: datetime | None = None
    cleared_at: datetime | None = None

    @property
    def handled_at(self) -> datetime:
        """When it was acknowledged or cleared; when it was raised while it is open."""
        return self.acknowledged_at or self.cleared_at or self.raised_at

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "data": dict(self.data),
            "state": self.state,
            "raised_at": self.raised_at.isoformat(),
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
        }


@dataclass(frozen=True)
class AlarmBook:
    """A hall's alarms by id: the open ones and the recently acknowledged (their keys stay taken)."""

    alarms: Mapping[str, Alarm] = field(default_factory=dict)

    def with_alarm(self, alarm: Alarm) -> AlarmBook:
        return AlarmBook({**self.alarms, alarm.id: alarm})

    def open(self) -> list[Alarm]:
        """The open alarms, newest first: what the wallboard lists on top."""
        found = [a for a in self.alarms.values() if a.state == OPEN]
        return sorted(found, key=lambda a: (a.raised_at, a.id), reverse=True)

    def handled(self) -> list[Alarm]:
        """The acknowledged and cleared alarms, the latest handled first: what the wallboard lists
        below the open ones (an alarm raised long ago and cleared now comes first)."""
        found = [a for a in self.alarms.values() if a.state != OPEN]
        return sorted(found, key=lambda a: (a.handled_at, a.id), reverse=True)

    def open_of(self, kind: str) -> list[Alarm]:
        return [a for a in self.open() if a.kind == kind]


def raise_alarm(book: AlarmBook, kind: str, key: str, data: Mapping[str, Any], now: datetime) -> Decision[AlarmBook]:
    """Raise the alarm of ``key``, unless the book holds it already (open or acknowledged)."""
    if kind not in KINDS:
        raise Invalid(N_("unknown alarm kind '{kind}'"), kind=kind)
    if not key or len(key) > _MAX_KEY:
        raise Invalid(N_("an alarm needs a key of at most {n} characters"), n=_MAX_KEY)
    known = book.alarms.get(alarm_id(key))
    if known is not None:
        return Decision(book, (), {"raised": False, "alarm": known.as_json()})
    alarm = Alarm(alarm_id(key), key, kind, dict(data), now)
    return Decision(
        book.with_alarm(alarm), (Fact("alarm.raised", alarm.as_json()),), {"raised": True, "alarm": alarm.as_json()}
    )


def acknowledge(book: AlarmBook, alarm: str, by: int, now: datetime) -> Decision[AlarmBook]:
    """A supervisor has seen the alarm: who and when are kept with it; a second time is refused."""
    found = book.alarms.get(alarm)
    if found is None:
        raise NotFound(N_("no alarm {alarm} in this hall"), alarm=alarm)
    if found.state != OPEN:
        raise TransitionError(N_("alarm {alarm}"), found.state, ACKNOWLEDGED, alarm=alarm)
    done = replace(found, state=ACKNOWLEDGED, acknowledged_by=by, acknowledged_at=now)
    fact = Fact("alarm.acknowledged", done.as_json())
    return Decision(book.with_alarm(done), (fact,), {"alarm": done.as_json()})


def clear(book: AlarmBook, alarm: str, now: datetime) -> Decision[AlarmBook]:
    """The alarm's condition has ended: an open alarm is cleared, with when. Asked by the system,
    perhaps twice or after a supervisor's acknowledgement: an alarm no longer open stays as it is."""
    found = book.alarms.get(alarm)
    if found is None or found.state != OPEN:
        return Decision(book, (), {"cleared": False})
    done = replace(found, state=CLEARED, cleared_at=now)
    fact = Fact("alarm.cleared", done.as_json())
    return Decision(book.with_alarm(done), (fact,), {"cleared": True, "alarm": done.as_json()})


def decide(book: AlarmBook, command: Command, now: datetime) -> Decision[AlarmBook]:
    args = command.args
    if command.name == "alarm.raise":
        data = args.get("data", {})
        if not isinstance(data, Mapping):
            raise Invalid(N_("{field} has the wrong type"), field="data")
        return raise_alarm(book, str(args.get("kind", "")), str(args.get("key", "")), data, now)
    if command.name == "alarm.acknowledge":
        by = args.get("by")
        if not isinstance(by, int) or isinstance(by, bool):
            raise Invalid(N_("{field} has the wrong type"), field="by")
        return acknowledge(book, str(args.get("alarm", "")), by, now)
    if command.name == "alarm.clear":
        return clear(book, str(args.get("alarm", "")), now)
    raise DomainError(N_("unknown command {command}"), command=command.name)
