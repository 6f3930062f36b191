"""The hall's queue display as a fold over the event log: ``apply(state, event) -> state``.

It keeps the latest calls (newest first, one line per ticket, at most ``MAX_CALLS``), and for
each counter its status and the ticket it has called or is serving. Pure and frozen: a display
page, the LED strip adapter and the counters' screens all fold the same events.

Events at or below the state's ``seq`` are ignored, so replaying after a reconnect is harmless.
One state follows one hall's log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from displays.texts import LOCALES, call_text, counter_text, counter_title
from hall.kernel.events import Event

MAX_CALLS = 8

# A ticket leaving its counter for any of these reasons frees the counter's screen.
_LEAVING = frozenset(
    {
        "ticket.finished",
        "ticket.no_show",
        "ticket.transferred",
        "ticket.held",
        "ticket.cancelled",
        "ticket.closed",
    }
)
_COUNTER_STATUS = {
    "counter.opened": "open",
    "counter.paused": "paused",
    "counter.resumed": "open",
    "counter.closed": "closed",
}


@dataclass(frozen=True)
class Call:
    """One line of the queue display: a ticket called to a counter."""

    ticket: str
    number: str
    counter: int
    at: datetime
    service: str = ""
    recall: bool = False

    @property
    def day(self) -> str:
        """The hall-local day the ticket belongs to: ticket ids begin with it (``20261123-A023``);
        empty when the id does not."""
        day = self.ticket.partition("-")[0]
        return day if len(day) == 8 and day.isdigit() else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "number": self.number,
            "counter": self.counter,
            "service": self.service,
            "at": self.at.isoformat(),
            "recall": self.recall,
            "text": {locale: call_text(self.number, self.counter, locale) for locale in LOCALES},
        }


@dataclass(frozen=True)
class CounterView:
    """What one counter's screen shows: its status and the ticket on it, if any."""

    counter: int
    status: str = "closed"
    ticket: str | None = None
    number: str | None = None
    serving: bool = False

    def lines(self) -> tuple[str, ...]:
        """The screen's main line in each locale, Chinese first."""
        return tuple(counter_text(self.status, self.number, locale, serving=self.serving) for locale in LOCALES)

    def as_json(self) -> dict[str, Any]:
        return {
            "counter": self.counter,
            "status": self.status,
            "ticket": self.ticket,
            "number": self.number,
            "serving": self.serving,
            "title": {locale: counter_title(self.counter, locale) for locale in LOCALES},
            "text": dict(zip(LOCALES, self.lines(), strict=True)),
        }


@dataclass(frozen=True)
class DisplayState:
    seq: int = 0
    calls: tuple[Call, ...] = ()
    counters: tuple[CounterView, ...] = ()  # ordered by counter number

    def counter(self, number: int) -> CounterView:
        """The counter's view; a counter never heard of is shown closed."""
        for view in self.counters:
            if view.counter == number:
                return view
        return CounterView(number)

    def current(self) -> dict[int, str]:
        """The ticket number on each counter that has one."""
        return {v.counter: v.number for v in self.counters if v.number is not None}

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "calls": [c.as_json() for c in self.calls],
            "counters": [v.as_json() for v in self.counters],
        }


def _with(state: DisplayState, view: CounterView) -> DisplayState:
    others = [v for v in state.counters if v.counter != view.counter]
    return replace(state, counters=tuple(sorted([*others, view], key=lambda v: v.counter)))


def _called(state: DisplayState, event: Event, data: dict[str, Any]) -> DisplayState:
    call = Call(
        ticket=str(data["ticket"]),
        number=str(data["number"]),
        counter=int(data["counter"]),
        at=event.at,
        service=str(data.get("service", "")),
        recall=event.type == "ticket.recalled",
    )
    # The first call of a new day clears yesterday's from the board.
    kept = [c for c in state.calls if c.ticket != call.ticket and not (c.day and c.day < call.day)]
    state = replace(state, calls=(call, *kept)[:MAX_CALLS])
    # A ticket is on one counter at a time.
    for view in state.counters:
        if view.ticket == call.ticket and view.counter != call.counter:
            state = _with(state, replace(view, ticket=None, number=None, serving=False))
    view = state.counter(call.counter)
    status = "open" if view.status == "closed" else view.status
    return _with(state, replace(view, status=status, ticket=call.ticket, number=call.number, serving=False))


def _left(state: DisplayState, ticket: str) -> DisplayState:
    for view in state.counters:
        if view.ticket == ticket:
            state = _with(state, replace(view, ticket=None, number=None, serving=False))
    return state


def apply(state: DisplayState, event: Event) -> DisplayState:
    """The display after ``event``; events it does not show only advance ``seq``."""
    if event.seq <= state.seq:
        return state
    data = dict(event.data)
    kind = event.type
    if kind in ("ticket.called", "ticket.recalled"):
        state = _called(state, event, data)
    elif kind == "ticket.started":
        for view in state.counters:
            if view.ticket == data["ticket"]:
                state = _with(state, replace(view, serving=True))
    elif kind in _LEAVING:
        state = _left(state, str(data["ticket"]))
    elif kind in _COUNTER_STATUS:
        view = state.counter(int(data["counter"]))
        status = _COUNTER_STATUS[kind]
        if status == "closed" or kind == "counter.opened":
            view = replace(view, ticket=None, number=None, serving=False)
        state = _with(state, replace(view, status=status))
    return replace(state, seq=event.seq)


def fold(events: list[Event] | tuple[Event, ...], state: DisplayState | None = None) -> DisplayState:
    """Apply ``events`` in order, from an empty display unless ``state`` is given."""
    state = DisplayState() if state is None else state
    for event in events:
        state = apply(state, event)
    return state
