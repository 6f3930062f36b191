"""Setting a hall up while it runs: the admin pages and API change services, counters,
departments and halls, checked by the hall file's rules, logged as events, and in effect from the
next ticket and the next call, without a restart."""

from __future__ import annotations

from typing import Any

from tests.helpers import csrf_of
from tests.site import Site

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_WEEK = (
    {f"open_{d}": "1" for d in DAYS} | {f"opens_{d}": "00:00" for d in DAYS} | {f"closes_{d}": "23:59" for d in DAYS}
)


def _service_form(code: str, **extra: str) -> dict[str, str]:
    return {
        "code": code,
        "name_zh": "不动产登记",
        "name_en": "Real estate registration",
        "prefix": "R",
        "width": "3",
        "daily_cap": "",
        "target_wait_minutes": "25",
        "default_service_minutes": "9",
        "open_on_holidays": "1",
        **ALL_WEEK,
        **extra,
    }


def _form(site: Site, path: str, data: dict[str, str]) -> Any:
    token = csrf_of(site.client.get(path).text)
    return site.client.post(path, data={**data, "csrf_token": token})


def _issue(site: Site, token: str, service: str) -> Any:
    return site.post(f"/api/v1/halls/{site.halls['xh']}/tickets", token, {"service": service})


def _events(site: Site) -> list[dict[str, Any]]:
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/{site.halls['xh']}/events?limit=1000")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_a_service_added_on_its_page_takes_its_first_ticket_at_once(site: Site) -> None:
    hall = site.halls["xh"]
    site.login("admin")
    saved = _form(site, f"/admin/services/{hall}/new", _service_form("estate"))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/admin/services/{hall}?saved=1"

    token = site.login("clerk")
    ticket = _issue(site, token, "estate")
    assert ticket.status_code == 200, ticket.text
    assert ticket.json()["ticket"]["number"] == "R001"
    # The kiosk's view lists it; the log says who added it.
    assert "estate" in {s["code"] for s in site.client.get(f"/api/v1/halls/{hall}/queue").json()["services"]}
    added = [e for e in _events(site) if e["type"] == "service.added"]
    assert added and added[-1]["data"]["service"] == "estate" and added[-1]["actor"].startswith("staff:")


def test_new_hours_apply_to_the_next_ticket_without_a_restart(site: Site) -> None:
    hall = site.halls["xh"]
    site.login("supervisor")
    closed = {k: v for k, v in _service_form("soc", prefix="A").items() if not k.startswith("open_")}
    assert _form(site, f"/admin/services/{hall}/soc/edit", closed).status_code == 303

    token = site.login("clerk")
    refused = _issue(site, token, "soc")
    assert refused.status_code == 409 and refused.json()["code"] == "closed"

    site.login("supervisor")
    assert _form(site, f"/admin/services/{hall}/soc/edit", _service_form("soc", prefix="A")).status_code == 303
    token = site.login("clerk")
    assert _issue(site, token, "soc").status_code == 200


def test_a_counter_given_a_service_calls_it_on_its_next_call(site: Site) -> None:
    hall = site.halls["xh"]
    site.login("admin")
    assert _form(site, f"/admin/services/{hall}/new", _service_form("estate")).status_code == 303
    token = site.login("clerk")
    assert _issue(site, token, "estate").status_code == 200
    assert site.post(f"/api/v1/halls/{hall}/counters/1/open", token).status_code == 200
    nothing = site.post(f"/api/v1/halls/{hall}/counters/1/call-next", token)
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_waiting"

    site.login("supervisor")
    counter = site.client.get(f"/api/v1/halls/{hall}/setup").json()["hall"]["counters"][0]
    form = {"number": "1", "name": counter["name"], "serve_estate": "1", "weight_estate": "2"}
    form |= {f"serve_{code}": "1" for code in counter["services"]}
    assert _form(site, f"/admin/counters/{hall}/1/edit", form).status_code == 303

    token = site.login("clerk")
    called = site.post(f"/api/v1/halls/{hall}/counters/1/call-next", token)
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["number"] == "R001"


