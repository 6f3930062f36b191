"""The wallboard's alarms, pure: each kind is raised by its condition and by nothing else, once for
its key while open or acknowledged; acknowledging records who and when, and twice is refused. An
open alarm whose condition ends is cleared by the system, except a rating's or a red case's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hall.kernel.errors import Invalid, NotFound, TransitionError
from hall.kernel.events import Command, Event
from queueing import counter_commands, issuing, serving, ticket_moves
from queueing.alarm_rules import QUIET, Back, back_online, called_for, due, from_events, settled, superseded
from queueing.alarms import (
    ACKNOWLEDGED,
    CASE_RED,
    CLEARED,
    DEVICE_OFFLINE,
    OPEN,
    OPEN_COUNTER,
    PAUSE_OVER_LIMIT,
    UNSATISFIED_RATING,
    WAIT_OVER_TARGET,
    AlarmBook,
    acknowledge,
    alarm_id,
    clear,
    decide,
    raise_alarm,
)
from queueing.state import QueueState
from tests.queueing.test_queue_rules import hall, opened

# Monday 2026-11-23, 09:30 in Beijing.
T0 = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
NOBODY_PAUSED: dict[int, datetime] = {}


def _event(kind: str, data: dict[str, Any], seq: int = 1) -> Event:
    return Event(1, seq, kind, data, "tester", T0)


def _waiting(state: QueueState, service: str, n: int, at: datetime) -> QueueState:
    for _ in range(n):
        state = issuing.issue(state, service, at).state
    return state


# -- the book --------------------------------------------------------------------------------------


def test_an_alarm_is_raised_once_for_its_key() -> None:
    first = raise_alarm(AlarmBook(), WAIT_OVER_TARGET, "wait:20261123-A001", {"service": "soc"}, T0)
    assert [f.type for f in first.facts] == ["alarm.raised"]
    assert first.facts[0].data["id"] == alarm_id("wait:20261123-A001")
    assert first.facts[0].data["state"] == OPEN
    again = raise_alarm(first.state, WAIT_OVER_TARGET, "wait:20261123-A001", {"service": "soc"}, T0 + timedelta(1))
    assert again.facts == ()
    assert again.state is first.state
    assert again.result["raised"] is False


def test_an_acknowledged_alarm_keeps_its_key_so_the_same_condition_does_not_come_back() -> None:
    raised = raise_alarm(AlarmBook(), DEVICE_OFFLINE, "device-offline:k1:t", {"device": "k1"}, T0)
    alarm = raised.facts[0].data["id"]
    done = acknowledge(raised.state, alarm, 7, T0 + timedelta(minutes=3))
    assert done.facts[0].type == "alarm.acknowledged"
    assert done.facts[0].data["state"] == ACKNOWLEDGED
    assert done.facts[0].data["acknowledged_by"] == 7
    assert done.facts[0].data["acknowledged_at"] == (T0 + timedelta(minutes=3)).isoformat()
    assert raise_alarm(done.state, DEVICE_OFFLINE, "device-offline:k1:t", {}, T0 + timedelta(minutes=4)).facts == ()
    assert done.state.open() == []


def test_acknowledging_twice_is_refused_and_an_unknown_alarm_is_not_found() -> None:
    raised = raise_alarm(AlarmBook(), CASE_RED, "case-red:X:t", {"number": "X"}, T0)
    alarm = raised.facts[0].data["id"]
    done = acknowledge(raised.state, alarm, 7, T0)
    with pytest.raises(TransitionError) as refused:
        acknowledge(done.state, alarm, 8, T0)
    assert refused.value.code == "bad_transition"
    with pytest.raises(NotFound):
        acknowledge(done.state, "0000000000000000", 7, T0)


def test_the_commands_check_their_arguments() -> None:
    def command(name: str, **args: Any) -> Command:
        return Command("c-00000001", 1, name, "staff:7", args)

    with pytest.raises(Invalid):
        decide(AlarmBook(), command("alarm.raise", kind="fire", key="k"), T0)
    with pytest.raises(Invalid):
        decide(AlarmBook(), command("alarm.raise", kind=CASE_RED, key=""), T0)
    with pytest.raises(Invalid):
        decide(AlarmBook(), command("alarm.acknowledge", alarm="x", by="7"), T0)
    made = decide(AlarmBook(), command("alarm.raise", kind=CASE_RED, key="case-red:1:t", data={"number": "1"}), T0)
    assert [a.kind for a in made.state.open()] == [CASE_RED]


def test_open_alarms_are_listed_newest_first() -> None:
    book = AlarmBook()
    for minutes, key in ((0, "a"), (5, "b"), (2, "c")):
        book = raise_alarm(book, CASE_RED, key, {}, T0 + timedelta(minutes=minutes)).state
    assert [a.key for a in book.open()] == ["b", "c", "a"]


# -- from events -----------------------------------------------------------------------------------


def test_an_unsatisfied_rating_raises_an_alarm_naming_the_ticket_counter_and_level() -> None:
    order = {"id": "WO-1", "ticket": "t1", "number": "A001", "counter": 2, "clerk": 5}
    order.update(level=1, label="非常不满意")
    (found,) = from_events([_event("rating.alarm", order)])
    assert (found.kind, found.key) == (UNSATISFIED_RATING, "rating:WO-1")
    assert found.data["number"] == "A001" and found.data["counter"] == 2 and found.data["level"] == 1


def test_a_case_turning_red_raises_an_alarm_and_yellow_or_green_does_not() -> None:
    light = {"number": "XH2026001", "item": "soc-01", "stage": "review", "turned_at": "2026-11-23T01:00:00+00:00"}
    assert from_events([_event("case.light", {**light, "light": "yellow"})]) == []
    (found,) = from_events([_event("case.light", {**light, "light": "red"})])
    assert (found.kind, found.key) == (CASE_RED, "case-red:XH2026001:2026-11-23T01:00:00+00:00")


def test_a_device_going_offline_raises_an_alarm_and_coming_online_does_not() -> None:
    data = {"device": "xh-kiosk-1", "kind": "kiosk", "counter": None}
    assert from_events([_event("device.online", data)]) == []
    (found,) = from_events([_event("device.offline", data)])
    assert found.kind == DEVICE_OFFLINE
    assert found.key == f"device-offline:xh-kiosk-1:{T0.isoformat()}"


def test_other_events_raise_nothing() -> None:
    kinds = ("ticket.issued", "rating.given", "counter.paused", "alarm.raised", "case.accepted")
    assert from_events([_event(kind, {"number": "A001"}) for kind in kinds]) == []


# -- from time -------------------------------------------------------------------------------------


def test_a_wait_over_the_services_target_raises_one_alarm_for_the_service() -> None:
    state = _waiting(opened(hall(), (1, 11)), "soc", 2, T0)
    # Social security's target is 20 minutes: at 20 nothing yet, past it one alarm naming the longest.
    assert due(state, AlarmBook(), NOBODY_PAUSED, T0 + timedelta(minutes=20)) == []
    (found,) = due(state, AlarmBook(), NOBODY_PAUSED, T0 + timedelta(minutes=21))
    assert found.kind == WAIT_OVER_TARGET
    # The key names this wait of this ticket: when it began.
    assert found.key == f"wait:20261123-A001:{T0.isoformat()}"
    assert found.data == {
        "service": "soc",
        "number": "A001",
        "ticket": "20261123-A001",
        "waited_minutes": 21,
        "target_minutes": 20,
        "over": 2,
    }


def test_while_a_services_wait_alarm_is_open_no_second_is_raised() -> None:
    state = _waiting(opened(hall(), (1, 11)), "soc", 2, T0)
    later = T0 + timedelta(minutes=25)
    (found,) = due(state, AlarmBook(), NOBODY_PAUSED, later)
    book = raise_alarm(AlarmBook(), found.kind, found.key, found.data, later).state
    # The longest is called; the next one waits over target too, but the first alarm is still open.
    called = serving.call_next(state, 1, 11, later).state
    assert due(called, book, NOBODY_PAUSED, later) == []
    # Once acknowledged, the next ticket over target is a new alarm.
    book = acknowledge(book, alarm_id(found.key), 9, later).state
    (again,) = due(called, book, NOBODY_PAUSED, later)
    assert again.key == f"wait:20261123-A002:{T0.isoformat()}"


def test_opening_a_counter_is_suggested_when_enough_wait_over_target_and_a_closed_counter_serves_them() -> None:
    # Counter 2 serves social security and is closed; three wait over target (open_counter_after = 3).
    state = _waiting(opened(hall(), (1, 11)), "soc", 3, T0)
    found = due(state, AlarmBook(), NOBODY_PAUSED, T0 + timedelta(minutes=30))
    assert [f.kind for f in found] == [WAIT_OVER_TARGET, OPEN_COUNTER]
    assert found[1].data["counters"] == [2]
    assert found[1].data["over"] == 3


def test_no_suggestion_with_too_few_waiting_or_no_closed_counter_able_to_serve() -> None:
    two = _waiting(opened(hall(), (1, 11)), "soc", 2, T0)
    assert [f.kind for f in due(two, AlarmBook(), NOBODY_PAUSED, T0 + timedelta(minutes=30))] == [WAIT_OVER_TARGET]
    # Both counters that serve social security are open: nothing to open.
    busy = _waiting(opened(hall(), (1, 11), (2, 12)), "soc", 3, T0)
    assert [f.kind for f in due(busy, AlarmBook(), NOBODY_PAUSED, T0 + timedelta(minutes=30))] == [WAIT_OVER_TARGET]


def test_a_counter_paused_longer_than_the_limit_raises_an_alarm_for_that_pause() -> None:
    state = counter_commands.pause_counter(opened(hall(), (1, 11)), 1, 11, reason="午休").state
    paused = {1: T0}
    # The hall's limit is 15 minutes by default.
    assert due(state, AlarmBook(), paused, T0 + timedelta(minutes=15)) == []
    (found,) = due(state, AlarmBook(), paused, T0 + timedelta(minutes=16))
    assert found.kind == PAUSE_OVER_LIMIT
    assert found.key == f"pause:1:{T0.isoformat()}"
    assert found.data["reason"] == "午休" and found.data["paused_minutes"] == 16 and found.data["limit_minutes"] == 15
    # An open counter is not paused, whatever the log says of an older pause.
    assert due(opened(hall(), (1, 11)), AlarmBook(), paused, T0 + timedelta(hours=1)) == []


# -- clearing --------------------------------------------------------------------------------------


def _raised(book: AlarmBook, found: Any, at: datetime) -> AlarmBook:
    return raise_alarm(book, found.kind, found.key, found.data, at).state


def test_clearing_an_open_alarm_keeps_when_and_its_key_and_twice_changes_nothing() -> None:
    book = raise_alarm(AlarmBook(), DEVICE_OFFLINE, "device-offline:k1:t", {"device": "k1"}, T0).state
    done = clear(book, alarm_id("device-offline:k1:t"), T0 + timedelta(minutes=3))
    (fact,) = done.facts
    assert fact.type == "alarm.cleared"
    assert (fact.data["state"], fact.data["cleared_at"]) == (CLEARED, (T0 + timedelta(minutes=3)).isoformat())
    assert done.state.open() == []
    # Cleared again, or the key raised again: nothing happens.
    assert clear(done.state, alarm_id("device-offline:k1:t"), T0 + timedelta(minutes=4)).facts == ()
    assert raise_alarm(done.state, DEVICE_OFFLINE, "device-offline:k1:t", {}, T0).facts == ()
    # A supervisor's click that comes too late is refused, and says so.
    with pytest.raises(TransitionError):
        acknowledge(done.state, alarm_id("device-offline:k1:t"), 9, T0 + timedelta(minutes=5))


def test_an_acknowledged_or_unknown_alarm_is_not_cleared() -> None:
    book = raise_alarm(AlarmBook(), DEVICE_OFFLINE, "device-offline:k1:t", {"device": "k1"}, T0).state
    seen = acknowledge(book, alarm_id("device-offline:k1:t"), 9, T0).state
    assert clear(seen, alarm_id("device-offline:k1:t"), T0).facts == ()
    assert seen.alarms[alarm_id("device-offline:k1:t")].state == ACKNOWLEDGED
    assert clear(seen, "no-such-alarm", T0).facts == ()
    cleared = decide(
        book, Command("clear-0001", 1, "alarm.clear", "system:alarms", {"alarm": alarm_id("device-offline:k1:t")}), T0
    )
    assert [f.type for f in cleared.facts] == ["alarm.cleared"]


def test_a_device_back_online_clears_its_own_offline_alarms_only() -> None:
    data = {"device": "xh-kiosk-1", "kind": "kiosk", "counter": None}
    offline, online = _event("device.offline", data, 1), _event("device.online", data, 2)
    # In the log's order: the alarm to raise first, then the return.
    items = called_for([offline, online])
    assert [type(x) for x in items] == [type(from_events([offline])[0]), Back]
    (raised,) = from_events([offline])
    book = _raised(AlarmBook(), raised, T0)
    other = from_events([_event("device.offline", {**data, "device": "xh-led-1"})])[0]
    book = _raised(book, other, T0)
    assert back_online(book, Back("xh-kiosk-1", 2)) == [alarm_id(raised.key)]
    assert back_online(book, Back("xh-display-9", 2)) == []
    # A catch-up that finds both in the log need not raise the alarm at all.
    assert superseded(items) == {0}
    assert superseded(called_for([online, offline])) == set()


def test_a_device_coming_back_does_not_clear_its_going_offline_again_later() -> None:
    """Offline (seq 1), back (2), offline again (3), heard late by another process: the book holds
    both offline alarms when the return of seq 2 is looked at; only the first clears."""
    data = {"device": "xh-kiosk-1", "kind": "kiosk", "counter": None}
    first = from_events([_event("device.offline", data, 1)])[0]
    second = from_events([Event(1, 3, "device.offline", data, "tester", T0 + timedelta(minutes=2))])[0]
    book = _raised(_raised(AlarmBook(), first, T0), second, T0 + timedelta(minutes=2))
    assert back_online(book, Back("xh-kiosk-1", 2)) == [alarm_id(first.key)]


def test_a_wait_alarm_clears_when_no_wait_of_its_service_is_over_target() -> None:
    state = _waiting(opened(hall(), (1, 11)), "soc", 2, T0)
    later = T0 + timedelta(minutes=25)
    (found,) = due(state, AlarmBook(), NOBODY_PAUSED, later)
    book = _raised(AlarmBook(), found, later)
    # The longest is called, the second still waits over target: the alarm stays.
    one_called = serving.call_next(state, 1, 11, later).state
    assert settled(one_called, book, NOBODY_PAUSED, later) == []
    # Both called: nobody waits over target, the alarm clears.
    both = serving.call_next(
        serving.finish(serving.start(one_called, 1, 11, later).state, 1, 11, later).state, 1, 11, later
    )
    assert settled(both.state, book, NOBODY_PAUSED, later) == [alarm_id(found.key)]


def test_a_suggestion_clears_when_its_counters_are_opened() -> None:
    state = _waiting(opened(hall(), (1, 11)), "soc", 3, T0)
    later = T0 + timedelta(minutes=30)
    book = AlarmBook()
    for found in due(state, book, NOBODY_PAUSED, later):
        book = _raised(book, found, later)
    assert settled(state, book, NOBODY_PAUSED, later) == []
    # The supervisor has counter 2 opened: the suggestion is done; the waits are still long.
    (suggestion,) = book.open_of(OPEN_COUNTER)
    assert settled(opened(state, (2, 12)), book, NOBODY_PAUSED, later) == [suggestion.id]


def test_a_pause_alarm_clears_when_that_pause_is_over() -> None:
    state = counter_commands.pause_counter(opened(hall(), (1, 11)), 1, 11, reason="午休").state
    paused = {1: T0}
    later = T0 + timedelta(minutes=16)
    (found,) = due(state, AlarmBook(), paused, later)
    book = _raised(AlarmBook(), found, later)
    assert settled(state, book, paused, later) == []
    resumed = counter_commands.resume_counter(state, 1, 11).state
    assert settled(resumed, book, paused, later) == [alarm_id(found.key)]
    # Resumed and paused again: a new pause, so the old one's alarm clears too.
    again = counter_commands.pause_counter(resumed, 1, 11, reason="取材料").state
    assert settled(again, book, {1: later}, later) == [alarm_id(found.key)]


def test_an_unsatisfied_rating_or_a_red_case_is_never_cleared_by_itself() -> None:
    rating = from_events([_event("rating.alarm", {"id": "WO-1", "number": "A001", "counter": 1, "level": 1})])[0]
    red = from_events([_event("case.light", {"number": "XH1", "light": "red", "turned_at": "t"})])[0]
    book = _raised(_raised(AlarmBook(), rating, T0), red, T0)
    quiet = opened(hall(), (1, 11))
    assert settled(quiet, book, NOBODY_PAUSED, T0 + timedelta(days=1)) == []


def test_after_a_wait_alarm_clears_the_service_is_quiet_for_a_while() -> None:
    """Waits that hover about the target do not raise and clear by turns: a service whose wait
    alarm cleared by itself gets no new one for ``QUIET``, then one if waits are still long."""
    at = T0 + timedelta(minutes=21)
    state = _waiting(opened(hall(), (1, 11)), "soc", 1, T0)
    (found,) = due(state, AlarmBook(), NOBODY_PAUSED, at)
    book = _raised(AlarmBook(), found, at)
    # A002 joined ten minutes ago; A001, the one over target, is called: the alarm clears.
    called = serving.call_next(_waiting(state, "soc", 1, at - timedelta(minutes=10)), 1, 11, at).state
    assert settled(called, book, NOBODY_PAUSED, at) == [alarm_id(found.key)]
    book = clear(book, alarm_id(found.key), at).state
    # Eleven minutes on, A002 has waited 21: over target, but the service is quiet still.
    assert due(called, book, NOBODY_PAUSED, at + timedelta(minutes=11)) == []
    (again,) = due(called, book, NOBODY_PAUSED, at + QUIET)
    assert again.key == f"wait:20261123-A002:{(at - timedelta(minutes=10)).isoformat()}"


def test_a_ticket_sent_on_to_another_line_is_a_new_wait_and_may_raise_again() -> None:
    """A001 waited too long at soc (its alarm cleared when it was sent on), then waits too long at
    fund: that is a new wait, with a key of its own."""
    state = _waiting(opened(hall(), (1, 11)), "soc", 1, T0)
    at = T0 + timedelta(minutes=21)
    (first,) = due(state, AlarmBook(), NOBODY_PAUSED, at)
    book = _raised(AlarmBook(), first, at)
    started = serving.start(serving.call_next(state, 1, 11, at).state, 1, 11, at).state
    sent = ticket_moves.transfer(started, 1, 11, at, to_service="fund").state
    book = clear(book, alarm_id(first.key), at).state
    # fund's target is 20 minutes: 21 minutes after it joined fund's line, and QUIET is per service.
    (second,) = due(sent, book, NOBODY_PAUSED, at + timedelta(minutes=21))
    assert (second.data["service"], second.data["number"]) == ("fund", "A001")
    assert second.key != first.key


def test_a_counter_opened_and_closed_again_may_be_suggested_again() -> None:
    state = _waiting(opened(hall(), (1, 11)), "soc", 3, T0)
    at = T0 + timedelta(minutes=30)
    since = {2: T0 - timedelta(hours=1)}
    (suggestion,) = [f for f in due(state, AlarmBook(), since, at) if f.kind == OPEN_COUNTER]
    book = _raised(AlarmBook(), suggestion, at)
    # Counter 2 is opened (the suggestion clears), then closed again a little later.
    book = clear(book, alarm_id(suggestion.key), at).state
    later = at + QUIET + timedelta(minutes=1)
    (again,) = [f for f in due(state, book, {2: later - timedelta(minutes=1)}, later) if f.kind == OPEN_COUNTER]
    assert again.key != suggestion.key
    # Had nothing changed at counter 2, it would be the same suggestion, which the book holds.
    (same,) = [f for f in due(state, book, since, later) if f.kind == OPEN_COUNTER]
    assert same.key == suggestion.key
    assert raise_alarm(book, same.kind, same.key, same.data, later).facts == ()
