"""The cases at the end of the statistics' drill-down: the statistics page (/stats/{hall}) lists
the 办件 of the period at the place it stands — a clerk's, the ones that clerk took a step on; a
department's, its cases; a counter's, those accepted at it; the hall's, all of its own and the
halls' below it — newest first, each number a link to the case record, the applicant masked.
Supervisors of the hall or above only.

Hand-made cases written row by row (as the ledgers' tests do), and one taken through the API to
follow its link to the case record.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import insert, select

from hall.storage.case_tables import case_steps, cases
from hall.storage.database import create_engine
from hall.storage.tables import departments, staff
from tests.factories import add_staff
from tests.site import Site

PERIOD = "from=2026-11-01&to=2026-11-30"
ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"
MZ, RS = "区民政局", "区人力资源和社会保障局"


def _db_url(site: Site) -> str:
    url: str = site.client.app.state.hall.settings.db_url  # type: ignore[attr-defined]
    return url


async def _write(url: str, rows: list[dict[str, Any]], steps: list[dict[str, Any]]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(cases), rows)
            await conn.execute(insert(case_steps), steps)
    finally:
        await engine.dispose()


async def _ids(url: str, usernames: dict[str, str]) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(select(staff.c.username, staff.c.id))
            by_name = {name: staff_id for name, staff_id in found}
    finally:
        await engine.dispose()
    return {who: by_name[name] for who, name in usernames.items()}


def _case(
    number: str, *, accepted: int, deciding: int, counter: int | None, department: str, at: str
) -> dict[str, Any]:
    when = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return {
        "number": number,
        "register_hall": deciding,
        "accepted_hall": accepted,
        "deciding_hall": deciding,
        "counter": counter,
        "item": "MZ-006",
        "department": department,
        "kind": "promised",
        "channel": "window",
        "stage": "review",
        "registered_by": 1,
        "assignee": None,
        "accepted_at": when,
        "due_at": datetime(2026, 12, 31, tzinfo=UTC),
        "completed_at": None,
        "closed_at": None,
        "light": "green",
        "phone_tail": PHONE[-4:],
        "rating": None,
        "record": {"number": number, "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": PHONE}},
    }


def _step(number: str, idx: int, action: str, actor: int, hall: int, at: str) -> dict[str, Any]:
    when = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return {
        "number": number,
        "idx": idx,
        "action": action,
        "stage_from": None,
        "stage_to": "review",
        "actor": actor,
        "hall_id": hall,
        "at": when,
        "remark": "",
    }


def _seed(site: Site) -> dict[str, int]:
    """Four cases of November at the district and its community, and one of October:

    - 2026112001 民政 at the district's counter 3: accepted by the clerk, reviewed by the supervisor;
    - 2026112002 人社 at the district's counter 4: accepted by the supervisor;
    - 2026112003 民政 accepted at the community by its clerk, reviewed at the district by the clerk;
    - 2026102004 民政 at counter 3, accepted by the clerk in October (outside the period).
    """
    url = _db_url(site)
    who = asyncio.run(_ids(url, site.users))
    xh, community = site.halls["xh"], site.halls["xh-hp-ly"]
    rows = [
        _case("2026112001", accepted=xh, deciding=xh, counter=3, department=MZ, at="2026-11-20T01:00:00"),
        _case("2026112002", accepted=xh, deciding=xh, counter=4, department=RS, at="2026-11-20T02:00:00"),
        _case("2026112003", accepted=community, deciding=xh, counter=1, department=MZ, at="2026-11-21T01:00:00"),
        _case("2026102004", accepted=xh, deciding=xh, counter=3, department=MZ, at="2026-10-20T01:00:00"),
    ]
    for row in rows:
        row["registered_by"] = who["clerk"]
    steps = [
        _step("2026112001", 0, "accepted", who["clerk"], xh, "2026-11-20T01:00:00"),
        _step("2026112001", 1, "reviewed", who["supervisor"], xh, "2026-11-20T03:00:00"),
        _step("2026112002", 0, "accepted", who["supervisor"], xh, "2026-11-20T02:00:00"),
        _step("2026112003", 0, "accepted", who["community-clerk"], community, "2026-11-21T01:00:00"),
        _step("2026112003", 1, "reviewed", who["clerk"], xh, "2026-11-21T06:30:00"),
        _step("2026102004", 0, "accepted", who["clerk"], xh, "2026-10-20T01:00:00"),
    ]
    asyncio.run(_write(url, rows, steps))
    return who


def _listed(html: str) -> list[str]:
    """The case numbers of the page's case table, in its order."""
    table = re.search(r'<table id="drill-cases-table".*?</table>', html, re.S)
    assert table is not None, "the page has no case table"
    return re.findall(r'<a href="/cases/\d+/(\d+)">', table.group(0))


