"""Queue rules, pure: examples of each command, then random command sequences that keep every
invariant (never two counters on one ticket, never lost, unique numbers, FIFO, no starvation)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hall.kernel.errors import DomainError, Forbidden, NotFound, TransitionError
from queueing import counter_commands, issuing, queue, serving, ticket_moves
from queueing.counters import Counter
from queueing.estimates import estimate_error
from queueing.issuing import NoCounterOpen, PriorityNotOffered, SoldOut
from queueing.queue import HallClosed
from queueing.services import Priority, Service
from queueing.serving import NothingWaiting
from queueing.state import Line, QueueState, Rules
from queueing.tickets import Holder, TicketState

# Monday 2026-11-23, 09:30 in Beijing.
OPENING = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def hall(*, cap: int | None = None, run: int = 2, one_per_id: bool = False) -> QueueState:
    services = {
        "soc": Service("soc", "社保", "Social security", prefix="A", daily_cap=cap, one_live_ticket_per_id=one_per_id),
        "fund": Service("fund", "公积金", "Housing fund", prefix="B"),
        "info": Service("info", "咨询", "Enquiries", prefix="", width=1),
    }
    counters = {n: Counter(n, f"{n}号窗口") for n in (1, 2, 3)}
    lines = {
        1: Line((("soc", 1.0), ("fund", 1.0))),
        2: Line((("soc", 1.0),)),
        3: Line((("fund", 1.0), ("info", 1.0))),
    }
    return QueueState(rules=Rules(priority_run=run), services=services, counters=counters, lines=lines)


def opened(state: QueueState, *pairs: tuple[int, int]) -> QueueState:
    for counter, clerk in pairs:
        state = counter_commands.open_counter(state, counter, clerk).state
    return state


def test_a_ticket_is_issued_called_started_and_finished() -> None:
    state = opened(hall(), (1, 11))
    issued = issuing.issue(state, "soc", OPENING)
    ticket = issued.result["ticket"]
    assert ticket["number"] == "A001"
    assert ticket["id"] == "20261123-A001"
    assert issued.result["ahead"] == 0
    assert [f.type for f in issued.facts] == ["ticket.issued"]
    called = serving.call_next(issued.state, 1, 11, OPENING + timedelta(minutes=4))
    assert called.facts[0].data == {
        "ticket": "20261123-A001",
        "number": "A001",
        "service": "soc",
        "priority": "normal",
        "counter": 1,
        "clerk": 11,
    }
    started = serving.start(called.state, 1, 11, OPENING + timedelta(minutes=5))
    done = serving.finish(started.state, 1, 11, OPENING + timedelta(minutes=12))
    assert done.result["ticket"]["state"] == "done"
    assert done.state.tickets == {}
    assert done.state.service_times["soc"] == (420.0,)
    assert done.state.line(1).current is None


def test_numbers_follow_each_service_and_restart_the_next_day() -> None:
    state = hall()
    numbers = []
    for code in ("soc", "soc", "fund", "info", "soc"):
        decision = issuing.issue(state, code, OPENING)
        state = decision.state
        numbers.append(decision.result["ticket"]["number"])
    assert numbers == ["A001", "A002", "B001", "1", "A003"]
    tomorrow = issuing.issue(state, "soc", OPENING + timedelta(days=1))
    assert tomorrow.result["ticket"]["number"] == "A001"
    # Yesterday's open tickets were closed at the start of the new day.
    assert sum(f.type == "ticket.closed" for f in tomorrow.facts) == 5


def test_a_hall_may_keep_open_tickets_over_night() -> None:
    state = replace(hall(), rules=Rules(close_at_day_end=False))
    state = issuing.issue(state, "soc", OPENING).state
    tomorrow = issuing.issue(state, "soc", OPENING + timedelta(days=1))
    assert [f.type for f in tomorrow.facts] == ["ticket.issued"]
    assert len(tomorrow.state.tickets) == 2


def test_no_ticket_outside_hours_on_holidays_or_over_the_cap() -> None:
    with pytest.raises(HallClosed, match="09:00–17:00"):
        issuing.issue(hall(), "soc", OPENING - timedelta(hours=2))
    national_day = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    with pytest.raises(HallClosed, match="not today"):
        issuing.issue(hall(), "soc", national_day)
    adjusted_saturday = datetime(2026, 2, 28, 2, 0, tzinfo=UTC)
    assert issuing.issue(hall(), "soc", adjusted_saturday).result["ticket"]["number"] == "A001"
    state = hall(cap=2)
    for _ in range(2):
        state = issuing.issue(state, "soc", OPENING).state
    with pytest.raises(SoldOut):
        issuing.issue(state, "soc", OPENING)
    with pytest.raises(NotFound):
        issuing.issue(state, "nope", OPENING)


def test_one_live_ticket_per_id_card_when_the_service_asks_for_it() -> None:
    person = Holder("张三", "11010519491231002X")
    state = issuing.issue(hall(one_per_id=True), "soc", OPENING, applicant=person).state
    with pytest.raises(DomainError, match="already holds ticket A001"):
        issuing.issue(state, "soc", OPENING, applicant=person)
    assert issuing.issue(state, "fund", OPENING, applicant=person).result["ticket"]["number"] == "B001"


def test_the_applicant_shows_masked() -> None:
    person = Holder("张三丰", "11010519491231002X")
    issued = issuing.issue(hall(), "soc", OPENING, applicant=person)
    assert issued.result["ticket"]["applicant"] == {"name": "张**", "id_number": "110***********002X"}
    assert "11010519491231002X" not in repr(issued.facts)


def test_appointments_check_in_within_their_window() -> None:
    at = OPENING + timedelta(hours=1)
    with pytest.raises(DomainError, match="check-in is open from 10:00 to 10:45"):
        issuing.issue(hall(), "soc", OPENING, priority=Priority.APPOINTMENT, appointment_at=at, vouched=True)
    early = at - timedelta(minutes=10)
    ok = issuing.issue(hall(), "soc", early, priority=Priority.APPOINTMENT, appointment_at=at, vouched=True)
    assert ok.result["ticket"]["priority"] == "appointment"


def test_an_appointment_is_granted_only_to_who_can_prove_it() -> None:
    at = OPENING + timedelta(minutes=5)
    # A resident at a public kiosk: no appointment, whatever time they name.
    with pytest.raises(PriorityNotOffered, match="appointment") as refused:
        issuing.issue(hall(), "soc", OPENING, priority=Priority.APPOINTMENT, appointment_at=at)
    assert refused.value.code == "priority_not_offered" and refused.value.details == {"field": "priority"}
    # Staff or a registered device vouch for it (the booking checked at the counter or by the device).
    vouched = issuing.issue(hall(), "soc", OPENING, priority=Priority.APPOINTMENT, appointment_at=at, vouched=True)
    assert vouched.result["ticket"]["priority"] == "appointment"


def test_a_public_kiosk_offers_only_the_classes_the_hall_lets_it() -> None:
    state = hall()
    # By default a resident may claim the classes shown with a certificate at the counter.
    for priority in (Priority.NORMAL, Priority.ELDERLY, Priority.DISABLED, Priority.MILITARY):
        assert issuing.issue(state, "soc", OPENING, priority=priority).result["ticket"]["priority"] == priority.value
    strict = replace(state, rules=Rules(kiosk_priorities=("normal", "elderly")))
    with pytest.raises(PriorityNotOffered, match="military"):
        issuing.issue(strict, "soc", OPENING, priority=Priority.MILITARY)
    assert issuing.issue(strict, "soc", OPENING, priority=Priority.ELDERLY).state.issued == {"soc": 1}
    # Staff may grant a class the kiosk does not offer; a refusal changes nothing.
    assert issuing.issue(strict, "soc", OPENING, priority=Priority.MILITARY, vouched=True).result["ticket"]["number"]
    assert strict.issued == {}


def test_a_hall_cannot_let_its_kiosks_grant_appointments_or_unknown_classes() -> None:
    with pytest.raises(ValueError, match="appointment"):
        Rules(kiosk_priorities=("normal", "appointment"))
    with pytest.raises(ValueError, match="unknown"):
        Rules(kiosk_priorities=("normal", "vip"))
    with pytest.raises(ValueError, match="normal"):
        Rules(kiosk_priorities=("elderly",))
    with pytest.raises(ValueError, match="no_counter"):
        Rules(no_counter="maybe")


def test_with_no_open_counter_the_ticket_says_so_or_the_hall_takes_none() -> None:
    # The default: issued, and the answer says no counter serves the service now.
    warned = issuing.issue(hall(), "soc", OPENING)
    assert warned.result["no_counter"] is True and warned.result["estimate_minutes"] is None
    assert issuing.issue(opened(hall(), (2, 21)), "soc", OPENING).result["no_counter"] is False
    refusing = replace(hall(), rules=Rules(no_counter="refuse"))
    with pytest.raises(NoCounterOpen, match="no open counter") as refused:
        issuing.issue(refusing, "soc", OPENING)
    assert refused.value.code == "no_counter"
    # Once a counter serving it opens, the refusing hall issues.
    assert issuing.issue(opened(refusing, (2, 21)), "soc", OPENING).result["ticket"]["number"] == "A001"


def test_priority_goes_first_but_never_starves_the_normal_line() -> None:
    state = opened(hall(run=2), (2, 21))
    for priority in [Priority.NORMAL, Priority.ELDERLY, Priority.DISABLED, Priority.ELDERLY, Priority.MILITARY]:
        state = issuing.issue(state, "soc", OPENING, priority=priority).state
    order = []
    now = OPENING
    for _ in range(5):
        now += timedelta(minutes=1)
        called = serving.call_next(state, 2, 21, now)
        order.append(called.result["ticket"]["number"])
        state = serving.no_show(called.state, 2, 21, now).state
    assert order == ["A002", "A003", "A001", "A004", "A005"]


def test_a_clerk_recalls_then_the_ticket_becomes_a_no_show_and_may_come_back() -> None:
    state = opened(hall(), (1, 11))
    state = issuing.issue(state, "soc", OPENING).state
    state = serving.call_next(state, 1, 11, OPENING).state
    for recalls in (1, 2):
        decision = serving.recall(state, 1, 11, OPENING)
        assert decision.facts[0].data["recalls"] == recalls
        state = decision.state
    missed = serving.recall(state, 1, 11, OPENING)
    assert [f.type for f in missed.facts] == ["ticket.no_show"]
    back = ticket_moves.requeue(missed.state, "20261123-A001", OPENING + timedelta(minutes=20))
    assert back.result["ticket"]["state"] == "waiting"
    with pytest.raises(DomainError, match="more than 60 minutes"):
        ticket_moves.requeue(missed.state, "20261123-A001", OPENING + timedelta(minutes=61))


def test_transfer_keeps_the_place_or_goes_to_the_front_and_can_come_back() -> None:
    state = opened(hall(), (1, 11), (3, 31))
    for code in ("fund", "fund", "soc"):
        state = issuing.issue(state, code, OPENING).state
    # A001 (soc) is called at counter 1 and belongs at the fund desk instead: front of fund.
    state = serving.call_ticket(state, 1, 11, OPENING + timedelta(minutes=1), ticket_id="20261123-A001").state
    state = ticket_moves.transfer(state, 1, 11, OPENING + timedelta(minutes=2), to_service="fund", front=True).state
    called = serving.call_next(state, 3, 31, OPENING + timedelta(minutes=3))
    assert called.result["ticket"]["number"] == "A001"
    back = ticket_moves.transfer_back(
        serving.start(called.state, 3, 31, OPENING).state, 3, 31, OPENING + timedelta(minutes=4)
    )
    assert back.result["ticket"]["service"] == "soc"
    with pytest.raises(DomainError, match="either a service or a counter"):
        ticket_moves.transfer(called.state, 3, 31, OPENING)


def test_transfer_to_a_named_counter_is_called_only_there_and_first() -> None:
    state = opened(hall(), (1, 11), (2, 21))
    for _ in range(3):
        state = issuing.issue(state, "soc", OPENING).state
    state = serving.call_next(state, 1, 11, OPENING).state
    state = ticket_moves.transfer(state, 1, 11, OPENING + timedelta(minutes=1), to_counter=2).state
    assert serving.call_next(state, 1, 11, OPENING + timedelta(minutes=2)).result["ticket"]["number"] == "A002"
    assert serving.call_next(state, 2, 21, OPENING + timedelta(minutes=2)).result["ticket"]["number"] == "A001"


def test_a_held_ticket_comes_back_by_itself_at_the_front() -> None:
    state = opened(hall(), (2, 21))
    for _ in range(3):
        state = issuing.issue(state, "soc", OPENING).state
    state = serving.call_next(state, 2, 21, OPENING).state
    state = ticket_moves.hold(state, 2, 21, OPENING, minutes=5).state
    assert ticket_moves.tick(state, OPENING + timedelta(minutes=4)).facts == ()
    released = ticket_moves.tick(state, OPENING + timedelta(minutes=5))
    assert [f.type for f in released.facts] == ["ticket.released"]
    assert serving.call_next(released.state, 2, 21, OPENING).result["ticket"]["number"] == "A001"


def test_a_follow_on_service_continues_the_visit_at_the_front() -> None:
    state = opened(hall(), (1, 11), (3, 31))
    state = issuing.issue(state, "fund", OPENING).state
    state = issuing.issue(state, "soc", OPENING).state
    state = serving.call_ticket(state, 1, 11, OPENING, ticket_id="20261123-A001").state
    state = serving.start(state, 1, 11, OPENING).state
    done = serving.finish(state, 1, 11, OPENING + timedelta(minutes=5), follow_on="fund")
    assert [f.type for f in done.facts] == ["ticket.finished", "ticket.transferred"]
    assert serving.call_next(done.state, 3, 31, OPENING).result["ticket"]["number"] == "A001"


def test_bad_commands_name_the_problem() -> None:
    state = opened(hall(), (1, 11))
    state = issuing.issue(state, "soc", OPENING).state
    with pytest.raises(Forbidden, match="another clerk"):
        serving.call_next(state, 1, 99, OPENING)
    with pytest.raises(DomainError, match="counter 2 is closed"):
        serving.call_next(state, 2, 11, OPENING)
    with pytest.raises(NothingWaiting):
        serving.call_next(opened(hall(), (3, 31)), 3, 31, OPENING)
    with pytest.raises(DomainError, match="no current ticket"):
        serving.start(state, 1, 11, OPENING)
    called = serving.call_next(state, 1, 11, OPENING).state
    with pytest.raises(DomainError, match="still has ticket A001"):
        serving.call_next(called, 1, 11, OPENING)
    with pytest.raises(TransitionError, match="'called' to 'done'"):
        serving.finish(called, 1, 11, OPENING)
    with pytest.raises(DomainError, match="still has ticket"):
        counter_commands.close_counter(called, 1, 11)
    paused = counter_commands.pause_counter(serving.no_show(called, 1, 11, OPENING).state, 1, 11, reason="午休").state
    with pytest.raises(DomainError, match="paused"):
        serving.call_next(paused, 1, 11, OPENING)


def test_the_estimate_follows_the_open_counters_and_recent_service_times() -> None:
    state = hall()
    assert issuing.issue(state, "soc", OPENING).result["estimate_minutes"] is None  # no counter open
    state = opened(state, (2, 21))
    state = replace(state, service_times={"soc": (300.0, 300.0)})
    for _ in range(4):
        state = issuing.issue(state, "soc", OPENING).state
    fifth = issuing.issue(state, "soc", OPENING)
    assert fifth.result["ahead"] == 4
    assert fifth.result["estimate_minutes"] == 20.0
    # Counter 1 also takes fund, but no fund ticket waits: it calls soc as often as counter 2.
    both = opened(fifth.state, (1, 11))
    assert issuing.issue(both, "soc", OPENING).result["estimate_minutes"] == 10.0


def test_estimate_error_is_the_mean_absolute_minutes() -> None:
    state = opened(hall(), (2, 21))
    state = replace(state, service_times={"soc": (600.0,)})
    tickets = []
    now = OPENING
    for _ in range(3):
        state = issuing.issue(state, "soc", now).state
    for _ in range(3):
        now += timedelta(minutes=10)
        called = serving.call_next(state, 2, 21, now)
        state = serving.start(called.state, 2, 21, now).state
        tickets.append(state.tickets[called.result["ticket"]["id"]])
        state = serving.finish(state, 2, 21, now).state
    # Estimates were 0, 10 and 20 minutes; the waits 10, 20 and 30.
    error = estimate_error(tickets)
    assert (error.tickets, error.mean_absolute_minutes) == (3, 10.0)


CLERKS = {1: 11, 2: 21, 3: 31}


class QueueMachine(RuleBasedStateMachine):
    """Random days at a three-counter hall."""

    def __init__(self) -> None:
        super().__init__()
        self.state = opened(hall(run=2), *CLERKS.items())
        self.now = OPENING
        self.issued: set[str] = set()
        self.numbers: set[tuple[object, str]] = set()
        self.ended: set[str] = set()

    def _apply(self, decision: queue.Result) -> None:
        for fact in decision.facts:
            if fact.type == "ticket.issued":
                key = (self.state.rules.local(self.now).date(), fact.data["number"])
                assert key not in self.numbers, f"number {key} issued twice"
                self.numbers.add(key)
                self.issued.add(fact.data["ticket"])
            if fact.type in ("ticket.finished", "ticket.cancelled", "ticket.closed"):
                self.ended.add(fact.data["ticket"])
            if fact.type in ("ticket.transferred", "ticket.requeued"):
                self.ended.discard(fact.data["ticket"])
        self.state = decision.state

    def _try(self, step: object) -> queue.Result | None:
        try:
            decision = step()  # type: ignore[operator]
        except DomainError:
            return None
        self._apply(decision)
        return decision

    @rule(minutes=st.integers(0, 30))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self._try(lambda: ticket_moves.tick(self.state, self.now))

    @rule(
        code=st.sampled_from(["soc", "fund", "info"]), priority=st.sampled_from(list(Priority)), vouched=st.booleans()
    )
    def take_ticket(self, code: str, priority: Priority, vouched: bool) -> None:
        at = self.now if priority is Priority.APPOINTMENT else None
        self._try(
            lambda: issuing.issue(self.state, code, self.now, priority=priority, appointment_at=at, vouched=vouched)
        )

    @rule(counter=st.sampled_from([1, 2, 3]))
    def call_next(self, counter: int) -> None:
        before = self.state
        decision = self._try(lambda: serving.call_next(before, counter, CLERKS[counter], self.now))
        if decision is None:
            return
        chosen = before.tickets[decision.result["ticket"]["id"]]
        line = before.line(counter)
        others = [
            t
            for t in before.waiting()
            if t.id != chosen.id and t.target_counter is None and line.weight(t.service) is not None
        ]
        named = chosen.target_counter == counter
        if not named and chosen.priority.is_priority and any(not t.priority.is_priority for t in others):
            assert line.streak < before.rules.priority_run, "the normal line was starved"
        if chosen.target_counter is None and not chosen.boosted:
            for other in others:
                if (
                    other.service == chosen.service
                    and other.priority.is_priority == chosen.priority.is_priority
                    and not other.boosted
                ):
                    assert (chosen.queued_at, chosen.order) < (other.queued_at, other.order), "not FIFO"

    @rule(counter=st.sampled_from([1, 2, 3]), action=st.sampled_from(["recall", "start", "no_show", "hold"]))
    def act(self, counter: int, action: str) -> None:
        step = {
            "recall": serving.recall,
            "start": serving.start,
            "no_show": serving.no_show,
            "hold": ticket_moves.hold,
        }[action]
        self._try(lambda: step(self.state, counter, CLERKS[counter], self.now))

    @rule(counter=st.sampled_from([1, 2, 3]), follow=st.sampled_from([None, "soc", "fund"]))
    def finish(self, counter: int, follow: str | None) -> None:
        self._try(lambda: serving.finish(self.state, counter, CLERKS[counter], self.now, follow_on=follow))

    @rule(counter=st.sampled_from([1, 2, 3]), to=st.sampled_from(["soc", "fund", "info", 1, 2, 3]), front=st.booleans())
    def transfer(self, counter: int, to: str | int, front: bool) -> None:
        kwargs = {"to_service": to} if isinstance(to, str) else {"to_counter": to}
        self._try(lambda: ticket_moves.transfer(self.state, counter, CLERKS[counter], self.now, front=front, **kwargs))

    @precondition(lambda self: bool(self.state.tickets))
    @rule(data=st.data(), action=st.sampled_from(["cancel", "requeue"]))
    def resident(self, data: st.DataObject, action: str) -> None:
        ticket = data.draw(st.sampled_from(sorted(self.state.tickets)))
        self._try(lambda: getattr(ticket_moves, action)(self.state, ticket, self.now))

    @invariant()
    def no_ticket_is_at_two_counters(self) -> None:
        at_counters = [line.current for line in self.state.lines.values() if line.current is not None]
        assert len(at_counters) == len(set(at_counters))
        for ticket in self.state.tickets.values():
            if ticket.state in (TicketState.CALLED, TicketState.SERVING):
                assert ticket.counter is not None
                assert self.state.line(ticket.counter).current == ticket.id

    @invariant()
    def the_kept_counts_are_the_tickets_counted_afresh(self) -> None:
        afresh = replace(self.state, counts=None, in_line=None)
        assert (self.state.counts, self.state.in_line) == (afresh.counts, afresh.in_line)

    @invariant()
    def no_ticket_is_lost(self) -> None:
        present = set(self.state.tickets)
        assert present | self.ended == self.issued
        assert not present & self.ended


TestQueueMachine = QueueMachine.TestCase
TestQueueMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
