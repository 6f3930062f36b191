"""A queue display reports its sound to the technicians' device console: the display page posts
it (``?device=<id>``), a display on the bus sends it as ``voice`` telemetry, and the console's
list shows it. Only a registered queue display of the hall may report; bad input changes nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from devices.protocol import BadMessage, parse_telemetry
from hall.runtime import Runtime
from hall.web.app import create_app
from hall.web.screen_keys import screen_key
from tests.helpers import csrf_of
from tests.memory_broker import MemoryBroker
from tests.site import Site, make_site

DEVICES = "/api/v1/halls/1/devices"


def _key(device: str) -> str:
    return screen_key("k" * 48, 1, device)  # the test site's secret key


def _report(site: Site, device: str, body: Any, *, key: str | None = None) -> Any:
    token = csrf_of(site.client.get(f"/display/1?device={device}").text)
    return site.client.post(
        f"/api/v1/halls/1/displays/{device}/voice",
        json=body,
        headers={"X-CSRF-Token": token, "X-Screen-Key": _key(device) if key is None else key},
    )


@contextmanager
def _open(tmp_path: Path, bus: bool) -> Iterator[Site]:
    config, ids, users = make_site(tmp_path)
    runtime = Runtime.build(config, connect=MemoryBroker().connector() if bus else None)
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        made = Site(client, ids, users)
        if bus:
            token = made.login("technician")
            for device, kind in (("qd-1", "queue_display"), ("kiosk-1", "kiosk")):
                answer = made.post(DEVICES, token, {"device": device, "kind": kind})
                assert answer.status_code in (200, 201), answer.text
            made.anonymous()
        yield made


@pytest.fixture
def bus_site(tmp_path: Path) -> Iterator[Site]:
    with _open(tmp_path, bus=True) as made:
        yield made


def _voice_listed(site: Site, device: str) -> Any:
    site.login("technician")
    listed = {d["id"]: d for d in site.client.get(DEVICES).json()["devices"]}
    site.anonymous()
    return listed[device]["telemetry"].get("voice"), listed[device]["last_seen"]


def test_the_display_page_reports_its_sound_to_the_console(bus_site: Site) -> None:
    assert _voice_listed(bus_site, "qd-1") == (None, None)
    answer = _report(bus_site, "qd-1", {"voice": "blocked"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"device": "qd-1", "voice": "blocked"}
    voice, seen = _voice_listed(bus_site, "qd-1")
    assert voice == "blocked" and seen is not None
    assert _report(bus_site, "qd-1", {"voice": "ok"}).status_code == 200
    assert _voice_listed(bus_site, "qd-1")[0] == "ok"


def test_only_a_queue_display_of_the_hall_reports_and_only_a_known_state(bus_site: Site) -> None:
    for device, body, status in (
        ("qd-1", {"voice": "loud"}, 422),
        ("qd-1", {"voice": 1}, 422),
        ("qd-1", {}, 422),
        ("kiosk-1", {"voice": "ok"}, 404),
        ("nobody-1", {"voice": "ok"}, 404),
    ):
        answer = _report(bus_site, device, body)
        assert answer.status_code == status, (device, body, answer.text)
        assert answer.json()["code"] in ("invalid", "not_found")
    assert _voice_listed(bus_site, "qd-1")[0] is None
    # Without the page's CSRF token nothing is taken.
    refused = bus_site.client.post("/api/v1/halls/1/displays/qd-1/voice", json={"voice": "ok"})
    assert refused.status_code == 403
    # Nor from a page that is not the display's own screen (no key, or another device's).
    for key in ("", _key("kiosk-1"), "0" * 32):
        assert _report(bus_site, "qd-1", {"voice": "failed"}, key=key).status_code == 404
    assert _voice_listed(bus_site, "qd-1")[0] is None


def test_a_server_without_a_device_bus_has_no_display_to_report_for(tmp_path: Path) -> None:
    with _open(tmp_path, bus=False) as site:
        assert _report(site, "qd-1", {"voice": "ok"}).status_code == 404


def test_a_display_on_the_bus_reports_its_sound_as_telemetry() -> None:
    assert parse_telemetry(b'{"v":1,"voice":"failed"}').values == {"voice": "failed"}
    with pytest.raises(BadMessage, match="voice must be one of ok, blocked, failed, off"):
        parse_telemetry(b'{"v":1,"voice":"loud"}')


def test_the_display_page_knows_which_device_it_is(bus_site: Site) -> None:
    html = bus_site.client.get(f"/display/1?device=qd-1&key={_key('qd-1')}&autoplay=1").text
    assert 'data-report-url="/api/v1/halls/1/displays/qd-1/voice"' in html
    assert f'data-report-key="{_key("qd-1")}"' in html
    # Without its key the address is any screen's: it reports nothing.
    assert "data-report-url" not in bus_site.client.get("/display/1?device=qd-1").text
    assert 'data-autoplay="1"' in html and 'id="enable-voice"' not in html
    words = json.loads(unescape(re.search(r"data-words='([^']*)'", html)[1]))  # type: ignore[index]
    assert words["voice_blocked"] == [
        "浏览器禁止了声音：叫号只显示，不播报",
        "The browser blocks sound: calls are shown, not spoken",
    ]
    assert words["voice_failed"][0] == "语音播报不可用：叫号只显示，不播报"
    plain = bus_site.client.get("/display/1?device=../x").text
    assert "data-report-url" not in plain and 'data-autoplay="0"' in plain and 'id="enable-voice"' in plain
