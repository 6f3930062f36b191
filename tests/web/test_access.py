"""Who may use what: every route declares it, and nothing staff-only answers anonymously."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from hall.kernel.roles import Access
from hall.web.access import access_of
from hall.web.app import routes
from tests.helpers import csrf_of
from tests.site import Site


def _walk(found: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    for route in found:
        if isinstance(route, Mount) and route.routes:
            yield from _walk(list(route.routes), prefix + route.path)
        else:
            yield prefix + getattr(route, "path", ""), route


def _access(route: BaseRoute) -> Access | None:
    if isinstance(route, Route | WebSocketRoute):
        return access_of(route.endpoint)
    if isinstance(route, Mount):
        return access_of(route.app)
    return None


_SAMPLE = {":id": "1", ":int": "1", ":case": "2026120100100001"}


def _concrete(path: str) -> str:
    """A path with each parameter filled by a value its convertor takes."""

    def value(match: re.Match[str]) -> str:
        return next((v for k, v in _SAMPLE.items() if k in match.group(0)), "open")

    return re.sub(r"\{[^}]+\}", value, path)


def test_every_route_declares_who_may_use_it() -> None:
    undeclared = [path for path, route in _walk(routes()) if _access(route) is None]
    assert undeclared == []


def test_nothing_staff_only_answers_an_anonymous_visitor(site: Site) -> None:
    site.anonymous()
    checked = 0
    for path, route in _walk(routes()):
        access = _access(route)
        assert access is not None
        if access.public or not isinstance(route, Route):
            continue
        for method in sorted(route.methods or {"GET"}):
            if method == "HEAD":
                continue
            answer = site.client.request(method, _concrete(path))
            checked += 1
            assert answer.status_code in (303, 401), (method, path, answer.status_code)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/login?next=")
    assert checked >= 5


@pytest.mark.parametrize(
    ("who", "path", "allowed"),
    [
        ("clerk", "/wallboard/1", False),
        ("technician", "/wallboard/1", False),
        ("supervisor", "/wallboard/1", True),
        ("admin", "/wallboard/1", True),
        ("clerk", "/api/v1/halls/1/events", False),
        ("supervisor", "/api/v1/halls/1/events", True),
        ("clerk", "/api/v1/hub", False),
        ("technician", "/api/v1/hub", True),
        ("community-clerk", "/api/v1/me", True),
    ],
)
def test_roles_are_checked_on_every_route(site: Site, who: str, path: str, allowed: bool) -> None:
    site.login(who)
    answer = site.client.get(path)
    assert (answer.status_code == 200) is allowed, answer.text
    if not allowed:
        assert answer.status_code == 403


def test_staff_of_a_community_hall_cannot_reach_the_district_above_it(site: Site) -> None:
    token = site.login("community-clerk")
    answer = site.post(f"/api/v1/halls/{site.halls['xh']}/counters/1/open", token)
    assert answer.status_code == 403
    assert site.post(f"/api/v1/halls/{site.halls['xh-hp-ly']}/counters/1/open", token).status_code == 200


def test_login_fails_with_one_message_for_unknown_users_and_wrong_passwords(site: Site) -> None:
    site.anonymous()
    token = csrf_of(site.client.get("/login").text)
    unknown = site.client.post("/login", data={"username": "nobody", "password": "whatever-long", "csrf_token": token})
    wrong = site.client.post(
        "/login", data={"username": site.users["clerk"], "password": "not-the-password", "csrf_token": token}
    )
    assert unknown.status_code == wrong.status_code == 400
    assert "用户名或密码错误" in unknown.text and "用户名或密码错误" in wrong.text
    assert "hall_session" not in unknown.headers.get("set-cookie", "")


def test_login_attempts_are_rate_limited(site: Site) -> None:
    site.anonymous()
    token = csrf_of(site.client.get("/login").text)
    user = site.users["supervisor"]
    for _ in range(5):
        site.client.post("/login", data={"username": user, "password": "wrong-password", "csrf_token": token})
    # Even the right password is refused while the account is throttled.
    from tests.factories import PASSWORD

    blocked = site.client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "登录失败次数过多" in blocked.text


def test_forms_and_api_calls_without_the_csrf_token_are_refused(site: Site) -> None:
    site.login("clerk")
    no_token = site.client.post("/api/v1/halls/1/counters/1/open", json={})
    bad_token = site.client.post("/api/v1/halls/1/counters/1/open", json={}, headers={"X-CSRF-Token": "0" * 64})
    logout = site.client.post("/logout", data={})
    assert no_token.status_code == bad_token.status_code == logout.status_code == 403
    assert site.client.get("/api/v1/me").status_code == 200  # still logged in


def test_logout_ends_the_session_on_the_server(site: Site) -> None:
    token = site.login("clerk")
    cookie = site.client.cookies.get("hall_session")
    assert cookie
    done = site.client.post("/logout", data={"csrf_token": token})
    assert done.status_code == 303
    site.client.cookies.set("hall_session", cookie)  # a copy of the old cookie
    assert site.client.get("/api/v1/me").status_code == 401


def test_session_cookie_is_http_only_and_same_site(site: Site) -> None:
    site.anonymous()
    token = csrf_of(site.client.get("/login").text)
    from tests.factories import PASSWORD

    done = site.client.post("/login", data={"username": site.users["clerk"], "password": PASSWORD, "csrf_token": token})
    cookie = done.headers["set-cookie"]
    assert "hall_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_never_redirects_off_site(site: Site) -> None:
    from tests.factories import PASSWORD

    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        site.anonymous()
        token = csrf_of(site.client.get("/login").text)
        done = site.client.post(
            "/login",
            data={"username": site.users["clerk"], "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert done.headers["location"] == "/"


def test_pages_carry_protective_headers(site: Site) -> None:
    answer = site.client.get("/")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
