"""The case figures recounted from the event log alone, event by event: what the writer adds with
each case command (``cases.figures.fold``), for the cases logged before the figures were kept
(0011) or whenever the figures are to be checked against the log (``hall figures rebuild``).

Feed it the ``case.*`` events of a tree's root hall in sequence order: that log holds every case
of the tree once (a case's events are copied into the logs of the halls it reaches as well). The
writer reads 办结's clock from the register it decides on; a recount has only the events, so it
keeps what that clock needs itself: the 补正 pauses of the cases under way, from
``case.supplement_requested`` to ``case.supplement_received``. When the clock started and the
working days promised come with the ``case.completed`` event, as its due time does. A rating
logged before ratings carried the case's department (``case.rated`` has it since 0015) takes it
from the case's earlier events, as migration 0015 took it from the cases table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cases.deadlines import Pause, WorkingHours
from cases.figures import Tally, tally
from hall.kernel.events import Fact

# Facts after which a case takes no further step that reads its clock: its pauses are forgotten,
# so a year's recount holds only the cases under way.
_DONE = ("case.completed", "case.refused")


class Recount:
    """Feed it a root hall's case events in sequence order; each answers the tally it adds."""

    def __init__(self, hours: WorkingHours) -> None:
        self.hours = hours
        self.pauses: dict[str, list[Pause]] = {}
        # Each case's department until it is rated (a case is rated once, after 办结).
        self.departments: dict[str, str] = {}

    def feed(self, kind: str, data: Mapping[str, Any], at: datetime) -> Tally | None:
        """The tally of one event logged at ``at`` (None: it adds nothing)."""
        number = str(data.get("number", ""))
        department = data.get("department")
        if kind == "case.rated":
            known = self.departments.pop(number, None)
            if not department and known:
                data = {**data, "department": known}
        elif isinstance(department, str) and department:
            self.departments[number] = department
        fact = Fact(kind, dict(data))
        found = tally(fact, at, self.hours, self._clock(number, data) if kind == "case.completed" else None)
        if kind == "case.supplement_requested":
            self.pauses.setdefault(number, []).append(Pause(at))
        elif kind == "case.supplement_received":
            self._close(number, at)
        if kind in _DONE:
            self.pauses.pop(number, None)
        return found

    def _close(self, number: str, at: datetime) -> None:
        pauses = self.pauses.get(number)
        if pauses and pauses[-1].end is None:
            pauses[-1] = Pause(pauses[-1].start, at)

    def _clock(self, number: str, data: Mapping[str, Any]) -> tuple[datetime, int, tuple[Pause, ...]] | None:
        accepted_at, limit = data.get("accepted_at"), data.get("time_limit_days")
        if not isinstance(accepted_at, str) or not isinstance(limit, int) or isinstance(limit, bool):
            # The rules log both with every step; an event without them counts no clock.
            return None
        return datetime.fromisoformat(accepted_at), limit, tuple(self.pauses.get(number, ()))