def test_an_unsound_form_lists_every_problem_and_changes_nothing(site: Site) -> None:
    hall = site.halls["xh"]
    site.login("admin")
    before = site.client.get(f"/api/v1/halls/{hall}/setup").json()["hall"]
    bad = _service_form("estate", prefix="A", daily_cap="-5", width="9", closes_sat="08:00", opens_sat="12:00")
    page = _form(site, f"/admin/services/{hall}/new", bad)
    assert page.status_code == 422
    text = page.text
    assert "已被服务" in text or "taken by service" in text  # the prefix is soc's
    assert "-5" in text and 'name="daily_cap"' in text
    assert text.count("aria-invalid=true") >= 3  # prefix, width, daily_cap (and Saturday)
    assert site.client.get(f"/api/v1/halls/{hall}/setup").json()["hall"] == before


def test_the_api_answers_problems_with_their_paths_in_the_readers_language(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("admin")
    body = {"code": "x", "name": {"zh": "甲"}, "prefix": "B", "hours": {"mon": "18:00-09:00"}}
    answer = site.client.post(
        f"/api/v1/halls/{hall}/setup/services?lang=en", json=body, headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 422
    problems = {p["field"]: p["message"] for p in answer.json()["problems"]}
    assert "taken by service 'fund'" in problems["prefix"]
    assert "closes before it opens" in problems["mon"]
    assert answer.json()["code"] == "invalid"


def test_a_counter_in_service_cannot_be_taken_out_of_use(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("clerk")
    assert site.post(f"/api/v1/halls/{hall}/counters/2/open", token).status_code == 200
    token = site.login("admin")
    refused = site.post(f"/api/v1/halls/{hall}/setup/counters/2/deactivate", token)
    assert refused.status_code == 409 and refused.json()["code"] == "in_service"

    token = site.login("clerk")
    assert site.post(f"/api/v1/halls/{hall}/counters/2/close", token).status_code == 200
    token = site.login("admin")
    done = site.post(f"/api/v1/halls/{hall}/setup/counters/2/deactivate", token)
    assert done.status_code == 200, done.text
    token = site.login("clerk")
    reopened = site.post(f"/api/v1/halls/{hall}/counters/2/open", token)
    assert reopened.status_code == 409 and reopened.json()["code"] == "counter_inactive"
    assert 2 not in {c["number"] for c in site.client.get(f"/api/v1/halls/{hall}/queue").json()["counters"]}


def test_a_service_out_of_use_takes_no_tickets_but_serves_those_waiting(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("clerk")
    waiting = _issue(site, token, "soc")
    assert waiting.status_code == 200
    token = site.login("supervisor")
    assert site.post(f"/api/v1/halls/{hall}/setup/services/soc/deactivate", token).status_code == 200

    token = site.login("clerk")
    refused = _issue(site, token, "soc")
    assert refused.status_code == 409 and refused.json()["code"] == "closed"
    assert "soc" not in {s["code"] for s in site.client.get(f"/api/v1/halls/{hall}/queue").json()["services"]}
    assert site.post(f"/api/v1/halls/{hall}/counters/1/open", token).status_code == 200
    called = site.post(f"/api/v1/halls/{hall}/counters/1/call-next", token)
    assert called.status_code == 200 and called.json()["ticket"]["number"] == waiting.json()["ticket"]["number"]


def test_a_services_numbering_does_not_change_while_its_tickets_are_live(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("clerk")
    assert _issue(site, token, "soc").status_code == 200
    token = site.login("admin")
    soc = site.client.get(f"/api/v1/halls/{hall}/setup").json()["hall"]["services"][0]
    refused = site.post(f"/api/v1/halls/{hall}/setup/services/soc", token, {**soc, "prefix": "S"})
    assert refused.status_code == 409 and refused.json()["field"] == "prefix"
    renamed = site.post(f"/api/v1/halls/{hall}/setup/services/soc", token, {**soc, "daily_cap": 80})
    assert renamed.status_code == 200 and renamed.json()["changes"] == ["~ service xh/soc: daily_cap null → 80"]


def test_departments_and_halls_below_are_set_up_by_an_admin(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("admin")
    made = site.post(
        f"/api/v1/halls/{hall}/setup/departments", token, {"code": "police", "name": {"zh": "公安", "en": "Police"}}
    )
    assert made.status_code == 200, made.text
    counter = site.client.get(f"/api/v1/halls/{hall}/setup").json()["hall"]["counters"][0]
    put = site.post(f"/api/v1/halls/{hall}/setup/counters/1", token, {**counter, "department": "police"})
    assert put.status_code == 200 and put.json()["hall"]["counters"][0]["department"] == "police"
    nowhere = site.post(f"/api/v1/halls/{hall}/setup/counters/1", token, {**counter, "department": "tax"})
    assert nowhere.status_code == 422 and nowhere.json()["problems"][0]["field"] == "department"

    street = site.post(
        f"/api/v1/halls/{hall}/setup/halls",
        token,
        {"code": "xh-new", "name": {"zh": "新街道便民服务中心"}, "level": "street"},
    )
    assert street.status_code == 200, street.text
    below = site.client.get(f"/api/v1/halls/{hall}/setup").json()["below"]
    assert {"code": "xh-new", "level": "street", "parent": "xh", "active": True}.items() <= {
        k: v for k, v in next(b for b in below if b["code"] == "xh-new").items()
    }.items()
    # A supervisor sets services and counters up, not departments or halls.
    token = site.login("supervisor")
    assert site.post(f"/api/v1/halls/{hall}/setup/departments", token, {"code": "tax"}).status_code == 403
    assert site.client.get(f"/admin/halls/{hall}").status_code == 403


def test_a_hall_with_work_under_way_is_not_taken_out_of_service(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("clerk")
    assert _issue(site, token, "soc").status_code == 200
    token = site.login("admin")
    refused = site.post(f"/api/v1/halls/{hall}/setup/hall", token, {"active": False})
    assert refused.status_code == 409 and refused.json()["code"] == "in_service"

    community = site.halls["xh-hp-ly"]
    closed = site.post(f"/api/v1/halls/{community}/setup/hall", token, {"active": False})
    assert closed.status_code == 200, closed.text
    service = site.client.get(f"/api/v1/halls/{community}/setup").json()["hall"]["services"][0]["code"]
    token = site.login("community-clerk")
    refused = site.post(f"/api/v1/halls/{community}/tickets", token, {"service": service})
    assert refused.status_code == 409 and refused.json()["code"] == "closed"


def test_staff_of_another_hall_cannot_set_this_one_up(site: Site) -> None:
    district = site.halls["xh"]
    token = site.login("community-clerk")
    assert site.client.get(f"/admin/services/{district}").status_code == 403
    assert site.post(f"/api/v1/halls/{district}/setup/services/soc/deactivate", token).status_code == 403


def test_every_admin_page_opens_for_an_admin(site: Site) -> None:
    hall = site.halls["xh"]
    site.login("admin")
    for path in (
        f"/admin/halls/{hall}",
        f"/admin/departments/{hall}",
        f"/admin/services/{hall}",
        f"/admin/services/{hall}/new",
        f"/admin/services/{hall}/soc/edit",
        f"/admin/counters/{hall}",
        f"/admin/counters/{hall}/new",
        f"/admin/counters/{hall}/1/edit",
    ):
        page = site.client.get(path)
        assert page.status_code == 200, (path, page.text[-2000:])
        assert 'lang="zh-CN"' in page.text
    assert site.client.get(f"/admin/services/{hall}/nothing/edit").status_code == 404
    assert site.client.get(f"/admin/counters/{hall}/99/edit").status_code == 404
