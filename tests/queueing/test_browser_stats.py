"""In a real browser: a supervisor opens the statistics page on a month of figures, sees the three
charts each beside its table, regroups by clerk and reads the tables again; at the two common
screen sizes of a hall's office (1920×1080 and 1366×768).

Screenshots go to test-artifacts/screenshots/ (stats-1920, stats-1366).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queueing.figures import COUNTS, Key
from tests.browsing import Screens, sample_server, shoot
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVICES = {"soc": (1, 2), "fund": (4, 5), "hukou": (6, 7), "civil": (8, 9)}


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
