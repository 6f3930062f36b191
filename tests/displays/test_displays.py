"""Display texts and the queue display's fold, pure: no event loop, no espeak-ng."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from displays.board import MAX_CALLS, CounterView, apply, fold
from displays.texts import (
    LED_CELLS,
    LOCALES,
    call_text,
    cells,
    counter_text,
    counter_title,
    fit,
    led_line,
    led_lines,
    speech_text,
    spoken_number,
)
from hall.kernel.events import Decision, Event
from queueing import counter_commands, issuing, serving, ticket_moves
from queueing.counters import Counter
from queueing.services import Service
from queueing.state import Line, QueueState

# Monday 2026-11-23, 09:30 in Beijing.
OPENING = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


class Log:
    """Turns the facts of rule decisions into numbered events, as the writer does."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: str, at: datetime = OPENING, **data: Any) -> Event:
        event = Event(1, len(self.events) + 1, kind, data, "staff:12", at)
        self.events.append(event)
        return event

    def take(self, decision: Decision[QueueState], at: datetime) -> QueueState:
        for fact in decision.facts:
            self.add(fact.type, at, **fact.data)
        return decision.state


def ticket(number: str, counter: int | None, day: str = "20261123") -> dict[str, Any]:
    return {"ticket": f"{day}-{number}", "number": number, "service": "soc", "priority": "normal", "counter": counter}


# -- texts -----------------------------------------------------------------------------------


def test_a_call_is_written_in_chinese_and_english() -> None:
    assert call_text("A023", 5, "zh_CN") == "请 A023 号到 5 号窗口办理"
    assert call_text("A023", 5, "en") == "Number A023, please go to counter 5."
    assert LOCALES[0] == "zh_CN"


def test_the_voice_spells_the_number_and_says_the_counter_as_a_number() -> None:
    assert speech_text("A023", 5, "zh_CN") == "请 A 零 二 三 号，到 5 号窗口办理"
    assert speech_text("A023", 12, "en") == "Number A0 2 3, please go to counter 12."
    assert spoken_number("AB0101", "zh_CN") == "A B 零 一 零 一"
    assert spoken_number("AB0101", "en") == "A-B0 1 0 1"
    assert spoken_number("7", "zh_CN") == "七"
    assert spoken_number("23", "en") == "2 3"


@pytest.mark.parametrize(
    ("number", "counter", "locale"),
    [("a023", 5, "zh_CN"), ("ABC1", 5, "en"), ("A-1", 5, "en"), ("", 5, "en"), ("A023", 0, "en"), ("A023", 5, "fr")],
)
def test_bad_numbers_counters_and_locales_are_refused(number: str, counter: int, locale: str) -> None:
    with pytest.raises(ValueError, match=r"ticket number|counter numbers|locale"):
        call_text(number, counter, locale)
    with pytest.raises(ValueError, match=r"ticket number|counter numbers|locale"):
        speech_text(number, counter, locale)


def test_led_cells_count_chinese_as_two() -> None:
    assert cells("A023") == 4
    assert cells("请A023号") == 8
    assert cells("窗口…") == 6
    assert cells("") == 0


def test_led_lines_fit_the_strip_chinese_first() -> None:
    assert led_lines("A023", 5) == ("请A023号到5号窗口", "A023 to counter 5")
    assert all(cells(line) <= LED_CELLS for line in led_lines("AB0101", 120))
    assert led_line("A023", 5, "zh_CN", width=12) == "请A023号到…"
    assert cells(led_line("A023", 5, "zh_CN", width=12)) <= 12
    assert fit("请  A023\n号", 40) == "请 A023 号"
    assert fit("窗口关闭", 8) == "窗口关闭"
    assert fit("窗口关闭", 7) == "窗口…"
    assert fit("窗口", 1) == ""
    assert fit("AB", 1) == "A"
    with pytest.raises(ValueError, match="one cell"):
        fit("A", 0)


