"""In a real browser: a supervisor opens the statistics page on a month of figures, sees the
charts each beside its table, regroups by clerk and reads the tables again; then drills down from
the departments to a department's counters (a row), to a counter's clerks (a bar of the chart),
to a clerk's own tickets and cases (a link); at the two common screen sizes of a hall's office
(1920×1080 and 1366×768).

Screenshots go to test-artifacts/screenshots/ (stats-1920, stats-1366, stats-drill-1920,
stats-drill-cases-1920, ...).
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from queueing.figures import COUNTS, Key
from tests.browsing import SHOTS, Screens, sample_server, shoot
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVICES = {"soc": (1, 2), "fund": (4, 5), "hukou": (6, 7), "civil": (8, 9)}
# Counters 1–5 belong to the human resources bureau, 6–9 to public security.
DEPARTMENTS = {"hrss": ("人社局", "HR bureau", (1, 2, 4, 5)), "psb": ("公安局", "Public security", (6, 7, 8, 9))}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def seed_month(db_url: str) -> None:
    """Figures for every day of this month so far: a busy morning, a quieter afternoon."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    rows = []
    for offset in range(today.day):
        day = today.replace(day=1) + timedelta(days=offset)
        for hour in range(9, 17):
            busy = 12 if hour < 12 else 6
            for n, (service, counters) in enumerate(SERVICES.items()):
                arrived = busy + n + (offset % 3)
                rows.append(_row(Key(day, hour, service), arrived=arrived))
                for counter in counters:
                    if hour == 9:
                        # The counter's idle time of the morning: under no service.
                        rows.append(_row(Key(day, hour, "", counter, 100 + counter), idle_sum=600))
                    served = arrived // 2
                    waits = [(i * 7 + n * 5 + hour) % 70 for i in range(served)]
                    inside = sum(w <= 20 for w in waits)
                    buckets = dict.fromkeys(
                        ("wait_0_5", "wait_5_10", "wait_10_20", "wait_20_30", "wait_30_60", "wait_60"), 0
                    )
                    for w in waits:
                        name = next(
                            b
                            for b, top in (
                                ("wait_0_5", 5),
                                ("wait_5_10", 10),
                                ("wait_10_20", 20),
                                ("wait_20_30", 30),
                                ("wait_30_60", 60),
                                ("wait_60", 10**6),
                            )
                            if w < top
                        )
                        buckets[name] += 1
                    rows.append(
                        _row(
                            Key(day, hour, service, counter, 100 + counter),
                            called=served,
                            served=served - 1,
                            no_shows=1,
                            wait_count=served,
                            wait_sum=sum(waits) * 60,
                            wait_max=max(waits, default=0) * 60,
                            wait_in_target=inside,
                            service_count=served - 1,
                            service_sum=(served - 1) * 7 * 60,
                            service_max=12 * 60,
                            rated_5=served - 3,
                            rated_4=1,
                            rated_2=1,
                            service_5_10=served - 1,
                            **buckets,
                        )
                    )
    path = db_url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        columns = list(rows[0])
        conn.executemany(
            f"INSERT INTO queue_figures ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [[row[c] for c in columns] for row in rows],
        )
        # The writer keeps the two rollups beside the figures: here they are summed from them.
        summed = ", ".join(f"{'max' if name.endswith('_max') else 'sum'}({name})" for name in COUNTS)
        conn.execute(
            "INSERT INTO queue_figures_daily (hall_id, day, service, counter, clerk, week, month, "
            f"{', '.join(COUNTS)}) "
            f"SELECT hall_id, day, service, counter, clerk, min(week), min(month), {summed} FROM queue_figures "
            "GROUP BY hall_id, day, service, counter, clerk"
        )
        conn.execute(
            f"INSERT INTO queue_figures_hourly (hall_id, day, hour, service, weekday, {', '.join(COUNTS)}) "
            "SELECT hall_id, day, hour, service, (CAST(strftime('%w', day) AS INTEGER) + 6) % 7 + 1, "
            f"{summed} FROM queue_figures GROUP BY hall_id, day, hour, service"
        )
        for code, (name, name_en, numbers) in DEPARTMENTS.items():
            conn.execute(
                "INSERT INTO departments (hall_id, code, name, name_en) VALUES (1, ?, ?, ?)", (code, name, name_en)
            )
            conn.executemany(
                "UPDATE counters SET department = ? WHERE hall_id = 1 AND number = ?", [(code, n) for n in numbers]
            )
        conn.executemany(
            "INSERT INTO tickets (hall_id, id, day, n, number, service, priority, state, issued_at, queued_at, "
            "order_no, counter, clerk, applicant_name, applicant_id_number, spans) "
            "VALUES (1, ?, ?, ?, ?, 'soc', 'normal', 'done', ?, ?, ?, 1, 101, ?, ?, ?)",
            [_ticket(today, n) for n in range(1, 6)],
        )
        columns = list(_case(today, "2026000001", counter=1, clerk=101))
        conn.executemany(
            f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [
                list(_case(today, "2026000001", counter=1, clerk=101, done=True).values()),
                list(_case(today, "2026000002", counter=1, clerk=101, accepted=(11, 0), light="yellow").values()),
                list(_case(today, "2026000003", counter=6, clerk=106, accepted=(9, 45), light="red").values()),
            ],
        )
        conn.executemany(
            "INSERT INTO case_steps (number, idx, action, stage_from, stage_to, actor, hall_id, at, remark) "
            "VALUES (?, ?, ?, NULL, 'review', ?, 1, ?, '')",
            [
                ("2026000001", 0, "accepted", 101, _naive(today, 9, 30)),
                ("2026000001", 1, "completed", 101, _naive(today, 10, 15)),
                ("2026000002", 0, "accepted", 101, _naive(today, 11, 0)),
                ("2026000003", 0, "accepted", 106, _naive(today, 9, 45)),
            ],
        )


