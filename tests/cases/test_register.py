"""The case register's clock, pure: lights turn exactly when the working-day rules say, each change
is one event, and 补正 pauses hold a case's light; numbers, notices and ratings as residents meet them.

The property test drives random cases through random steps, pauses and clock ticks across 2026's
holidays and adjusted working days, and checks after every tick that each case's light is the one
:func:`cases.lights.light_for` reads straight off its clocks, and that every change was announced
once and only once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import register
from cases.case_model import Actor, Applicant, CasesState, Stage
from cases.case_timing import stage_clock
from cases.catalog import Item, Level
from cases.catalog_io import sample_catalog
from cases.deadlines import Pause
from cases.lights import CaseClock, Light, light_for
from cases.register import Register
from hall.kernel.errors import DomainError, NotFound
from hall.kernel.roles import Role

DISTRICT, STREET, COMMUNITY = 1, 2, 3
TREE = CasesState(
    parents={DISTRICT: None, STREET: DISTRICT, COMMUNITY: STREET},
    levels={DISTRICT: Level.DISTRICT, STREET: Level.STREET, COMMUNITY: Level.COMMUNITY},
)
CATALOG = sample_catalog()
# Items a community hall accepts for the district, with their stage limits: MZ-006 (10 days),
# CL-002 (15), MZ-001 (20), CL-003 (15, proxied).
ITEMS = [CATALOG["MZ-006"], CATALOG["CL-002"], CATALOG["MZ-001"], CATALOG["CL-003"]]
COMMUNITY_CLERK = Actor(11, frozenset({Role.CLERK}), COMMUNITY)
DISTRICT_CLERK = Actor(21, frozenset({Role.CLERK}), DISTRICT)
DISTRICT_SUPERVISOR = Actor(22, frozenset({Role.SUPERVISOR}), DISTRICT)
SETTINGS = register.RegisterSettings()
# Monday 2026-09-21 09:30 Beijing: the runs cross 中秋 (Fri Sept 25 off), 国庆 (Oct 1-7 off) and the
# adjusted working Saturday Oct 10 of 2026's schedule.
START = datetime(2026, 9, 21, 1, 30, tzinfo=UTC)
APPLICANT = Applicant("王秀英", "11010519491231002X", "13800138000")


def _empty() -> Register:
    return Register(root=DISTRICT, cases=TREE)


def _accept(reg: Register, item: Item, now: datetime) -> tuple[Register, str]:
    materials = [m.name for m in item.required_materials]
    decided = register.accept(
        reg, item, COMMUNITY_CLERK, now, applicant=APPLICANT, hall=COMMUNITY, settings=SETTINGS, materials=materials
    )
    return decided.state, decided.result["case"]["number"]


def _clock_of(reg: Register, number: str) -> CaseClock:
    case = reg.cases.cases[number]
    pauses = tuple(Pause(p.start, p.end, p.reason) for p in case.pauses)
    return CaseClock(number, case.accepted_at, case.time_limit_days, pauses, stage_clock(case, CATALOG.get(case.item)))


def test_numbers_run_per_local_day_and_carry_the_register() -> None:
    reg = _empty()
    reg, first = _accept(reg, ITEMS[0], START)
    reg, second = _accept(reg, ITEMS[0], START + timedelta(minutes=5))
    # 16:30 UTC is 00:30 the next day in Beijing: a new day, numbers start again.
    reg, third = _accept(reg, ITEMS[0], START + timedelta(hours=15))
    assert (first, second, third) == ("2026092100100001", "2026092100100002", "2026092200100001")


def test_intake_owes_the_applicant_a_confirmation_and_completion_a_collection_notice() -> None:
    reg, number = _accept(_empty(), ITEMS[0], START)
    assert [(n.number, n.kind) for n in reg.notices] == [(number, "accepted")]
    now = START + timedelta(hours=1)
    for action, actor in (("review", DISTRICT_CLERK), ("approve", DISTRICT_SUPERVISOR), ("complete", DISTRICT_CLERK)):
        reg = register.act(reg, number, actor, now, action=action, settings=SETTINGS, item=ITEMS[0]).state
    assert [n.kind for n in reg.notices] == ["accepted", "ready"]
    reg = register.act(reg, number, COMMUNITY_CLERK, now, action="collect", settings=SETTINGS, item=ITEMS[0]).state
    assert [n.kind for n in reg.notices] == ["accepted", "ready", "rate"]


def test_a_case_turns_yellow_then_red_in_one_event_each() -> None:
    reg, _number = _accept(_empty(), ITEMS[0], START)
    lights = []
    moment = START
    for _ in range(60 * 24):  # every hour for 60 days
        moment += timedelta(hours=1)
        decided = register.tick(reg, moment, SETTINGS, CATALOG.by_code)
        reg = decided.state
        lights += [f.data["light"] for f in decided.facts if f.type == "case.light"]
    assert lights == ["yellow", "red"]


def test_a_midway_reminder_is_owed_once_half_the_time_is_gone() -> None:
    reg, _number = _accept(_empty(), ITEMS[2], START)
    reg = replace(reg, notices=())
    kinds = []
    moment = START
    for _ in range(40):
        moment += timedelta(days=1)
        reg = register.tick(reg, moment, SETTINGS, CATALOG.by_code).state
        kinds += [n.kind for n in reg.notices]
        reg = replace(reg, notices=())
    assert kinds == ["midway"]


def test_rating_needs_the_phone_tail_a_completed_case_and_happens_once() -> None:
    reg, number = _accept(_empty(), ITEMS[0], START)
    with pytest.raises(DomainError):
        register.rate(reg, number, START, phone_tail="8000", level=5, comment="")  # not completed yet
    for action, actor in (("review", DISTRICT_CLERK), ("approve", DISTRICT_SUPERVISOR), ("complete", DISTRICT_CLERK)):
        reg = register.act(reg, number, actor, START, action=action, settings=SETTINGS, item=ITEMS[0]).state
    with pytest.raises(NotFound):
        register.rate(reg, number, START, phone_tail="1234", level=5, comment="")
    with pytest.raises(DomainError, match="what went wrong"):
        register.rate(reg, number, START, phone_tail="8000", level=2, comment="")
    reg = register.rate(reg, number, START, phone_tail="8000", level=5, comment="").state
    with pytest.raises(DomainError, match="rated"):
        register.rate(reg, number, START, phone_tail="8000", level=4, comment="")


def test_a_case_waiting_for_supplement_keeps_its_light_and_runs_on_when_the_materials_arrive() -> None:
    item = ITEMS[0]  # 10 working days, review stage 6
    reg, number = _accept(_empty(), item, START)
    reg = register.act(
        reg,
        number,
        DISTRICT_CLERK,
        START + timedelta(hours=2),
        action="supplement",
        settings=SETTINGS,
        item=item,
        remark="缺材料",
    ).state
    later = START + timedelta(days=60)
    decided = register.tick(reg, later, SETTINGS, CATALOG.by_code)
    assert decided.facts == () and decided.state.meta[number].light is Light.GREEN
    reg = register.act(
        decided.state, number, COMMUNITY_CLERK, later, action="supplement_received", settings=SETTINGS, item=item
    ).state
    assert reg.meta[number].due is not None and reg.meta[number].due > later
    assert light_for(_clock_of(reg, number), later) is Light.GREEN


STEP = st.sampled_from(["tick", "tick", "tick", "advance", "pause", "resume", "accept"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(STEP, st.integers(1, 60 * 60 * 30), st.integers(0, 3)), min_size=5, max_size=60),
    st.sampled_from(ITEMS),
)
def test_lights_follow_the_rules_and_each_change_is_announced_once(
    steps: list[tuple[str, int, int]], first_item: Item
) -> None:
    reg, number = _accept(_empty(), first_item, START)
    numbers = [number]
    announced = {number: reg.meta[number].light}
    now = START
    for kind, seconds, pick in steps:
        now += timedelta(seconds=seconds)
        number = numbers[pick % len(numbers)]
        case = reg.cases.cases[number]
        item = CATALOG[case.item]
        try:
            if kind == "accept":
                reg, new = _accept(reg, ITEMS[pick], now)
                numbers.append(new)
                announced[new] = reg.meta[new].light
                continue
            if kind == "advance":
                action, actor = {
                    Stage.ACCEPTED: ("review", DISTRICT_CLERK),
                    Stage.REVIEW: ("approve", DISTRICT_SUPERVISOR),
                    Stage.APPROVAL: ("complete", DISTRICT_CLERK),
                }.get(case.stage, ("collect", COMMUNITY_CLERK))
                decided = register.act(reg, number, actor, now, action=action, settings=SETTINGS, item=item)
            elif kind == "pause":
                decided = register.act(
                    reg,
                    number,
                    DISTRICT_CLERK,
                    now,
                    action="supplement",
                    settings=SETTINGS,
                    item=item,
                    remark="缺少收入证明",
                )
            elif kind == "resume":
                decided = register.act(
                    reg, number, COMMUNITY_CLERK, now, action="supplement_received", settings=SETTINGS, item=item
                )
            else:
                decided = register.tick(reg, now, SETTINGS, CATALOG.by_code)
        except DomainError:
            continue  # not allowed from here: nothing changed, the rules' own tests cover why
        for fact in decided.facts:
            if fact.type == "case.light":
                changed = fact.data["number"]
                assert Light(fact.data["light"]) is not announced[changed], "a light announced twice"
                announced[changed] = Light(fact.data["light"])
        reg = decided.state
        if kind != "tick":
            continue
        for each in numbers:
            case = reg.cases.cases[each]
            if case.stage.finished:
                continue
            expected = light_for(_clock_of(reg, each), now)
            assert reg.meta[each].light is expected, (each, case.stage, now)
            assert announced[each] is expected


def test_a_deadline_in_a_year_without_an_official_schedule_is_counted_on_weekdays_and_marked_provisional() -> None:
    # Monday 2026-12-21: 20 working days reach into 2027, for which chinese-calendar has no data yet.
    december = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)
    reg, number = _accept(_empty(), CATALOG["MZ-001"], december)
    meta = reg.meta[number]
    assert meta.provisional and meta.due is not None
    assert meta.due.year == 2027 and meta.due.astimezone(SETTINGS.hours.tz).weekday() < 5
    # A case due within the known year is not provisional.
    reg, number = _accept(reg, CATALOG["MZ-006"], START)
    assert not reg.meta[number].provisional


def test_a_clock_set_back_across_midnight_never_reuses_a_number() -> None:
    reg, first = _accept(_empty(), ITEMS[0], START + timedelta(days=1))
    reg, second = _accept(reg, ITEMS[0], START)  # the clock went back a day
    assert second != first and second > first


def test_a_reply_deadline_years_ahead_is_refused_and_an_order_is_answered_only_through_its_case() -> None:
    reg, number = _accept(_empty(), ITEMS[0], START)
    reg, other = _accept(reg, ITEMS[0], START)
    late = START + timedelta(days=40)
    reg = register.tick(reg, late, SETTINGS, CATALOG.by_code).state
    with pytest.raises(DomainError, match="at most 30 days"):
        register.open_order(
            reg,
            number,
            DISTRICT_SUPERVISOR,
            late,
            note="请说明原因",
            reply_due=datetime(9999, 1, 1, tzinfo=UTC),
            order_id="DB1",
        )
    reg = register.open_order(
        reg, number, DISTRICT_SUPERVISOR, late, note="请说明原因", reply_due=late + timedelta(days=2), order_id="DB1"
    ).state
    with pytest.raises(NotFound):
        register.answer_order(reg, other, DISTRICT_CLERK, late, order_id="DB1", text="已处理")
    answered = register.answer_order(reg, number, DISTRICT_CLERK, late, order_id="DB1", text="已处理")
    assert answered.state.orders.orders["DB1"].answered


def test_a_light_says_whether_it_is_for_the_stage_or_the_whole_case_with_that_clocks_due_time() -> None:
    """A stage that runs over (环节超时) turns the case red while its deadline is still ahead: the
    light says so and names the stage's due time, not the case's."""
    from cases.board import case_json
    from cases.case_timing import light_reason

    item = ITEMS[0]
    assert item.stage_limits is not None
    reg, number = _accept(_empty(), item, START)
    meta = reg.meta_of(number)
    assert meta.stage == "review" and meta.stage_due is not None and meta.due is not None
    assert meta.stage_due < meta.due
    # Green: for nothing.
    assert light_reason(meta, register.light_now(meta, START), START).clock is None
    # Just past the stage's limit, long before the case's: red, for the review stage.
    late_stage = meta.stage_due + timedelta(minutes=1)
    assert late_stage < meta.due
    shown = register.light_now(meta, late_stage)
    assert shown is Light.RED
    reason = light_reason(meta, shown, late_stage)
    assert (reason.clock, reason.stage, reason.due) == ("stage", "review", meta.stage_due)
    row = case_json(reg.case(number), meta, late_stage)
    assert (row["light_now"], row["light_for"], row["light_due"]) == ("red", "stage", meta.stage_due.isoformat())
    # Past the case's own deadline: red for the case, whatever the stage.
    after = meta.due + timedelta(minutes=1)
    reason = light_reason(meta, register.light_now(meta, after), after)
    assert (reason.clock, reason.due) == ("case", meta.due)
    # Once reviewed, the approval stage's clock takes over and the review's no longer counts.
    reviewed = register.act(reg, number, DISTRICT_CLERK, START, action="review", settings=SETTINGS, item=item)
    assert reviewed.state.meta_of(number).stage == "approve"


def test_lists_put_red_cases_first_then_yellow_then_green() -> None:
    from cases.board import red_first

    reg = _empty()
    numbers = []
    for days in (0, 1, 2):  # stage clocks count from the next working day: one day apart each
        reg, number = _accept(reg, ITEMS[0], START + timedelta(days=days))
        numbers.append(number)
    # Just past the oldest case's stage limit: it is red, the younger ones are not yet.
    stage_due = reg.meta_of(numbers[0]).stage_due
    assert stage_due is not None
    at = stage_due + timedelta(minutes=2)
    lights = {n: register.light_now(reg.meta_of(n), at) for n in numbers}
    ordered = [c.number for c in red_first([reg.case(n) for n in reversed(numbers)], reg, at)]
    assert [lights[n].rank for n in ordered] == sorted((lights[n].rank for n in numbers), reverse=True)
    assert ordered[0] == numbers[0] and lights[numbers[0]] is Light.RED
    assert lights[numbers[-1]] is not Light.RED


def test_the_case_clock_ticks_once_per_hall_tree_at_its_root_reaching_every_hall_of_it() -> None:
    from cases.clock import case_tick_commands

    names = iter(f"tick-{n:04d}" for n in range(10))
    # Two trees: district 1 with street 2 and community 3; a lone hall 7.
    ticks = case_tick_commands({1: None, 2: 1, 3: 2, 7: None}, lambda: next(names))
    assert [(c.hall_id, c.name, c.also, c.record) for c in ticks] == [
        (1, "case.tick", (1, 2, 3), False),
        (7, "case.tick", (7,), False),
    ]
    assert [c.id for c in ticks] == ["tick-0000", "tick-0001"]