def test_a_clerks_cases_are_those_the_clerk_took_a_step_on_in_the_period(site: Site) -> None:
    who = _seed(site)
    site.login("supervisor")
    xh = site.halls["xh"]
    page = site.client.get(f"/stats/{xh}?{PERIOD}&group=clerk&clerk={who['clerk']}")
    assert page.status_code == 200
    # Newest first: reviewed a community's case on the 21st, accepted one at counter 3 on the 20th.
    assert _listed(page.text) == ["2026112003", "2026112001"]
    # The clerk's own steps, on the hall's clock (UTC+8).
    assert "审核 11-21 14:30" in page.text
    assert "受理 11-20 09:00" in page.text
    assert f'href="/cases/{xh}/2026112003"' in page.text


def test_a_departments_counters_and_halls_cases(site: Site) -> None:
    _seed(site)
    site.login("supervisor")
    xh, community = site.halls["xh"], site.halls["xh-hp-ly"]
    asyncio.run(_department(_db_url(site), xh, "mz", MZ))
    # A department by its code: the cases of its name, wherever accepted.
    page = site.client.get(f"/stats/{xh}?{PERIOD}&group=counter&department=mz")
    assert _listed(page.text) == ["2026112003", "2026112001"]
    page = site.client.get(f"/stats/{xh}?{PERIOD}&group=clerk&department=mz&counter={xh}:3")
    assert _listed(page.text) == ["2026112001"]
    page = site.client.get(f"/stats/{xh}?{PERIOD}&group=department")
    assert _listed(page.text) == ["2026112003", "2026112002", "2026112001"]
    # The community's own page: only the case it accepted.
    page = site.client.get(f"/stats/{community}?{PERIOD}")
    assert _listed(page.text) == ["2026112003"]
    # A period with none of them says so.
    page = site.client.get(f"/stats/{xh}?from=2026-09-01&to=2026-09-30")
    assert _listed(page.text) == [] and "本期间没有办件。" in page.text


async def _department(url: str, hall: int, code: str, name: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(departments), [{"hall_id": hall, "code": code, "name": name}])
    finally:
        await engine.dispose()


def test_the_applicant_is_masked_as_in_the_ledgers(site: Site) -> None:
    _seed(site)
    site.login("supervisor")
    page = site.client.get(f"/stats/{site.halls['xh']}?{PERIOD}").text
    table = re.search(r'<table id="drill-cases-table".*?</table>', page, re.S)
    assert table is not None
    assert "王** 110***********002X" in table.group(0)
    for whole in ("王秀英", ID_NUMBER, PHONE):
        assert whole not in page


def test_a_clerk_and_another_halls_supervisor_are_refused(site: Site) -> None:
    who = _seed(site)
    xh, community = site.halls["xh"], site.halls["xh-hp-ly"]
    site.login("clerk")
    assert site.client.get(f"/stats/{xh}?{PERIOD}&clerk={who['clerk']}").status_code == 403
    engine_url = _db_url(site)
    (chief,) = asyncio.run(_add_supervisor(engine_url, community))
    site.users["community-supervisor"] = chief
    site.login("community-supervisor")
    refused = site.client.get(f"/stats/{xh}?{PERIOD}&clerk={who['clerk']}")
    assert refused.status_code == 403
    assert "2026112001" not in refused.text


async def _add_supervisor(url: str, hall: int) -> list[str]:
    engine = create_engine(url)
    try:
        (staff_id,) = await add_staff(engine, hall, 1, roles="supervisor", prefix="cs")
        async with engine.connect() as conn:
            name = (await conn.execute(select(staff.c.username).where(staff.c.id == staff_id))).scalar_one()
    finally:
        await engine.dispose()
    return [name]


def test_a_cases_number_opens_its_record(site: Site) -> None:
    community, xh = site.halls["xh-hp-ly"], site.halls["xh"]
    token = site.login("community-clerk")
    applicant = {"name": "王秀英", "id_number": ID_NUMBER, "phone": PHONE}
    body = {
        "item": "MZ-006",
        "applicant": applicant,
        "materials": ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"],
    }
    accepted = site.post(f"/api/v1/halls/{community}/cases", token, body)
    assert accepted.status_code == 200, accepted.text
    number = accepted.json()["case"]["number"]
    site.login("supervisor")
    page = site.client.get(f"/stats/{xh}").text  # this month, to today
    assert _listed(page) == [number]
    link = re.search(rf'href="(/cases/\d+/{number})"', page)
    assert link is not None
    record = site.client.get(link.group(1))
    assert record.status_code == 200
    assert number in record.text


def test_the_table_holds_the_latest_200_and_says_how_many_there_are(site: Site) -> None:
    who = _seed(site)
    xh = site.halls["xh"]
    rows, steps = [], []
    for n in range(200):
        number = f"20261125{n:04d}"
        at = f"2026-11-25T{n // 60:02d}:{n % 60:02d}:00"
        rows.append(_case(number, accepted=xh, deciding=xh, counter=3, department=MZ, at=at))
        rows[-1]["registered_by"] = who["clerk"]
        steps.append(_step(number, 0, "accepted", who["clerk"], xh, at))
    asyncio.run(_write(_db_url(site), rows, steps))
    site.login("supervisor")
    page = site.client.get(f"/stats/{xh}?{PERIOD}&clerk={who['clerk']}").text
    listed = _listed(page)
    # 202 of the clerk's cases in November: the 200 accepted on the 25th, the newest first.
    assert len(listed) == 200
    assert listed[0] == "202611250199" and listed[-1] == "202611250000"
    assert "共 202 件，此处列出最新的 200 件" in page


