"""The cases' statistics API: supervisors read the case KPIs of their hall and the halls below it as
JSON, as a CSV with Chinese-first headers and as an XLSX workbook whose numbers are numbers; a
case taken through the API and rated by its applicant on the tracking page shows in them where its
steps were taken and where it was rated."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.helpers import csrf_of
from tests.site import Site

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]


def _complete_one(site: Site) -> str:
    """A case accepted at the community, decided and completed by the district office today: its number."""
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    token = site.login("community-clerk")
    applicant = {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"}
    body = {"item": "MZ-006", "applicant": applicant, "materials": MATERIALS}
    accepted = site.post(f"/api/v1/halls/{community}/cases", token, body)
    assert accepted.status_code == 200, accepted.text
    number = accepted.json()["case"]["number"]
    for who, action in (("clerk", "review"), ("supervisor", "approve"), ("clerk", "complete")):
        token = site.login(who)
        assert site.post(f"/api/v1/halls/{district}/cases/{number}/{action}", token).status_code == 200
    return str(number)


def _rate(site: Site, number: str, level: int) -> None:
    """The applicant rates the case on the public tracking page (no login)."""
    site.anonymous()
    token = csrf_of(site.client.get(f"/track?case={number}").text)
    body = {"case": number, "phone_tail": "8000", "level": level, "comment": ""}
    assert site.post("/api/v1/track/rate", token, body).status_code == 200


def test_a_supervisor_sees_a_case_completed_today_where_each_step_was_taken(site: Site) -> None:
    _rate(site, _complete_one(site), 3)
    site.login("supervisor")
    district = site.halls["xh"]
    data = site.client.get(f"/api/v1/halls/{district}/case-stats?from={TODAY}&to={TODAY}&group=hall").json()
    assert (data["total"]["accepted"], data["total"]["completed"], data["total"]["on_time"]) == (1, 1, 1)
    assert data["total"]["on_time_rate"] == 1.0
    # Done within the hour it was accepted: nearly all of the promised ten working days saved.
    assert 0.9 < data["total"]["speed_up"] <= 1.0
    # Rated 基本满意 online: satisfied, and counted where the resident was served.
    assert (data["total"]["rated"], data["total"]["satisfied"], data["total"]["satisfaction"]) == (1, 1, 1.0)
    by_hall = {g["key"]: g for g in data["groups"]}
    assert by_hall[str(site.halls["xh-hp-ly"])]["accepted"] == 1
    assert by_hall[str(district)]["completed"] == 1
    assert (by_hall[str(site.halls["xh-hp-ly"])]["rated"], by_hall[str(district)]["rated"]) == (1, 0)
    assert by_hall[str(district)]["satisfaction"] is None
    items = site.client.get(f"/api/v1/halls/{district}/case-stats?group=item&by=month").json()
    assert [(g["key"], g["label"]) for g in items["groups"]] == [("MZ-006", "MZ-006 八十周岁以上老年人高龄津贴申领")]
    stages = site.client.get(f"/api/v1/halls/{district}/case-stats?group=stage").json()
    assert [(g["key"], g["entered"]) for g in stages["groups"]] == [
        ("accepted", 1),
        ("review", 1),
        ("approval", 1),
        ("completed", 1),
    ]


def test_clerks_may_not_read_the_case_statistics_and_bad_parameters_are_named(site: Site) -> None:
    site.login("clerk")
    assert site.client.get("/api/v1/halls/1/case-stats").status_code == 403
    site.login("supervisor")
    for query, field in (("by=year", "by"), ("group=counter", "group"), ("from=2024-01-01&to=2026-01-01", "from")):
        answer = site.client.get(f"/api/v1/halls/1/case-stats?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["field"] == field, query


def test_the_case_csv_and_workbook_have_bilingual_headers_and_numbers(site: Site) -> None:
    _rate(site, _complete_one(site), 4)
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/1/case-stats?from={TODAY}&to={TODAY}&group=stage&format=csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["办理阶段 / Stage", "受理件数 / Cases accepted"]
    assert "按时办结率（%） / On-time rate (%)" in rows[0]
    assert rows[1][:2] == ["受理", "1"]
    assert rows[-1][:2] == ["合计", "1"]
    # The rating counts under 办结: one rating, 满意, so 100 %.
    rated, satisfaction = (
        rows[0].index("办件评价数 / Case ratings"),
        rows[0].index("办件满意率（%） / Case satisfaction (%)"),
    )
    completed = next(row for row in rows if row[0] == "办结")
    assert (completed[rated], completed[satisfaction]) == ("1", "100.0")
    assert (rows[-1][rated], rows[-1][satisfaction]) == ("1", "100.0")

    answer = site.client.get(f"/api/v1/halls/1/case-stats?from={TODAY}&to={TODAY}&format=xlsx")
    book = load_workbook(io.BytesIO(answer.content))
    assert [sheet.title for sheet in book.worksheets] == ["按期间 By period", "按分组 By group"]
    sheet = book.worksheets[1]
    assert sheet.freeze_panes == "B2"
    header = [cell.value for cell in sheet[1]]
    rate = header.index("按时办结率 / On-time rate") + 1
    assert sheet.cell(row=2, column=2).value == 1 and isinstance(sheet.cell(row=2, column=2).value, int)
    assert sheet.cell(row=2, column=rate).value == 1.0
    assert sheet.cell(row=2, column=rate).number_format == "0.0%"
    rated = header.index("办件评价数 / Case ratings") + 1
    satisfaction = header.index("办件满意率 / Case satisfaction") + 1
    assert sheet.cell(row=2, column=rated).value == 1 and isinstance(sheet.cell(row=2, column=rated).value, int)
    assert sheet.cell(row=2, column=satisfaction).value == 1.0
    assert sheet.cell(row=2, column=satisfaction).number_format == "0.0%"
