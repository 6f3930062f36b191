"""The statistics API: supervisors read the KPIs of their hall and the halls below it as JSON, as a
CSV with Chinese-first headers, and as an XLSX workbook whose numbers are numbers."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from hall.storage.database import create_engine
from hall.storage.tables import staff
from tests.factories import add_staff
from tests.site import Site

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _serve_one(site: Site) -> None:
    """A clerk at counter 1 of the district hall takes, calls, serves and finishes a ticket."""
    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/tickets", token, {"service": "soc"}).status_code == 200
    for action in ("open", "call-next", "start", "finish"):
        assert site.post(f"/api/v1/halls/1/counters/1/{action}", token).status_code == 200


def test_a_supervisor_sees_todays_ticket_in_the_figures(site: Site) -> None:
    _serve_one(site)
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&group=service")
    assert answer.status_code == 200
    data = answer.json()
    assert (data["total"]["arrived"], data["total"]["called"], data["total"]["served"]) == (1, 1, 1)
    assert data["total"]["service_level"] == 1.0
    # The counter's idle time (opened, then a call) stands apart, under no service.
    assert [(g["key"], g["arrived"]) for g in data["groups"]] == [("soc", 1), ("", 0)]
    assert data["groups"][1]["label"] == "窗口空闲与整理"
    assert data["groups"][0]["label"] == "社会保障"
    assert [p["key"] for p in data["periods"]] == [TODAY]
    assert sum(h["arrived"] for h in data["hours"]) == 1


def test_the_figures_group_by_clerk_department_and_hall(site: Site) -> None:
    _serve_one(site)
    site.login("supervisor")
    for group in ("clerk", "counter", "department", "hall", "hour"):
        data = site.client.get(f"/api/v1/halls/1/stats?group={group}&by=month").json()
        assert sum(g["served"] for g in data["groups"]) == 1, group
        assert sum(g["arrived"] for g in data["groups"]) == 1, group


def test_clerks_may_not_read_the_statistics(site: Site) -> None:
    site.login("clerk")
    assert site.client.get("/api/v1/halls/1/stats").status_code == 403


def test_a_bad_parameter_is_named(site: Site) -> None:
    site.login("supervisor")
    for query, field in (
        ("by=year", "by"),
        ("group=colour", "group"),
        ("format=pdf", "format"),
        ("from=2026-13-01", "from"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("from=2024-01-01&to=2026-01-01", "from"),
    ):
        answer = site.client.get(f"/api/v1/halls/1/stats?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["field"] == field, query


def test_the_csv_has_chinese_first_headers_and_a_total(site: Site) -> None:
    _serve_one(site)
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&format=csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["业务 / Service", "取号量 / Arrived", "呼叫量 / Calls"]
    assert "服务达标率（%） / Service level (%)" in rows[0]
    assert rows[1][:3] == ["社会保障", "1", "1"]
    assert rows[-1][:2] == ["合计", "1"]


def test_the_workbook_has_a_sheet_per_table_with_numbers_as_numbers(site: Site) -> None:
    _serve_one(site)
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&group=clerk&format=xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(answer.content))
    titles = [sheet.title for sheet in book.worksheets]
    assert titles == [
        "按期间 By period",
        "按分组 By group",
        "按时段 By hour of day",
        "按星期和时段 By weekday and hour",
    ]
    periods = book.worksheets[0]
    assert periods.freeze_panes == "B2"
    header = [cell.value for cell in periods[1]]
    assert header[:2] == ["日期 / Day", "取号量 / Arrived"]
    level = header.index("服务达标率 / Service level") + 1
    day_row = [cell.value for cell in periods[2]]
    # A day is a date the spreadsheet sorts and filters by, not text.
    assert day_row[0].date().isoformat() == TODAY
    assert periods.cell(row=2, column=1).number_format == "yyyy-mm-dd"
    assert day_row[1] == 1 and isinstance(day_row[1], int)
    assert periods.cell(row=2, column=level).value == 1.0
    assert periods.cell(row=2, column=level).number_format == "0.0%"
    clerks = [row[0].value for row in book.worksheets[1].iter_rows(min_row=2)]
    assert clerks[-1] == "合计" and len(clerks) == 3  # the clerk, arrivals at no counter, the total
    # The heat map's table too: a row a weekday, a column an hour that counted; the one call.
    heat = book.worksheets[3]
    assert heat.cell(row=1, column=1).value == "星期 / Weekday"
    assert [heat.cell(row=n, column=1).value for n in (2, 8)] == ["周一 / Mon", "周日 / Sun"]
    assert sum(cell.value for row in heat.iter_rows(min_row=2, min_col=2) for cell in row) == 1


def test_a_drill_down_to_a_counter_narrows_the_figures_and_the_heat_map(site: Site) -> None:
    _serve_one(site)
    site.login("supervisor")
    data = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&group=clerk&counter=1:1").json()
    # The ticket's call and service at counter 1; its arrival belongs to no counter and falls out.
    assert (data["total"]["arrived"], data["total"]["called"], data["total"]["served"]) == (0, 1, 1)
    assert len(data["groups"]) == 1 and data["groups"][0]["served"] == 1
    assert sum(cell[3] for cell in data["heat"]) == 1
    assert "wait_p90_minutes" in data["total"] and "idle_minutes" in data["total"]
    elsewhere = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&counter=1:2").json()
    assert elsewhere["total"]["called"] == 0
    # At a counter the workbook ends with the tickets themselves, as the page lists them.
    answer = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&counter=1:1&format=xlsx")
    book = load_workbook(io.BytesIO(answer.content))
    tickets = book.worksheets[-1]
    assert tickets.title.endswith(" The tickets")
    header = [cell.value for cell in tickets[1]]
    assert header[:3] == ["号码 / Ticket", "业务 / Service", "状态 / State"]
    (row,) = [[cell.value for cell in r] for r in tickets.iter_rows(min_row=2)]
    assert row[0] == "A001" and row[1] == "社会保障"
    assert isinstance(row[3], datetime) and isinstance(row[6], int | float)
    # Not narrowed that far, no such sheet.
    whole = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&format=xlsx")
    assert len(load_workbook(io.BytesIO(whole.content)).worksheets) == 4


def test_a_bad_drill_down_is_named(site: Site) -> None:
    site.login("supervisor")
    for query, field in (("counter=5", "counter"), ("counter=a:b", "counter"), ("clerk=me", "clerk")):
        answer = site.client.get(f"/api/v1/halls/1/stats?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["field"] == field, query


def test_the_page_renders_the_drill_down_to_the_tickets_with_the_applicant_masked(site: Site) -> None:
    token = site.login("clerk")
    person = {"name": "张三丰", "id_number": "11010519491231002x"}
    assert site.post("/api/v1/halls/1/tickets", token, {"service": "soc", "applicant": person}).status_code == 200
    for action in ("open", "call-next", "start", "finish"):
        assert site.post(f"/api/v1/halls/1/counters/1/{action}", token).status_code == 200
    site.login("supervisor")
    by_counter = site.client.get(f"/stats/1?from={TODAY}&to={TODAY}&group=counter")
    assert by_counter.status_code == 200
    # Each counter's row links one level down: its clerks, the period kept.
    assert f"/stats/1?from={TODAY}&amp;to={TODAY}&amp;by=day&amp;counter=1%3A1&amp;group=clerk" in by_counter.text
    page = site.client.get(f"/stats/1?from={TODAY}&to={TODAY}&by=day&counter=1:1&group=clerk")
    assert page.status_code == 200
    html = page.text
    assert 'id="tickets-table"' in html and "A001" in html
    assert "张** 110***********002X" in html
    assert "11010519491231002" not in html and "张三丰" not in html
    assert "1 号窗口" in html  # the crumb of the counter
    # The charts ask the API with the page's own parameters.
    api = f"/api/v1/halls/1/stats?from={TODAY}&amp;to={TODAY}&amp;by=day&amp;group=clerk&amp;counter=1%3A1"
    assert f'data-api="{api}"' in html
    assert site.client.get("/stats/1?counter=nonsense").status_code == 400


def _add_staff(site: Site, tmp_path: Path, hall: str, role: str) -> tuple[int, str]:
    """A staff member of ``role`` at ``hall`` (a sample hall's code), able to log in as ``role@hall``."""

    async def add() -> tuple[int, str]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}")
        try:
            (staff_id,) = await add_staff(engine, site.halls[hall], 1, roles=role, prefix=role[:4])
            async with engine.connect() as conn:
                name = (await conn.execute(select(staff.c.username).where(staff.c.id == staff_id))).scalar_one()
            return staff_id, name
        finally:
            await engine.dispose()

    staff_id, username = asyncio.run(add())
    site.users[f"{role}@{hall}"] = username
    return staff_id, username


