"""The clerk's pages: the counter picker, the counter console and the citizen-facing second screen.

Who may open them, what they carry for their scripts, and the API answers those scripts rely on.
The sample services of the test site take tickets day and night (``tests.site.open_all_week``).
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest

from tests.helpers import csrf_of
from tests.site import Site

PAGES = ["/counter/1", "/counter/1/1", "/counter/1/1/citizen"]
LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


def _kiosk_token(site: Site) -> str:
    site.anonymous()
    return csrf_of(site.client.get("/login").text)


def _take(site: Site, token: str, service: str = "soc") -> Any:
    answer = site.post("/api/v1/halls/1/tickets", token, {"service": service})
    assert answer.status_code == 200, answer.text
    return answer.json()["ticket"]


def _no_inline_code(html: str) -> None:
    """The strict CSP allows no inline script or style: everything comes from /static."""
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " style=" not in html
    assert "<style" not in html
    assert re.search(r"\son[a-z]+=", html) is None


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login(site: Site, path: str) -> None:
    site.anonymous()
    answer = site.client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_a_community_clerk_may_not_open_the_district_halls_counters(site: Site, path: str) -> None:
    site.login("community-clerk")
    answer = site.client.get(path)
    assert answer.status_code == 403
    assert "您无权查看此大厅" in answer.text
    own = site.halls["xh-hp-ly"]
    assert site.client.get(path.replace("/counter/1", f"/counter/{own}", 1)).status_code == 200


def test_a_district_supervisor_opens_the_counters_of_the_halls_below(site: Site) -> None:
    site.login("supervisor")
    community = site.halls["xh-hp-ly"]
    for path in (f"/counter/{community}", f"/counter/{community}/2", f"/counter/{community}/2/citizen"):
        assert site.client.get(path).status_code == 200, path


def test_a_technician_may_not_use_the_counter_pages(site: Site) -> None:
    site.login("technician")
    for path in PAGES:
        assert site.client.get(path).status_code == 403, path


def test_an_unknown_counter_is_a_404_page(site: Site) -> None:
    site.login("clerk")
    for path in ("/counter/1/99", "/counter/1/99/citizen"):
        answer = site.client.get(path)
        assert answer.status_code == 404
        assert "没有这个窗口" in answer.text


def test_the_console_renders_the_counter_in_chinese_first(site: Site) -> None:
    token = site.login("clerk")
    page = site.client.get("/counter/1/3")
    assert page.status_code == 200
    html = page.text
    assert "<h1>3号窗口 · 星河区政务服务中心</h1>" in html
    assert 'data-topic="hall/1/counter/3"' in html
    assert 'data-action-url="/api/v1/halls/1/counters/3/"' in html
    assert 'data-state-url="/api/v1/halls/1/counters/3"' in html
    assert '<script type="module" src="/static/js/counter.js"></script>' in html
    assert csrf_of(html) == token
    for action in ("open", "resume", "close", "call-next", "recall", "start", "finish", "no-show", "transfer-back"):
        assert f'data-action="{action}"' in html, action
    for word in ("叫号", "重呼", "开始办理", "办结", "过号", "转移", "退回", "挂起", "开放窗口", "暂停", "关闭窗口"):
        assert word in html, word
    # The pause asks a reason, with quick choices; the shortcuts are documented on the page.
    for reason in ("午休", "临时离开", "业务咨询"):
        assert f'data-reason="{reason}"' in html
    assert "<kbd>F1</kbd>" in html and "快捷键" in html
    _no_inline_code(html)

    english = site.client.get("/counter/1/3?lang=en").text
    assert "Call next" in english and 'data-reason="Lunch break"' in english
    assert '<html lang="en">' in english


def test_the_citizen_screen_shows_the_counter_and_the_five_rating_levels(site: Site) -> None:
    site.login("clerk")
    page = site.client.get("/counter/1/2/citizen")
    assert page.status_code == 200
    html = page.text
    assert 'class="citizen-page"' in html
    assert "星河区政务服务中心" in html and "2号窗口" in html
    words = json.loads(unescape(re.search(r"data-words='([^']*)'", html).group(1)))  # type: ignore[union-attr]
    assert "请取号等候" in html
    assert (words["status_paused"], words["status_closed"]) == ("暂停服务", "窗口关闭")
    assert 'data-rating-url="/api/v1/halls/1/ratings"' in html
    assert 'data-topic="hall/1/counter/2"' in html
    found = re.findall(
        r'data-level="(\d)"><span class="stars" aria-hidden="true">[★☆]+</span>'
        r'<span class="level-word">([^<]+)</span>',
        html,
    )
    assert found == [(str(5 - i), label) for i, label in enumerate(LEVELS)]
    # The applicant's details typed at the console appear here; hidden while there are none.
    assert re.search(r'<section id="intake-panel"[^>]*hidden>', html)
    assert '<div id="intake"></div>' in html and words["intake_id"] == "身份证号码"
    _no_inline_code(html)


def test_the_picker_lists_the_halls_counters_and_the_home_page_links_the_screens(site: Site) -> None:
    token = site.login("clerk")
    site.post("/api/v1/halls/1/counters/4/open", token)
    page = site.client.get("/counter/1").text
    assert page.count('<li class="counter status-') == 12
    assert '<li class="counter status-open">\n    <strong>4号窗口</strong>\n    <span class="state">开放</span>' in page
    assert 'href="/counter/1/12"' in page and 'href="/counter/1/12/citizen"' in page
    assert "住房公积金" in page
    home = site.client.get("/").text
    assert 'href="/counter/2"' in home and "窗口控制台" in home
    assert 'href="/counter/2/1/citizen"' in home and "窗口外屏" in home


def test_what_the_console_reads_and_the_rating_the_citizen_screen_posts(site: Site) -> None:
    """The fields counter.js and citizen.js read, through the same calls they make."""
    kiosk = _kiosk_token(site)
    first, second = _take(site, kiosk), _take(site, kiosk)
    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/counters/1/open", token, {"command_id": "console-open-0001"}).status_code == 200
    view = site.client.get("/api/v1/halls/1/counters/1").json()
    assert view["counter"]["status"] == "open" and view["current"] is None
    assert [(t["number"], t["service"], t["priority"]) for t in view["waiting"]] == [
        ("A001", "soc", "normal"),
        ("A002", "soc", "normal"),
    ]
    assert all(t["issued_at"] for t in view["waiting"])
    assert {"code": "soc", "name": "社会保障", "name_en": "Social security"} in view["all_services"]

    # Calling a ticket from the list, then the usual steps.
    called = site.post("/api/v1/halls/1/counters/1/call", token, {"ticket": second["id"], "command_id": "c-call-0002"})
    assert called.json()["ticket"]["number"] == "A002"
    refused = site.post("/api/v1/halls/1/counters/1/call-next", token)
    assert refused.status_code == 409
    assert "A002" in refused.json()["message"]
    for action in ("recall", "start"):
        assert site.post(f"/api/v1/halls/1/counters/1/{action}", token).status_code == 200
    view = site.client.get("/api/v1/halls/1/counters/1").json()
    assert (view["current"]["number"], view["current"]["state"], view["current"]["recalls"]) == ("A002", "serving", 1)
    assert site.post("/api/v1/halls/1/counters/1/hold", token, {"minutes": 5}).status_code == 200
    view = site.client.get("/api/v1/halls/1/counters/1").json()
    assert [t["number"] for t in view["held"]] == ["A002"]

    # The first ticket is served and finished; the citizen screen posts its rating.
    assert site.post("/api/v1/halls/1/counters/1/call-next", token).json()["ticket"]["number"] == "A001"
    assert site.post("/api/v1/halls/1/counters/1/start", token).status_code == 200
    assert site.post("/api/v1/halls/1/counters/1/finish", token).status_code == 200
    body = {"command_id": "rating-0000-0001", "ticket": first["id"], "service": "soc", "level": 5, "counter": 1}
    rated = site.post("/api/v1/halls/1/ratings", token, body)
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"]["label"] == "非常满意"
    again = site.post("/api/v1/halls/1/ratings", token, {**body, "command_id": "rating-0000-0002"})
    assert again.status_code == 404 and again.json()["message"]