def test_the_api_twin_answers_the_same_cases_as_json_and_csv(site: Site) -> None:
    who = _seed(site)
    xh = site.halls["xh"]
    site.login("supervisor")
    api = f"/api/v1/halls/{xh}/case-stats/cases?{PERIOD}&clerk={who['clerk']}"
    data = site.client.get(api).json()
    assert (data["total"], data["clerk"]) == (2, str(who["clerk"]))
    assert [c["number"] for c in data["cases"]] == ["2026112003", "2026112001"]
    first = data["cases"][0]
    assert first["applicant"] == {"name": "王**", "id_number": "110***********002X", "phone": "138****8000"}
    assert [(s["action"], s["at"]) for s in first["my_steps"]] == [("reviewed", "2026-11-21T14:30:00+08:00")]
    # The page's CSV link is this route's CSV: every case, masked, the clerk's steps beside them.
    page = site.client.get(f"/stats/{xh}?{PERIOD}&clerk={who['clerk']}").text
    link = re.search(r'id="drill-cases-csv" href="([^"]+)"', page)
    assert link is not None
    answer = site.client.get(link.group(1).replace("&amp;", "&"))
    assert answer.headers["content-type"].startswith("text/csv")
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows[1:]] == ["2026112003", "2026112001"]
    assert "110***********002X" in text
    for whole in ("王秀英", ID_NUMBER, PHONE):
        assert whole not in text
    # And as a workbook: the same cases, masked, times as times, the header frozen.
    link = re.search(r'id="drill-cases-xlsx" href="([^"]+)"', page)
    assert link is not None
    answer = site.client.get(link.group(1).replace("&amp;", "&"))
    assert answer.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert sheet.freeze_panes == "B2"
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "办件编号 / Case number"
    cells = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[0] for row in cells] == ["2026112003", "2026112001"]
    accepted = cells[0][header.index("受理时间 / Accepted on")]
    assert isinstance(accepted, datetime)
    assert "110***********002X" in {value for row in cells for value in row}
    for whole in ("王秀英", ID_NUMBER, PHONE):
        assert all(whole not in str(value) for row in cells for value in row)


def test_the_api_twin_refuses_clerks_other_halls_and_bad_parameters(site: Site) -> None:
    who = _seed(site)
    xh, community = site.halls["xh"], site.halls["xh-hp-ly"]
    site.login("clerk")
    assert site.client.get(f"/api/v1/halls/{xh}/case-stats/cases?clerk={who['clerk']}").status_code == 403
    (chief,) = asyncio.run(_add_supervisor(_db_url(site), community))
    site.users["community-supervisor"] = chief
    site.login("community-supervisor")
    assert site.client.get(f"/api/v1/halls/{xh}/case-stats/cases?{PERIOD}").status_code == 403
    # The community's own: only its case, and a counter of the district is not one of its halls'.
    mine = site.client.get(f"/api/v1/halls/{community}/case-stats/cases?{PERIOD}").json()
    assert [c["number"] for c in mine["cases"]] == ["2026112003"]
    for query, field in (
        (f"counter={xh}:3", "counter"),
        ("counter=3", "counter"),
        ("clerk=me", "clerk"),
        ("format=pdf", "format"),
        ("from=2026-12-01&to=2026-11-01", "to"),
        ("limit=0", "limit"),
    ):
        answer = site.client.get(f"/api/v1/halls/{community}/case-stats/cases?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["field"] == field, query


def _case_form(text: str) -> str:
    return text.split('id="case-stats-form"', 1)[1].split("</form>", 1)[0]


def test_the_case_section_follows_the_pages_periods_and_says_when_its_figures_are_the_halls(site: Site) -> None:
    site.login("supervisor")
    xh = site.halls["xh"]
    # The page by month over two months: the 办件 section asks by month for the same two months.
    form = _case_form(site.client.get(f"/stats/{xh}?from=2026-10-01&to=2026-11-30&by=month&group=hall").text)
    assert '<option value="month" selected>' in form
    assert '<option value="day" selected>' not in form and '<option value="week" selected>' not in form
    assert 'name="from" value="2026-10-01"' in form and 'name="to" value="2026-11-30"' in form
    # A grouping the cases have too is kept; one they have not leaves the section on its own.
    assert '<option value="hall" selected>' in form
    page = site.client.get(f"/stats/{xh}?from=2026-10-01&to=2026-11-30&by=week").text
    assert '<option value="week" selected>' in _case_form(page)
    assert 'id="case-stats-scope"' not in page
    # Narrowed to a department, a counter or a clerk, the section says its figures are the hall's.
    for narrowing in ("department=mz", f"counter={xh}:3", "clerk=1"):
        page = site.client.get(f"/stats/{xh}?from=2026-10-01&to=2026-11-30&{narrowing}").text
        assert page.count('id="case-stats-scope"') == 1, narrowing
        assert "以下办件统计为本大厅（含下级大厅）的全部数据" in page
