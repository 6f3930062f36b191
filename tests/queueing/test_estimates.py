"""The wait estimate, as specifications: what a resident is told at issue, on the kiosk and on the
ticket's own page, in examples a hall would recognise, and one property: when every service takes
exactly its recent mean time, the estimate is the wait."""

from __future__ import annotations

import heapq
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from queueing import counter_commands, issuing, serving, ticket_moves
from queueing.counters import Counter
from queueing.services import Priority, Service
from queueing.state import Line, QueueState, Rules
from queueing.views import public_view, ticket_status

# Monday 2026-11-23, 09:30 in Beijing.
OPENING = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def hall(
    lines: dict[int, tuple[str, ...]],
    *,
    minutes: dict[str, float] | None = None,
    run: int = 2,
    weights: dict[tuple[int, str], float] | None = None,
) -> QueueState:
    """Services soc, fund and info; counters taking the services named, with ``weights`` (1 when
    not named), all open (the clerk of counter n is 10n + 1); recent service times as ``minutes``
    (soc 10, fund 4, info 2)."""
    weights = weights or {}
    minutes = minutes or {"soc": 10.0, "fund": 4.0, "info": 2.0}
    services = {
        "soc": Service("soc", "社保", prefix="A"),
        "fund": Service("fund", "公积金", prefix="B"),
        "info": Service("info", "咨询", prefix="C"),
    }
    state = QueueState(
        rules=Rules(priority_run=run),
        services=services,
        counters={n: Counter(n) for n in lines},
        lines={n: Line(tuple((code, weights.get((n, code), 1.0)) for code in codes)) for n, codes in lines.items()},
        service_times={code: (m * 60,) for code, m in minutes.items()},
    )
    for n in lines:
        state = counter_commands.open_counter(state, n, 10 * n + 1).state
    return state


def take(state: QueueState, code: str, at: datetime, count: int = 1, **kwargs: object) -> QueueState:
    for _ in range(count):
        state = issuing.issue(state, code, at, **kwargs).state  # type: ignore[arg-type]
    return state


def told(state: QueueState, code: str, at: datetime, priority: Priority = Priority.NORMAL) -> float | None:
    """The estimate a new ticket is given at issue."""
    estimate: float | None = issuing.issue(state, code, at, priority=priority).result["estimate_minutes"]
    return estimate


def being_served(state: QueueState, counter: int, at: datetime) -> QueueState:
    state = serving.call_next(state, counter, 10 * counter + 1, at).state
    return serving.start(state, counter, 10 * counter + 1, at).state


def test_no_estimate_when_no_open_counter_takes_the_service() -> None:
    state = hall({2: ("soc",)})
    assert told(state, "fund", OPENING) is None
    paused = counter_commands.pause_counter(state, 2, 21, reason="午休").state
    assert told(paused, "soc", OPENING) is None


def test_a_free_counter_calls_at_once() -> None:
    assert told(hall({2: ("soc",)}), "soc", OPENING) == 0.0


def test_behind_a_ticket_being_served_the_wait_is_its_remaining_time() -> None:
    state = being_served(take(hall({2: ("soc",)}), "soc", OPENING), 2, OPENING)
    assert told(state, "soc", OPENING + 4 * MINUTE) == 6.0  # mean 10 minutes, 4 served
    # Past its mean a service is still running: a fifth of the mean is left, not nothing.
    assert told(state, "soc", OPENING + 15 * MINUTE) == 2.0


def test_each_ticket_ahead_adds_a_mean_service_time() -> None:
    state = take(hall({2: ("soc",)}), "soc", OPENING, 4)
    assert told(state, "soc", OPENING) == 40.0


def test_two_counters_halve_the_wait() -> None:
    one = take(hall({2: ("soc",)}), "soc", OPENING, 8)
    two = take(hall({1: ("soc",), 2: ("soc",)}), "soc", OPENING, 8)
    assert told(one, "soc", OPENING) == 80.0
    assert told(two, "soc", OPENING) == 40.0


def test_shorter_recent_service_times_shorten_the_estimate() -> None:
    """Recent service times are how fast the line is called: faster calls, a shorter wait."""
    slow = take(hall({2: ("soc",)}), "soc", OPENING, 6)
    fast = replace(slow, service_times={"soc": (240.0, 360.0)})  # a mean of 5 minutes, not 10
    assert told(slow, "soc", OPENING) == 60.0
    assert told(fast, "soc", OPENING) == 30.0


def test_a_shared_counter_gives_its_time_to_the_line_waiting_longest() -> None:
    """Counter 1 takes soc and fund: with no fund ticket waiting it serves soc only, a full second
    counter for soc; with fund tickets waiting longer it serves those first."""
    state = take(hall({1: ("soc", "fund"), 2: ("soc",)}), "soc", OPENING, 4)
    assert told(state, "soc", OPENING) == 20.0
    earlier = take(hall({1: ("soc", "fund"), 2: ("soc",)}), "fund", OPENING - 10 * MINUTE, 5)
    state = take(earlier, "soc", OPENING, 4)
    # Counter 1 spends 20 minutes on fund; counter 2 calls soc at 0, 10, 20; counter 1 at 20 too.
    assert told(state, "soc", OPENING) == 30.0


def test_priority_tickets_go_first_within_the_priority_run() -> None:
    state = take(hall({2: ("soc",)}, run=2), "soc", OPENING, 3, priority=Priority.ELDERLY)
    # Two priority calls, then the normal line gets its turn.
    assert told(state, "soc", OPENING) == 20.0
    # A new priority ticket waits behind all three.
    assert told(state, "soc", OPENING, Priority.ELDERLY) == 30.0


