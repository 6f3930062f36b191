"""Cases through the API: 受理 at a community hall, decided by the district office, collected back
at the community (三级联动), with every step in both halls' logs and the applicant told by SMS."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select

from cases.web.api import ACTIONS
from hall.storage.case_tables import case_steps, notifications
from hall.storage.case_tables import cases as cases_table
from hall.storage.tables import events
from tests.site import Site

ID_NUMBER = "11010519491231002X"
MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]
PDF = b"%PDF-1.4\n% scanned household register\n"


def _sync_url(site: Site) -> str:
    url = str(site.client.app.state.hall.settings.db_url)  # type: ignore[attr-defined]
    return url.replace("+aiosqlite", "")


def _accept(site: Site, token: str, hall: int, **changes: Any) -> Any:
    body = {
        "item": "MZ-006",
        "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": "138-0013-8000"},
        "materials": MATERIALS,
        "counter": 1,
        **changes,
    }
    return site.post(f"/api/v1/halls/{hall}/cases", token, body)


def test_a_case_accepted_at_a_community_is_decided_by_the_district_and_collected_back_there(site: Site) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    token = site.login("community-clerk")
    scan = site.client.post(
        f"/api/v1/halls/{community}/attachments",
        content=PDF,
        headers={"X-CSRF-Token": token, "Content-Type": "application/pdf", "X-Filename": "hukou.pdf"},
    )
    assert scan.status_code == 200, scan.text
    attachment = {**scan.json(), "material": "居民户口簿"}
    accepted = _accept(site, token, community, attachments=[attachment])
    assert accepted.status_code == 200, accepted.text
    case = accepted.json()["case"]
    number = case["number"]
    assert case["deciding_hall"] == district and case["accepted_hall"] == community
    assert case["applicant"]["id_number"] != ID_NUMBER  # masked outside the case record
    assert case["due_at"]

    mine = site.client.get(f"/api/v1/halls/{community}/cases?view=mine").json()["cases"]
    assert [c["number"] for c in mine] == [number]
    assert site.client.get(f"/api/v1/halls/{community}/cases?view=todo").json()["cases"] == []

    token = site.login("clerk")  # a clerk of the district office
    todo = site.client.get(f"/api/v1/halls/{district}/cases?view=todo").json()["cases"]
    assert [c["number"] for c in todo] == [number]
    record = site.client.get(f"/api/v1/halls/{district}/cases/{number}").json()
    assert record["record"]["applicant"]["id_number"] == ID_NUMBER  # the case record holds it whole
    assert [a["sha256"] for a in record["attachments"]] == [attachment["sha256"]]
    assert (
        site.post(f"/api/v1/halls/{district}/cases/{number}/review", token, {"remark": "材料齐全"}).status_code == 200
    )
    # 审批 is the supervisor's: the clerk may not approve.
    refused = site.post(f"/api/v1/halls/{district}/cases/{number}/approve", token)
    assert refused.status_code == 403
    token = site.login("supervisor")
    assert site.post(f"/api/v1/halls/{district}/cases/{number}/approve", token).status_code == 200
    token = site.login("clerk")
    assert site.post(f"/api/v1/halls/{district}/cases/{number}/complete", token).status_code == 200
    # The district cannot hand the result over: the resident collects at the community.
    assert site.post(f"/api/v1/halls/{district}/cases/{number}/collect", token).status_code == 403

    token = site.login("community-clerk")
    todo = site.client.get(f"/api/v1/halls/{community}/cases?view=todo").json()["cases"]
    assert [c["number"] for c in todo] == [number]
    collected = site.post(f"/api/v1/halls/{community}/cases/{number}/collect", token)
    assert collected.status_code == 200, collected.text
    assert collected.json()["case"]["stage"] == "collected"

    engine = create_engine(_sync_url(site))
    with engine.connect() as conn:
        logged = {
            hall: [row.type for row in conn.execute(select(events.c.type).where(events.c.hall_id == hall))]
            for hall in (community, district)
        }
        steps = [row.action for row in conn.execute(select(case_steps.c.action).where(case_steps.c.number == number))]
        sent = sorted(row.kind for row in conn.execute(select(notifications.c.kind)))
        row = conn.execute(select(cases_table).where(cases_table.c.number == number)).one()
    flow = ["case.accepted", "case.reviewed", "case.approved", "case.completed", "case.collected"]
    for hall in (community, district):
        assert [t for t in logged[hall] if t in flow] == flow
    assert steps == ["accepted", "reviewed", "approved", "completed", "collected"]
    assert sent == ["accepted", "rate", "ready"]
    assert row.phone_tail == "8000" and row.closed_at is not None


def test_bad_intake_changes_nothing(site: Site) -> None:
    community = site.halls["xh-hp-ly"]
    token = site.login("community-clerk")
    bad_id = _accept(site, token, community, applicant={"name": "王秀英", "id_number": "110105194912310021"})
    assert bad_id.status_code == 422 and bad_id.json()["field"] == "id_number"
    missing = _accept(site, token, community, materials=MATERIALS[:1])
    assert missing.status_code == 422 and "居民户口簿" in missing.json()["message"]
    district_only = _accept(site, token, community, item="GJJ-004")
    assert district_only.status_code == 409
    not_a_file = site.post(
        f"/api/v1/halls/{community}/cases", token, {"item": "MZ-006", "attachments": [{"sha256": "0" * 64}]}
    )
    assert not_a_file.status_code == 422
    fake_pdf = site.client.post(
        f"/api/v1/halls/{community}/attachments",
        content=b"MZ\x90\x00 not a pdf",
        headers={"X-CSRF-Token": token, "Content-Type": "application/pdf"},
    )
    assert fake_pdf.status_code == 415
    assert site.client.get(f"/api/v1/halls/{community}/cases?view=mine").json()["cases"] == []


def test_a_refusal_needs_a_reason(site: Site) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    token = site.login("community-clerk")
    number = _accept(site, token, community).json()["case"]["number"]
    token = site.login("clerk")
    without = site.post(f"/api/v1/halls/{district}/cases/{number}/refuse", token, {"remark": "  "})
    assert without.status_code == 422
    done = site.post(f"/api/v1/halls/{district}/cases/{number}/refuse", token, {"remark": "不属于本辖区"})
    assert done.status_code == 200 and done.json()["case"]["stage"] == "refused"


def test_the_clerk_serving_a_ticket_taken_with_an_id_card_gets_its_holder_for_the_intake_form(site: Site) -> None:
    community = site.halls["xh-hp-ly"]
    token = site.login("community-clerk")
    person = {"name": "王秀英", "id_number": ID_NUMBER}
    taken = site.post(f"/api/v1/halls/{community}/tickets", token, {"service": "civil", "applicant": person})
    assert taken.status_code == 200, taken.text
    holder_url = f"/api/v1/halls/{community}/counters/1/holder"
    assert site.client.get(holder_url).status_code == 403  # not holding the counter yet
    assert site.post(f"/api/v1/halls/{community}/counters/1/open", token).status_code == 200
    assert site.client.get(holder_url).status_code == 404  # no ticket at the counter
    assert site.post(f"/api/v1/halls/{community}/counters/1/call-next", token).status_code == 200
    holder = site.client.get(holder_url)
    assert holder.status_code == 200 and holder.headers["cache-control"] == "no-store"
    assert holder.json()["name"] == "王秀英" and holder.json()["id_number"] == ID_NUMBER


def test_a_scan_is_attached_only_by_the_clerk_who_uploaded_it(site: Site) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    token = site.login("community-clerk")
    headers = {"X-CSRF-Token": token, "Content-Type": "application/pdf"}
    scan = site.client.post(f"/api/v1/halls/{community}/attachments", content=PDF, headers=headers).json()
    # Another clerk who learnt the hash (it is shown with the case) cannot attach the file to a case of theirs.
    token = site.login("clerk")
    stolen = {**scan, "material": "居民户口簿"}
    taken = _accept(
        site,
        token,
        district,
        item="RS-003",
        materials=["居民身份证", "社会保障卡", "基本养老保险待遇申领表"],
        attachments=[stolen],
    )
    assert taken.status_code == 422 and taken.json()["field"] == "attachments"
    forged = {**stolen, "receipt": "0" * 64}
    assert (
        _accept(
            site,
            token,
            district,
            item="RS-003",
            materials=["居民身份证", "社会保障卡", "基本养老保险待遇申领表"],
            attachments=[forged],
        ).status_code
        == 422
    )
    # Uploading the same paper themselves gives them their own receipt for it.
    own = site.client.post(
        f"/api/v1/halls/{district}/attachments",
        content=PDF,
        headers={"X-CSRF-Token": token, "Content-Type": "application/pdf"},
    ).json()
    assert own["sha256"] == scan["sha256"] and own["receipt"] != scan["receipt"]
    mine = {**own, "material": "居民户口簿"}
    done = _accept(
        site,
        token,
        district,
        item="RS-003",
        materials=["居民身份证", "社会保障卡", "基本养老保险待遇申领表"],
        attachments=[mine],
    )
    assert done.status_code == 200, done.text


def test_case_lists_come_in_pages_with_their_total(site: Site) -> None:
    community = site.halls["xh-hp-ly"]
    token = site.login("community-clerk")
    numbers = [_accept(site, token, community).json()["case"]["number"] for _ in range(3)]
    first = site.client.get(f"/api/v1/halls/{community}/cases", params={"view": "mine", "limit": 2}).json()
    rest = site.client.get(f"/api/v1/halls/{community}/cases", params={"view": "mine", "limit": 2, "offset": 2}).json()
    assert (first["total"], rest["total"]) == (3, 3)
    assert [c["number"] for c in first["cases"] + rest["cases"]] == numbers
    for bad in ({"limit": 0}, {"limit": 5000}, {"offset": -1}, {"limit": "many"}):
        answer = site.client.get(f"/api/v1/halls/{community}/cases", params={"view": "mine", **bad})
        assert answer.status_code == 422, bad


def test_staff_who_may_not_see_a_case_learn_nothing_from_acting_on_it(site: Site) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    token = site.login("clerk")
    accepted = _accept(site, token, district, item="RS-001", materials=["居民身份证"])
    assert accepted.status_code == 200, accepted.text
    number = accepted.json()["case"]["number"]
    # A community's clerk, at their own hall, names a case of the district: not theirs to see.
    token = site.login("community-clerk")
    read = site.client.get(f"/api/v1/halls/{community}/cases/{number}")
    assert read.status_code == 404
    for action in ACTIONS:
        acted = site.post(f"/api/v1/halls/{community}/cases/{number}/{action}", token, {"remark": "试一下"})
        assert (acted.status_code, acted.json()) == (404, read.json()), action
    answered = site.post(f"/api/v1/halls/{community}/cases/{number}/orders/o-1/answer", token, {"text": "x"})
    assert (answered.status_code, answered.json()) == (404, read.json())
