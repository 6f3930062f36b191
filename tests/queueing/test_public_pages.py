"""The public screens over HTTP: the ticket kiosk, the queue display, a ticket's page, its printed
slip and its QR code. Anyone may open them; none shows who holds a ticket or who staffs a counter.
"""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import qrcode
from starlette.testclient import TestClient

from hall.web import render
from hall.web.app import create_app
from hall.web.screen_keys import screen_key
from tests.helpers import csrf_of
from tests.site import Site, make_site

SERVICES = [
    ("soc", "A", "社会保障", "Social security"),
    ("fund", "B", "住房公积金", "Housing provident fund"),
    ("hukou", "C", "户籍办理", "Household registration"),
    ("civil", "D", "民政服务", "Civil affairs"),
    ("disab", "E", "残疾人服务", "Disability services"),
    ("info", "F", "综合咨询", "General enquiries"),
]
CLERK_NAME = "王晓梅"
APPLICANT = {"name": "张三丰", "id_number": "11010519491231002X"}


def db_path(db_url: str) -> Path:
    return Path(db_url.split("///", 1)[1])


def open_hall_all_week(db_url: str, hall_id: int = 1) -> None:
    """Tests run at any hour: the hall's services take tickets all day, every day, holidays too."""
    week = json.dumps({str(day): ["00:00", "23:59"] for day in range(7)})
    with sqlite3.connect(db_path(db_url)) as conn:
        conn.execute("update queue_services set week = ?, open_on_holidays = 1 where hall_id = ?", (week, hall_id))


def _change(db_url: str, sql: str, *args: Any) -> None:
    with sqlite3.connect(db_path(db_url)) as conn:
        conn.execute(sql, args)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """Hall 1 open all week, except civil affairs (not today) and household registration (sold out)."""
    config, ids, users = make_site(tmp_path)
    open_hall_all_week(config.db_url)
    _change(config.db_url, "update queue_services set week = '{}', open_on_holidays = 0 where code = 'civil'")
    _change(config.db_url, "update queue_services set daily_cap = 1 where code = 'hukou'")
    _change(config.db_url, "update staff set display_name = ? where username = ?", CLERK_NAME, users["clerk"])
    with TestClient(create_app(config), follow_redirects=False) as client:
        made = Site(client, ids, users)
        take(made, "hukou")  # the one ticket of the day
        yield made


def kiosk_token(site: Site) -> str:
    site.anonymous()
    page = site.client.get("/kiosk/1")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def take(site: Site, service: str = "soc", **extra: Any) -> dict[str, Any]:
    answer = site.post("/api/v1/halls/1/tickets", kiosk_token(site), {"service": service, **extra})
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["ticket"])


def button(html: str, code: str) -> str:
    found = re.search(rf'<button[^>]*data-code="{code}".*?</button>', html, re.S)
    assert found is not None, code
    return found.group(0)


