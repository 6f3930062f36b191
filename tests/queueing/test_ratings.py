"""一事一评: one rating per finished service, in GB/T 39734-2020's five levels, within a window;
an unsatisfied one opens a work order with a callback and a fix due in five working days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from hall.kernel.errors import DomainError, NotFound, TransitionError
from queueing import issuing, ratings, serving, ticket_moves
from queueing.rating_records import Level
from queueing.services import add_working_days
from queueing.state import QueueState, Rules
from tests.queueing.test_queue_rules import OPENING, hall, opened


def served(follow_on: str | None = None) -> tuple[QueueState, str]:
    state = opened(hall(), (1, 11), (3, 31))
    state = issuing.issue(state, "soc", OPENING).state
    state = serving.call_next(state, 1, 11, OPENING).state
    state = serving.start(state, 1, 11, OPENING).state
    state = serving.finish(state, 1, 11, OPENING + timedelta(minutes=6), follow_on=follow_on).state
    return state, "20261123-A001"


def test_levels_follow_the_standard() -> None:
    assert [level.label for level in sorted(Level, reverse=True)] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert [level.unsatisfied for level in sorted(Level)] == [True, True, False, False, False]


def test_a_finished_service_is_rated_once() -> None:
    state, ticket = served()
    rated = ratings.rate(state, ticket, OPENING + timedelta(minutes=7), service="soc", level=5)
    assert rated.result["rating"]["label"] == "非常满意"
    assert rated.result["rating"]["clerk"] == 11
    assert [f.type for f in rated.facts] == ["rating.given"]
    with pytest.raises(NotFound, match="rated already"):
        ratings.rate(rated.state, ticket, OPENING + timedelta(minutes=8), service="soc", level=4)


def test_each_service_of_a_visit_is_rated_on_its_own() -> None:
    state, ticket = served(follow_on="fund")
    state = serving.call_next(state, 3, 31, OPENING + timedelta(minutes=7)).state
    state = serving.start(state, 3, 31, OPENING + timedelta(minutes=7)).state
    state = serving.finish(state, 3, 31, OPENING + timedelta(minutes=15)).state
    first = ratings.rate(state, ticket, OPENING + timedelta(minutes=16), service="soc", level=4)
    second = ratings.rate(first.state, ticket, OPENING + timedelta(minutes=16), service="fund", level=3)
    assert (first.result["rating"]["clerk"], second.result["rating"]["clerk"]) == (11, 31)


def test_a_service_finished_again_after_its_rating_is_not_offered_a_second_one() -> None:
    """Sent back to the same service (a follow-on to it) and finished again: the service was rated
    once already (一事一评), so the second finish offers nothing, and the rating stays unique."""
    state, ticket = served(follow_on="soc")
    rated = ratings.rate(state, ticket, OPENING + timedelta(minutes=7), service="soc", level=5)
    state = opened(rated.state, (2, 21))
    state = serving.call_next(state, 2, 21, OPENING + timedelta(minutes=8)).state
    state = serving.start(state, 2, 21, OPENING + timedelta(minutes=8)).state
    state = serving.finish(state, 2, 21, OPENING + timedelta(minutes=12)).state
    assert f"{ticket}:soc" not in state.rateable
    with pytest.raises(NotFound, match="rated already"):
        ratings.rate(state, ticket, OPENING + timedelta(minutes=13), service="soc", level=2)


def test_the_rating_window_closes() -> None:
    state, ticket = served()
    state = replace(state, rules=Rules(rating_window_minutes=30))
    with pytest.raises(DomainError, match="30 minutes"):
        ratings.rate(state, ticket, OPENING + timedelta(minutes=40), service="soc", level=5)
    assert ticket_moves.tick(state, OPENING + timedelta(minutes=40)).state.rateable == {}


def test_bad_levels_aspects_and_comments_are_refused() -> None:
    state, ticket = served()
    state = replace(state, rules=Rules(rating_aspects=("服务态度", "办事效率")))
    now = OPENING + timedelta(minutes=7)
    for level, aspects, comment, match in [
        (0, None, "", "level must be 1"),
        (6, None, "", "level must be 1"),
        (5, {"环境": 5}, "", "unknown aspects"),
        (5, {"服务态度": 9}, "", "scored 1 to 5"),
        (5, None, "x" * 301, "at most 300"),
    ]:
        with pytest.raises(DomainError, match=match):
            ratings.rate(state, ticket, now, service="soc", level=level, aspects=aspects, comment=comment)
    ok = ratings.rate(state, ticket, now, service="soc", level=4, aspects={"服务态度": 5, "办事效率": 4})
    assert ok.result["rating"]["aspects"] == {"服务态度": 5, "办事效率": 4}


def test_an_unsatisfied_rating_opens_a_work_order_due_in_five_working_days() -> None:
    state, ticket = served()
    rated = ratings.rate(state, ticket, OPENING + timedelta(minutes=7), service="soc", level=1, comment="等太久")
    assert [f.type for f in rated.facts] == ["rating.given", "rating.alarm"]
    order = rated.result["work_order"]
    assert order["state"] == "open"
    assert order["due"] == "2026-11-30"  # Monday 23rd + 5 working days
    called = ratings.record_callback(rated.state, order["id"], 7, OPENING + timedelta(hours=2), note="已电话回访，致歉")
    with pytest.raises(TransitionError):
        ratings.record_callback(called.state, order["id"], 7, OPENING, note="again")
    with pytest.raises(DomainError, match="write what was done"):
        ratings.resolve(called.state, order["id"], 7, OPENING, note="  ")
    fixed = ratings.resolve(called.state, order["id"], 7, OPENING + timedelta(days=1), note="增开窗口，优化叫号")
    assert fixed.result["work_order"]["state"] == "resolved"
    assert fixed.state.work_orders == {}


def test_working_days_skip_weekends_and_holidays_and_count_adjusted_days() -> None:
    assert add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)  # National Day week
    assert add_working_days(date(2026, 2, 27), 1) == date(2026, 2, 28)  # an adjusted working Saturday


def test_a_finished_ticket_is_rateable_from_the_moment_it_is_done() -> None:
    state, _ = served()
    assert list(state.rateable) == ["20261123-A001:soc"]
    assert state.rateable["20261123-A001:soc"].finished_at == datetime(2026, 11, 23, 1, 36, tzinfo=UTC)


def test_a_work_order_past_its_due_day_is_escalated_once_on_the_clock() -> None:
    state, ticket = served()
    rated = ratings.rate(state, ticket, OPENING + timedelta(minutes=7), service="soc", level=2, comment="态度差")
    order_id = rated.result["work_order"]["id"]  # due 2026-11-30, the hall's local date
    # Still the due day in Beijing (23:59 local): not late yet.
    last_minute = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)
    assert ticket_moves.tick(rated.state, last_minute).facts == ()
    # The hall's midnight has passed: one escalation, as an event with the order.
    after = datetime(2026, 11, 30, 16, 1, tzinfo=UTC)
    ticked = ticket_moves.tick(rated.state, after)
    assert [(f.type, f.data["id"], f.data["overdue"]) for f in ticked.facts] == [("workorder.overdue", order_id, True)]
    assert ticked.state.work_orders[order_id].escalated_at == after
    assert ticket_moves.tick(ticked.state, after + timedelta(hours=1)).facts == ()
    # Escalation does not stop the follow-up: the callback and the fix are still taken.
    called = ratings.record_callback(ticked.state, order_id, 7, after, note="已回访")
    assert called.result["work_order"]["overdue"] is True


def test_a_resolved_or_called_back_in_time_order_is_not_escalated_after_it_is_fixed() -> None:
    state, ticket = served()
    rated = ratings.rate(state, ticket, OPENING + timedelta(minutes=7), service="soc", level=1, comment="等太久")
    order_id = rated.result["work_order"]["id"]
    called = ratings.record_callback(rated.state, order_id, 7, OPENING + timedelta(hours=1), note="已回访")
    fixed = ratings.resolve(called.state, order_id, 7, OPENING + timedelta(hours=2), note="已整改")
    assert ticket_moves.tick(fixed.state, datetime(2026, 12, 10, tzinfo=UTC)).facts == ()
    # Called back but not fixed by the due day: still escalated, since the fix is what is owed.
    late = ticket_moves.tick(called.state, datetime(2026, 12, 10, tzinfo=UTC))
    assert [f.type for f in late.facts] == ["workorder.overdue"]
