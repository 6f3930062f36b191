"""The staff pages for cases: the lists (待办), the case record, the supervision board, and the hall's
``cases`` topic that keeps them live.

The applicant's full ID number is on the case record only, for staff of the case's halls (or the
halls above them); lists, topics and every public view carry it masked or not at all.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hall.storage.tables import staff
from tests.factories import add_staff
from tests.site import Site

ID_NUMBER = "11010519491231002X"
MASKED = "110***********002X"
MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]


def _accept(site: Site, token: str, hall: int, **changes: Any) -> str:
    body = {
        "item": "MZ-006",
        "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": "138-0013-8000"},
        "materials": MATERIALS,
        "counter": 1,
        **changes,
    }
    answer = site.post(f"/api/v1/halls/{hall}/cases", token, body)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["case"]["number"])


def _community_case(site: Site) -> str:
    """A case accepted at the community station and decided by the district office (三级联动)."""
    token = site.login("community-clerk")
    return _accept(site, token, site.halls["xh-hp-ly"])


def _steps(html: str) -> list[str]:
    return re.findall(r'data-step="([a-z_]+)"', html)


def _until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(50):
        frame = json.loads(ws.receive_text())
        if frame["type"] == kind:
            return frame  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind} frame")


# -- who may open them ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "lists", "board"),
    [
        ("clerk", 200, 403),
        ("supervisor", 200, 200),
        ("admin", 200, 200),
        ("technician", 403, 403),
    ],
)
def test_clerks_work_the_lists_and_supervisors_also_the_board(site: Site, who: str, lists: int, board: int) -> None:
    number = _community_case(site)
    district = site.halls["xh"]
    site.login(who)
    assert site.client.get(f"/cases/{district}").status_code == lists
    assert site.client.get(f"/cases/{district}?view=open").status_code == lists
    assert site.client.get(f"/cases/{district}/{number}").status_code == lists
    assert site.client.get(f"/supervision/{district}").status_code == board


def test_an_anonymous_visitor_is_sent_to_the_login(site: Site) -> None:
    number = _community_case(site)
    site.anonymous()
    for path in ("/cases/1", f"/cases/1/{number}", "/supervision/1"):
        answer = site.client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}"


def test_the_home_page_and_the_counter_console_link_to_the_to_do_list(site: Site) -> None:
    site.login("clerk")
    assert 'href="/cases/1"' in site.client.get("/").text
    console = site.client.get("/counter/1/1")
    assert console.status_code == 200
    assert 'href="/cases/1"' in console.text


def test_a_community_clerk_does_not_reach_the_district_lists(site: Site) -> None:
    site.login("community-clerk")
    answer = site.client.get(f"/cases/{site.halls['xh']}")
    assert answer.status_code == 403
    assert "您无权查看此大厅" in answer.text
    assert site.client.get(f"/cases/{site.halls['xh-hp-ly']}").status_code == 200


# -- the applicant's ID number -----------------------------------------------------------------


def test_the_record_shows_the_full_id_number_to_staff_of_the_cases_halls_and_above(site: Site) -> None:
    community, street, district = site.halls["xh-hp-ly"], site.halls["xh-hp"], site.halls["xh"]
    number = _community_case(site)
    record = site.client.get(f"/cases/{community}/{number}")
    assert record.status_code == 200
    assert ID_NUMBER in record.text and "王秀英" in record.text and "138-0013-8000" in record.text
    site.login("clerk")  # the district office, which decides the case
    assert ID_NUMBER in site.client.get(f"/cases/{district}/{number}").text
    site.login("supervisor")
    # A district supervisor watches the halls below: a street page of theirs shows it too.
    assert ID_NUMBER in site.client.get(f"/cases/{street}/{number}").text


def test_the_record_of_a_case_outside_ones_halls_is_not_found(site: Site) -> None:
    token = site.login("clerk")
    # 灵活就业人员参保登记, accepted and decided at the district.
    number = _accept(site, token, site.halls["xh"], item="RS-001", materials=["居民身份证"])
    site.login("community-clerk")
    answer = site.client.get(f"/cases/{site.halls['xh-hp-ly']}/{number}")
    assert answer.status_code == 404
    assert ID_NUMBER not in answer.text and "王秀英" not in answer.text
    assert site.client.get(f"/cases/{site.halls['xh-hp-ly']}/12345678901234567").status_code == 404


def test_lists_and_the_board_show_the_id_number_masked(site: Site) -> None:
    district = site.halls["xh"]
    number = _community_case(site)
    site.login("supervisor")
    for path in (f"/cases/{district}", f"/cases/{district}?view=open", f"/supervision/{district}"):
        assert ID_NUMBER not in site.client.get(path).text
    listed = site.client.get(f"/api/v1/halls/{district}/cases?view=open").json()["cases"]
    assert [(c["number"], c["applicant"]["id_number"]) for c in listed] == [(number, MASKED)]
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{district}/cases"})
        snapshot = _until(ws, "snapshot")
    assert ID_NUMBER not in json.dumps(snapshot)
    assert [c["applicant"]["id_number"] for c in snapshot["data"]["cases"]] == [MASKED]


# -- the steps a person is offered ---------------------------------------------------------------


def test_the_record_offers_the_steps_of_whoever_the_case_waits_on(site: Site) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    number = _community_case(site)
    # The accepting clerk has handed the case on: 审核 is the deciding office's.
    assert _steps(site.client.get(f"/cases/{community}/{number}").text) == []
    token = site.login("clerk")
    record = site.client.get(f"/cases/{district}/{number}").text
    assert _steps(record) == ["review", "supplement", "refuse", "claim"]
    assert "审核 · 窗口人员 · 星河区政务服务中心" in record
    reviewed = site.post(f"/api/v1/halls/{district}/cases/{number}/review", token, {"remark": "材料齐全"})
    assert reviewed.status_code == 200
    assert _steps(site.client.get(f"/cases/{district}/{number}").text) == []
    site.login("supervisor")
    record = site.client.get(f"/cases/{district}/{number}").text
    assert _steps(record) == ["approve", "return", "refuse", "claim"]
    assert "审核通过" in record and "材料齐全" in record  # the history, with the remark


def test_a_supplement_pauses_the_case_and_either_hall_takes_the_materials(site: Site) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    number = _community_case(site)
    token = site.login("clerk")
    asked = site.post(
        f"/api/v1/halls/{district}/cases/{number}/supplement",
        token,
        {"remark": "户口簿复印件不清晰", "materials": ["户口簿清晰复印件"]},
    )
    assert asked.status_code == 200, asked.text
    record = site.client.get(f"/cases/{district}/{number}").text
    assert _steps(record) == ["supplement_received", "refuse", "claim"]
    assert "等待申请人补正材料" in record and "户口簿复印件不清晰" in record and "尚未补齐" in record
    site.login("community-clerk")
    record = site.client.get(f"/cases/{community}/{number}").text
    assert _steps(record) == ["supplement_received"]
    assert ">户口簿清晰复印件</textarea>" in record  # the materials asked for, ready to confirm


# -- supervision ---------------------------------------------------------------------------------


def test_a_supervisor_opens_a_supervision_order_on_a_red_case_and_the_office_answers_on_the_record(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = site.halls["xh"]
    number = _community_case(site)
    runtime = site.client.app.state.hall  # type: ignore[attr-defined]
    # Three weeks on, past the 10 working days promised: the clock tick turns the light red.
    later = datetime.now(UTC) + timedelta(days=21)
    monkeypatch.setattr(runtime.writer, "_clock", lambda: later)
    portal = site.client.portal
    assert portal is not None
    portal.call(runtime.tick_cases)
    token = site.login("supervisor")
    board = site.client.get(f"/api/v1/halls/{district}/supervision").json()
    assert board["counts"] == {"green": 0, "yellow": 0, "red": 1}
    due = (later + timedelta(days=1)).isoformat()
    opened = site.post(
        f"/api/v1/halls/{district}/cases/{number}/orders", token, {"note": "请说明超期原因", "reply_due": due}
    )
    assert opened.status_code == 200, opened.text
    order = opened.json()["order"]["id"]

    token = site.login("clerk")
    record = site.client.get(f"/cases/{district}/{number}").text
    # Past the promised deadline itself: red for the case, with the deadline it missed.
    assert "红灯 · 办件已超期" in record and "承诺期限" in record and "请说明超期原因" in record
    assert f'data-order="{order}"' in record  # the answer form, for the office the order is addressed to
    answer = {"text": "已加派人手"}
    answered = site.post(f"/api/v1/halls/{district}/cases/{number}/orders/{order}/answer", token, answer)
    assert answered.status_code == 200, answered.text
    record = site.client.get(f"/cases/{district}/{number}").text
    assert "已加派人手" in record and f'data-order="{order}"' not in record
    site.login("community-clerk")
    # The community station may read the order but answers for nobody.
    record = site.client.get(f"/cases/{site.halls['xh-hp-ly']}/{number}").text
    assert "请说明超期原因" in record and "data-order=" not in record


# -- the cases topic -----------------------------------------------------------------------------


def test_the_cases_topic_gives_the_open_cases_and_their_lights_then_every_case_event(site: Site) -> None:
    district = site.halls["xh"]
    number = _community_case(site)
    token = site.login("clerk")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{district}/cases"})
        snapshot = _until(ws, "snapshot")["data"]
        assert [c["number"] for c in snapshot["cases"]] == [number]
        assert snapshot["cases"][0]["waiting_on"] == {"role": "clerk", "hall": district}
        assert snapshot["supervision"]["counts"] == {"green": 1, "yellow": 0, "red": 0}
        _until(ws, "subscribed")
        assert site.post(f"/api/v1/halls/{district}/cases/{number}/review", token).status_code == 200
        event = _until(ws, "event")["event"]
    assert event["type"] == "case.reviewed"
    assert (event["data"]["number"], event["data"]["stage"]) == (number, "review")
    assert event["data"]["applicant"]["id_number"] == MASKED


def test_the_cases_topic_is_for_clerks_and_supervisors_of_the_hall_and_above(site: Site) -> None:
    district, community = site.halls["xh"], site.halls["xh-hp-ly"]
    for who, topic, allowed in (
        ("technician", f"hall/{district}/cases", False),
        ("community-clerk", f"hall/{district}/cases", False),
        ("community-clerk", f"hall/{community}/cases", True),
        ("supervisor", f"hall/{community}/cases", True),
    ):
        site.login(who)
        with site.client.websocket_connect("/ws") as ws:
            ws.send_json({"type": "subscribe", "topic": topic})
            frame = _until(ws, "snapshot") if allowed else json.loads(ws.receive_text())
        assert (frame["type"] == "snapshot") is allowed, (who, topic, frame)
    site.anonymous()
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{district}/cases"})
        assert json.loads(ws.receive_text())["code"] == "forbidden"


def test_the_public_queue_never_carries_case_events_and_the_counter_console_does(site: Site) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    site.anonymous()
    with site.client.websocket_connect("/ws") as queue:
        queue.send_json({"type": "subscribe", "topic": f"hall/{community}/queue"})
        _until(queue, "subscribed")
        site.login("community-clerk")
        with site.client.websocket_connect("/ws") as console:
            console.send_json({"type": "subscribe", "topic": f"hall/{community}/counter/1"})
            _until(console, "subscribed")
            number = _community_case(site)  # taken at counter 1
            token = site.login("clerk")
            refused = site.post(f"/api/v1/halls/{district}/cases/{number}/refuse", token, {"remark": "不符合条件"})
            assert refused.status_code == 200
            # The console of the counter that took the case follows it.
            assert [_until(console, "event")["event"]["type"] for _ in range(2)] == ["case.accepted", "case.refused"]
        # A counter event after the case events: the queue shows it, and nothing before it.
        token = site.login("community-clerk")
        assert site.post(f"/api/v1/halls/{community}/counters/2/open", token).status_code == 200
        event = _until(queue, "event")["event"]
    assert event["type"] == "counter.opened"
    assert event["data"] == {"counter": 2}


# -- assigning the next step (指派) ----------------------------------------------------------------


def _staff_ids(site: Site) -> dict[str, int]:
    """Everyone's staff id, by the name ``site.login`` knows them by."""
    runtime = site.client.app.state.hall  # type: ignore[attr-defined]

    async def read() -> dict[str, int]:
        async with runtime.engine.connect() as conn:
            return {r.username: r.id for r in await conn.execute(select(staff.c.username, staff.c.id))}

    portal = site.client.portal
    assert portal is not None
    ids = portal.call(read)
    return {who: ids[username] for who, username in site.users.items()}