def test_the_counters_of_no_department_lead_on_to_the_counters_and_clerks(site: Site) -> None:
    _serve_one(site)
    site.login("supervisor")
    page = site.client.get(f"/stats/1?from={TODAY}&to={TODAY}&group=department")
    assert page.status_code == 200
    # The sample district names no department: its one row leads on to the counters.
    to_counters = f"/stats/1?from={TODAY}&amp;to={TODAY}&amp;by=day&amp;department=-&amp;group=counter"
    assert to_counters in page.text and "未分部门" in page.text
    counters = site.client.get(f"/stats/1?from={TODAY}&to={TODAY}&by=day&department=-&group=counter")
    assert counters.status_code == 200
    assert "未分部门" in counters.text  # its crumb
    # Counter 1's row leads on to its clerks, the narrowing kept.
    assert "department=-&amp;counter=1%3A1&amp;group=clerk" in counters.text
    data = site.client.get(f"/api/v1/halls/1/stats?from={TODAY}&to={TODAY}&department=-&group=counter").json()
    assert [(g["key"], g["served"]) for g in data["groups"]] == [("1:1", 1)]
    clerks = site.client.get(f"/stats/1?from={TODAY}&to={TODAY}&by=day&department=-&counter=1:1&group=clerk")
    assert clerks.status_code == 200 and 'id="tickets-table"' in clerks.text and "A001" in clerks.text


