"""Public case tracking (/track): the case number and the last four digits of the applicant's phone
show the case's stage, due date and history, and nothing of any person. A wrong suffix answers
exactly as an unknown number, failed look-ups are throttled per address, and a finished case is
rated online once (一事一评)."""

from __future__ import annotations

from typing import Any

import httpx

from cases.web.track import TRACK_FAILURES, TRACK_WINDOW
from tests.helpers import csrf_of
from tests.site import Site

NAME = "王秀英"
ID_NUMBER = "11010519491231002X"
PHONE = "138-0013-8000"
TAIL = "8000"
MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]
# Well formed, and never given: the register's numbers start with today's date.
UNKNOWN = "2099010100100001"
# A remark a clerk might well write; the public must never read it.
REMARK = "已电话联系王秀英 13800138000，材料齐全"
PATH = "/api/v1/track"


def _accept(site: Site) -> str:
    community = site.halls["xh-hp-ly"]
    token = site.login("community-clerk")
    body = {
        "item": "MZ-006",
        "applicant": {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE},
        "materials": MATERIALS,
        "counter": 1,
    }
    accepted = site.post(f"/api/v1/halls/{community}/cases", token, body)
    assert accepted.status_code == 200, accepted.text
    number: str = accepted.json()["case"]["number"]
    return number


# Who takes each step of MZ-006: the district office decides, the community hands the result over.
_STEPS = {
    "review": ("clerk", "xh"),
    "approve": ("supervisor", "xh"),
    "complete": ("clerk", "xh"),
    "collect": ("community-clerk", "xh-hp-ly"),
    "refuse": ("clerk", "xh"),
    "supplement": ("clerk", "xh"),
}


def _step(site: Site, number: str, action: str, **body: Any) -> None:
    who, hall = _STEPS[action]
    token = site.login(who)
    done = site.post(f"/api/v1/halls/{site.halls[hall]}/cases/{number}/{action}", token, body)
    assert done.status_code == 200, done.text


def _collected(site: Site) -> str:
    number = _accept(site)
    _step(site, number, "review", remark=REMARK)
    for action in ("approve", "complete", "collect"):
        _step(site, number, action)
    return number


def _resident(site: Site, number: str = "") -> str:
    """A resident opens the tracking page (no login): the page's CSRF token for the API."""
    site.anonymous()
    page = site.client.get("/track" + (f"?case={number}" if number else ""))
    assert page.status_code == 200
    return csrf_of(page.text)


def _track(site: Site, token: str, number: str, tail: Any = TAIL) -> httpx.Response:
    answer: httpx.Response = site.post(PATH, token, {"case": number, "phone_tail": tail})
    return answer


def _rate(site: Site, token: str, number: str, level: Any, comment: str = "", tail: str = TAIL) -> httpx.Response:
    body = {"case": number, "phone_tail": tail, "level": level, "comment": comment}
    answer: httpx.Response = site.post(f"{PATH}/rate", token, body)
    return answer


def test_the_right_phone_suffix_shows_stage_due_date_and_history_and_nothing_personal(site: Site) -> None:
    number = _accept(site)
    _step(site, number, "review", remark=REMARK)
    token = _resident(site, number)

    answer = _track(site, token, number)

    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["number"] == number
    assert found["item"]["code"] == "MZ-006" and found["item"]["name"]
    assert found["stage"] == "review"
    assert found["stage_label"] == {"zh": "审核", "en": "Review"}
    assert found["status"]["zh"] == "审核通过，待审批"
    assert found["due_local"] and found["due_at"].endswith("+08:00")
    assert found["light"]["value"] == "green"
    assert found["light"]["icon"] and found["light"]["word"]["zh"] == "正常办理中"
    assert [(s["action"], s["stage"]) for s in found["history"]] == [("accepted", "accepted"), ("reviewed", "review")]
    assert [s["label"]["zh"] for s in found["history"]] == ["已受理", "审核通过"]
    assert found["halls"]["accepted"]["name"] != found["halls"]["deciding"]["name"]
    assert found["halls"]["collect"] == found["halls"]["accepted"]
    assert found["rating"]["open"] is False and found["rating"]["level"] is None

    text = answer.text
    for personal in (NAME, ID_NUMBER, PHONE, "13800138000", REMARK, "N0000", *site.users.values()):
        assert personal not in text, personal
    for key in ("applicant", "actor", "remark", "registered_by", "assignee", "counter", "attachments"):
        assert f'"{key}"' not in text, key