def _second_district_clerk(site: Site) -> int:
    """A second clerk of the district office, "second 0 · N0000", who logs in as ``second-clerk``."""
    runtime = site.client.app.state.hall  # type: ignore[attr-defined]
    portal = site.client.portal
    assert portal is not None
    (clerk,) = portal.call(add_staff, runtime.engine, site.halls["xh"], 1, "clerk", "second")

    async def username() -> str:
        async with runtime.engine.connect() as conn:
            return str((await conn.execute(select(staff.c.username).where(staff.c.id == clerk))).scalar_one())

    site.users["second-clerk"] = portal.call(username)
    return clerk


def _assignable(html: str) -> dict[str, str] | None:
    """The 指派 control's choices, value → name; None when the page offers no control."""
    control = re.search(r'<select id="assignee".*?</select>', html, re.DOTALL)
    if control is None:
        return None
    return dict(re.findall(r'<option value="([0-9]*)"[^>]*>([^<]*)</option>', control.group(0)))


def _todo(site: Site, who: str) -> list[str]:
    site.login(who)
    listed = site.client.get(f"/api/v1/halls/{site.halls['xh']}/cases?view=todo").json()["cases"]
    return [c["number"] for c in listed]


def test_a_supervisor_may_assign_the_next_step_to_the_staff_of_its_hall_who_hold_its_role(site: Site) -> None:
    district = site.halls["xh"]
    number = _community_case(site)
    second = _second_district_clerk(site)
    ids = _staff_ids(site)
    site.login("supervisor")
    record = site.client.get(f"/cases/{district}/{number}").text
    # 审核 is a district clerk's: the supervisor, the technician and the community clerk are not listed.
    assert _assignable(record) == {
        "": "不指派（任何人均可办理）",
        str(ids["clerk"]): "clerk 0 · N0000",
        str(second): "second 0 · N0000",
    }
    assert "指派" in record
    token = site.login("clerk")
    assert site.post(f"/api/v1/halls/{district}/cases/{number}/review", token).status_code == 200
    site.login("supervisor")
    # 审批 is a supervisor's: now the supervisors are the ones listed.
    record = site.client.get(f"/cases/{district}/{number}").text
    assert _assignable(record) == {"": "不指派（任何人均可办理）", str(ids["supervisor"]): "supervisor 0 · N0000"}


