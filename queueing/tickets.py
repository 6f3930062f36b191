"""Tickets (号): their states, the spans of their history, and the applicant they may carry.

waiting → called → serving → done, or called → no-show (→ waiting again if re-queued),
waiting/called/serving → held → waiting, waiting/held → cancelled; any live ticket → closed at
the end of the day. Spans record who had the ticket and when, so waits and service times are
computed from facts, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from hall.kernel.masking import mask_id, mask_name
from queueing.services import Priority


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    CLOSED = "closed"

    @property
    def live(self) -> bool:
        return self in (TicketState.WAITING, TicketState.CALLED, TicketState.SERVING, TicketState.HELD)


@dataclass(frozen=True)
class Span:
    """One stretch of a ticket's life: waiting, called, serving or held."""

    kind: str
    start: datetime
    end: datetime | None = None
    service: str = ""
    counter: int | None = None
    clerk: int | None = None

    def closed(self, at: datetime) -> Span:
        return replace(self, end=at)

    def seconds(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "service": self.service,
            "counter": self.counter,
            "clerk": self.clerk,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Span:
        return cls(
            data["kind"],
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(data["end"]) if data.get("end") else None,
            data.get("service", ""),
            data.get("counter"),
            data.get("clerk"),
        )


@dataclass(frozen=True)
class Holder:
    """Who took the ticket, when an ID card was swiped. The full number never leaves the ticket
    row: events, screens and exports carry the masked forms only."""

    name: str
    id_number: str

    def masked(self) -> dict[str, str]:
        return {"name": mask_name(self.name), "id_number": mask_id(self.id_number)}


@dataclass(frozen=True)
class Ticket:
    id: str
    day: date
    n: int
    number: str
    service: str
    priority: Priority
    state: TicketState
    issued_at: datetime
    # Place in line: earlier ``queued_at`` first; ``order`` breaks ties; ``boosted`` goes first.
    queued_at: datetime
    order: int
    boosted: bool = False
    counter: int | None = None
    clerk: int | None = None
    target_counter: int | None = None
    previous_service: str | None = None
    recalls: int = 0
    hold_until: datetime | None = None
    applicant: Holder | None = None
    estimate_minutes: float | None = None
    spans: tuple[Span, ...] = ()

    def moved(self, at: datetime, state: TicketState, span: Span | None, **changes: Any) -> Ticket:
        """The ticket in ``state`` from ``at``: the open span ends and ``span`` (if any) begins."""
        spans = self.spans
        if spans and spans[-1].end is None:
            spans = (*spans[:-1], spans[-1].closed(at))
        if span is not None:
            spans = (*spans, span)
        return replace(self, state=state, spans=spans, **changes)

    def public(self) -> dict[str, Any]:
        """What any screen may show: no applicant."""
        return {
            "id": self.id,
            "number": self.number,
            "service": self.service,
            "priority": self.priority.value,
            "state": self.state.value,
            "counter": self.counter,
        }

    def for_staff(self) -> dict[str, Any]:
        data = self.public()
        data.update(
            clerk=self.clerk,
            issued_at=self.issued_at.isoformat(),
            recalls=self.recalls,
            target_counter=self.target_counter,
            previous_service=self.previous_service,
            applicant=self.applicant.masked() if self.applicant else None,
            estimate_minutes=self.estimate_minutes,
        )
        return data

    def first_wait_seconds(self) -> float | None:
        """From issue to the first call: the wait the estimate promised."""
        for span in self.spans:
            if span.kind == "called":
                return (span.start - self.issued_at).total_seconds()
        return None

    def service_seconds(self, service: str) -> float | None:
        spent = [s.seconds() for s in self.spans if s.kind == "serving" and s.service == service]
        done = [s for s in spent if s is not None]
        return sum(done) if done else None