def test_the_counters_of_several_halls_are_named_by_their_hall(site: Site) -> None:
    _serve_one(site)
    token = site.login("community-clerk")
    assert site.post("/api/v1/halls/3/tickets", token, {"service": "soc"}).status_code == 200
    for action in ("open", "call-next", "start", "finish"):
        assert site.post(f"/api/v1/halls/3/counters/1/{action}", token).status_code == 200
    site.login("supervisor")
    labels = [g["label"] for g in site.client.get(f"/api/v1/halls/1/stats?group=counter&to={TODAY}").json()["groups"]]
    assert "星河区·1号窗口" in labels and "柳荫社区·1号窗口" in labels, labels
    assert not any(label.startswith(("1·", "3·")) for label in labels)
    table = site.client.get(f"/api/v1/halls/1/stats?group=counter&to={TODAY}&format=csv").content.decode("utf-8-sig")
    assert "星河区·1号窗口" in table and "柳荫社区·1号窗口" in table
    english = site.client.get(f"/api/v1/halls/1/stats?group=counter&to={TODAY}&lang=en")
    assert "Xinghe District · Counter 1" in [g["label"] for g in english.json()["groups"]]


def _district_clerk(site: Site) -> int:
    """The id of the district hall's clerk who served (as the figures by clerk tell)."""
    groups = site.client.get(f"/api/v1/halls/1/stats?group=clerk&to={TODAY}").json()["groups"]
    return next(int(g["key"]) for g in groups if g["key"] not in ("", "0"))


def test_a_street_supervisor_sees_the_district_above_as_text_and_no_clerk_of_it(site: Site, tmp_path: Path) -> None:
    _serve_one(site)
    site.login("supervisor")
    clerk = _district_clerk(site)
    _add_staff(site, tmp_path, "xh-hp", "supervisor")
    site.login("supervisor@xh-hp")
    street = site.halls["xh-hp"]
    page = site.client.get(f"/stats/{street}")
    assert page.status_code == 200
    assert "星河区政务服务中心" in page.text  # the district, named
    assert 'href="/stats/1?' not in page.text  # but not linked: it may not open it
    # A clerk of the district hall is not of the street's halls.
    someone = site.client.get(f"/stats/{street}?clerk={clerk}")
    assert someone.status_code == 400 and "所选工作人员不属于当前查看的大厅" in someone.text
    assert 'id="stats-form"' in someone.text
    assert 'name="clerk"' not in someone.text  # the form asks again without the clerk at fault
    api = site.client.get(f"/api/v1/halls/{street}/stats?clerk={clerk}")
    assert api.status_code == 422 and api.json()["field"] == "clerk"
    # The district's own supervisor still walks up and down.
    site.login("supervisor")
    assert 'href="/stats/1?' in site.client.get(f"/stats/{street}").text


def test_a_bad_period_shows_the_form_again_with_what_is_wrong(site: Site) -> None:
    site.login("supervisor")
    page = site.client.get("/stats/1?from=2026-12-02&to=2026-12-01&group=clerk")
    assert page.status_code == 400
    html = page.text
    assert 'id="stats-form"' in html
    assert 'value="2026-12-02"' in html and 'value="2026-12-01"' in html
    assert "无法显示这些统计：结束日期不能早于开始日期" in html
    assert "stats.js" not in html
    english = site.client.get("/stats/1?from=2026-12-02&to=2026-12-01&lang=en")
    assert "These statistics cannot be shown: to must be on or after from" in english.text


def test_arrivals_alone_lead_to_no_counter(site: Site) -> None:
    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/tickets", token, {"service": "soc"}).status_code == 200
    site.login("supervisor")
    page = site.client.get(f"/stats/1?from={TODAY}&to={TODAY}&group=department")
    assert "未分部门" in page.text and "department=-" not in page.text