def test_an_assigned_case_leaves_the_other_clerks_to_do_and_stays_in_the_assignees(site: Site) -> None:
    district = site.halls["xh"]
    number = _community_case(site)
    second = _second_district_clerk(site)
    assert _todo(site, "clerk") == [number] and _todo(site, "second-clerk") == [number]
    token = site.login("supervisor")
    assigned = site.post(f"/api/v1/halls/{district}/cases/{number}/assign", token, {"assignee": second})
    assert assigned.status_code == 200, assigned.text
    record = site.client.get(f"/cases/{district}/{number}").text
    assert "承办人</dt><dd>second 0 · N0000" in record  # the assignee, by name
    assert f'<option value="{second}" selected>' in record
    assert _todo(site, "clerk") == []
    assert _todo(site, "second-clerk") == [number]
    # Nobody in particular (null): the case waits on either clerk again.
    token = site.login("supervisor")
    unassigned = site.post(f"/api/v1/halls/{district}/cases/{number}/assign", token, {"assignee": None})
    assert unassigned.status_code == 200, unassigned.text
    assert _todo(site, "clerk") == [number] and _todo(site, "second-clerk") == [number]


@pytest.mark.parametrize("who", ["community-clerk", "technician", "supervisor"])
def test_assigning_to_someone_who_may_not_take_the_next_step_is_refused_and_changes_nothing(
    site: Site, who: str
) -> None:
    """A clerk of another hall, a technician, or a colleague in another role than 审核 needs."""
    district = site.halls["xh"]
    number = _community_case(site)
    token = site.login("supervisor")
    before = site.client.get(f"/api/v1/halls/{district}/cases/{number}").json()["record"]
    refused = site.post(f"/api/v1/halls/{district}/cases/{number}/assign", token, {"assignee": _staff_ids(site)[who]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "assignee"
    assert f"不是 {district} 号大厅在岗的窗口人员" in refused.json()["message"]
    assert site.client.get(f"/api/v1/halls/{district}/cases/{number}").json()["record"] == before
    assert _todo(site, "clerk") == [number]


def test_a_clerk_is_offered_to_claim_the_case_but_not_to_assign_it(site: Site) -> None:
    district = site.halls["xh"]
    number = _community_case(site)
    site.login("clerk")
    record = site.client.get(f"/cases/{district}/{number}").text
    assert "claim" in _steps(record)
    assert _assignable(record) is None and 'id="assign-form"' not in record