@given(st.text(max_size=60), st.integers(min_value=1, max_value=64))
def test_fitted_text_never_overflows(text: str, width: int) -> None:
    fitted = fit(text, width)
    assert cells(fitted) <= width
    if cells(" ".join(text.split())) <= width:
        assert fitted == " ".join(text.split())


def test_counter_screens_show_the_ticket_or_the_state() -> None:
    assert counter_title(5, "zh_CN") == "5 号窗口"
    assert counter_title(5, "en") == "Counter 5"
    assert counter_text("open", "A023", "zh_CN") == "请 A023"
    assert counter_text("open", "A023", "zh_CN", serving=True) == "正在办理 A023"
    assert counter_text("open", None, "zh_CN") == "欢迎光临"
    assert counter_text("paused", "A023", "zh_CN") == "暂停服务"
    assert counter_text("closed", None, "zh_CN") == "窗口关闭"
    assert counter_text("paused", None, "en") == "Service paused"
    assert counter_text("open", "A023", "en") == "Calling A023"
    with pytest.raises(ValueError, match="status"):
        counter_text("broken", None, "en")


# -- the queue display -----------------------------------------------------------------------


def test_a_call_goes_to_the_board_and_the_counter_screen() -> None:
    log = Log()
    log.add("counter.opened", counter=5, clerk=12)
    log.add("ticket.issued", **ticket("A023", None), ahead=0)
    log.add("ticket.called", OPENING + timedelta(minutes=3), **ticket("A023", 5), clerk=12)
    state = fold(log.events)
    assert state.seq == 3
    assert [(c.number, c.counter, c.recall) for c in state.calls] == [("A023", 5, False)]
    assert state.calls[0].at == OPENING + timedelta(minutes=3)
    assert state.counter(5) == CounterView(5, "open", "20261123-A023", "A023", serving=False)
    assert state.current() == {5: "A023"}
    assert state.counter(5).lines() == ("请 A023", "Calling A023")

    log.add("ticket.recalled", OPENING + timedelta(minutes=4), **ticket("A023", 5), clerk=12, recalls=1)
    log.add("ticket.started", **ticket("A023", 5), clerk=12)
    state = fold(log.events[3:], state)
    assert [(c.number, c.recall) for c in state.calls] == [("A023", True)]
    assert state.counter(5).serving
    assert state.counter(5).lines() == ("正在办理 A023", "Serving A023")

    log.add("ticket.finished", **ticket("A023", 5), clerk=12, service_seconds=300.0)
    state = apply(state, log.events[-1])
    assert state.counter(5) == CounterView(5, "open")
    assert len(state.calls) == 1


def test_counters_pause_resume_and_close() -> None:
    log = Log()
    log.add("counter.opened", counter=5, clerk=12)
    log.add("ticket.called", **ticket("A023", 5), clerk=12)
    log.add("counter.paused", counter=5, clerk=12, reason="午休")
    state = fold(log.events)
    assert state.counter(5).status == "paused"
    assert state.counter(5).lines() == ("暂停服务", "Service paused")
    log.add("counter.resumed", counter=5, clerk=12)
    assert fold(log.events).counter(5).lines() == ("请 A023", "Calling A023")
    log.add("counter.closed", counter=5, clerk=12)
    state = fold(log.events)
    assert state.counter(5) == CounterView(5, "closed")
    assert state.counter(9) == CounterView(9, "closed")
    assert state.counter(5).lines() == ("窗口关闭", "Counter closed")


@pytest.mark.parametrize("leaving", ["ticket.no_show", "ticket.held", "ticket.transferred", "ticket.closed"])
def test_a_ticket_leaving_its_counter_clears_the_screen(leaving: str) -> None:
    log = Log()
    log.add("ticket.called", **ticket("A023", 5), clerk=12)
    # A transferred ticket's event no longer names the counter: the ticket id does.
    log.add(leaving, **ticket("A023", None if leaving == "ticket.transferred" else 5))
    state = fold(log.events)
    assert state.counter(5).number is None
    assert state.counter(5).status == "open"


