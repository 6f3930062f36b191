"""The counters' commands on the queue's state: a clerk opens a counter, pauses it, resumes it,
closes it. The rules themselves are ``queueing.counters``, on the counters alone; here they are
applied to the whole state, and a counter is closed only once it has no ticket.

Apart from the ticket commands because these change a counter, not a ticket.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hall.kernel.events import Decision
from queueing import counters as counter_rules
from queueing.queue import Result, check_counter_free
from queueing.state import QueueState


def open_counter(state: QueueState, counter: int, clerk: int) -> Result:
    """The clerk takes a closed counter.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        TransitionError: the counter is not closed.
        DomainError: the clerk already holds another counter.
    """
    return _counters(state, counter_rules.open_counter(state.counters, counter, clerk))


def pause_counter(state: QueueState, counter: int, clerk: int, *, reason: str, supervisor: bool = False) -> Result:
    """The counter stops calling, for ``reason``.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        DomainError: ``reason`` is blank or longer than 200 characters.
        TransitionError: the counter is not open.
        Forbidden: another clerk holds the counter, and this is not a supervisor.
    """
    return _counters(
        state, counter_rules.pause_counter(state.counters, counter, clerk, reason=reason, supervisor=supervisor)
    )


def resume_counter(state: QueueState, counter: int, clerk: int, *, supervisor: bool = False) -> Result:
    """A paused counter calls again.

    Raises:
        NotFound: ``counter`` is not a counter of this hall.
        TransitionError: the counter is not paused.
        Forbidden: another clerk holds the counter, and this is not a supervisor.
    """
    return _counters(state, counter_rules.resume_counter(state.counters, counter, clerk, supervisor=supervisor))


def close_counter(state: QueueState, counter: int, clerk: int, *, supervisor: bool = False) -> Result:
    """The clerk leaves the counter.

    Raises:
        DomainError: the counter still has a ticket.
        NotFound: ``counter`` is not a counter of this hall.
        TransitionError: the counter is closed already.
        Forbidden: another clerk holds the counter, and this is not a supervisor.
    """
    check_counter_free(state, counter)
    return _counters(state, counter_rules.close_counter(state.counters, counter, clerk, supervisor=supervisor))


def _counters(state: QueueState, decision: Decision[Any]) -> Result:
    return Decision(replace(state, counters=decision.state), decision.facts, decision.result)