def test_the_page_takes_the_number_from_the_receipt_link_and_speaks_chinese_first(site: Site) -> None:
    number = _accept(site)
    site.anonymous()

    page = site.client.get(f"/track?case={number}")

    assert page.status_code == 200
    assert "办件进度查询" in page.text and "Track an application" in page.text
    assert f'value="{number}"' in page.text
    assert "/static/js/track.js" in page.text
    english = site.client.get(f"/track?case={number}&lang=en")
    assert "Track an application" in english.text and "办件进度查询" not in english.text
    # Anything but digits in the link is dropped, not echoed into the page.
    odd = site.client.get('/track?case="><script>alert(1)</script>')
    assert odd.status_code == 200 and "<script>alert" not in odd.text


def test_a_wrong_phone_suffix_answers_exactly_as_an_unknown_number(site: Site) -> None:
    number = _accept(site)
    token = _resident(site)

    wrong = _track(site, token, number, "0000")
    unknown = _track(site, token, UNKNOWN)

    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert wrong.headers["content-type"] == unknown.headers["content-type"]
    assert number not in wrong.text


def test_a_case_not_found_answers_in_the_error_shape_of_every_other(site: Site) -> None:
    number = _collected(site)
    token = _resident(site)
    shape = {"code": "not_found", "error": "not_found", "message": "没有与该办件编号和电话相符的办件"}

    assert _track(site, token, UNKNOWN).json() == shape
    assert _rate(site, token, number, 5, tail="0000").json() == shape


def test_malformed_look_ups_are_refused_without_looking(site: Site) -> None:
    number = _accept(site)
    token = _resident(site)

    for case, tail, field in [
        ("ABC123", TAIL, "case"),
        ("123", TAIL, "case"),
        (number, "800", "phone_tail"),
        (number, "80000", "phone_tail"),
        (number, 8000, "phone_tail"),  # a number would lose a leading zero: the suffix is a string
        (number, None, "phone_tail"),
    ]:
        answer = _track(site, token, case, tail)
        assert answer.status_code == 422, (case, tail)
        assert answer.json()["field"] == field
    # Spaces and dashes from a printed receipt are not part of the number.
    grouped = f"{number[:8]} {number[8:11]}-{number[11:]}"
    assert _track(site, token, grouped).status_code == 200
    # Without the page's CSRF token a public POST is refused as any other.
    assert site.client.post(PATH, json={"case": number, "phone_tail": TAIL}).status_code == 403


def test_failed_look_ups_from_one_address_are_throttled(site: Site) -> None:
    number = _accept(site)
    token = _resident(site)
    for _ in range(TRACK_FAILURES):
        assert _track(site, token, number, "0000").status_code == 404

    blocked = _track(site, token, number)

    # Blocked even with the right digits: a guess that would have matched is not told apart.
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"
    assert 0 < int(blocked.headers["retry-after"]) <= TRACK_WINDOW
    assert _rate(site, token, number, 5).status_code == 429


def test_look_ups_that_find_the_case_are_not_counted(site: Site) -> None:
    number = _accept(site)
    token = _resident(site)
    for _ in range(TRACK_FAILURES * 2):
        assert _track(site, token, number).status_code == 200
    for _ in range(TRACK_FAILURES - 1):
        assert _track(site, token, number, "0000").status_code == 404
    assert _track(site, token, number).status_code == 200


