"""Staff accounts while the hall runs: an admin creates, resets and deactivates; the owner changes
a first password before anything else; every change is an event in the hall's log."""

from __future__ import annotations

import json
from typing import Any

from starlette.websockets import WebSocketDisconnect

from tests.helpers import csrf_of
from tests.site import Site

NEW_PASSWORD = "Lantern-river-7391"


def _log_in(site: Site, username: str, password: str) -> Any:
    site.anonymous()
    token = csrf_of(site.client.get("/login").text)
    return site.client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _create(site: Site, token: str, username: str = "li.jg", roles: list[str] | None = None) -> Any:
    hall = site.halls["xh"]
    body = {"username": username, "display_name": "李建国", "staff_no": "XH1099", "roles": roles or ["clerk"]}
    return site.post(f"/api/v1/halls/{hall}/staff", token, body)


def test_a_new_clerk_logs_in_with_the_one_time_password_and_must_change_it_first(site: Site) -> None:
    hall = site.halls["xh"]
    made = _create(site, site.login("admin"))
    assert made.status_code == 200, made.text
    first = made.json()["password"]
    assert made.json()["account"]["must_change_password"] is True

    assert _log_in(site, "li.jg", first).headers["location"] == "/"
    # Every staff page sends them to change it; the API says why it refuses.
    page = site.client.get(f"/counter/{hall}/1")
    assert page.status_code == 303 and page.headers["location"] == f"/account/password?next=/counter/{hall}/1"
    token = csrf_of(site.client.get("/account/password").text)
    refused = site.post(f"/api/v1/halls/{hall}/counters/1/open", token)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    assert site.client.get("/api/v1/me").status_code == 200

    weak = site.client.post(
        "/account/password",
        data={"old_password": first, "new_password": "password123", "confirm": "password123", "csrf_token": token},
    )
    assert weak.status_code == 422
    changed = site.client.post(
        "/account/password",
        data={
            "old_password": first,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": token,
            "next": f"/counter/{hall}/1",
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == f"/counter/{hall}/1"
    opened = site.post(f"/api/v1/halls/{hall}/counters/1/open", token)
    assert opened.status_code == 200, opened.text
    # The first password is gone; the new one works.
    assert _log_in(site, "li.jg", first).status_code == 400
    assert _log_in(site, "li.jg", NEW_PASSWORD).status_code == 303


def test_a_deactivated_clerks_open_session_is_refused_on_its_next_request_and_its_socket_closes(site: Site) -> None:
    hall = site.halls["xh"]
    password = _create(site, site.login("admin")).json()["password"]
    _log_in(site, "li.jg", password)
    token = csrf_of(site.client.get("/account/password").text)
    site.client.post(
        "/account/password",
        data={"old_password": password, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token},
    )
    assert site.client.get("/api/v1/me").status_code == 200
    clerk_cookie = site.client.cookies.get("hall_session")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{hall}/counter/1"})
        assert any(json.loads(ws.receive_text())["type"] == "subscribed" for _ in range(5))
        # The admin, in a browser of their own (the socket keeps the clerk's cookie).
        done = site.post(f"/api/v1/halls/{hall}/staff/li.jg/deactivate", site.login("admin"))
        assert done.status_code == 200, done.text
        assert done.json()["account"]["active"] is False
        codes = []
        try:
            for _ in range(20):
                ws.receive_text()
        except WebSocketDisconnect as closed:
            codes.append(closed.code)
        assert codes == [4401]
    site.client.cookies.clear()
    site.client.cookies.set("hall_session", clerk_cookie)
    assert site.client.get("/api/v1/me").status_code == 401
    assert _log_in(site, "li.jg", NEW_PASSWORD).status_code == 400


def test_a_reset_password_is_one_time_again_and_ends_the_accounts_sessions(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("admin")
    _create(site, token)
    reset = site.post(f"/api/v1/halls/{hall}/staff/li.jg/reset-password", token)
    assert reset.status_code == 200
    again = reset.json()["password"]
    assert reset.json()["account"]["must_change_password"] is True
    assert _log_in(site, "li.jg", again).status_code == 303
    assert site.client.get(f"/cases/{hall}").headers["location"].startswith("/account/password")


def test_every_change_is_an_event_with_who_made_it_and_no_password_in_it(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("admin")
    password = _create(site, token).json()["password"]
    site.post(f"/api/v1/halls/{hall}/staff/li.jg", token, {"roles": ["clerk", "supervisor"]})
    site.post(f"/api/v1/halls/{hall}/staff/li.jg/reset-password", token)
    site.post(f"/api/v1/halls/{hall}/staff/li.jg/deactivate", token)
    token = site.login("supervisor")
    listed = site.client.get(f"/api/v1/halls/{hall}/events?since=0&limit=500").json()
    mine = [(e["type"], e["actor"]) for e in listed if e["type"].startswith("staff.") and "li.jg" in json.dumps(e)]
    admin_actor = mine[0][1]
    assert admin_actor.startswith("staff:")
    assert mine == [
        ("staff.created", admin_actor),
        ("staff.changed", admin_actor),
        ("staff.password_reset", admin_actor),
        ("staff.deactivated", admin_actor),
    ]
    assert password not in json.dumps(listed) and "argon2" not in json.dumps(listed)


def test_bad_account_changes_are_refused_and_change_nothing(site: Site) -> None:
    hall = site.halls["xh"]
    token = site.login("admin")
    assert _create(site, token).status_code == 200
    assert _create(site, token).json()["code"] == "username_taken"
    assert _create(site, token, username=site.users["clerk"]).json()["code"] == "username_taken"
    assert _create(site, token, username="x y").status_code == 422
    assert _create(site, token, username="new.one", roles=["mayor"]).status_code == 422
    unknown = site.post(f"/api/v1/halls/{hall}/staff/nobody/deactivate", token)
    assert unknown.status_code == 404
    # An account of a hall below is managed in that hall, not named through this one.
    other = site.post(f"/api/v1/halls/{hall}/staff/{site.users['community-clerk']}/deactivate", token)
    assert other.status_code == 404
    me = site.client.get("/api/v1/me").json()["username"]
    assert site.post(f"/api/v1/halls/{hall}/staff/{me}/deactivate", token).status_code == 403
    assert site.post(f"/api/v1/halls/{hall}/staff/{me}", token, {"roles": ["clerk"]}).status_code == 403
    names = [a["username"] for a in site.client.get(f"/api/v1/halls/{hall}/staff").json()["staff"]]
    assert names.count("li.jg") == 1 and "new.one" not in names


def test_only_an_admin_manages_accounts(site: Site) -> None:
    hall = site.halls["xh"]
    for role in ("clerk", "supervisor", "technician"):
        token = site.login(role)
        assert _create(site, token).status_code == 403, role
        assert site.client.get(f"/api/v1/halls/{hall}/staff").status_code == 403
        assert site.client.get(f"/admin/staff/{hall}").status_code == 403


def test_the_staff_page_corrects_a_name_and_a_staff_number(site: Site) -> None:
    hall = site.halls["xh"]
    _create(site, site.login("admin"))
    page = site.client.get(f"/admin/staff/{hall}")
    token = csrf_of(page.text)
    form = {"action": "rename", "username": "li.jg", "display_name": "李建华", "staff_no": "XH2001"}
    form["csrf_token"] = token
    done = site.client.post(f"/admin/staff/{hall}", data=form)
    assert done.status_code == 200, done.text
    listed = {a["username"]: a for a in site.client.get(f"/api/v1/halls/{hall}/staff").json()["staff"]}
    assert (listed["li.jg"]["display_name"], listed["li.jg"]["staff_no"]) == ("李建华", "XH2001")
    empty = site.client.post(f"/admin/staff/{hall}", data={**form, "display_name": ""})
    assert empty.status_code == 422
    listed = {a["username"]: a for a in site.client.get(f"/api/v1/halls/{hall}/staff").json()["staff"]}
    assert listed["li.jg"]["display_name"] == "李建华"
