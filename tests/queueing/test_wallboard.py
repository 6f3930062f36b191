"""The wallboard's topic: its snapshot carries what the board shows (counters, lines with their
targets, open 一事一评 work orders, the latest events), the snapshot and the board folded from the
live events are the same, and every event the board can receive is written there as a sentence in
Chinese and in English."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from hall.kernel import i18n
from queueing.live import WALLBOARD_EVENTS
from queueing.web.wallboard_words import WALLBOARD_SENTENCES, wallboard_words
from tests.helpers import csrf_of
from tests.peers import missing
from tests.site import Site

ROOT = Path(__file__).resolve().parents[2]
VIEW = ROOT / "static/js/wallboardview.js"
HALL = 1


def _until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(200):
        frame = json.loads(ws.receive_text())
        if frame["type"] == kind:
            return frame  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind} frame")


def _snapshot(site: Site) -> dict[str, Any]:
    site.login("supervisor")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{HALL}/wallboard"})
        return _until(ws, "snapshot")["data"]


def _kiosk(site: Site) -> str:
    site.anonymous()
    return csrf_of(site.client.get("/login").text)


def _ticket(site: Site) -> dict[str, Any]:
    taken = site.post(f"/api/v1/halls/{HALL}/tickets", _kiosk(site), {"service": "soc"})
    assert taken.status_code == 200, taken.text
    return taken.json()  # type: ignore[no-any-return]


def _serve_and_rate(site: Site, level: int, *, first: bool) -> tuple[dict[str, Any], int]:
    """A resident takes a ticket, the clerk serves it, the resident rates it; the answer and the
    last sequence number."""
    ticket = _ticket(site)["ticket"]
    token = site.login("clerk")
    for action in ("open", "call-next", "start", "finish") if first else ("call-next", "start", "finish"):
        done = site.post(f"/api/v1/halls/{HALL}/counters/1/{action}", token)
        assert done.status_code == 200, (action, done.text)
    body = {"ticket": ticket["id"], "service": "soc", "level": level, "comment": "慢"}
    rated = site.post(f"/api/v1/halls/{HALL}/ratings", token, body)
    assert rated.status_code == 200, rated.text
    return rated.json(), int(rated.json()["seq"])


def _alarms_open(site: Site, count: int) -> list[dict[str, Any]]:
    """The hall's open alarms once ``count`` are there (each follows the commit of its event)."""
    for _ in range(200):
        found: list[dict[str, Any]] = site.client.get(f"/api/v1/halls/{HALL}/alarms").json()["open"]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} open alarms")