def test_a_collected_case_is_rated_once(site: Site) -> None:
    number = _collected(site)
    token = _resident(site, number)
    before = _track(site, token, number).json()
    assert before["stage"] == "collected" and before["light"] is None
    assert before["rating"]["open"] is True and before["rating"]["until"]

    first = site.post(
        f"{PATH}/rate",
        token,
        {"case": number, "phone_tail": TAIL, "level": 4, "comment": "", "command_id": "rate-once-0001"},
    )

    assert first.status_code == 200, first.text
    assert first.json()["rated"] == 4 and first.json()["label"] == {"zh": "满意", "en": "Satisfied"}
    after = _track(site, token, number).json()["rating"]
    assert after["level"] == 4 and after["open"] is False
    # The same press sent again is the same rating, not a second one.
    again = site.post(
        f"{PATH}/rate",
        token,
        {"case": number, "phone_tail": TAIL, "level": 4, "comment": "", "command_id": "rate-once-0001"},
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    second = _rate(site, token, number, 5)
    assert second.status_code == 409
    assert _track(site, token, number).json()["rating"]["level"] == 4


def test_a_case_in_review_cannot_be_rated(site: Site) -> None:
    number = _accept(site)
    _step(site, number, "review")
    token = _resident(site)

    answer = _rate(site, token, number, 5)

    assert answer.status_code == 409
    assert _track(site, token, number).json()["rating"] == {
        "level": None,
        "label": None,
        "open": False,
        "until": None,
        "days": 30,
    }


def test_an_unsatisfied_rating_needs_a_comment(site: Site) -> None:
    number = _collected(site)
    token = _resident(site)

    bare = _rate(site, token, number, 2, "  ")

    assert bare.status_code == 422 and bare.json()["field"] == "comment"
    assert _track(site, token, number).json()["rating"]["level"] is None
    explained = _rate(site, token, number, 2, "等候时间太长")
    assert explained.status_code == 200
    assert _track(site, token, number).json()["rating"]["level"] == 2


def test_a_malformed_rating_is_refused_before_the_case_is_looked_at(site: Site) -> None:
    number = _collected(site)
    token = _resident(site)
    for level in (0, 6, "5", True, None, 4.5):
        answer = _rate(site, token, number, level)
        assert answer.status_code == 422 and answer.json()["field"] == "level", level
    assert _rate(site, token, number, 3, "长" * 301).json()["field"] == "comment"
    assert _track(site, token, number).json()["rating"]["level"] is None


def test_rating_with_a_wrong_suffix_is_the_same_404_and_counts_as_a_failure(site: Site) -> None:
    number = _collected(site)
    token = _resident(site)

    wrong = _rate(site, token, number, 5, tail="0000")

    assert wrong.status_code == 404
    assert wrong.content == _track(site, token, UNKNOWN).content
    assert _track(site, token, number).json()["rating"]["level"] is None
    # Two failures so far (the wrong rating and the unknown number).
    for _ in range(TRACK_FAILURES - 2):
        assert _track(site, token, UNKNOWN).status_code == 404
    assert _track(site, token, number).status_code == 429


def test_a_refusal_shows_its_reason_and_a_supplement_only_the_published_materials(site: Site) -> None:
    refused = _accept(site)
    _step(site, refused, "refuse", remark="申请人户籍不在本辖区")
    paused = _accept(site)
    _step(site, paused, "supplement", remark=REMARK, materials=["居民户口簿", "王秀英本人的情况说明"])
    token = _resident(site)

    shown = _track(site, token, refused).json()
    waiting = _track(site, token, paused)

    assert shown["stage"] == "refused" and shown["status"]["zh"] == "不予受理"
    assert shown["refused_reason"] == "申请人户籍不在本辖区"
    assert shown["light"] is None
    assert waiting.json()["paused"] is True
    assert waiting.json()["status"]["zh"] == "等待补正材料，暂停计时"
    assert waiting.json()["supplement"] == ["居民户口簿"]
    assert NAME not in waiting.text and REMARK not in waiting.text
    assert [s["action"] for s in waiting.json()["history"]] == ["accepted", "supplement_requested"]