def _naive(day: date, hour: int, minute: int) -> str:
    """A local time of ``day`` as the database keeps it: UTC, without its zone."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _case(
    day: date,
    number: str,
    *,
    counter: int,
    clerk: int,
    accepted: tuple[int, int] = (9, 30),
    done: bool = False,
    light: str = "green",
) -> dict[str, object]:
    """A case accepted this morning at a counter of hall 1, of the department of that counter."""
    department = next(name for name, _en, numbers in DEPARTMENTS.values() if counter in numbers)
    record = {
        "number": number,
        "applicant": {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"},
    }
    return {
        "number": number,
        "register_hall": 1,
        "accepted_hall": 1,
        "deciding_hall": 1,
        "counter": counter,
        "item": "MZ-006",
        "department": department,
        "kind": "promised",
        "channel": "window",
        "stage": "completed" if done else "review",
        "registered_by": clerk,
        "accepted_at": _naive(day, *accepted),
        "due_at": _naive(day + timedelta(days=14), 17, 0),
        "completed_at": _naive(day, 10, 15) if done else None,
        "light": light,
        "phone_tail": "8000",
        "record": json.dumps(record, ensure_ascii=False),
    }


def _ticket(day: date, n: int) -> tuple[object, ...]:
    """A ticket served at counter 1 by clerk 101 this morning: issued 09:0n, called after 4n
    minutes, served 7 minutes."""
    issued = datetime.combine(day, time(9, n), SHANGHAI).astimezone(UTC)
    called = issued + timedelta(minutes=4 * n)
    started, done = called + timedelta(minutes=1), called + timedelta(minutes=8)
    spans = [
        {"kind": "waiting", "start": issued.isoformat(), "end": called.isoformat(), "service": "soc"},
        {"kind": "called", "start": called.isoformat(), "end": started.isoformat(), "service": "soc", "counter": 1},
        {"kind": "serving", "start": started.isoformat(), "end": done.isoformat(), "service": "soc", "counter": 1},
    ]
    naive = issued.replace(tzinfo=None).isoformat(sep=" ")
    number = f"A{n:03d}"
    return (f"x-{number}", str(day), n, number, naive, naive, n, "李四" if n == 1 else None, None, json.dumps(spans))


def _row(key: Key, **counts: int) -> dict[str, object]:
    return {
        "hall_id": 1,
        "day": key.day.isoformat(),
        "hour": key.hour,
        "service": key.service,
        "counter": key.counter,
        "clerk": key.clerk,
        "week": key.week.isoformat(),
        "month": key.month.isoformat(),
        **{name: counts.get(name, 0) for name in COUNTS},
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("stats")
    servers = sample_server(folder)
    proc = next(servers)
    proc.add_staff("chen", "supervisor", name="陈志强")
    seed_month(proc.db_url)
    yield proc
    next(servers, None)


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
def test_a_supervisor_reads_the_months_charts_and_their_tables(screens: Screens, width: int, height: int) -> None:
    from playwright.sync_api import expect

    page = screens.open("/stats/1", role="supervisor", width=width, height=height)
    expect(page.locator("h1")).to_contain_text("排队统计")
    # Each chart drew onto its canvas, and its table holds the same figures.
    for chart in ("hours", "buckets", "level"):
        expect(page.locator(f"#{chart}-chart canvas")).to_have_count(1)
    expect(page.locator("#hours-table tbody tr")).to_have_count(8)
    expect(page.locator("#hours-table tbody tr").first).to_contain_text("09:00")
    expect(page.locator("#buckets-table tbody tr")).to_have_count(6)
    expect(page.locator("#level-table tbody tr")).to_have_count(4)
    expect(page.locator("#level-table")).to_contain_text("社会保障")
    expect(page.locator("#tiles")).to_contain_text("服务达标率")
    shoot(page, f"stats-{width}")

    page.select_option("select[name=group]", "clerk")
    expect(page.locator("#groups-table thead")).to_contain_text("工作人员")
    # Eight clerks and the arrivals that belong to no clerk; the service level chart stays by service.
    expect(page.locator("#groups-table tbody tr")).to_have_count(9)
    expect(page.locator("#level-table tbody tr")).to_have_count(4)
    expect(page).to_have_url(re.compile(r"group=clerk"))  # the address is a bookmark of the view


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
def test_a_supervisor_drills_down_to_a_clerks_tickets(screens: Screens, width: int, height: int) -> None:
    from playwright.sync_api import expect

    page = screens.open("/stats/1", role="supervisor", width=width, height=height)
    expect(page.locator("#hours-chart canvas")).to_have_count(1)  # the page's script runs
    page.select_option("select[name=group]", "department")
    expect(page).to_have_url(re.compile(r"group=department"))
    # ECharts draws a heat map on a canvas of its own and its scale on more.
    expect(page.locator("#heat-chart canvas").first).to_be_visible()
    # Seven weekdays by the eight hours 09:00–16:00 in the table beside the heat map.
    expect(page.locator("#heat-table tbody tr")).to_have_count(7)
    expect(page.locator("#heat-table thead th")).to_have_count(9)
    expect(page.locator("#tiles")).to_contain_text("90% 等候不超过")
    expect(page.locator("#drill-table tbody tr[data-href]")).to_have_count(2)
    shoot(page, f"stats-departments-{width}")

    # A row of the departments' table (anywhere on it): the department's counters.
    page.locator("#drill-table tbody tr", has_text="人社局").locator("td").first.click()
    expect(page.locator(".stat-crumbs")).to_contain_text("人社局")
    expect(page.locator("#drill-table tbody tr[data-href]")).to_have_count(4)
    expect(page.locator("#drill-chart canvas").first).to_be_visible()
    # The department's cases: its two, not public security's.
    expect(page.locator("#drill-cases-table tbody tr")).to_have_count(2)
    expect(page.locator("#drill-cases-table")).not_to_contain_text("2026000003")

    # A bar of the counters' chart: the first counter's clerks.
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('drill-chart'))?.getOption()")
    x, y = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById("drill-chart"));
          const served = chart.getOption().series[0].data[0];
          return chart.convertToPixel({ seriesIndex: 0 }, [0, served / 2]);
        }"""
    )
    page.locator("#drill-chart").scroll_into_view_if_needed()
    box = page.locator("#drill-chart").bounding_box()  # in the viewport, once scrolled to
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.locator(".stat-crumbs")).to_contain_text("1 号窗口")
    expect(page).to_have_url(re.compile(r"department=hrss.*counter=1%3A1"))

    # The clerk's link: the clerk's own figures, and the tickets themselves.
    page.locator("#drill-table tbody a").first.click()
    expect(page.locator("#tickets-table tbody tr")).to_have_count(5)
    expect(page.locator("#tickets-table")).to_contain_text("A005")
    expect(page.locator("#tickets-table")).to_contain_text("李*")
    expect(page.locator("#tickets-table")).not_to_contain_text("李四")
    # And the cases the clerk took a step on this month, newest first, each a link to its record.
    cases = page.locator("#drill-cases-table tbody tr")
    expect(cases).to_have_count(2)
    expect(cases.first.locator("a")).to_have_attribute("href", "/cases/1/2026000002")
    expect(cases.first).to_contain_text("预警")
    expect(cases.nth(1)).to_contain_text("按时办结")
    expect(page.locator("#drill-cases-table")).to_contain_text("王** 110***********002X")
    expect(page.locator("#drill-cases-table")).not_to_contain_text("王秀英")
    shoot(page, f"stats-drill-{width}")
    page.locator("#drill-cases-table").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"stats-drill-cases-{width}.png"))