def test_the_board_keeps_the_newest_calls_one_line_per_ticket() -> None:
    log = Log()
    for n in range(1, 12):
        log.add("ticket.called", **ticket(f"A{n:03d}", 1 + n % 3))
    log.add("ticket.recalled", **ticket("A005", 3))
    state = fold(log.events)
    assert len(state.calls) == MAX_CALLS
    assert [c.number for c in state.calls] == ["A005", "A011", "A010", "A009", "A008", "A007", "A006", "A004"]
    assert state.current() == {1: "A009", 2: "A010", 3: "A005"}
    assert [v.counter for v in state.counters] == [1, 2, 3]


def test_a_ticket_called_to_another_counter_leaves_the_first() -> None:
    log = Log()
    log.add("ticket.called", **ticket("A023", 5))
    log.add("ticket.called", **ticket("A023", 6))
    assert fold(log.events).current() == {6: "A023"}


def test_the_first_call_of_a_new_day_clears_the_board() -> None:
    log = Log()
    log.add("ticket.called", **ticket("A040", 5))
    log.add("ticket.called", OPENING + timedelta(days=1), **ticket("A001", 5, day="20261124"))
    assert [c.ticket for c in fold(log.events).calls] == ["20261124-A001"]


def test_replayed_events_change_nothing() -> None:
    log = Log()
    log.add("ticket.called", **ticket("A023", 5))
    log.add("ticket.finished", **ticket("A023", 5))
    state = fold(log.events)
    assert fold(log.events, state) == state
    assert apply(state, replace(log.events[0], seq=1)) == state


def test_the_board_as_json_names_both_languages_chinese_first() -> None:
    log = Log()
    log.add("counter.opened", counter=5, clerk=12)
    log.add("ticket.called", **ticket("A023", 5))
    shown = fold(log.events).as_json()
    assert shown["seq"] == 2
    call = shown["calls"][0]
    assert call["at"] == OPENING.isoformat()
    assert list(call["text"]) == ["zh_CN", "en"]
    assert call["text"]["zh_CN"] == "请 A023 号到 5 号窗口办理"
    assert shown["counters"] == [
        {
            "counter": 5,
            "status": "open",
            "ticket": "20261123-A023",
            "number": "A023",
            "serving": False,
            "title": {"zh_CN": "5 号窗口", "en": "Counter 5"},
            "text": {"zh_CN": "请 A023", "en": "Calling A023"},
        }
    ]


def test_the_board_follows_the_real_queue_rules() -> None:
    """The event shapes the board reads are the ones the queue writes."""
    services = {"soc": Service("soc", "社保", "Social security", prefix="A")}
    state = QueueState(
        services=services,
        counters={n: Counter(n, f"{n}号窗口") for n in (1, 2)},
        lines={1: Line((("soc", 1.0),)), 2: Line((("soc", 1.0),))},
    )
    log = Log()
    at = OPENING
    state = log.take(counter_commands.open_counter(state, 1, 11), at)
    state = log.take(counter_commands.open_counter(state, 2, 12), at)
    for _ in range(3):
        state = log.take(issuing.issue(state, "soc", at), at)
    at += timedelta(minutes=1)
    state = log.take(serving.call_next(state, 1, 11, at), at)
    state = log.take(serving.call_next(state, 2, 12, at), at)
    state = log.take(serving.recall(state, 2, 12, at), at)
    state = log.take(serving.start(state, 1, 11, at), at)
    board = fold(log.events)
    assert [c.number for c in board.calls] == ["A002", "A001"]
    assert board.counter(1).serving
    assert board.counter(2).lines() == ("请 A002", "Calling A002")

    state = log.take(serving.finish(state, 1, 11, at), at)
    state = log.take(ticket_moves.transfer(state, 2, 12, at, to_counter=1), at)
    state = log.take(counter_commands.pause_counter(state, 1, 11, reason="午休"), at)
    board = fold(log.events)
    assert board.current() == {}
    assert board.counter(1).lines() == ("暂停服务", "Service paused")
    assert board.counter(2).lines() == ("欢迎光临", "Welcome")
    assert board.seq == len(log.events)
