"""Counter (窗口) states and the rules for opening, pausing, resuming and closing them.

closed → open → paused ⇄ open → closed. One clerk holds an open or paused counter at a time;
only that clerk, or a supervisor, may change it until it is closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from hall.kernel.errors import DomainError, Forbidden, NotFound, TransitionError
from hall.kernel.events import Decision, Fact
from hall.kernel.i18n import N_


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True)
class Counter:
    number: int
    name: str = ""
    status: CounterStatus = CounterStatus.CLOSED
    clerk_id: int | None = None
    pause_reason: str = ""
    # A deactivated counter cannot be opened (its history stays); ``department`` is the code of
    # the hall's department it belongs to, if any.
    active: bool = True
    department: str | None = None
    # Since when the counter has been free (open, not paused, no ticket in hand) and whether a
    # ticket leaving it began that: kept for the idle and wrap-up figures (queueing/figures.py).
    free_since: datetime | None = None
    free_wrap: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "status": self.status.value,
            "clerk": self.clerk_id,
            "pause_reason": self.pause_reason,
            "active": self.active,
            "department": self.department,
        }


Counters = Mapping[int, Counter]

_MAX_REASON = 200


def _get(counters: Counters, number: int) -> Counter:
    try:
        return counters[number]
    except KeyError:
        raise NotFound(N_("no counter number {counter} in this hall"), counter=number) from None


def _with(counters: Counters, counter: Counter) -> dict[int, Counter]:
    updated = dict(counters)
    updated[counter.number] = counter
    return updated


def _check_holder(counter: Counter, clerk_id: int, supervisor: bool) -> None:
    if not supervisor and counter.clerk_id != clerk_id:
        raise Forbidden(N_("counter {counter} is held by another clerk"), counter=counter.number)


class CounterInactive(DomainError):
    code = "counter_inactive"


def open_counter(counters: Counters, number: int, clerk_id: int) -> Decision[Counters]:
    counter = _get(counters, number)
    if not counter.active:
        raise CounterInactive(N_("counter {counter} is out of use: an administrator deactivated it"), counter=number)
    if counter.status is not CounterStatus.CLOSED:
        raise TransitionError(N_("counter {counter}"), counter.status.value, CounterStatus.OPEN.value, counter=number)
    held = [c.number for c in counters.values() if c.clerk_id == clerk_id and c.status is not CounterStatus.CLOSED]
    if held:
        raise DomainError(N_("clerk already holds counter {counter}"), counter=held[0])
    opened = replace(counter, status=CounterStatus.OPEN, clerk_id=clerk_id, pause_reason="")
    return Decision(
        _with(counters, opened),
        (Fact("counter.opened", {"counter": number, "clerk": clerk_id}),),
        {"counter": opened.as_json()},
    )


def pause_counter(
    counters: Counters, number: int, clerk_id: int, *, reason: str, supervisor: bool = False
) -> Decision[Counters]:
    counter = _get(counters, number)
    reason = reason.strip()
    if not reason:
        raise DomainError(N_("a pause needs a reason"), field="reason")
    if len(reason) > _MAX_REASON:
        raise DomainError(
            N_("the reason is longer than {limit} characters"), field="reason", say={"limit": _MAX_REASON}
        )
    if counter.status is not CounterStatus.OPEN:
        raise TransitionError(N_("counter {counter}"), counter.status.value, CounterStatus.PAUSED.value, counter=number)
    _check_holder(counter, clerk_id, supervisor)
    paused = replace(counter, status=CounterStatus.PAUSED, pause_reason=reason)
    return Decision(
        _with(counters, paused),
        (Fact("counter.paused", {"counter": number, "clerk": counter.clerk_id, "reason": reason}),),
        {"counter": paused.as_json()},
    )


def resume_counter(counters: Counters, number: int, clerk_id: int, *, supervisor: bool = False) -> Decision[Counters]:
    counter = _get(counters, number)
    if counter.status is not CounterStatus.PAUSED:
        raise TransitionError(N_("counter {counter}"), counter.status.value, CounterStatus.OPEN.value, counter=number)
    _check_holder(counter, clerk_id, supervisor)
    resumed = replace(counter, status=CounterStatus.OPEN, pause_reason="")
    return Decision(
        _with(counters, resumed),
        (Fact("counter.resumed", {"counter": number, "clerk": counter.clerk_id}),),
        {"counter": resumed.as_json()},
    )


def close_counter(counters: Counters, number: int, clerk_id: int, *, supervisor: bool = False) -> Decision[Counters]:
    counter = _get(counters, number)
    if counter.status is CounterStatus.CLOSED:
        raise TransitionError(N_("counter {counter}"), counter.status.value, CounterStatus.CLOSED.value, counter=number)
    _check_holder(counter, clerk_id, supervisor)
    closed = replace(counter, status=CounterStatus.CLOSED, clerk_id=None, pause_reason="")
    return Decision(
        _with(counters, closed),
        (Fact("counter.closed", {"counter": number, "clerk": counter.clerk_id}),),
        {"counter": closed.as_json()},
    )
