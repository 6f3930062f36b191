"""The wallboard on the wall (1920×1080) while the hall runs: residents keep taking tickets and two
clerks keep serving, one counter pauses, and a resident rates a service 非常不满意. The alarm is on
the board at once, on top, in big type with a sign and a word; the supervisor acknowledges it with
its button, and the board (and a second screen) says who did and when. The district's board has a
row of tiles for each hall below it, each a link into that hall's board. Screenshots go to
test-artifacts/screenshots/wallboard-alarm-*.png and wallboard-district.png."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browsing import Screens, wait_until
from tests.helpers import csrf_of
from tests.peers import CHROMIUM, missing
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WALL = {"width": 1920, "height": 1080}


def _post(client: httpx.Client, path: str, token: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return client.post(path, json=body or {}, headers={"X-CSRF-Token": token})


class Simulation:
    """The hall at work, through the same API its kiosks and consoles use: a resident takes a
    ticket now and then, counter 2 calls, serves and finishes them; counter 3 is paused. ``rate``
    has the next resident served at counter 2 rate the service."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.stop = threading.Event()
        self.ratings: list[int] = []
        self.rated = threading.Event()
        self.steps = 0
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._run, name="hall-simulation", daemon=True)

    def __enter__(self) -> Simulation:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(timeout=30)

    def rate(self, level: int) -> None:
        self.rated.clear()
        self.ratings.append(level)

    def _check(self, answer: httpx.Response, what: str) -> Any:
        if answer.status_code != 200:
            self.failures.append(f"{what}: {answer.status_code} {answer.text}")
        return answer.json()

    def _ready(self, answer: httpx.Response, what: str) -> None:
        if answer.status_code != 200 and answer.json().get("code") != "bad_transition":
            self.failures.append(f"{what}: {answer.status_code} {answer.text}")

    def _run(self) -> None:
        url = self.server.url
        with (
            httpx.Client(base_url=url) as kiosk,
            httpx.Client(base_url=url) as wang,
            httpx.Client(base_url=url) as zhao,
        ):
            kiosk_token = csrf_of(kiosk.get("/login").text)
            token = login(wang, "wang", self.server.passwords["wang"])
            other = login(zhao, "zhao", self.server.passwords["zhao"])
            # A later test finds the counters as the first left them: open and paused already.
            self._ready(_post(wang, "/api/v1/halls/1/counters/2/open", token), "open 2")
            self._ready(_post(zhao, "/api/v1/halls/1/counters/3/open", other), "open 3")
            self._ready(_post(zhao, "/api/v1/halls/1/counters/3/pause", other, {"reason": "午休"}), "pause 3")
            while not self.stop.is_set():
                service = "soc" if self.steps % 3 else "fund"
                self._check(_post(kiosk, "/api/v1/halls/1/tickets", kiosk_token, {"service": service}), "ticket")
                if self.steps % 2 == 0:
                    called = _post(wang, "/api/v1/halls/1/counters/2/call-next", token)
                    if called.status_code == 200:
                        ticket = called.json()["ticket"]
                        for action in ("start", "finish"):
                            self._check(_post(wang, f"/api/v1/halls/1/counters/2/{action}", token), action)
                        if self.ratings:
                            body = {"ticket": ticket["id"], "service": ticket["service"], "level": self.ratings.pop(0)}
                            self._check(_post(wang, "/api/v1/halls/1/ratings", token, body), "rating")
                            self.rated.set()
                self.steps += 1
                self.stop.wait(0.4)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        missing("Chromium")
    proc = ServerProcess(tmp_path_factory.mktemp("wallboard-alarms"))
    # The simulation is a hall's worth of kiosks behind one address, taking a ticket every step:
    # more than the 30 a minute one kiosk may take, once the tests in this module add up.
    proc.env["HALL_ISSUE_PER_MINUTE"] = "1000"
    proc.init()
    proc.add_staff("wang", "clerk", name="王晓梅", staff_no="0207")
    proc.add_staff("zhao", "clerk", name="赵建国", staff_no="0311")
    proc.add_staff("chen", "supervisor", name="陈志强")
    open_all_week(proc.db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"wallboard-{name}.png"))


