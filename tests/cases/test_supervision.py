"""督办 supervision orders, pure: who opens them and on which cases, who answers, and escalation
as halls practise it (reminder → yellow card with a written notice → red card), each level once,
stopped by an answer."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import supervision as sv
from cases import workflow as wf
from cases.case_model import Actor, Applicant, Case, CasesState, ItemRules
from cases.catalog import Level
from cases.lights import Light
from cases.supervision import EscalationLevel, SupervisionState
from hall.kernel.errors import DomainError, Forbidden, NotFound
from hall.kernel.events import Decision
from hall.kernel.roles import Role

# Monday 2026-11-23, 09:30 in Beijing.
MONDAY = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
DUE = MONDAY + timedelta(days=2)  # Wednesday 09:30 in Beijing
REMINDER = timedelta(hours=4)
FIX = timedelta(days=3)

DISTRICT, STREET, COMMUNITY, OTHER_STREET = 1, 2, 3, 4
PARENTS = {DISTRICT: None, STREET: DISTRICT, COMMUNITY: STREET, OTHER_STREET: DISTRICT}
TREE = CasesState(
    parents=PARENTS,
    levels={DISTRICT: Level.DISTRICT, STREET: Level.STREET, COMMUNITY: Level.COMMUNITY, OTHER_STREET: Level.STREET},
)
ITEM = ItemRules("disability-card", frozenset(Level), Level.DISTRICT, time_limit_days=15, department="民政")

COMMUNITY_CLERK = Actor(31, frozenset({Role.CLERK}), COMMUNITY)
DISTRICT_CLERK = Actor(11, frozenset({Role.CLERK}), DISTRICT, department="民政")
LABOUR_CLERK = Actor(13, frozenset({Role.CLERK}), DISTRICT, department="人社")
DISTRICT_SUPERVISOR = Actor(15, frozenset({Role.SUPERVISOR}), DISTRICT)
STREET_SUPERVISOR = Actor(25, frozenset({Role.SUPERVISOR}), STREET)
OTHER_STREET_SUPERVISOR = Actor(45, frozenset({Role.SUPERVISOR}), OTHER_STREET)


def a_case(number: str = "Q001") -> Case:
    applicant = Applicant("张三丰", "11010519491231002X")
    return wf.accept(
        TREE, ITEM, COMMUNITY_CLERK, MONDAY, applicant=applicant, hall=COMMUNITY, number=number
    ).state.cases[number]


def opened(light: Light = Light.YELLOW, *, case: Case | None = None, order_id: str = "DB-1") -> SupervisionState:
    return sv.open_order(
        SupervisionState(),
        case or a_case(),
        DISTRICT_SUPERVISOR,
        MONDAY,
        note="已临近承诺时限，请说明办理进度",
        reply_due=DUE,
        case_light=light,
        order_id=order_id,
        hall_parents=PARENTS,
    ).state


def tick(state: SupervisionState, at: datetime) -> Decision[SupervisionState]:
    return sv.escalate(state, at, reminder_before=REMINDER, fix_within=FIX)


# -- opening -------------------------------------------------------------------------------------


@pytest.mark.parametrize("light", [Light.YELLOW, Light.RED])
def test_a_supervisor_opens_an_order_on_a_yellow_or_red_case(light: Light) -> None:
    decision = sv.open_order(
        SupervisionState(),
        a_case(),
        DISTRICT_SUPERVISOR,
        MONDAY,
        note=" 请说明进度 ",
        reply_due=DUE,
        case_light=light,
        order_id="DB-1",
        hall_parents=PARENTS,
    )
    order = decision.state.orders["DB-1"]
    assert (order.case, order.note, order.reply_due, order.light, order.level) == (
        "Q001",
        "请说明进度",
        DUE,
        light,
        EscalationLevel.NONE,
    )
    assert [f.type for f in decision.facts] == ["supervision.opened"]
    # Logged at both of the case's halls, so the accepting community sees it too.
    assert decision.facts[0].data["halls"] == [DISTRICT, COMMUNITY]


def test_a_green_case_gets_no_order() -> None:
    with pytest.raises(DomainError, match="green"):
        opened(Light.GREEN)


def test_only_a_supervisor_over_one_of_the_cases_halls_opens_an_order() -> None:
    for watcher in (DISTRICT_SUPERVISOR, STREET_SUPERVISOR):
        sv.open_order(
            SupervisionState(),
            a_case(),
            watcher,
            MONDAY,
            note="督办",
            reply_due=DUE,
            case_light=Light.RED,
            order_id="DB-1",
            hall_parents=PARENTS,
        )
    for outsider in (OTHER_STREET_SUPERVISOR, DISTRICT_CLERK):
        with pytest.raises(Forbidden):
            sv.open_order(
                SupervisionState(),
                a_case(),
                outsider,
                MONDAY,
                note="督办",
                reply_due=DUE,
                case_light=Light.RED,
                order_id="DB-1",
                hall_parents=PARENTS,
            )


def test_an_order_needs_a_note_a_future_deadline_and_an_unfinished_case() -> None:
    def attempt(note: str = "督办", due: datetime = DUE, case: Case | None = None) -> None:
        sv.open_order(
            SupervisionState(),
            case or a_case(),
            DISTRICT_SUPERVISOR,
            MONDAY,
            note=note,
            reply_due=due,
            case_light=Light.RED,
            order_id="DB-1",
            hall_parents=PARENTS,
        )

    with pytest.raises(DomainError, match="note"):
        attempt(note="  ")
    with pytest.raises(DomainError, match="future"):
        attempt(due=MONDAY)
    done = wf.refuse(CasesState(cases={"Q001": a_case()}), "Q001", DISTRICT_CLERK, MONDAY, reason="不符合条件")
    with pytest.raises(DomainError, match="不予受理 already"):
        attempt(case=done.state.cases["Q001"])


def test_a_case_has_one_unanswered_order_at_a_time() -> None:
    state = opened()
    with pytest.raises(DomainError, match="DB-1 still unanswered"):
        sv.open_order(
            state,
            a_case(),
            DISTRICT_SUPERVISOR,
            MONDAY,
            note="再次督办",
            reply_due=DUE,
            case_light=Light.RED,
            order_id="DB-2",
            hall_parents=PARENTS,
        )
    answered = sv.answer(
        state, "DB-1", DISTRICT_CLERK, MONDAY + timedelta(hours=1), case=a_case(), text="已加急办理"
    ).state
    again = sv.open_order(
        answered,
        a_case(),
        DISTRICT_SUPERVISOR,
        MONDAY + timedelta(days=1),
        note="再次督办",
        reply_due=DUE,
        case_light=Light.RED,
        order_id="DB-2",
        hall_parents=PARENTS,
    )
    assert [o.id for o in sv.orders_for_case(again.state, "Q001")] == ["DB-1", "DB-2"]


# -- answering -----------------------------------------------------------------------------------


def test_a_clerk_of_the_deciding_office_answers_and_the_answer_is_on_record() -> None:
    state = opened()
    assert [o.id for o in sv.unanswered_at(state, DISTRICT)] == ["DB-1"]
    decision = sv.answer(
        state, "DB-1", DISTRICT_CLERK, MONDAY + timedelta(hours=3), case=a_case(), text=" 材料已齐，明日办结 "
    )
    order = decision.state.orders["DB-1"]
    assert (order.answer, order.answered_by, order.answered_at) == (
        "材料已齐，明日办结",
        11,
        MONDAY + timedelta(hours=3),
    )
    assert [f.type for f in decision.facts] == ["supervision.answered"]
    assert decision.facts[0].data["late"] is False
    assert sv.unanswered_at(decision.state, DISTRICT) == []
    assert sv.orders_for_case(decision.state, "Q001") == [order]


def test_only_the_cases_assignee_or_a_clerk_of_the_deciding_office_answers() -> None:
    state = opened()
    for stranger in (COMMUNITY_CLERK, LABOUR_CLERK, DISTRICT_SUPERVISOR):
        with pytest.raises(Forbidden):
            sv.answer(state, "DB-1", stranger, MONDAY, case=a_case(), text="已处理")
    assigned = replace(a_case(), assignee=COMMUNITY_CLERK.staff_id)
    assert (
        sv.answer(state, "DB-1", COMMUNITY_CLERK, MONDAY, case=assigned, text="已处理").state.orders["DB-1"].answer
        == "已处理"
    )


def test_an_answer_needs_text_is_given_once_and_names_its_order() -> None:
    state = opened()
    with pytest.raises(DomainError, match="answer"):
        sv.answer(state, "DB-1", DISTRICT_CLERK, MONDAY, case=a_case(), text=" ")
    with pytest.raises(NotFound):
        sv.answer(state, "DB-9", DISTRICT_CLERK, MONDAY, case=a_case(), text="已处理")
    with pytest.raises(DomainError, match="about case Q001"):
        sv.answer(state, "DB-1", DISTRICT_CLERK, MONDAY, case=a_case("Q002"), text="已处理")
    answered = sv.answer(state, "DB-1", DISTRICT_CLERK, MONDAY, case=a_case(), text="已处理").state
    with pytest.raises(DomainError, match="answered already"):
        sv.answer(answered, "DB-1", DISTRICT_CLERK, MONDAY, case=a_case(), text="再答一次")


def test_a_refused_command_changes_nothing() -> None:
    state = opened()
    snapshot = copy.deepcopy(state)
    with pytest.raises(Forbidden):
        sv.answer(state, "DB-1", COMMUNITY_CLERK, MONDAY, case=a_case(), text="已处理")
    assert state == snapshot


# -- escalation ----------------------------------------------------------------------------------


def test_escalation_goes_reminder_then_yellow_card_then_red_card_each_once() -> None:
    state = opened()
    seen: list[tuple[str, datetime]] = []
    at = MONDAY
    while at <= DUE + FIX + timedelta(days=2):
        decision = tick(state, at)
        state = decision.state
        seen += [(f.type, at) for f in decision.facts]
        at += timedelta(hours=1)
    assert seen == [
        ("supervision.reminder", DUE - REMINDER),
        ("supervision.yellow_card", DUE),
        ("supervision.red_card", DUE + FIX),
    ]
    assert state.orders["DB-1"].level is EscalationLevel.RED_CARD


def test_the_yellow_card_carries_a_written_notice_with_its_fix_deadline_in_local_time() -> None:
    state = tick(tick(opened(), DUE - REMINDER).state, DUE).state
    order = state.orders["DB-1"]
    assert order.fix_due == DUE + FIX
    assert order.notice == (
        "督办黄牌通知：办件 Q001 的督办单 DB-1 答复期限 2026-11-25 09:30 已过，未收到答复。"
        "请于 2026-11-28 09:30 前整改并书面答复，逾期将亮红牌。"
    )


def test_a_late_tick_skips_the_pointless_reminder_but_gives_the_yellow_card_before_the_red() -> None:
    decision = tick(opened(), DUE + FIX + timedelta(hours=1))
    assert [f.type for f in decision.facts] == ["supervision.yellow_card", "supervision.red_card"]
    order = decision.state.orders["DB-1"]
    # The fix deadline counts from the reply deadline: a late tick gives no extra time.
    assert order.fix_due == DUE + FIX
    assert order.notice is not None


def test_an_answer_stops_escalation_and_leaves_any_card_on_record() -> None:
    state = tick(opened(), DUE + timedelta(hours=1)).state
    assert state.orders["DB-1"].level is EscalationLevel.YELLOW_CARD
    answered = sv.answer(state, "DB-1", DISTRICT_CLERK, DUE + timedelta(hours=2), case=a_case(), text="已整改")
    assert answered.facts[0].data["late"] is True
    later = tick(answered.state, DUE + FIX + timedelta(days=5))
    assert later.facts == ()
    assert later.state.orders["DB-1"].level is EscalationLevel.YELLOW_CARD


def test_an_order_answered_in_time_never_escalates() -> None:
    state = sv.answer(opened(), "DB-1", DISTRICT_CLERK, MONDAY + timedelta(hours=1), case=a_case(), text="已办结").state
    assert tick(state, DUE + FIX * 10).facts == ()


def test_each_order_escalates_on_its_own_deadline() -> None:
    first = opened(case=a_case("Q001"), order_id="DB-1")
    both = sv.open_order(
        first,
        a_case("Q002"),
        DISTRICT_SUPERVISOR,
        MONDAY,
        note="督办",
        reply_due=DUE + timedelta(hours=2),
        case_light=Light.RED,
        order_id="DB-2",
        hall_parents=PARENTS,
    ).state
    decision = tick(both, DUE)
    assert [(f.type, f.data["id"]) for f in decision.facts] == [
        ("supervision.yellow_card", "DB-1"),
        ("supervision.reminder", "DB-2"),
    ]


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.integers(0, 60 * 24 * 8), min_size=1, max_size=30),
    answer_after=st.none() | st.integers(0, 29),
)
def test_levels_only_rise_in_order_each_fact_once_and_none_after_an_answer(
    steps: list[int], answer_after: int | None
) -> None:
    state = opened()
    kinds: list[str] = []
    answered = False
    for n, minutes in enumerate(sorted(steps)):
        at = MONDAY + timedelta(minutes=minutes)
        before = state.orders["DB-1"].level
        decision = tick(state, at)
        state = decision.state
        if answered:
            assert decision.facts == ()
        kinds += [f.type.removeprefix("supervision.") for f in decision.facts]
        assert state.orders["DB-1"].level.rank >= before.rank
        if n == answer_after:
            state = sv.answer(state, "DB-1", DISTRICT_CLERK, at, case=a_case(), text="已处理").state
            answered = True
    assert len(kinds) == len(set(kinds))
    assert kinds == [k for k in ("reminder", "yellow_card", "red_card") if k in kinds]
    assert kinds[-1:] == [state.orders["DB-1"].level.value] or (not kinds and state.orders["DB-1"].level.rank == 0)