def _fold(before: dict[str, Any], frames: list[dict[str, Any]], after: dict[str, Any]) -> tuple[Any, Any]:
    """The board folded by the page's own code (static/js/wallboardview.js, run by Node) from the
    first snapshot and the live events, and the board of the second snapshot."""
    node = shutil.which("node")
    if node is None:
        missing("Node.js")
    script = (
        f"import {{ boardOf, fold }} from {json.dumps(VIEW.as_uri())};\n"
        "let input = '';\n"
        "process.stdin.on('data', (chunk) => { input += chunk; });\n"
        "process.stdin.on('end', () => {\n"
        "  const { before, frames, after } = JSON.parse(input);\n"
        "  let board = boardOf(before);\n"
        "  for (const frame of frames) board = fold(board, frame.event, frame.seq);\n"
        "  process.stdout.write(JSON.stringify({ folded: board, fresh: boardOf(after) }));\n"
        "});\n"
    )
    done = subprocess.run(
        [str(node), "--input-type=module", "-e", script],
        input=json.dumps({"before": before, "frames": frames, "after": after}),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    boards = json.loads(done.stdout)
    # A line's estimated wait is read again from the queue API after each ticket event (it depends
    # on the whole queue); everything else on the board comes from the events themselves.
    for board in boards.values():
        for line in board["lines"]:
            line.pop("estimate_minutes")
    return boards["folded"], boards["fresh"]


def test_the_snapshot_carries_open_work_orders_and_the_services_targets(site: Site) -> None:
    rated, _ = _serve_and_rate(site, 2, first=True)
    order = rated["work_order"]
    data = _snapshot(site)
    assert [(o["id"], o["state"], o["number"]) for o in data["work_orders"]] == [(order["id"], "open", "A001")]
    targets = {s["code"]: s["target_minutes"] for s in data["services"]}
    assert targets["soc"] == 20  # the sample hall's target for social security (服务目标)
    assert all(isinstance(t, int) for t in targets.values())
    # The queue API, which the board reads again for the estimates, carries the same targets.
    lines = site.client.get(f"/api/v1/halls/{HALL}/queue").json()["services"]
    assert {s["code"]: s["target_minutes"] for s in lines} == targets
    # The latest events come with it, so 最新动态 is not empty after a reload.
    # (The alarm the unsatisfied rating raises follows on its own, once the rating is committed.)
    assert [e["type"] for e in data["events"] if not e["type"].startswith("alarm.")][-2:] == [
        "rating.given",
        "rating.alarm",
    ]


def test_the_work_order_buttons_answer_to_the_apis_role_and_csrf_checks(site: Site) -> None:
    rated, _ = _serve_and_rate(site, 2, first=True)
    step = f"/api/v1/halls/{HALL}/work-orders/{rated['work_order']['id']}/callback"
    token = site.login("clerk")
    refused = site.post(step, token, {"note": "已回访"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    site.login("supervisor")
    forged = site.client.post(step, json={"note": "已回访"})
    assert forged.status_code == 403
    assert [o["state"] for o in _snapshot(site)["work_orders"]] == ["open"]


def test_a_snapshot_folded_with_the_live_events_equals_the_next_snapshot(site: Site) -> None:
    site.login("supervisor")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{HALL}/wallboard"})
        before = _until(ws, "snapshot")["data"]
        _until(ws, "subscribed")
        # Two unsatisfied ratings: the first is called back, then fixed; the second is called back.
        first, _ = _serve_and_rate(site, 1, first=True)
        second, _ = _serve_and_rate(site, 2, first=False)
        token = site.login("supervisor")
        for order, action in ((first, "callback"), (first, "resolve"), (second, "callback")):
            step = f"/api/v1/halls/{HALL}/work-orders/{order['work_order']['id']}/{action}"
            assert site.post(step, token, {"note": "已回访并整改"}).status_code == 200
        # Each unsatisfied rating raised its alarm (after its commit): the supervisor acknowledges one.
        alarms = _alarms_open(site, 2)
        acknowledged = site.post(f"/api/v1/halls/{HALL}/alarms/{alarms[-1]['id']}/acknowledge", token)
        assert acknowledged.status_code == 200, acknowledged.text
        token = site.login("clerk")
        paused = site.post(f"/api/v1/halls/{HALL}/counters/1/pause", token, {"reason": "午休"})
        assert paused.status_code == 200, paused.text
        last = _ticket(site)["seq"]
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1]["seq"] < last:
            frames.append(_until(ws, "event"))
    after = _snapshot(site)
    folded, fresh = _fold(before, frames, after)
    assert [o["state"] for o in fresh["work_orders"]] == ["called_back"]
    assert [c["status"] for c in fresh["counters"] if c["number"] == 1] == ["paused"]
    assert len(fresh["events"]) == len(frames)
    # Today's KPI tiles: the kept figures went on with the events (two served and rated, a third
    # ticket waiting), and the board's own count of them is the same, down to the waits' seconds.
    sums, before_sums = fresh["figures"]["sums"], before["figures"]["sums"]
    grown = {k: sums[k] - before_sums[k] for k in ("arrived", "called", "served", "wait_count", "rated_1", "rated_2")}
    assert grown == {"arrived": 3, "called": 2, "served": 2, "wait_count": 2, "rated_1": 1, "rated_2": 1}
    assert list(fresh["figures"]["waits"]) != []
    # The alarms: the newer open on top, the acknowledged one below it; counter 1 paused since its
    # pause, holding no ticket, two served today.
    assert [(a["kind"], a["state"]) for a in fresh["alarms"]] == [
        ("unsatisfied_rating", "open"),
        ("unsatisfied_rating", "acknowledged"),
    ]
    (counter,) = (c for c in fresh["counters"] if c["number"] == 1)
    assert (counter["current"], counter["since"]) == (None, frames[-2]["event"]["at"])
    assert fresh["figures"]["served_by_counter"]["1"] - before["figures"]["served_by_counter"].get("1", 0) == 2
    assert folded == fresh


def test_every_event_the_board_can_receive_has_a_sentence() -> None:
    assert set(WALLBOARD_SENTENCES) == WALLBOARD_EVENTS
    for locale, sample in (("zh_CN", "号"), ("en", "")):
        token = i18n.current.set(locale)
        try:
            words = wallboard_words()
        finally:
            i18n.current.reset(token)
        for kind in WALLBOARD_EVENTS:
            text = words[f"ev_{kind.replace('.', '_', 1)}"]
            assert text, kind
            if locale == "zh_CN":
                assert re.search(r"[\u4e00-\u9fff]", text), (kind, text)
            else:
                assert text == WALLBOARD_SENTENCES[kind]
        assert sample in words["ev_ticket_called"]


def test_the_page_hands_its_script_the_sentences_in_the_visitors_language(site: Site) -> None:
    site.login("supervisor")
    expected_by_query = {"": "请 {number} 号到 {counter} 号窗口", "?lang=en": "{number} called to counter {counter}"}
    for query, expected in expected_by_query.items():
        page = site.client.get(f"/wallboard/{HALL}{query}").text
        found = re.search(r"data-words='([^']*)'", page)
        assert found is not None
        words = json.loads(html.unescape(found.group(1)))
        assert words["ev_ticket_called"] == expected
        assert {k for k in words if k.startswith("ev_")} >= {f"ev_{k.replace('.', '_', 1)}" for k in WALLBOARD_EVENTS}


# The rules' own event names, read from their source: a new event there that the board does not
# follow (and so has no sentence for) fails here.
_RULES = {
    "queueing/counters.py": None,
    "queueing/queue.py": "ticket",
    "queueing/issuing.py": "ticket",
    "queueing/serving.py": "ticket",
    "queueing/ticket_moves.py": "ticket",
    "queueing/counter_commands.py": None,
    "queueing/ratings.py": None,
    "cases/workflow.py": "case",
    "cases/register.py": None,
    "cases/supervision.py": "supervision",
}


def _emitted() -> set[str]:
    found: set[str] = set()
    for path, prefix in _RULES.items():
        source = (ROOT / path).read_text(encoding="utf-8")
        found |= set(re.findall(r'Fact\(\s*"([a-z_]+\.[a-z_]+)"', source))
        if prefix is not None:
            found |= {f"{prefix}.{kind}" for kind in re.findall(r'_fact\(\s*"([a-z_]+)"', source)}
    # Workflow steps name their event by the step's action; 督办 escalation by the level reached.
    from cases.supervision import EscalationLevel
    from cases.workflow import _FORWARD

    workflow_source = (ROOT / "cases/workflow.py").read_text(encoding="utf-8")
    found |= {f"case.{action}" for _, action in _FORWARD.values()}
    # _record(state, case, actor, now, <stage>, "<action>", …): the sixth argument names the event.
    steps = re.findall(r"_record\(\s*state,\s*case,\s*actor,\s*now,\s*[\w.]+,\s*\"([a-z_]+)\"", workflow_source)
    assert len(steps) >= 5
    found |= {f"case.{action}" for action in steps}
    found |= {f"supervision.{level.value}" for level in EscalationLevel if level is not EscalationLevel.NONE}
    return found


@pytest.mark.parametrize("kind", sorted(_emitted()))
def test_the_board_follows_every_event_of_the_queue_and_case_rules(kind: str) -> None:
    assert kind in WALLBOARD_EVENTS


def test_todays_case_tiles_fold_from_the_case_events_as_the_next_snapshot_counts_them(site: Site) -> None:
    """A case accepted at the community below and completed by the district, in time: the district's
    board counts it accepted, completed and on time, live and after a reload alike, and as the case
    statistics count the day."""
    from tests.cases.test_api import _accept

    community = site.halls["xh-hp-ly"]
    site.login("supervisor")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{HALL}/wallboard"})
        before = _until(ws, "snapshot")["data"]
        _until(ws, "subscribed")
        accepted = _accept(site, site.login("community-clerk"), community)
        assert accepted.status_code == 200, accepted.text
        number = accepted.json()["case"]["number"]
        steps = (("clerk", "review"), ("supervisor", "approve"), ("clerk", "complete"))
        for who, step in steps:
            done = site.post(f"/api/v1/halls/{HALL}/cases/{number}/{step}", site.login(who), {"remark": "齐全"})
            assert done.status_code == 200, (step, done.text)
        # (The answer's sequence number may be the community's log's: wait for the event itself.)
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1]["event"]["type"] != "case.completed":
            frames.append(_until(ws, "event"))
    site.login("supervisor")
    after = _snapshot(site)
    folded, fresh = _fold(before, frames, after)
    grown = {k: fresh["cases_today"][k] - before["cases_today"][k] for k in ("accepted", "completed", "on_time")}
    assert grown == {"accepted": 1, "completed": 1, "on_time": 1}
    assert folded["cases_today"] == fresh["cases_today"]
    assert folded["alarms"] == fresh["alarms"] == []
    # The board and the statistics count today's cases alike.
    day = fresh["cases_today"]["day"]
    stats = site.client.get(f"/api/v1/halls/{HALL}/case-stats", params={"from": day, "to": day})
    assert stats.status_code == 200, stats.text
    total = stats.json()["total"]
    assert [total[k] for k in ("accepted", "completed", "on_time")] == [
        fresh["cases_today"][k] for k in ("accepted", "completed", "on_time")
    ]