def test_on_a_phone_the_page_fits_its_width_and_red_lights_stay_readable(screens: Screens) -> None:
    from playwright.sync_api import expect

    page = screens.open("/stats/1", role="supervisor", width=390, height=844)
    expect(page.locator("#level-chart canvas")).to_have_count(1)
    expect(page.locator("#level-table tbody tr")).to_have_count(4)
    # No sideways scrolling of the page: wide tables scroll inside their own box.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    beside = page.evaluate("() => [...document.querySelectorAll('.chart-and-table table')].map((t) => t.id)")
    assert {"hours-table", "drill-table", "level-table", "case-rates-table", "case-periods-table"} <= set(beside)
    for table in beside:
        assert page.evaluate(f"() => document.getElementById('{table}').parentElement.className") == "table-scroll"
    # The red light in the cases' table: white on red, as everywhere else.
    red = page.locator("#drill-cases-table .light-red").first
    expect(red).to_be_visible()
    colours = red.evaluate("(e) => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours == ["rgb(255, 255, 255)", "rgb(163, 21, 15)"], colours
    shoot(page, "stats-390")
    page.locator("#drill-cases-table").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "stats-cases-390.png"))


def test_the_service_charts_leave_out_the_counters_idle_time_and_labels_do_not_overlap(screens: Screens) -> None:
    from playwright.sync_api import expect

    page = screens.open("/stats/1", role="supervisor", width=390, height=844)
    expect(page.locator("#drill-chart canvas")).to_have_count(1)
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('level-chart'))?.getOption()")
    option = """(id) => {
      const o = echarts.getInstanceByDom(document.getElementById(id)).getOption();
      return { labels: o.xAxis[0].data, axis: o.xAxis[0].axisLabel };
    }"""
    # Grouped by service: four services, no bar of "窗口空闲与整理" (its row stays in the tables).
    for chart in ("drill-chart", "level-chart"):
        shown = page.evaluate(option, chart)
        assert "窗口空闲与整理" not in shown["labels"], chart
        assert len(shown["labels"]) == 4, chart
    expect(page.locator("#level-table")).not_to_contain_text("窗口空闲与整理")
    expect(page.locator("#drill-table")).to_contain_text("窗口空闲与整理")  # where its idle time is read
    # Six wait buckets on 390 px: wrapped or turned, each given at most its share of the axis.
    buckets = page.evaluate(option, "buckets-chart")
    assert buckets["axis"].get("overflow") == "break" or buckets["axis"].get("rotate"), buckets
    # Labels of ECharts' text layer do not overlap: their boxes, as laid out, keep apart.
    boxes = page.evaluate(
        """(id) => {
          const chart = echarts.getInstanceByDom(document.getElementById(id));
          const axis = chart.getModel().getComponent("xAxis", 0).axis;
          const group = chart.getViewOfComponentModel(chart.getModel().getComponent("xAxis", 0)).group;
          const found = [];
          group.traverse((el) => {
            if (el.type === "text" && el.anid && el.anid.startsWith("label_")) {
              const r = el.getBoundingRect().clone();
              r.applyTransform(el.getComputedTransform());
              found.push([r.x, r.x + r.width, r.y, r.y + r.height]);
            }
          });
          return found;
        }""",
        "buckets-chart",
    )
    assert len(boxes) == 6, boxes
    if buckets["axis"].get("rotate"):
        # Turned, neighbours keep apart by the step between them times the sine of the angle.
        step = boxes[1][0] - boxes[0][0]
        assert step * math.sin(math.radians(buckets["axis"]["rotate"])) >= buckets["axis"]["fontSize"], boxes
    else:
        for (left, right, top, bottom), (left2, right2, top2, bottom2) in pairwise(boxes):
            apart = right <= left2 + 1 or bottom <= top2 + 1 or bottom2 <= top + 1 or right2 <= left + 1
            assert apart, (boxes,)
