"""Case workflow rules, pure: a case's road from a community hall to the district office that
decides it and back, 补正 and 退回, who may act where; then random command sequences that keep
every invariant (only allowed transitions, one history step per change, no reasonless refusal,
errors change nothing, terminal stages stay terminal, 补正 pauses never overlap, exact to-do lists)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cases import turns
from cases import workflow as wf
from cases.case_model import Actor, Applicant, Case, CasesState, ItemRules, Pause, Stage, Step
from cases.catalog import Level
from cases.workflow import MissingMaterials, NotAcceptedHere
from hall.kernel.errors import DomainError, Forbidden, NotFound, TransitionError
from hall.kernel.roles import Role

# Monday 2026-11-23, 09:30 in Beijing.
MONDAY = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
ID_NUMBER = "11010519491231002X"

# 区 1 ─ 街道 2 ─ 社区 3
#     └ 街道 4 ─ 社区 5
DISTRICT, STREET, COMMUNITY, OTHER_STREET, OTHER_COMMUNITY = 1, 2, 3, 4, 5
TREE = CasesState(
    parents={
        DISTRICT: None,
        STREET: DISTRICT,
        COMMUNITY: STREET,
        OTHER_STREET: DISTRICT,
        OTHER_COMMUNITY: OTHER_STREET,
    },
    levels={
        DISTRICT: Level.DISTRICT,
        STREET: Level.STREET,
        COMMUNITY: Level.COMMUNITY,
        OTHER_STREET: Level.STREET,
        OTHER_COMMUNITY: Level.COMMUNITY,
    },
)
EVERYWHERE = frozenset(Level)

# 残疾人证: accepted anywhere (通办), decided by the district's 民政 office.
DISABILITY = ItemRules(
    "disability-card", EVERYWHERE, Level.DISTRICT, time_limit_days=15, department="民政", materials=("申请表", "身份证")
)
# 高龄津贴: accepted at communities and streets, decided by the street.
ELDERLY = ItemRules(
    "elderly-allowance", frozenset({Level.COMMUNITY, Level.STREET}), Level.STREET, time_limit_days=10, department="民政"
)
# 营业执照: only the district accepts it.
LICENCE = ItemRules("business-licence", frozenset({Level.DISTRICT}), Level.DISTRICT, department="市场监管")

COMMUNITY_CLERK = Actor(31, frozenset({Role.CLERK}), COMMUNITY)
OTHER_COMMUNITY_CLERK = Actor(51, frozenset({Role.CLERK}), OTHER_COMMUNITY)
STREET_CLERK = Actor(21, frozenset({Role.CLERK}), STREET)
STREET_SUPERVISOR = Actor(25, frozenset({Role.SUPERVISOR}), STREET)
DISTRICT_CLERK = Actor(11, frozenset({Role.CLERK}), DISTRICT, department="民政")
DISTRICT_CLERK_2 = Actor(12, frozenset({Role.CLERK}), DISTRICT, department="民政")
LABOUR_CLERK = Actor(13, frozenset({Role.CLERK}), DISTRICT, department="人社")
DISTRICT_SUPERVISOR = Actor(15, frozenset({Role.SUPERVISOR}), DISTRICT)
TECHNICIAN = Actor(17, frozenset({Role.TECHNICIAN}), DISTRICT)
ADMIN = Actor(99, frozenset({Role.ADMIN}), DISTRICT)


def person() -> Applicant:
    return Applicant("张三丰", ID_NUMBER, "13812345678")


def accepted(
    state: CasesState = TREE, number: str = "Q001", *, item: ItemRules = DISABILITY, at: datetime = MONDAY
) -> CasesState:
    return wf.accept(
        state,
        item,
        COMMUNITY_CLERK,
        at,
        applicant=person(),
        hall=COMMUNITY,
        number=number,
        materials=("申请表", "身份证"),
    ).state


def numbers(cases: list[Case]) -> list[str]:
    return [c.number for c in cases]


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


# -- 三级联动: accepted at a community, decided at the district, collected at the community ---------


def test_a_case_accepted_at_a_community_is_decided_at_the_district_and_collected_where_it_began() -> None:
    taken = wf.accept(
        TREE,
        DISABILITY,
        COMMUNITY_CLERK,
        MONDAY,
        applicant=person(),
        hall=COMMUNITY,
        number="Q001",
        materials=["申请表", "身份证"],
    )
    case = taken.state.cases["Q001"]
    assert (case.stage, case.accepted_hall, case.deciding_hall, case.department) == (
        Stage.ACCEPTED,
        COMMUNITY,
        DISTRICT,
        "民政",
    )
    assert [f.type for f in taken.facts] == ["case.accepted"]
    # The fact is logged at both halls: the community follows its case, the district works it.
    assert taken.facts[0].data["halls"] == [DISTRICT, COMMUNITY]
    state = taken.state
    assert numbers(turns.todo(state, DISTRICT_CLERK)) == ["Q001"]
    assert turns.todo(state, COMMUNITY_CLERK) == []

    state = wf.review(state, "Q001", DISTRICT_CLERK, at(1), remark="材料齐全").state
    assert turns.todo(state, DISTRICT_CLERK) == []
    assert numbers(turns.todo(state, DISTRICT_SUPERVISOR)) == ["Q001"]

    state = wf.approve(state, "Q001", DISTRICT_SUPERVISOR, at(2), remark="同意").state
    assert numbers(turns.todo(state, DISTRICT_CLERK)) == ["Q001"]

    completed = wf.complete(state, "Q001", DISTRICT_CLERK, at(3), remark="证件已制作，送社区")
    assert completed.facts[0].data["halls"] == [DISTRICT, COMMUNITY]
    state = completed.state
    assert turns.todo(state, DISTRICT_CLERK) == []
    assert numbers(turns.todo(state, COMMUNITY_CLERK)) == ["Q001"]

    state = wf.collect(state, "Q001", COMMUNITY_CLERK, at(26), remark="本人领取").state
    case = state.cases["Q001"]
    assert case.stage is Stage.COLLECTED
    assert turns.todo(state, COMMUNITY_CLERK) == []
    assert [(s.stage_from, s.stage_to, s.actor, s.remark) for s in case.history] == [
        (None, Stage.ACCEPTED, 31, ""),
        (Stage.ACCEPTED, Stage.REVIEW, 11, "材料齐全"),
        (Stage.REVIEW, Stage.APPROVAL, 15, "同意"),
        (Stage.APPROVAL, Stage.COMPLETED, 11, "证件已制作，送社区"),
        (Stage.COMPLETED, Stage.COLLECTED, 31, "本人领取"),
    ]
    assert [s.at for s in case.history] == [MONDAY, at(1), at(2), at(3), at(26)]


def test_each_stage_has_its_chinese_name() -> None:
    assert [s.label for s in Stage] == ["受理", "审核", "审批", "办结", "领取", "不予受理"]


def test_the_deciding_hall_is_the_nearest_hall_above_at_the_items_decide_level() -> None:
    assert turns.route(TREE, COMMUNITY, Level.DISTRICT) == DISTRICT
    assert turns.route(TREE, COMMUNITY, Level.STREET) == STREET
    assert turns.route(TREE, OTHER_COMMUNITY, Level.STREET) == OTHER_STREET
    assert turns.route(TREE, STREET, Level.STREET) == STREET
    assert turns.route(TREE, DISTRICT, Level.COMMUNITY) is None
    state = wf.accept(
        TREE, ELDERLY, OTHER_COMMUNITY_CLERK, MONDAY, applicant=person(), hall=OTHER_COMMUNITY, number="E1"
    ).state
    assert state.cases["E1"].deciding_hall == OTHER_STREET


def test_an_item_is_accepted_only_at_the_levels_it_names() -> None:
    with pytest.raises(NotAcceptedHere, match="accepted at 区 halls"):
        wf.accept(TREE, LICENCE, COMMUNITY_CLERK, MONDAY, applicant=person(), hall=COMMUNITY, number="L1")
    # A district may accept an elderly allowance only if a street above decided it; none does.
    elderly_anywhere = ItemRules("elderly-allowance", EVERYWHERE, Level.STREET)
    with pytest.raises(NotAcceptedHere, match="no 街道 hall above hall 1"):
        wf.accept(TREE, elderly_anywhere, DISTRICT_CLERK, MONDAY, applicant=person(), hall=DISTRICT, number="E1")


def test_only_a_clerk_of_the_hall_accepts_there() -> None:
    with pytest.raises(Forbidden):
        wf.accept(
            TREE,
            DISABILITY,
            STREET_CLERK,
            MONDAY,
            applicant=person(),
            hall=COMMUNITY,
            number="Q1",
            materials=("申请表", "身份证"),
        )
    with pytest.raises(Forbidden):
        wf.accept(
            TREE,
            DISABILITY,
            DISTRICT_SUPERVISOR,
            MONDAY,
            applicant=person(),
            hall=DISTRICT,
            number="Q1",
            materials=("申请表", "身份证"),
        )
    with pytest.raises(NotFound):
        wf.accept(
            TREE, DISABILITY, ADMIN, MONDAY, applicant=person(), hall=77, number="Q1", materials=("申请表", "身份证")
        )


def test_a_case_with_missing_required_materials_is_not_accepted_and_all_gaps_are_named_at_once() -> None:
    with pytest.raises(MissingMaterials, match="申请表、身份证") as refused:
        wf.accept(
            TREE,
            DISABILITY,
            COMMUNITY_CLERK,
            MONDAY,
            applicant=person(),
            hall=COMMUNITY,
            number="Q001",
            materials=["户口簿"],
        )
    assert refused.value.details == {"missing": ["申请表", "身份证"]}


def test_case_numbers_are_unique() -> None:
    state = accepted()
    with pytest.raises(DomainError, match="taken"):
        accepted(state)


def test_an_applicant_needs_a_name_and_a_valid_id_number() -> None:
    with pytest.raises(DomainError, match="name"):
        Applicant(" ", ID_NUMBER)
    with pytest.raises(DomainError, match="ID number"):
        Applicant("张三", "110105194912310021")
    with pytest.raises(DomainError, match="phone"):
        Applicant("张三", ID_NUMBER, "call me")
    assert Applicant("张三", "11010519491231002x").id_number == ID_NUMBER


def test_facts_show_the_applicant_masked_and_the_case_record_keeps_the_full_identity() -> None:
    decision = wf.accept(
        TREE,
        DISABILITY,
        COMMUNITY_CLERK,
        MONDAY,
        applicant=person(),
        hall=COMMUNITY,
        number="Q001",
        materials=("申请表", "身份证"),
    )
    assert decision.facts[0].data["applicant"] == {
        "name": "张**",
        "id_number": "110***********002X",
        "phone": "138****5678",
    }
    assert ID_NUMBER not in repr(decision.facts) + repr(decision.result)
    assert "13812345678" not in repr(decision.facts) + repr(decision.result)
    assert decision.state.cases["Q001"].applicant == person()


# -- 补正 ----------------------------------------------------------------------------------------


def test_a_supplement_request_pauses_the_case_until_the_materials_arrive() -> None:
    state = accepted()
    asked = wf.request_supplement(state, "Q001", DISTRICT_CLERK, at(1), reason="户口簿复印件不清晰", wanted=["户口簿"])
    assert [f.type for f in asked.facts] == ["case.supplement_requested"]
    state = asked.state
    case = state.cases["Q001"]
    assert case.paused and case.stage is Stage.ACCEPTED
    assert case.pauses == (Pause(at(1), None, "户口簿复印件不清晰", 11, ("户口簿",)),)
    # Waiting on the resident: no one's to-do, and nothing moves on.
    assert turns.todo(state, DISTRICT_CLERK) == []
    with pytest.raises(TransitionError, match="waiting for 补正"):
        wf.review(state, "Q001", DISTRICT_CLERK, at(2))
    with pytest.raises(TransitionError, match="waiting for 补正"):
        wf.request_supplement(state, "Q001", DISTRICT_CLERK, at(2), reason="again")
    with pytest.raises(MissingMaterials, match="户口簿"):
        wf.supplement_received(state, "Q001", COMMUNITY_CLERK, at(30))

    # The resident brings it to the community where the case began (通办).
    back = wf.supplement_received(state, "Q001", COMMUNITY_CLERK, at(30), materials=["户口簿"])
    assert [f.type for f in back.facts] == ["case.supplement_received"]
    case = back.state.cases["Q001"]
    assert not case.paused
    assert case.pauses == (Pause(at(1), at(30), "户口簿复印件不清晰", 11, ("户口簿",)),)
    assert case.materials == ("户口簿", "申请表", "身份证")
    assert numbers(turns.todo(back.state, DISTRICT_CLERK)) == ["Q001"]


def test_supplement_materials_may_also_arrive_at_the_deciding_hall_but_not_elsewhere() -> None:
    state = wf.request_supplement(accepted(), "Q001", DISTRICT_CLERK, at(1), reason="签名缺失").state
    assert wf.supplement_received(state, "Q001", DISTRICT_CLERK_2, at(2)).state.cases["Q001"].paused is False
    with pytest.raises(Forbidden):
        wf.supplement_received(state, "Q001", STREET_CLERK, at(2))
    with pytest.raises(Forbidden):
        wf.supplement_received(state, "Q001", LABOUR_CLERK, at(2))


def test_supplement_is_asked_for_by_the_reviewer_before_review_passes_and_needs_a_reason() -> None:
    state = accepted()
    with pytest.raises(Forbidden):
        wf.request_supplement(state, "Q001", COMMUNITY_CLERK, at(1), reason="缺材料")
    with pytest.raises(DomainError, match="reason"):
        wf.request_supplement(state, "Q001", DISTRICT_CLERK, at(1), reason="  ")
    reviewed = wf.review(state, "Q001", DISTRICT_CLERK, at(1)).state
    with pytest.raises(TransitionError, match="'review' to 'supplement'"):
        wf.request_supplement(reviewed, "Q001", DISTRICT_SUPERVISOR, at(2), reason="缺材料")
    with pytest.raises(TransitionError):
        wf.supplement_received(state, "Q001", COMMUNITY_CLERK, at(1))


def test_a_case_waiting_for_supplement_may_be_refused_and_its_pause_closes() -> None:
    state = wf.request_supplement(accepted(), "Q001", DISTRICT_CLERK, at(1), reason="缺户口簿", wanted=["户口簿"]).state
    refused = wf.refuse(state, "Q001", DISTRICT_CLERK, at(24 * 6), reason="逾期未补正").state.cases["Q001"]
    assert refused.stage is Stage.REFUSED
    assert refused.pauses[-1].end == at(24 * 6)


# -- 退回 -----------------------------------------------------------------------------------------


def test_return_goes_back_one_stage_to_whoever_took_the_step_undone() -> None:
    state = accepted()
    state = wf.review(state, "Q001", DISTRICT_CLERK_2, at(1)).state
    returned = wf.return_to_previous(state, "Q001", DISTRICT_SUPERVISOR, at(2), remark="收入证明需重新核实")
    assert [f.type for f in returned.facts] == ["case.returned"]
    case = returned.state.cases["Q001"]
    assert case.stage is Stage.ACCEPTED
    assert case.assignee == DISTRICT_CLERK_2.staff_id
    assert case.history[-1] == Step(Stage.REVIEW, Stage.ACCEPTED, 15, at(2), "收入证明需重新核实", "returned")
    assert numbers(turns.todo(returned.state, DISTRICT_CLERK_2)) == ["Q001"]
    assert turns.todo(returned.state, DISTRICT_CLERK) == []

    state = wf.review(returned.state, "Q001", DISTRICT_CLERK_2, at(3)).state
    state = wf.approve(state, "Q001", DISTRICT_SUPERVISOR, at(4)).state
    state = wf.return_to_previous(state, "Q001", DISTRICT_CLERK, at(5), remark="审批意见缺签章").state
    assert (state.cases["Q001"].stage, state.cases["Q001"].assignee) == (Stage.REVIEW, DISTRICT_SUPERVISOR.staff_id)


def test_return_needs_a_remark_and_a_stage_to_go_back_to() -> None:
    state = accepted()
    with pytest.raises(TransitionError, match="'accepted' to 'back'"):
        wf.return_to_previous(state, "Q001", DISTRICT_CLERK, at(1), remark="退回")
    state = wf.review(state, "Q001", DISTRICT_CLERK, at(1)).state
    with pytest.raises(DomainError, match="remark"):
        wf.return_to_previous(state, "Q001", DISTRICT_SUPERVISOR, at(2), remark="")


# -- 不予受理 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_refusal_without_a_reason_is_not_accepted(reason: str) -> None:
    state = accepted()
    with pytest.raises(DomainError, match="reason is required"):
        wf.refuse(state, "Q001", DISTRICT_CLERK, at(1), reason=reason)


def test_a_refusal_records_its_reason_and_ends_the_case() -> None:
    state = wf.review(accepted(), "Q001", DISTRICT_CLERK, at(1)).state
    refused = wf.refuse(state, "Q001", DISTRICT_SUPERVISOR, at(2), reason=" 不符合申领条件 ")
    case = refused.state.cases["Q001"]
    assert (case.stage, case.refused_reason) == (Stage.REFUSED, "不符合申领条件")
    assert refused.facts[0].type == "case.refused"
    assert refused.facts[0].data["remark"] == "不符合申领条件"
    assert turns.todo(refused.state, DISTRICT_SUPERVISOR) == []
    assert turns.registered_by(refused.state, COMMUNITY_CLERK.staff_id) == []
    for step in (wf.review, wf.approve, wf.complete, wf.collect):
        with pytest.raises(TransitionError, match="'refused'"):
            step(refused.state, "Q001", ADMIN, at(3))


def test_once_approved_a_case_is_no_longer_refused() -> None:
    state = wf.approve(wf.review(accepted(), "Q001", DISTRICT_CLERK, at(1)).state, "Q001", ADMIN, at(2)).state
    with pytest.raises(TransitionError, match="'approval' to 'refused'"):
        wf.refuse(state, "Q001", DISTRICT_CLERK, at(3), reason="不符合条件")


# -- who acts, and bad input ---------------------------------------------------------------------


def test_a_step_by_the_wrong_role_or_hall_is_forbidden_and_changes_nothing() -> None:
    state = accepted()
    snapshot = copy.deepcopy(state)
    for actor in (COMMUNITY_CLERK, STREET_CLERK, LABOUR_CLERK, DISTRICT_SUPERVISOR, TECHNICIAN):
        with pytest.raises(Forbidden, match="only the clerk of hall 1 \\(民政\\)"):
            wf.review(state, "Q001", actor, at(1))
    assert state == snapshot
    state = wf.review(state, "Q001", DISTRICT_CLERK, at(1)).state
    with pytest.raises(Forbidden, match="only the supervisor of hall 1"):
        wf.approve(state, "Q001", STREET_SUPERVISOR, at(2))
    with pytest.raises(Forbidden):
        wf.approve(state, "Q001", DISTRICT_CLERK, at(2))


def test_a_step_from_the_wrong_stage_names_both_stages_and_changes_nothing() -> None:
    state = accepted()
    snapshot = copy.deepcopy(state)
    with pytest.raises(TransitionError, match="case Q001 cannot go from 'accepted' to 'completed'") as wrong:
        wf.complete(state, "Q001", DISTRICT_CLERK, at(1))
    assert wrong.value.details == {"current": "accepted", "wanted": "completed"}
    with pytest.raises(TransitionError):
        wf.collect(state, "Q001", COMMUNITY_CLERK, at(1))
    with pytest.raises(NotFound):
        wf.review(state, "Q404", DISTRICT_CLERK, at(1))
    assert state == snapshot


def test_admin_may_take_any_step_at_any_hall_but_nothing_waits_on_admin() -> None:
    state = accepted()
    assert turns.todo(state, ADMIN) == []
    for step in (wf.review, wf.approve, wf.complete, wf.collect):
        state = step(state, "Q001", ADMIN, at(1)).state
    assert state.cases["Q001"].stage is Stage.COLLECTED


def test_a_step_dated_before_the_last_one_is_refused() -> None:
    state = wf.review(accepted(), "Q001", DISTRICT_CLERK, at(2)).state
    with pytest.raises(DomainError, match="later than"):
        wf.approve(state, "Q001", DISTRICT_SUPERVISOR, at(1))


def test_a_clerk_of_another_department_at_the_deciding_hall_does_not_see_the_case() -> None:
    state = accepted()
    assert turns.todo(state, LABOUR_CLERK) == []
    generalist = Actor(14, frozenset({Role.CLERK}), DISTRICT)
    assert numbers(turns.todo(state, generalist)) == ["Q001"]


# -- assignment ----------------------------------------------------------------------------------


def test_an_assigned_case_waits_on_its_assignee_alone() -> None:
    state = accepted()
    assigned = wf.assign(state, "Q001", DISTRICT_SUPERVISOR, at(1), assignee=DISTRICT_CLERK_2.staff_id)
    assert assigned.facts[0].type == "case.assigned"
    state = assigned.state
    assert turns.todo(state, DISTRICT_CLERK) == []
    assert numbers(turns.todo(state, DISTRICT_CLERK_2)) == ["Q001"]
    with pytest.raises(Forbidden, match="staff 12, assigned to it"):
        wf.review(state, "Q001", DISTRICT_CLERK, at(2))
    reviewed = wf.review(state, "Q001", DISTRICT_CLERK_2, at(2)).state
    # The next step belongs to another role: the assignment does not follow the case.
    assert reviewed.cases["Q001"].assignee is None


def test_a_clerk_may_claim_an_unassigned_case_waiting_on_them_but_not_assign_others() -> None:
    state = accepted()
    claimed = wf.assign(state, "Q001", DISTRICT_CLERK, at(1), assignee=DISTRICT_CLERK.staff_id).state
    assert claimed.cases["Q001"].assignee == DISTRICT_CLERK.staff_id
    with pytest.raises(Forbidden):
        wf.assign(claimed, "Q001", DISTRICT_CLERK_2, at(2), assignee=DISTRICT_CLERK_2.staff_id)
    with pytest.raises(Forbidden):
        wf.assign(state, "Q001", DISTRICT_CLERK, at(1), assignee=DISTRICT_CLERK_2.staff_id)
    with pytest.raises(Forbidden):
        wf.assign(state, "Q001", STREET_SUPERVISOR, at(1), assignee=21)


# -- to-do and my registered cases ---------------------------------------------------------------


def test_todo_and_registered_cases_list_exactly_the_right_cases() -> None:
    state = TREE
    for n, hour in (("Q1", 0), ("Q2", 1), ("Q3", 2), ("Q4", 3), ("Q5", 4)):
        state = accepted(state, n, at=at(hour))
    state = wf.accept(state, ELDERLY, STREET_CLERK, at(5), applicant=person(), hall=STREET, number="E1").state
    state = wf.review(state, "Q2", DISTRICT_CLERK, at(6)).state
    state = wf.review(state, "Q3", DISTRICT_CLERK, at(6)).state
    state = wf.approve(state, "Q3", DISTRICT_SUPERVISOR, at(7)).state
    state = wf.complete(state, "Q3", DISTRICT_CLERK, at(8)).state
    state = wf.request_supplement(state, "Q4", DISTRICT_CLERK, at(9), reason="缺照片").state
    state = wf.refuse(state, "Q5", DISTRICT_CLERK, at(10), reason="重复申请").state

    assert numbers(turns.todo(state, DISTRICT_CLERK)) == ["Q1"]
    assert numbers(turns.todo(state, DISTRICT_SUPERVISOR)) == ["Q2"]
    assert numbers(turns.todo(state, COMMUNITY_CLERK)) == ["Q3"]
    assert numbers(turns.todo(state, STREET_CLERK)) == ["E1"]
    assert turns.todo(state, STREET_SUPERVISOR) == []
    assert numbers(turns.registered_by(state, COMMUNITY_CLERK.staff_id)) == ["Q1", "Q2", "Q4"]
    assert numbers(turns.registered_by(state, STREET_CLERK.staff_id)) == ["E1"]
    assert turns.registered_by(state, DISTRICT_CLERK.staff_id) == []


# -- random command sequences --------------------------------------------------------------------

ACTORS = (
    COMMUNITY_CLERK,
    OTHER_COMMUNITY_CLERK,
    STREET_CLERK,
    STREET_SUPERVISOR,
    Actor(41, frozenset({Role.CLERK}), OTHER_STREET),
    Actor(45, frozenset({Role.SUPERVISOR}), OTHER_STREET),
    Actor(16, frozenset({Role.CLERK}), DISTRICT, department="市场监管"),
    DISTRICT_CLERK,
    DISTRICT_CLERK_2,
    LABOUR_CLERK,
    DISTRICT_SUPERVISOR,
    TECHNICIAN,
    ADMIN,
)
ITEMS = (DISABILITY, ELDERLY, LICENCE)
HALLS = (DISTRICT, STREET, COMMUNITY, OTHER_STREET, OTHER_COMMUNITY)
# The specification's transitions: (from, to) → the role that takes it and at which of the case's halls.
ALLOWED = {
    (Stage.ACCEPTED, Stage.REVIEW): (Role.CLERK, "deciding"),
    (Stage.REVIEW, Stage.APPROVAL): (Role.SUPERVISOR, "deciding"),
    (Stage.APPROVAL, Stage.COMPLETED): (Role.CLERK, "deciding"),
    (Stage.COMPLETED, Stage.COLLECTED): (Role.CLERK, "accepting"),
    (Stage.ACCEPTED, Stage.REFUSED): (Role.CLERK, "deciding"),
    (Stage.REVIEW, Stage.REFUSED): (Role.SUPERVISOR, "deciding"),
    (Stage.REVIEW, Stage.ACCEPTED): (Role.SUPERVISOR, "deciding"),
    (Stage.APPROVAL, Stage.REVIEW): (Role.CLERK, "deciding"),
}
WAITS_ON = {
    Stage.ACCEPTED: (Role.CLERK, "deciding"),
    Stage.REVIEW: (Role.SUPERVISOR, "deciding"),
    Stage.APPROVAL: (Role.CLERK, "deciding"),
    Stage.COMPLETED: (Role.CLERK, "accepting"),
}

NEXT_STEP: dict[Stage, Callable[..., wf.Result]] = {
    Stage.ACCEPTED: wf.review,
    Stage.REVIEW: wf.approve,
    Stage.APPROVAL: wf.complete,
    Stage.COMPLETED: wf.collect,
}


def _hall_of(case: Case, where: str) -> int:
    return case.accepted_hall if where == "accepting" else case.deciding_hall


def _holds(actor: Actor, case: Case, role: Role, where: str) -> bool:
    return (
        role in actor.roles
        and actor.hall_id == _hall_of(case, where)
        and (where == "accepting" or actor.department in (None, case.department))
    )


class CaseMachine(RuleBasedStateMachine):
    """Random days across the hall tree: every command from every kind of staff member."""

    def __init__(self) -> None:
        super().__init__()
        self.state = TREE
        self.now = MONDAY
        self.issued = 0

    def _try(self, number: str, command: Callable[[], wf.Result]) -> None:
        before = copy.deepcopy(self.state)
        try:
            decision = command()
        except DomainError:
            assert self.state == before, "a refused command changed the state"
            return
        after = decision.state
        assert self.state == before, "a command changed the state it was given"
        changed = {n for n, c in after.cases.items() if before.cases.get(n) != c}
        assert changed == {number}, "a command changed another case"
        old, new = before.cases.get(number), after.cases[number]
        assert len(new.history) == (len(old.history) if old else 0) + 1, "not exactly one history step"
        step = new.history[-1]
        assert step.stage_from == (old.stage if old else None)
        assert step.stage_to == new.stage
        assert step.at == self.now
        assert [f.type for f in decision.facts] == [f"case.{step.action}"]
        assert ID_NUMBER not in repr(decision.facts)
        if old is not None:
            assert old.stage not in (Stage.COLLECTED, Stage.REFUSED), "a terminal case changed"
            if old.stage is not new.stage:
                assert (old.stage, new.stage) in ALLOWED, f"{old.stage} → {new.stage} is not a transition"
                role, where = ALLOWED[old.stage, new.stage]
                actor = next(a for a in ACTORS if a.staff_id == step.actor)
                assert actor.admin or _holds(actor, old, role, where), f"{actor} may not take {step.action}"
                assert actor.admin or old.assignee in (None, actor.staff_id)
            if old.stage is Stage.COMPLETED:
                assert new.stage in (Stage.COMPLETED, Stage.COLLECTED)
        self.state = after

    def _draw_case(self, data: st.DataObject) -> Case:
        # Mostly cases still under way: a finished one only shows that it stays finished.
        live = sorted(n for n, c in self.state.cases.items() if c.stage not in (Stage.COLLECTED, Stage.REFUSED))
        every = sorted(self.state.cases)
        return self.state.cases[data.draw(st.sampled_from(live or every) | st.sampled_from(every), label="case")]

    def _draw_actor(self, data: st.DataObject, case: Case) -> Actor:
        """Anyone at all, or someone the specification says the case waits on: without the
        second, runs would rarely get past review."""
        if case.stage in WAITS_ON and data.draw(st.booleans(), label="rightful"):
            role, where = WAITS_ON[case.stage]
            rightful = [a for a in ACTORS if _holds(a, case, role, where) and case.assignee in (None, a.staff_id)]
            if rightful:
                return data.draw(st.sampled_from(rightful), label="actor")
        return data.draw(st.sampled_from(ACTORS), label="actor")

    @rule(hours=st.integers(0, 30))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    # A few cases at a time, so that runs take them far along rather than open many.
    @precondition(
        lambda self: sum(c.stage not in (Stage.COLLECTED, Stage.REFUSED) for c in self.state.cases.values()) < 3
    )
    @rule(data=st.data(), item=st.sampled_from(ITEMS), hall=st.sampled_from(HALLS), complete=st.booleans())
    def accept(self, data: st.DataObject, item: ItemRules, hall: int, complete: bool) -> None:
        clerks = [a for a in ACTORS if Role.CLERK in a.roles and a.hall_id == hall]
        actor = data.draw(st.sampled_from(clerks or list(ACTORS)) | st.sampled_from(ACTORS), label="actor")
        materials = set(item.materials) if complete else data.draw(st.sets(st.sampled_from(["申请表", "身份证"])))
        self.issued += 1
        number = f"C{self.issued:04d}"
        self._try(
            number,
            lambda: wf.accept(
                self.state, item, actor, self.now, applicant=person(), hall=hall, number=number, materials=materials
            ),
        )

    @precondition(lambda self: bool(self.state.cases))
    @rule(data=st.data(), step=st.sampled_from([None, wf.review, wf.approve, wf.complete, wf.collect]))
    def forward(self, data: st.DataObject, step: Callable[..., wf.Result] | None) -> None:
        case = self._draw_case(data)
        actor = self._draw_actor(data, case)
        # None: the step the case's stage leads to.
        chosen = step or NEXT_STEP.get(case.stage, wf.review)
        self._try(case.number, lambda: chosen(self.state, case.number, actor, self.now, remark="ok"))

    @precondition(lambda self: bool(self.state.cases))
    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """The road as it should go: the next step, by someone the case waits on."""
        case = self._draw_case(data)
        if case.stage not in NEXT_STEP:
            return
        role, where = WAITS_ON[case.stage]
        rightful = [a for a in ACTORS if _holds(a, case, role, where) and case.assignee in (None, a.staff_id)]
        actor = data.draw(st.sampled_from(rightful or [ADMIN]), label="actor")
        self._try(case.number, lambda: NEXT_STEP[case.stage](self.state, case.number, actor, self.now, remark="ok"))

    @precondition(lambda self: bool(self.state.cases))
    @rule(data=st.data(), reason=st.sampled_from(["", "  ", "不符合受理条件"]))
    def refuse(self, data: st.DataObject, reason: str) -> None:
        case = self._draw_case(data)
        actor = self._draw_actor(data, case)
        self._try(case.number, lambda: wf.refuse(self.state, case.number, actor, self.now, reason=reason))

    @precondition(lambda self: bool(self.state.cases))
    @rule(data=st.data(), wanted=st.sampled_from([(), ("户口簿",)]))
    def request_supplement(self, data: st.DataObject, wanted: tuple[str, ...]) -> None:
        case = self._draw_case(data)
        actor = self._draw_actor(data, case)
        self._try(
            case.number,
            lambda: wf.request_supplement(self.state, case.number, actor, self.now, reason="补正", wanted=wanted),
        )

    @precondition(lambda self: bool(self.state.cases))
    @rule(data=st.data(), brought=st.sampled_from([(), ("户口簿",)]))
    def supplement_received(self, data: st.DataObject, brought: tuple[str, ...]) -> None:
        case = self._draw_case(data)
        actor = self._draw_actor(data, case)
        self._try(
            case.number, lambda: wf.supplement_received(self.state, case.number, actor, self.now, materials=brought)
        )

    @precondition(lambda self: bool(self.state.cases))
    @rule(data=st.data(), remark=st.sampled_from(["", "请重新核实"]))
    def return_to_previous(self, data: st.DataObject, remark: str) -> None:
        case = self._draw_case(data)
        actor = self._draw_actor(data, case)
        self._try(case.number, lambda: wf.return_to_previous(self.state, case.number, actor, self.now, remark=remark))

    @precondition(lambda self: bool(self.state.cases))
    @rule(data=st.data(), to=st.sampled_from([None, 11, 12, 15, 31]))
    def assign(self, data: st.DataObject, to: int | None) -> None:
        case = self._draw_case(data)
        actor = data.draw(st.sampled_from(ACTORS), label="actor")
        self._try(case.number, lambda: wf.assign(self.state, case.number, actor, self.now, assignee=to))

    @invariant()
    def no_case_is_refused_without_a_reason(self) -> None:
        for case in self.state.cases.values():
            if case.stage is Stage.REFUSED:
                assert case.refused_reason
                assert case.history[-1].remark == case.refused_reason
            else:
                assert case.refused_reason is None

    @invariant()
    def pauses_never_overlap_and_each_closes_before_the_next_opens(self) -> None:
        for case in self.state.cases.values():
            for earlier, later in zip(case.pauses, case.pauses[1:], strict=False):
                assert earlier.end is not None
                assert earlier.start <= earlier.end <= later.start
            if case.paused:
                assert case.stage is Stage.ACCEPTED

    @invariant()
    def each_history_is_one_unbroken_chain_ending_at_the_stage(self) -> None:
        for case in self.state.cases.values():
            assert case.history[0].stage_from is None
            for earlier, later in zip(case.history, case.history[1:], strict=False):
                assert earlier.stage_to == later.stage_from
                assert earlier.at <= later.at
            assert case.history[-1].stage_to is case.stage

    @invariant()
    def the_todo_lists_are_exactly_the_cases_waiting_on_each_person(self) -> None:
        for actor in ACTORS:
            expected = []
            for case in self.state.cases.values():
                if case.stage not in WAITS_ON or case.paused:
                    continue
                role, where = WAITS_ON[case.stage]
                if _holds(actor, case, role, where) and case.assignee in (None, actor.staff_id):
                    expected.append(case.number)
            assert sorted(numbers(turns.todo(self.state, actor))) == sorted(expected)

    @invariant()
    def registered_cases_are_those_not_yet_finished(self) -> None:
        for actor in ACTORS:
            expected = {
                n
                for n, c in self.state.cases.items()
                if c.registered_by == actor.staff_id
                and c.stage not in (Stage.COMPLETED, Stage.COLLECTED, Stage.REFUSED)
            }
            assert set(numbers(turns.registered_by(self.state, actor.staff_id))) == expected


TestCaseMachine = CaseMachine.TestCase
TestCaseMachine.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