def assert_csp_clean(html: str) -> None:
    """The CSP allows no inline script or style: scripts come from files, data from data-*."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert "<style" not in html


def test_the_home_page_lists_the_kiosk_and_the_display(site: Site) -> None:
    home = site.client.get("/").text
    assert '<a href="/kiosk/1">自助取号机</a>' in home
    assert '<a href="/display/1">排队叫号屏</a>' in home
    assert "办事群众" in home


def test_the_kiosk_is_chinese_first_with_a_button_per_service(site: Site) -> None:
    page = site.client.get("/kiosk/1")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="zh-CN"' in html
    assert "<title>自助取号机 · 星河区政务服务中心</title>" in html
    assert "请选择办理事项" in html and "Please choose a service" in html
    for code, prefix, name, name_en in SERVICES:
        found = button(html, code)
        assert name in found and name_en in found
        assert f'<span class="prefix" aria-hidden="true">{prefix}</span>' in found
    open_one = button(html, "soc")
    assert 'aria-disabled="false"' in open_one
    assert "等候 0 人\u00a0· 暂无窗口开放" in open_one and "Waiting: 0\u00a0· No counter open" in open_one
    # Closed and sold-out services say why, in both languages, and take no press.
    civil = button(html, "civil")
    assert 'aria-disabled="true"' in civil and "今日不办理" in civil and "Not offered today" in civil
    hukou = button(html, "hukou")
    assert 'aria-disabled="true"' in hukou and "今日号已取完" in hukou
    assert "All of today&#39;s tickets are taken" in hukou
    # Priority for seniors, people with disabilities and service members; the elderly mode.
    for value in ("normal", "elderly", "disabled", "military"):
        assert f'name="priority" value="{value}"' in html
    assert 'id="elderly-mode" class="mode-toggle" aria-pressed="false"' in html
    assert "长者模式" in html
    # What kiosk.js needs: the CSRF token, the words in both languages, no link away from the kiosk.
    assert re.search(r'<meta name="csrf-token" content="[0-9a-f]+">', html)
    words = json.loads(re.search(r"data-words='([^']*)'", html).group(1))  # type: ignore[union-attr]
    assert words["about"] == ["约 {n} 分钟", "About {n} min"]
    assert words["err_busy"][0] == "本机取号过于频繁，请稍候一分钟再试。"
    assert 'src="/static/js/kiosk.js"' in html
    assert 'href="/login"' not in html
    assert_csp_clean(html)


def test_the_kiosk_shows_people_waiting_and_the_estimate(site: Site) -> None:
    take(site)
    take(site)
    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/counters/1/open", token).status_code == 200
    site.anonymous()
    soc = button(site.client.get("/kiosk/1").text, "soc")
    assert re.search(r"等候 2 人\xa0· 约 \d+ 分钟", soc)
    assert re.search(r"Waiting: 2\xa0· About \d+ min", soc)


def test_the_kiosk_in_english_shows_english_once(site: Site) -> None:
    html = site.client.get("/kiosk/1?lang=en").text
    assert '<html lang="en"' in html
    assert "Please choose a service" in html and "请选择办理事项" not in html
    assert '<span class="en"' not in html
    assert 'data-english="0"' in html


def test_the_kiosk_prints_unless_told_not_to(site: Site) -> None:
    assert 'data-autoprint="1"' in site.client.get("/kiosk/1").text
    assert 'data-autoprint="0"' in site.client.get("/kiosk/1?print=off").text
    assert 'class="slip slip-58"' in site.client.get("/kiosk/1?paper=58").text
    assert 'class="slip slip-80"' in site.client.get("/kiosk/1?paper=junk").text


def test_a_kiosk_with_an_id_reader_beside_it_offers_the_swipe(site: Site) -> None:
    plain = site.client.get("/kiosk/1").text
    assert 'data-reader=""' in plain and "card-state" not in plain
    key = screen_key("k" * 48, 1, "xh-kiosk-idr")
    page = site.client.get(f"/kiosk/1?reader=xh-kiosk-idr&key={key}").text
    assert 'data-reader="xh-kiosk-idr"' in page and f'data-reader-key="{key}"' in page
    assert "将身份证放在读卡器上，实名取号" in page
    # Without its key (or with another reader's) the address is any kiosk's: no card swipe.
    for address in ("/kiosk/1?reader=xh-kiosk-idr", f"/kiosk/1?reader=xh-other-idr&key={key}"):
        assert 'data-reader=""' in site.client.get(address).text
    hostile = site.client.get("/kiosk/1?reader=%22%3E%3Cscript%3E").text
    assert 'data-reader=""' in hostile  # only a device id is taken from the address


def test_the_queue_display_calls_in_both_languages(site: Site) -> None:
    page = site.client.get("/display/1")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="zh-CN"' in html
    words = json.loads(unescape(re.search(r"data-words='([^']*)'", html).group(1)))  # type: ignore[union-attr]
    assert words["call"] == [
        "请 {number} 号到 {counter} 号窗口办理",
        "Number {number}, please go to counter {counter}.",
    ]
    assert words["counter"][0] == "{counter} 号窗口"
    assert "正在叫号" in html and "Now calling" in html
    assert "连接中断，正在重连…" in html and "Connection lost, reconnecting…" in html
    assert "点击启用语音" in html and "Click to enable voice" in html
    for _code, _prefix, name, name_en in SERVICES:
        assert name in html and name_en in html
    assert "请保管好号票" in words["notice"] and "Please keep your ticket" in words["notice"]
    assert 'data-voice="server"' in html and 'data-voice-english="0"' in html
    assert 'src="/static/js/display.js"' in html
    assert_csp_clean(html)


def test_the_display_takes_its_voice_options_from_the_address(site: Site) -> None:
    html = site.client.get("/display/1?voice=webspeech&english=1").text
    assert 'data-voice="webspeech"' in html and 'data-voice-english="1"' in html
    assert 'data-voice="server"' in site.client.get("/display/1?voice=anything").text
    silent = site.client.get("/display/1?voice=off").text
    assert 'data-voice="off"' in silent and 'id="enable-voice"' not in silent


def test_a_qr_code_is_an_svg_of_the_ticket_page_address(site: Site) -> None:
    # Whatever Host the caller names: the code leads to the hall's own address (HALL_PUBLIC_URL).
    answer = site.client.get("/t/1/20261123-A001/qr.svg", headers={"host": "phish.example"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert "max-age" in answer.headers["cache-control"]
    root = ET.fromstring(answer.text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    public = site.client.app.state.hall.settings.base_url  # type: ignore[attr-defined]
    assert "phish" not in public
    same = qrcode.make(
        f"{public}/t/1/20261123-A001",
        image_factory=render.QRImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
    )
    assert answer.text == same.to_string(encoding="unicode")


@pytest.mark.parametrize(
    "ticket", ["junk", "20261123-a001", "20261123-A00001", "2026-A001", "20261123-ABC001", "20261123-"]
)
def test_a_qr_code_for_a_malformed_ticket_id_is_not_found(site: Site, ticket: str) -> None:
    assert site.client.get(f"/t/1/{ticket}/qr.svg").status_code == 404


def test_the_ticket_page_follows_the_ticket_through_its_day(site: Site) -> None:
    ticket = take(site)
    path = f"/t/1/{ticket['id']}"
    html = site.client.get(path).text
    assert '<html lang="zh-CN"' in html
    assert f'<span class="ticket-number" id="ticket-number">{ticket["number"]}</span>' in html
    assert "社会保障" in html and "Social security" in html
    assert "等候叫号中" in html and "Waiting for your call" in html
    assert "前面还有 0 人" in html and "暂无窗口开放" in html
    assert re.search(r"取号时间 \d{4}-\d\d-\d\d \d\d:\d\d", html)
    assert f'data-ticket="{ticket["id"]}"' in html and 'src="/static/js/ticket.js"' in html
    assert_csp_clean(html)

    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/counters/1/open", token).status_code == 200
    assert site.post("/api/v1/halls/1/counters/1/call-next", token).status_code == 200
    site.anonymous()
    called = site.client.get(path).text
    assert "请到 1 号窗口" in called and "Please go to counter 1" in called
    assert "前面还有" not in called

    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/counters/1/start", token).status_code == 200
    assert "正在 1 号窗口办理" in site.client.get(path).text
    assert site.post("/api/v1/halls/1/counters/1/finish", token).status_code == 200
    done = site.client.get(path)
    assert done.status_code == 200 and "已完成，谢谢" in done.text and "Done, thank you" in done.text
    assert "ticket.js" not in done.text  # nothing more to follow


def test_a_priority_ticket_says_so(site: Site) -> None:
    ticket = take(site, priority="elderly")
    assert "优先号" in site.client.get(f"/t/1/{ticket['id']}").text


def test_the_print_page_is_a_slip_that_prints_itself(site: Site) -> None:
    ticket = take(site, "fund")
    html = site.client.get(f"/t/1/{ticket['id']}/print").text
    assert 'data-autoprint="1"' in html
    assert 'class="slip slip-80"' in html
    assert f'src="/t/1/{ticket["id"]}/qr.svg"' in html
    assert ticket["number"] in html and "住房公积金" in html and "Housing provident fund" in html
    assert "扫码查看排队进度" in html and "请留意叫号" in html
    assert 'src="/static/js/ticket.js"' in html
    assert 'class="slip slip-58"' in site.client.get(f"/t/1/{ticket['id']}/print?paper=58").text
    assert_csp_clean(html)


@pytest.mark.parametrize("path", ["/t/1/20200101-A001", "/t/1/junk", "/t/1/20200101-A001/print"])
def test_an_unknown_ticket_gets_a_friendly_page(site: Site, path: str) -> None:
    answer = site.client.get(path)
    assert answer.status_code == 404
    assert "未找到该号。号票仅在取号当日有效。" in answer.text
    assert "A ticket is valid only on the day it is taken." in answer.text
    assert 'data-autoprint="1"' not in answer.text


@pytest.mark.parametrize("path", ["/kiosk/99", "/display/99", "/t/99/20261123-A001"])
def test_an_unknown_hall_is_not_found(site: Site, path: str) -> None:
    answer = site.client.get(path)
    assert answer.status_code == 404
    assert "没有这个大厅。" in answer.text


def test_nothing_personal_on_public_pages(site: Site) -> None:
    token = site.login("clerk")
    taken = site.post("/api/v1/halls/1/tickets", token, {"service": "soc", "applicant": APPLICANT})
    assert taken.status_code == 200, taken.text
    ticket = taken.json()["ticket"]
    assert site.post("/api/v1/halls/1/counters/1/open", token).status_code == 200
    assert site.post("/api/v1/halls/1/counters/1/call-next", token).status_code == 200
    paths = ["/kiosk/1", "/display/1", f"/t/1/{ticket['id']}", f"/t/1/{ticket['id']}/print"]
    # A staff member's browser opening a public screen shows no name either, not even their own.
    for html in [site.client.get("/kiosk/1").text, site.client.get("/display/1").text]:
        assert CLERK_NAME not in html and "N0000" not in html
    site.anonymous()
    secrets = ("张三丰", "张**", "11010519491231002X", "110***", "002X", CLERK_NAME, "N0000")
    for path in paths:
        html = site.client.get(path).text
        assert ticket["number"] in html or path in ("/kiosk/1", "/display/1")
        for secret in secrets:
            assert secret not in html, (path, secret)
    # What the kiosk, the display and the ticket page read afterwards.
    status = site.client.get(f"/api/v1/halls/1/tickets/{ticket['id']}").json()
    assert "applicant" not in status and "clerk" not in status
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": "hall/1/queue"})
        snapshot = ws.receive_json()
    assert snapshot["type"] == "snapshot"
    assert [c["number"] for c in snapshot["data"]["calls"]] == [ticket["number"]]
    seen = json.dumps(snapshot, ensure_ascii=False)
    for secret in secrets:
        assert secret not in seen, secret


# -- the hall's choices at the kiosk: priority classes, and services no open counter serves --------


@contextmanager
def hall_site(tmp_path: Path, *statements: str) -> Iterator[Site]:
    """Hall 1 open all week, changed by ``statements`` before the server reads it."""
    config, ids, users = make_site(tmp_path)
    open_hall_all_week(config.db_url)
    for statement in statements:
        _change(config.db_url, statement)
    with TestClient(create_app(config), follow_redirects=False) as client:
        yield Site(client, ids, users)


def _take(site: Site, service: str = "soc", **extra: Any) -> Any:
    return site.post("/api/v1/halls/1/tickets", kiosk_token(site), {"service": service, **extra})


def test_while_people_wait_the_kiosk_never_says_no_wait(tmp_path: Path) -> None:
    # Services that take seconds: the estimate for the next resident is well under a minute.
    with hall_site(tmp_path, "update queue_services set default_service_minutes = 0.05 where code = 'soc'") as site:
        token = site.login("clerk")
        assert site.post("/api/v1/halls/1/counters/1/open", token).status_code == 200
        assert button(site.client.get("/kiosk/1").text, "soc").count("无需等候") == 1  # no one waits yet
        first, second = _take(site).json(), _take(site).json()
        assert first["estimate_minutes"] == 0 and 0 < second["estimate_minutes"] < 1
        soc = button(site.client.get("/kiosk/1").text, "soc")
        assert "等候 2 人\xa0· 不到 1 分钟" in soc and "Waiting: 2\xa0· Under 1 minute" in soc
        assert "无需等候" not in soc and "No wait" not in soc
        # The slip of a ticket under a minute away says so: never "about 0 minutes".
        slip = site.client.get(f"/t/1/{second['ticket']['id']}/print").text
        assert "预计等候不到 1 分钟" in slip and "约 0 分钟" not in slip
        words = json.loads(re.search(r"data-words='([^']*)'", site.client.get("/kiosk/1").text).group(1))  # type: ignore[union-attr]
        assert words["under_minute"] == ["不到 1 分钟", "Under 1 minute"]
        assert words["estimate_under"] == ["预计等候不到 1 分钟", "Estimated wait: under 1 minute"]


def test_by_default_a_ticket_for_a_service_no_counter_serves_is_issued_with_a_warning(site: Site) -> None:
    taken = _take(site, "fund")
    assert taken.status_code == 200, taken.text
    assert taken.json()["no_counter"] is True and taken.json()["estimate_minutes"] is None
    slip = site.client.get(f"/t/1/{taken.json()['ticket']['id']}/print").text
    assert "当前暂无窗口办理此业务" in slip and "No counter handles this service at the moment" in slip
    assert "暂无窗口开放" in button(site.client.get("/kiosk/1").text, "fund")
    assert 'aria-disabled="false"' in button(site.client.get("/kiosk/1").text, "fund")
    words = json.loads(re.search(r"data-words='([^']*)'", site.client.get("/kiosk/1").text).group(1))  # type: ignore[union-attr]
    assert words["no_counter_warning"][0] == "当前暂无窗口办理此业务"
    # Once a counter serving it opens, its tickets carry no warning.
    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/counters/4/open", token).status_code == 200
    served = _take(site, "fund").json()
    assert served["no_counter"] is False
    assert "当前暂无窗口办理此业务" not in site.client.get(f"/t/1/{served['ticket']['id']}/print").text


def test_a_hall_may_refuse_tickets_for_a_service_no_counter_serves(tmp_path: Path) -> None:
    refuse = "update queue_rules set rules = json_set(rules, '$.no_counter', 'refuse') where hall_id = 1"
    with hall_site(tmp_path, refuse) as site:
        fund = button(site.client.get("/kiosk/1").text, "fund")
        assert 'aria-disabled="true"' in fund and "暂无窗口开放" in fund
        refused = _take(site, "fund")
        assert (refused.status_code, refused.json()["code"]) == (409, "no_counter")
        view = site.client.get("/api/v1/halls/1/queue").json()
        assert view["no_counter"] == "refuse" and {s["code"]: s["waiting"] for s in view["services"]}["fund"] == 0
        words = json.loads(re.search(r"data-words='([^']*)'", site.client.get("/kiosk/1").text).group(1))  # type: ignore[union-attr]
        assert words["err_no_counter"][0] == "当前暂无窗口办理此业务，未能取号。"
        token = site.login("clerk")
        assert site.post("/api/v1/halls/1/counters/4/open", token).status_code == 200
        assert _take(site, "fund").status_code == 200


def test_the_kiosk_offers_only_the_priority_classes_the_hall_allows(tmp_path: Path) -> None:
    narrow = (
        "update queue_rules set rules = json_set(rules, '$.kiosk_priorities', json('[\"normal\", \"elderly\"]'))"
        " where hall_id = 1"
    )
    with hall_site(tmp_path, narrow) as site:
        html = site.client.get("/kiosk/1").text
        assert 'name="priority" value="elderly"' in html
        assert 'value="military"' not in html and 'value="disabled"' not in html and 'value="appointment"' not in html
        assert _take(site, priority="elderly").json()["ticket"]["priority"] == "elderly"
        refused = _take(site, priority="military")
        assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
            403,
            "priority_not_offered",
            "priority",
        )
        words = json.loads(re.search(r"data-words='([^']*)'", html).group(1))  # type: ignore[union-attr]
        assert words["err_priority"][0] == "此处不发放该类优先号，请咨询工作人员。"
        # Staff grant what the kiosk does not offer (a guide at the door who saw the certificate).
        token = site.login("clerk")
        granted = site.post("/api/v1/halls/1/tickets", token, {"service": "soc", "priority": "military"})
        assert granted.json()["ticket"]["priority"] == "military"
    only_normal = "update queue_rules set rules = json_set(rules, '$.kiosk_priorities', json('[\"normal\"]'))"
    (tmp_path / "plain").mkdir()
    with hall_site(tmp_path / "plain", only_normal) as site:
        assert 'id="priority"' not in site.client.get("/kiosk/1").text  # no choice to offer


def test_the_default_kiosk_offers_the_classes_shown_at_the_counter_and_never_an_appointment(site: Site) -> None:
    html = site.client.get("/kiosk/1").text
    for value in ("normal", "elderly", "disabled", "military"):
        assert f'name="priority" value="{value}"' in html
    assert 'value="appointment"' not in html