def test_an_alarm_raised_while_the_hall_runs_is_acknowledged_from_the_wall(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    wall = screens.open("/wallboard/1", role="supervisor", **WALL)
    # A second screen of the same supervisor's office, watching.
    second = screens.open("/wallboard/1", role="supervisor", **WALL)
    with Simulation(server) as hall:
        # The hall is running: counter 2 serves, counter 3 is paused, the time in state ticks.
        serving = wall.locator('#counters li[data-number="2"]')
        expect(serving.locator(".state")).to_have_text("开放")
        expect(serving.locator(".served")).to_have_text(re.compile(r"^今日办结 [1-9]\d* 人$"), timeout=20_000)
        paused = wall.locator('#counters li[data-number="3"]')
        expect(paused.locator(".state")).to_contain_text("暂停 · 午休")
        expect(paused.locator(".clerk")).to_have_text("赵建国 0311")
        ticking = paused.locator(".since").inner_text()
        expect(paused.locator(".since")).not_to_have_text(ticking, timeout=5_000)
        soc = wall.locator('#lines tr[data-code="soc"]')
        expect(soc.locator(".serving")).to_have_text("2")
        expect(wall.locator("#alarms li.none")).to_have_text("没有待确认的告警")

        hall.rate(1)
        assert hall.rated.wait(30), hall.failures
        alarm = wall.locator("#alarms li.alarm-open")
        expect(alarm).to_have_count(1)
        # Big type, a sign and a word beside the colour, and the button.
        expect(alarm.locator(".text")).to_contain_text("不满意评价：")
        expect(alarm.locator(".text")).to_contain_text("非常不满意")
        expect(alarm.locator(".sign")).to_have_text("⚠")
        expect(alarm.locator(".state")).to_have_text("待确认")
        size = alarm.locator(".text").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 28, size
        expect(wall.locator("#alarms-count")).to_have_text("1")
        expect(wall.locator("#events")).to_contain_text("告警：不满意评价")
        expect(second.locator("#alarms li.alarm-open")).to_have_count(1)
        _shoot(wall, "alarm-raised")

        alarm.get_by_role("button", name="确认").click()
        expect(wall.locator("#alarm-notice")).to_contain_text("告警已确认")
        expect(wall.locator("#alarms li.alarm-open")).to_have_count(0)
        done = wall.locator("#alarms li.alarm-acknowledged")
        expect(done).to_have_count(1)
        expect(done.locator(".state")).to_have_text(re.compile(r"^陈志强 已于 \d\d:\d\d 确认$"))
        expect(done.locator(".sign")).to_have_text("✔")
        # The other screen heard it too, from the same event.
        expect(second.locator("#alarms li.alarm-acknowledged .state")).to_contain_text("陈志强 已于")
        expect(wall.locator("#events")).to_contain_text("陈志强 已确认告警")
        _shoot(wall, "alarm-acknowledged")
        assert hall.failures == []
    screens.check()


# The board re-reads its lines from the queue API after ticket events. Here a read can be held
# back: ``__hold()`` keeps the reads begun after it from coming back until ``__release()``;
# ``__reads`` counts the reads begun, ``__readsUnderWay`` those not back yet.
HELD_QUEUE_READS = """
window.__reads = 0;
window.__readsUnderWay = 0;
let held = null;
let release = () => {};
window.__hold = () => {
  held = new Promise((done) => { release = done; });
};
window.__release = () => {
  held = null;
  release();
};
const read = Response.prototype.json;
Response.prototype.json = async function () {
  if (!new URL(this.url).pathname.endsWith("/queue")) return read.call(this);
  window.__reads += 1;
  window.__readsUnderWay += 1;
  const waitFor = held;
  try {
    const body = await read.call(this);
    await waitFor;
    return body;
  } finally {
    window.__readsUnderWay -= 1;
  }
};
"""


def _take_ticket(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url) as kiosk:
        token = csrf_of(kiosk.get("/login").text)
        _post(kiosk, "/api/v1/halls/1/tickets", token, {"service": "soc"}).raise_for_status()


def test_an_alarm_acknowledged_while_the_board_rereads_its_lines_stays_acknowledged(
    screens: Screens, server: ServerProcess
) -> None:
    """A ticket makes the board re-read the lines' estimates; the supervisor acknowledges an alarm
    before that read comes back. When it does, the lines are laid on the board as it is then, with
    the alarm acknowledged, not on the board as it was when the read began."""
    from playwright.sync_api import expect

    context = screens.context(**WALL)
    context.add_init_script(HELD_QUEUE_READS)
    wall = screens.open("/wallboard/1", role="supervisor", context=context)
    with Simulation(server) as hall:
        hall.rate(1)
        assert hall.rated.wait(30), hall.failures
        alarm = wall.locator("#alarms li.alarm-open")
        expect(alarm).to_have_count(1)
        assert hall.failures == []
    ours = wall.locator(f'#alarms li[data-alarm="{alarm.get_attribute("data-alarm")}"]')
    wait_until(wall, "() => window.__readsUnderWay === 0", timeout=30)

    wall.evaluate("window.__hold()")
    _take_ticket(server)
    wait_until(wall, "() => window.__readsUnderWay === 1", timeout=30)
    ours.get_by_role("button", name="确认").click()
    expect(ours).to_have_class(re.compile(r"\balarm-acknowledged\b"))
    wall.evaluate("window.__release()")
    wait_until(wall, "() => window.__readsUnderWay === 0", timeout=30)

    # The next ticket draws the whole board again (a read only redraws the lines).
    reads = wall.evaluate("window.__reads")
    _take_ticket(server)
    wait_until(wall, "(n) => window.__reads > n && window.__readsUnderWay === 0", reads, timeout=30)
    expect(ours).to_have_class(re.compile(r"\balarm-acknowledged\b"), timeout=1000)
    expect(ours.locator(".state")).to_contain_text("陈志强 已于")
    expect(wall.locator("#alarms li.alarm-open")).to_have_count(0, timeout=1000)
    screens.check()


def test_the_district_board_has_a_row_of_tiles_for_each_hall_below(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    page = screens.open("/wallboard/1", role="supervisor", **WALL)
    rows = page.locator("#district tbody tr")
    expect(rows).to_have_count(2)
    # One wall screen holds the board: nothing below the screen's edge, every part of it in view.
    assert page.evaluate("document.documentElement.scrollHeight") <= WALL["height"]
    for part in ("#tiles", "#alarms-section", "#counters", "#lines", "#district", "#case-tiles"):
        expect(page.locator(part)).to_be_in_viewport()
    expect(rows.first.locator("th a")).to_have_attribute("href", re.compile(r"^/wallboard/\d+$"))
    expect(rows.first.locator('[data-tile="alarms"]')).to_have_text("0")
    expect(rows.first.locator('[data-tile="arrived"]')).to_have_text(re.compile(r"^\d+$"))
    # The light counts link into the ledger's query of that light's open cases.
    red = page.locator('#case-board [data-light="red"] a')
    expect(red).to_have_attribute("href", re.compile(r"^/ledgers/1\?light=red&stage=accepted,review,approval&from="))
    expect(page.locator('#case-board [data-light="red"] .count')).to_have_text(re.compile(r"^\d+$"))
    page.screenshot(path=str(SHOTS / "wallboard-district.png"), full_page=True)
    rows.first.locator("th a").click()
    expect(page).to_have_url(re.compile(r"/wallboard/\d+$"))
    expect(page.locator("#tiles")).to_be_visible()
    screens.check()


def test_the_wall_lists_six_alarms_and_counts_the_others(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    wall = screens.open("/wallboard/1", role="supervisor", **WALL)
    with Simulation(server) as hall:
        for _ in range(8):
            hall.rate(2)
            assert hall.rated.wait(30), hall.failures
        expect(wall.locator("#alarms-count")).to_have_text(re.compile(r"^([89]|\d\d)$"))
        total = int(wall.locator("#alarms-count").inner_text())
        expect(wall.locator("#alarms li.alarm-open")).to_have_count(6)
        expect(wall.locator("#alarms li.more")).to_have_text(f"另有 {total - 6} 条告警待确认：确认上面的告警后显示")
        _shoot(wall, "alarms-many")
        # The newest is on top: acknowledging it brings the next one up.
        top = wall.locator("#alarms li.alarm-open").first
        top.get_by_role("button", name="确认").click()
        expect(wall.locator("#alarms li.more")).to_have_text(f"另有 {total - 7} 条告警待确认：确认上面的告警后显示")
        assert hall.failures == []
    screens.check()
