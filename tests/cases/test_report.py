"""The monthly report's pieces: the month in its address, the change against last month, the order
of the worst items and counters; and the page for supervisors only, on a case taken through the
API this month."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cases.figures import empty_sums as case_sums
from cases.statistics import Line as CaseLine
from cases.web.report import (
    change,
    month_end,
    month_of,
    previous_month,
    spans,
    to_date_words,
    worst_counters,
    worst_items,
)
from queueing.figures import empty_sums as queue_sums
from queueing.statistics import Line as QueueLine
from tests.cases.test_stats_api import _complete_one, _rate
from tests.site import Site


def test_a_month_is_yyyy_mm_and_knows_its_last_day_and_the_one_before() -> None:
    assert month_of("2026-02") == date(2026, 2, 1)
    assert [month_of(text) for text in ("2026-13", "2026-1", "26-01", "1999-12", "2026-02-01")] == [None] * 5
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)
    assert previous_month(date(2026, 1, 1)) == date(2025, 12, 1)


def test_the_change_is_a_difference_in_counts_and_in_points_for_shares() -> None:
    assert change(65, 35, is_share=False) == "+30"
    assert change(18.0, 14.14, is_share=False) == "+3.86"
    assert change(0.615, 0.714, is_share=True) == "-9.9 pp"
    assert change(0.8, 0.8, is_share=True) == "±0"
    assert change(None, 0.8, is_share=True) == "—"


def _case_line(key: str, completed: int, on_time: int) -> CaseLine:
    sums = {**case_sums(), "completed": completed, "on_time": on_time, "late": completed - on_time}
    return CaseLine(key, (key, key), sums)


def test_the_worst_items_are_those_least_often_on_time_and_items_without_completions_are_left_out() -> None:
    lines = [_case_line("A", 4, 4), _case_line("B", 5, 2), _case_line("C", 0, 0), _case_line("D", 2, 1)]
    assert [row["words"][0] for row in worst_items(lines)] == ["B", "D", "A"]
    assert worst_items(lines)[0]["on_time_rate"] == "40.0%"


def test_the_worst_counters_have_the_lowest_service_level_then_satisfaction() -> None:
    def line(key: str, waits: int, within: int, good: int, bad: int) -> QueueLine:
        sums = {**queue_sums(), "wait_count": waits, "wait_in_target": within, "rated_5": good, "rated_1": bad}
        return QueueLine(key, (key, key), sums)

    lines = [line("1:1", 10, 9, 5, 0), line("1:2", 10, 5, 5, 0), line("1:3", 10, 5, 1, 4), line("1:0", 10, 0, 0, 0)]
    found = worst_counters(lines, {1: ("星河区政务服务中心", "Xinghe")})
    # Counter 0 is "no counter" (tickets issued, not called): never a worst counter.
    assert [row["words"] for row in found] == [
        ("星河区政务服务中心 3号窗口", "Xinghe, counter 3"),
        ("星河区政务服务中心 2号窗口", "Xinghe, counter 2"),
        ("星河区政务服务中心 1号窗口", "Xinghe, counter 1"),
    ]


def test_supervisors_read_this_months_report_and_clerks_may_not(site: Site) -> None:
    _rate(site, _complete_one(site), 4)
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    site.login("supervisor")
    page = site.client.get(f"/reports/1/{month}")
    assert page.status_code == 200
    # The applicant's online rating beside the counters' ratings: one case rated, 满意.
    rows = {row.split("</th>")[0]: row for row in page.text.split('<tr><th scope="row">')[1:]}
    rated = next(row for head, row in rows.items() if "办件评价数" in head)
    satisfaction = next(row for head, row in rows.items() if "办件满意率" in head)
    assert '<td class="num">1</td>' in rated and '<td class="num">100.0%</td>' in satisfaction
    assert "月度工作简报" in page.text and "Monthly report" in page.text
    assert page.text.index("月度工作简报") < page.text.index("Monthly report")
    assert "MZ-006" in page.text and "柳荫社区党群服务站" in page.text
    assert site.client.get("/reports/1/2026-00").status_code == 404
    site.login("clerk")
    assert site.client.get(f"/reports/1/{month}").status_code == 403


def test_a_month_under_way_is_compared_with_the_same_days_of_the_month_before() -> None:
    # 8 December: 1-8 December against 1-8 November.
    assert spans(date(2026, 12, 1), date(2026, 12, 8)) == (
        date(2026, 12, 8),
        date(2026, 11, 1),
        date(2026, 11, 8),
        True,
    )
    # 31 March against February, which has no 31st: to February's end.
    assert spans(date(2026, 3, 1), date(2026, 3, 31)) == (date(2026, 3, 31), date(2026, 2, 1), date(2026, 2, 28), True)
    # A month that is over: the whole month against the whole month before.
    assert spans(date(2026, 11, 1), date(2026, 12, 8)) == (
        date(2026, 11, 30),
        date(2026, 10, 1),
        date(2026, 10, 31),
        False,
    )
    zh, en = to_date_words(date(2026, 12, 1), date(2026, 12, 8), date(2026, 11, 1), date(2026, 11, 8))
    assert zh == "本月截至12月8日：12月1日至12月8日，与上月同期（11月1日至11月8日）相比。"
    assert en.startswith("Month to date: 1 December to 8 December") and "1 November to 8 November" in en


def _chart(text: str) -> dict[str, object]:
    found = re.search(r"data-chart='([^']*)'", text)
    assert found is not None
    return dict(json.loads(html.unescape(found[1])))


def test_this_months_report_says_it_is_to_date_tabulates_its_days_and_names_its_items(site: Site) -> None:
    _complete_one(site)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    site.login("supervisor")
    page = site.client.get(f"/reports/1/{today:%Y-%m}").text
    assert "本月截至" in page and "Month to date" in page and "上月同期" in page
    # Every figure of the daily charts is in a table too: a row a day, up to today.
    for table in ("queue-days", "cases-days"):
        body = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
        assert body.count('<tr><th scope="row">') == today.day
    cases_days = page.split('id="cases-days"', 1)[1].split("</table>", 1)[0]
    assert f'<tr><th scope="row">{today:%m-%d}</th><td class="num">1</td><td class="num">1</td></tr>' in cases_days
    # The on-time chart names the item, in Chinese, or in English for an English reader.
    assert _chart(page)["items"] == ["八十周岁以上老年人高龄津贴申领"]
    assert "八十周岁以上老年人高龄津贴申领" in page.split('id="items-on-time"', 1)[1].split("</table>", 1)[0]
    english = site.client.get(f"/reports/1/{today:%Y-%m}?lang=en").text
    assert _chart(english)["items"] == ["Old-age allowance for residents aged 80 and over"]


def test_a_month_that_is_over_has_no_to_date_note(site: Site) -> None:
    site.login("supervisor")
    page = site.client.get("/reports/1/2026-10").text
    assert "本月截至" not in page and "上月同期" not in page
    body = page.split('id="queue-days"', 1)[1].split("</table>", 1)[0]
    assert body.count('<tr><th scope="row">') == 31
