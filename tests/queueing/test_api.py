"""The queue over HTTP: a resident takes a ticket, a clerk serves it, the resident rates it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.helpers import csrf_of
from tests.site import Site


def _kiosk_token(site: Site) -> str:
    site.anonymous()
    return csrf_of(site.client.get("/login").text)


def _take(site: Site, token: str, service: str = "soc", **extra: Any) -> Any:
    return site.post("/api/v1/halls/1/tickets", token, {"service": service, **extra})


def test_a_resident_takes_a_ticket_and_sees_people_ahead(site: Site) -> None:
    token = _kiosk_token(site)
    first = _take(site, token, command_id="kiosk-press-0001")
    again = _take(site, token, command_id="kiosk-press-0001")  # a double press
    second = _take(site, token)
    assert first.status_code == 200, first.text
    assert first.json()["ticket"]["number"] == "A001"
    assert again.json()["ticket"]["number"] == "A001" and again.json()["duplicate"]
    assert second.json()["ticket"]["number"] == "A002"
    assert second.json()["ahead"] == 1
    status = site.client.get(f"/api/v1/halls/1/tickets/{second.json()['ticket']['id']}").json()
    assert status["ahead"] == 1 and status["state"] == "waiting"
    view = site.client.get("/api/v1/halls/1/queue").json()
    assert {s["code"]: s["waiting"] for s in view["services"]}["soc"] == 2


def test_a_clerk_serves_and_the_resident_rates(site: Site) -> None:
    ticket = _take(site, _kiosk_token(site)).json()["ticket"]
    token = site.login("clerk")
    for action in ("open", "call-next", "start", "finish"):
        answer = site.post(f"/api/v1/halls/1/counters/1/{action}", token)
        assert answer.status_code == 200, (action, answer.text)
    rated = site.post("/api/v1/halls/1/ratings", token, {"ticket": ticket["id"], "service": "soc", "level": 2})
    assert rated.status_code == 200, rated.text
    order = rated.json()["work_order"]
    assert order["label"] == "不满意"
    twice = site.post("/api/v1/halls/1/ratings", token, {"ticket": ticket["id"], "service": "soc", "level": 5})
    assert twice.status_code == 404
    assert site.client.get("/api/v1/halls/1/work-orders").status_code == 403  # clerks do not follow up
    token = site.login("supervisor")
    assert [o["id"] for o in site.client.get("/api/v1/halls/1/work-orders").json()] == [order["id"]]
    step = f"/api/v1/halls/1/work-orders/{order['id']}"
    assert site.post(f"{step}/resolve", token, {"note": "x"}).status_code == 409  # a callback comes first
    assert site.post(f"{step}/callback", token, {"note": "已回访"}).status_code == 200
    assert site.post(f"{step}/resolve", token, {"note": "已整改"}).json()["work_order"]["state"] == "resolved"


def test_only_the_screen_of_the_clerk_who_served_a_ticket_rates_it(site: Site) -> None:
    ticket = _take(site, _kiosk_token(site)).json()["ticket"]
    token = site.login("clerk")
    for action in ("open", "call-next", "start", "finish"):
        assert site.post(f"/api/v1/halls/1/counters/1/{action}", token).status_code == 200
    body = {"ticket": ticket["id"], "service": "soc", "level": 1, "comment": "态度差"}
    # A supervisor (or any colleague) may not rate for the resident and open a work order.
    token = site.login("supervisor")
    refused = site.post("/api/v1/halls/1/ratings", token, body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "forbidden"
    assert site.client.get("/api/v1/halls/1/work-orders").json() == []
    token = site.login("clerk")
    rated = site.post("/api/v1/halls/1/ratings", token, body)
    assert rated.status_code == 200, rated.text


def test_the_wrong_clerk_a_closed_counter_and_unknown_services_are_refused(site: Site) -> None:
    kiosk = _kiosk_token(site)
    unknown = _take(site, kiosk, "nope")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    _take(site, kiosk)
    token = site.login("clerk")
    closed = site.post("/api/v1/halls/1/counters/2/call-next", token)
    assert closed.status_code == 409 and closed.json()["message"] == "2 号窗口已关闭，请先开启"
    site.post("/api/v1/halls/1/counters/2/open", token)
    other = site.login("admin")  # admin holds no counter; it is not the clerk of counter 2
    site.post("/api/v1/halls/1/counters/3/open", other)
    taken = site.post("/api/v1/halls/1/counters/2/start", other)
    assert taken.status_code in (403, 409)
    wrong_type = site.post("/api/v1/halls/1/counters/3/hold", other, {"minutes": "ten"})
    assert wrong_type.status_code == 422


def test_the_counter_view_lists_its_waiting_tickets(site: Site) -> None:
    kiosk = _kiosk_token(site)
    _take(site, kiosk, "soc")
    _take(site, kiosk, "fund")
    _take(site, kiosk, "soc", priority="elderly")
    site.login("clerk")
    view = site.client.get("/api/v1/halls/1/counters/1").json()
    assert [t["number"] for t in view["waiting"]] == ["A002", "A001"]  # priority first, counter 1 takes soc only
    assert view["current"] is None


def test_public_queue_events_carry_no_clerk_and_the_waiting_counts(site: Site) -> None:
    kiosk = _kiosk_token(site)
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": "hall/1/queue"})
        frames = [json.loads(ws.receive_text()) for _ in range(2)]
        assert [f["type"] for f in frames] == ["snapshot", "subscribed"]
        _take(site, kiosk)
        token = site.login("clerk")
        site.post("/api/v1/halls/1/counters/1/open", token)
        site.post("/api/v1/halls/1/counters/1/call-next", token)
        seen = [json.loads(ws.receive_text()) for _ in range(3)]
    issued, opened, called = (f["event"] for f in seen)
    assert issued["type"] == "ticket.issued" and issued["data"]["waiting"]["soc"] == 1
    assert opened == {"type": "counter.opened", "data": {"counter": 1}, "at": opened["at"]}
    assert called["data"]["number"] == "A001" and called["data"]["counter"] == 1
    assert "clerk" not in called["data"]


def test_a_ticket_prints_as_escpos_for_the_kiosk_printer(site: Site) -> None:
    ticket = _take(site, _kiosk_token(site)).json()["ticket"]
    printed = site.client.get(f"/api/v1/halls/1/tickets/{ticket['id']}/escpos")
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/octet-stream"
    assert printed.content.startswith(b"\x1b@")
    assert "星河区政务服务中心".encode("gb18030") in printed.content
    assert f"/t/1/{ticket['id']}".encode() in printed.content
    assert site.client.get("/api/v1/halls/1/tickets/20261123-Z999/escpos").status_code == 404


def test_a_ticket_in_an_applicants_name_is_masked_and_needs_a_valid_id_number(site: Site) -> None:
    kiosk = _kiosk_token(site)
    person = {"name": "张三丰", "id_number": "11010519491231002x"}
    assert _take(site, kiosk, "hukou", applicant=person).status_code == 403  # not from a public kiosk
    token = site.login("clerk")
    bad = site.post(
        "/api/v1/halls/1/tickets",
        token,
        {"service": "hukou", "applicant": {**person, "id_number": "110105194912310021"}},
    )
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_id_number")
    taken = site.post("/api/v1/halls/1/tickets", token, {"service": "hukou", "applicant": person})
    assert taken.json()["ticket"]["applicant"] == {"name": "张**", "id_number": "110***********002X"}
    again = site.post("/api/v1/halls/1/tickets", token, {"service": "hukou", "applicant": person})
    assert again.status_code == 409 and "该身份证已取" in again.json()["message"] and "C001" in again.json()["message"]
    site.login("supervisor")
    log = site.client.get("/api/v1/halls/1/events?limit=1000").text
    assert "11010519491231002X" not in log and "张三丰" not in log


def test_an_anonymous_request_cannot_take_an_appointment_ticket_to_jump_the_line(site: Site) -> None:
    kiosk = _kiosk_token(site)
    now = datetime.now(UTC).isoformat()
    refused = _take(site, kiosk, priority="appointment", appointment_at=now)
    assert refused.status_code == 403, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == ("priority_not_offered", "priority")
    # Nothing was issued: the next ticket is the day's first, and no one is ahead of it.
    first = _take(site, kiosk).json()
    assert (first["ticket"]["number"], first["ahead"]) == ("A001", 0)
    # A staff member checking the booking in grants it, ahead of the normal line.
    token = site.login("clerk")
    granted = site.post(
        "/api/v1/halls/1/tickets", token, {"service": "soc", "priority": "appointment", "appointment_at": now}
    )
    assert granted.status_code == 200, granted.text
    assert (granted.json()["ticket"]["priority"], granted.json()["ahead"]) == ("appointment", 0)