def test_a_held_ticket_comes_back_first_at_its_counter() -> None:
    state = being_served(take(hall({2: ("soc",)}), "soc", OPENING), 2, OPENING)
    state = ticket_moves.hold(state, 2, 21, OPENING, minutes=5).state  # back at 09:35
    state = take(state, "soc", OPENING)
    # 09:30 the waiting ticket, 09:40 the held one (back since 09:35), 09:50 the new one.
    assert told(state, "soc", OPENING) == 20.0


def test_the_walk_to_the_counter_counts_in_every_call() -> None:
    """Residents of the tickets in service took 2 minutes from their call to the start: each
    call ahead takes that walk as well as the service."""
    state = take(hall({2: ("soc",)}), "soc", OPENING, 3)
    state = serving.call_next(state, 2, 21, OPENING).state
    state = serving.start(state, 2, 21, OPENING + 2 * MINUTE).state
    # The ticket in service needs 10 more minutes, then two calls of 2 + 10 minutes each.
    assert told(state, "soc", OPENING + 2 * MINUTE) == 34.0


def test_a_waiting_ticket_sees_its_own_place() -> None:
    state = take(hall({2: ("soc",)}), "soc", OPENING, 3)
    first, second, third = sorted(state.tickets)
    assert [ticket_status(state, t, OPENING)["estimate_minutes"] for t in (first, second, third)] == [  # type: ignore[index]
        0.0,
        10.0,
        20.0,
    ]
    moved = take(hall({1: ("fund",), 2: ("soc",)}), "soc", OPENING, 2)
    # Sent to counter 1 by name, the last soc ticket is counter 1's next.
    named = sorted(moved.tickets)[-1]
    moved = replace(moved, tickets={**moved.tickets, named: replace(moved.tickets[named], target_counter=1)})
    assert ticket_status(moved, named, OPENING)["estimate_minutes"] == 0.0  # type: ignore[index]


MEANS = {"soc": 5.0, "fund": 2.0, "info": 1.0}


@settings(max_examples=120, deadline=None)
@given(
    lines=st.dictionaries(
        st.integers(1, 4),
        st.lists(st.sampled_from(["soc", "fund", "info"]), min_size=1, max_size=3, unique=True),
        min_size=1,
    ),
    waiting=st.lists(
        st.tuples(st.sampled_from(["soc", "fund", "info"]), st.sampled_from([Priority.NORMAL, Priority.ELDERLY])),
        max_size=25,
    ),
    served=st.lists(st.integers(0, 7), max_size=4),
    heavier=st.sets(st.tuples(st.integers(1, 4), st.sampled_from(["soc", "fund", "info"]))),
    mine=st.tuples(st.sampled_from(["soc", "fund", "info"]), st.sampled_from([Priority.NORMAL, Priority.ELDERLY])),
)
def test_when_services_take_their_mean_time_the_estimate_is_the_wait(
    lines: dict[int, list[str]],
    waiting: list[tuple[str, Priority]],
    served: list[int],
    heavier: set[tuple[int, str]],
    mine: tuple[str, Priority],
) -> None:
    """Tickets wait; counters take some services with double weight; some are part-way through a
    ticket; a resident takes a ticket and is told a wait. Then the rules run, every counter calling
    the moment it is free and every service taking exactly its recent mean: the ticket is called
    when the estimate said."""
    state = hall({n: tuple(codes) for n, codes in lines.items()}, minutes=MEANS, weights=dict.fromkeys(heavier, 2.0))
    now = OPENING + 10 * MINUTE
    for i, (code, priority) in enumerate(waiting):
        state = issuing.issue(state, code, OPENING + i * timedelta(seconds=20), priority=priority).state
    due: dict[int, datetime] = {}
    # Counters part-way through a ticket started it ``elapsed`` × 6 s ago: under 48 s, so every
    # such ticket still needs more than the floor of a fifth of its mean (info's is 1 minute).
    for counter, elapsed in sorted(zip(sorted(lines), served, strict=False), key=lambda pair: -pair[1]):
        at = now - elapsed * timedelta(seconds=6)
        try:
            state = being_served(state, counter, at)
        except serving.NothingWaiting:
            continue
        current = state.tickets[state.line(counter).current]  # type: ignore[index]
        due[counter] = at + MEANS[current.service] * MINUTE

    code, priority = mine
    public = {s["code"]: s["estimate_minutes"] for s in public_view(state, now)["services"]}
    issued = issuing.issue(state, code, now, priority=priority)
    estimate = issued.result["estimate_minutes"]
    if priority is Priority.NORMAL:
        assert public[code] == estimate, "the kiosk shows what a new ticket is told"
    mine_id = issued.result["ticket"]["id"]
    state = issued.state
    assert (estimate is None) == (not any(code in codes for codes in lines.values()))
    if estimate is None:
        return

    # The rules, run: (when the counter is free, counter); at the same moment the lower number first.
    free = [(due.get(n, now), n) for n in lines]
    heapq.heapify(free)
    while free:
        at, counter = heapq.heappop(free)
        clerk = 10 * counter + 1
        if counter in due:
            state = serving.finish(state, counter, clerk, at).state
        try:
            called = serving.call_next(state, counter, clerk, at)
        except serving.NothingWaiting:
            due.pop(counter, None)
            continue
        if called.result["ticket"]["id"] == mine_id:
            assert (at - now) / MINUTE == estimate
            return
        state = serving.start(called.state, counter, clerk, at).state
        due[counter] = at + MEANS[state.tickets[called.result["ticket"]["id"]].service] * MINUTE
        heapq.heappush(free, (due[counter], counter))
    raise AssertionError("the ticket was never called")
