"""A session's end ends everything riding on it: open websockets close, and CSRF tokens and
session ids from before a login are worthless after it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.factories import PASSWORD
from tests.helpers import csrf_of
from tests.site import Site

SESSION_ENDED = 4401


def _subscribed(ws: Any, topic: str) -> None:
    ws.send_json({"type": "subscribe", "topic": topic})
    for _ in range(20):
        frame = json.loads(ws.receive_text())
        if frame["type"] == "subscribed":
            return
        assert frame["type"] != "error", frame
    raise AssertionError("not subscribed")


def _closed_with(ws: Any) -> int:
    """The close code, once the frames still in flight (heartbeats, events) are read."""
    for _ in range(50):
        try:
            ws.receive_text()
        except WebSocketDisconnect as closed:
            return closed.code
    raise AssertionError("the socket stayed open")


def _runtime(site: Site) -> Any:
    return site.client.app.state.hall  # type: ignore[attr-defined]


def test_logging_out_closes_the_staff_members_open_websocket(site: Site) -> None:
    token = site.login("supervisor")
    with site.client.websocket_connect("/ws") as ws:
        _subscribed(ws, f"hall/{site.halls['xh']}/wallboard")
        assert site.client.post("/logout", data={"csrf_token": token}).status_code == 303
        assert _closed_with(ws) == SESSION_ENDED
    assert len(_runtime(site).staff_sockets) == 0


def test_a_public_screen_stays_connected_when_staff_log_out(site: Site) -> None:
    site.anonymous()
    with site.client.websocket_connect("/ws") as public:
        _subscribed(public, f"hall/{site.halls['xh']}/queue")
        token = site.login("clerk")
        with site.client.websocket_connect("/ws") as staff:
            _subscribed(staff, f"hall/{site.halls['xh']}/counter/1")
            site.client.post("/logout", data={"csrf_token": token})
            assert _closed_with(staff) == SESSION_ENDED
        public.send_json({"type": "ping", "id": "still-here"})
        assert json.loads(public.receive_text()) == {"type": "pong", "id": "still-here"}


def test_ending_an_account_everywhere_closes_all_its_sockets(site: Site) -> None:
    site.login("supervisor")
    runtime = _runtime(site)
    member = site.client.get("/api/v1/me").json()
    with site.client.websocket_connect("/ws") as ws:
        _subscribed(ws, f"hall/{site.halls['xh']}/wallboard")
        ended = site.client.portal.call(runtime.sessions.end_staff, member["id"])  # type: ignore[attr-defined]
        assert ended == 1
        assert _closed_with(ws) == SESSION_ENDED
    assert site.client.get("/api/v1/me").status_code == 401


def test_a_socket_whose_session_is_gone_is_closed_at_its_next_subscribe(site: Site) -> None:
    """A session ended where this process was not told (another server, an expiry) is caught the
    next time the socket asks for anything, and by the sweep on the heartbeat."""
    site.login("supervisor")
    runtime = _runtime(site)
    with site.client.websocket_connect("/ws") as ws:
        _subscribed(ws, f"hall/{site.halls['xh']}/wallboard")
        site.client.portal.call(_forget_sessions_behind_the_servers_back, runtime)  # type: ignore[attr-defined]
        ws.send_json({"type": "subscribe", "topic": f"hall/{site.halls['xh']}/queue"})
        assert _closed_with(ws) == SESSION_ENDED


def test_the_sweep_closes_sockets_whose_session_expired(site: Site) -> None:
    site.login("clerk")
    runtime = _runtime(site)
    with site.client.websocket_connect("/ws") as ws:
        _subscribed(ws, f"hall/{site.halls['xh']}/counter/1")
        site.client.portal.call(_forget_sessions_behind_the_servers_back, runtime)  # type: ignore[attr-defined]
        assert site.client.portal.call(runtime.staff_sockets.sweep) == 1  # type: ignore[attr-defined]
        assert _closed_with(ws) == SESSION_ENDED


async def _forget_sessions_behind_the_servers_back(runtime: Any) -> None:
    from sqlalchemy import delete

    from hall.storage.tables import sessions

    async with runtime.engine.begin() as conn:
        await conn.execute(delete(sessions))
    runtime.sessions._cache.clear()


def test_a_csrf_pair_taken_anonymously_does_not_work_in_a_staff_browser(site: Site) -> None:
    site.anonymous()
    anonymous_token = csrf_of(site.client.get("/login").text)
    anonymous_cookie = site.client.cookies.get("hall_csrf")
    site.login("admin")
    # The attacker's pair, planted in the admin's browser.
    site.client.cookies.set("hall_csrf", anonymous_cookie)
    done = site.post(f"/api/v1/halls/{site.halls['xh']}/counters/2/open", anonymous_token)
    assert done.status_code == 403
    assert done.json()["code"] == "csrf"


def test_login_starts_a_new_session_and_a_new_csrf_cookie(site: Site) -> None:
    first_token = site.login("clerk")
    first_session = site.client.cookies.get("hall_session")
    first_csrf = site.client.cookies.get("hall_csrf")
    # Logging in again in the same browser (as someone else, or the same person).
    page = site.client.get("/login")
    done = site.client.post(
        "/login", data={"username": site.users["supervisor"], "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 303
    assert site.client.cookies.get("hall_session") != first_session
    assert site.client.cookies.get("hall_csrf") != first_csrf
    # The earlier session is over on the server, and its token is refused in the new one.
    assert site.post(f"/api/v1/halls/{site.halls['xh']}/counters/2/open", first_token).status_code == 403
    site.client.cookies.clear()
    site.client.cookies.set("hall_session", first_session)
    assert site.client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("change", [{"active": False}, {"roles": "clerk"}, {"hall_id": 3}])
def test_an_account_deactivated_or_given_other_roles_or_hall_loses_its_sockets_at_the_sweep(
    site: Site, change: dict[str, Any]
) -> None:
    """However the account was changed (an admin page, a setup file, another server process)."""
    site.login("supervisor")
    runtime = _runtime(site)
    member = site.client.get("/api/v1/me").json()
    with site.client.websocket_connect("/ws") as ws:
        _subscribed(ws, f"hall/{site.halls['xh']}/wallboard")
        site.client.portal.call(_change_account, runtime, member["id"], change)  # type: ignore[attr-defined]
        assert site.client.portal.call(runtime.staff_sockets.sweep) == 1  # type: ignore[attr-defined]
        assert _closed_with(ws) == SESSION_ENDED


async def _change_account(runtime: Any, staff_id: int, change: dict[str, Any]) -> None:
    from sqlalchemy import update

    from hall.storage.tables import staff

    async with runtime.engine.begin() as conn:
        await conn.execute(update(staff).where(staff.c.id == staff_id).values(**change))
    runtime.sessions._cache.clear()  # the few seconds a look-up is cached, passed
