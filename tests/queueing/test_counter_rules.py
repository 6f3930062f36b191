"""Counter rules, pure: closed → open → paused ⇄ open → closed, one clerk at a time."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hall.kernel.errors import DomainError, Forbidden, NotFound, TransitionError
from queueing.counters import (
    Counter,
    Counters,
    CounterStatus,
    close_counter,
    open_counter,
    pause_counter,
    resume_counter,
)


def hall(*numbers: int) -> Counters:
    return {n: Counter(n, f"{n}号窗口") for n in numbers}


def test_a_clerk_opens_pauses_resumes_and_closes_a_counter() -> None:
    state = hall(1, 2)
    opened = open_counter(state, 1, clerk_id=7)
    assert opened.state[1].status is CounterStatus.OPEN
    assert opened.state[1].clerk_id == 7
    assert [f.type for f in opened.facts] == ["counter.opened"]
    paused = pause_counter(opened.state, 1, 7, reason=" 午休 ")
    assert paused.state[1].pause_reason == "午休"
    resumed = resume_counter(paused.state, 1, 7)
    closed = close_counter(resumed.state, 1, 7)
    assert closed.state[1] == Counter(1, "1号窗口")
    assert [f.type for d in (paused, resumed, closed) for f in d.facts] == [
        "counter.paused",
        "counter.resumed",
        "counter.closed",
    ]


def test_rules_never_change_the_state_they_are_given() -> None:
    state = hall(1)
    open_counter(state, 1, 7)
    assert state == hall(1)


def test_a_transition_not_allowed_names_both_states() -> None:
    with pytest.raises(TransitionError, match="'closed' to 'paused'"):
        pause_counter(hall(1), 1, 7, reason="午休")


def test_only_the_holding_clerk_or_a_supervisor_changes_an_open_counter() -> None:
    state = open_counter(hall(1), 1, 7).state
    with pytest.raises(Forbidden):
        close_counter(state, 1, 8)
    assert close_counter(state, 1, 8, supervisor=True).state[1].status is CounterStatus.CLOSED


def test_one_clerk_holds_one_counter_and_one_counter_has_one_clerk() -> None:
    state = open_counter(hall(1, 2), 1, 7).state
    with pytest.raises(DomainError, match="already holds counter 1"):
        open_counter(state, 2, 7)
    with pytest.raises(TransitionError):
        open_counter(state, 1, 8)


def test_a_pause_needs_a_short_reason_and_unknown_counters_are_refused() -> None:
    state = open_counter(hall(1), 1, 7).state
    with pytest.raises(DomainError, match="reason"):
        pause_counter(state, 1, 7, reason="   ")
    with pytest.raises(DomainError, match="longer than"):
        pause_counter(state, 1, 7, reason="x" * 201)
    with pytest.raises(NotFound):
        open_counter(state, 9, 7)


class CounterMachine(RuleBasedStateMachine):
    """Random sequences of commands from several clerks: the rules keep every invariant."""

    def __init__(self) -> None:
        super().__init__()
        self.state: Counters = hall(1, 2, 3)

    def _try(self, step: object) -> None:
        try:
            decision = step()  # type: ignore[operator]
        except DomainError:
            return
        assert len(decision.facts) == 1
        self.state = decision.state

    @rule(n=st.integers(0, 4), clerk=st.integers(1, 4))
    def open(self, n: int, clerk: int) -> None:
        self._try(lambda: open_counter(self.state, n, clerk))

    @rule(n=st.integers(1, 3), clerk=st.integers(1, 4), reason=st.text(max_size=5))
    def pause(self, n: int, clerk: int, reason: str) -> None:
        self._try(lambda: pause_counter(self.state, n, clerk, reason=reason))

    @rule(n=st.integers(1, 3), clerk=st.integers(1, 4), supervisor=st.booleans())
    def resume(self, n: int, clerk: int, supervisor: bool) -> None:
        self._try(lambda: resume_counter(self.state, n, clerk, supervisor=supervisor))

    @rule(n=st.integers(1, 3), clerk=st.integers(1, 4), supervisor=st.booleans())
    def close(self, n: int, clerk: int, supervisor: bool) -> None:
        self._try(lambda: close_counter(self.state, n, clerk, supervisor=supervisor))

    @invariant()
    def held_counters_have_one_clerk_each(self) -> None:
        holders = [c.clerk_id for c in self.state.values() if c.status is not CounterStatus.CLOSED]
        assert None not in holders
        assert len(holders) == len(set(holders))

    @invariant()
    def closed_counters_have_no_clerk_and_only_paused_ones_a_reason(self) -> None:
        for counter in self.state.values():
            if counter.status is CounterStatus.CLOSED:
                assert counter.clerk_id is None
            assert bool(counter.pause_reason) == (counter.status is CounterStatus.PAUSED)


TestCounterMachine = CounterMachine.TestCase
