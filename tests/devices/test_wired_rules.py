"""The serial drivers' decisions and the wiring rules, without a port or an event loop."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import keypad_protocol as keypad
from devices import led_messages as led
from devices import wired, wires
from devices.protocol import BadMessage
from devices.registry import Device, Kind, Registry, Status
from hall.kernel.errors import DomainError, Invalid


def test_presence_goes_offline_after_the_limit_of_misses_and_online_at_the_first_answer() -> None:
    presence = wired.Presence(3)
    assert presence.answered() is True
    assert [presence.missed() for _ in range(4)] == [None, None, False, None]
    assert presence.answered() is True and presence.answered() is None
    assert presence.lost() is False and presence.lost() is None


def test_a_key_echoed_less_than_a_second_ago_is_a_repeat_and_another_key_is_not() -> None:
    poller = wired.BusPoller((1, 2))
    call = keypad.KeyPress(1, keypad.Key.CALL)
    assert [poller.next_address() for _ in range(3)] == [1, 2, 1]
    assert poller.fresh(call, 10.0) is True
    assert poller.fresh(call, 10.5) is False  # the device did not hear the echo
    assert poller.fresh(call, 11.6) is True
    assert poller.fresh(keypad.KeyPress(1, keypad.Key.RECALL), 11.7) is True
    assert poller.fresh(keypad.KeyPress(2, keypad.Key.CALL), 11.7) is True


def test_key_frames_are_the_events_of_an_mqtt_keypad_and_rater() -> None:
    assert wired.event_for(keypad.KeyPress(1, keypad.Key.NO_SHOW), "e1").type == "no_show"
    transfer = wired.event_for(keypad.KeyPress(1, keypad.Key.TRANSFER, 12), "e2")
    assert (transfer.type, dict(transfer.data)) == ("transfer", {"to_counter": 12})
    rate = wired.event_for(keypad.Rating(0x11, 0), "e3")
    assert (rate.type, dict(rate.data)) == ("rate", {"level": 5})


def test_display_content_becomes_frames() -> None:
    window = {"kind": "window", "counter": 5, "number": "A023", "text": {"zh_CN": "请 A023 到 5 号窗口"}}
    assert wired.show(window) == [led.ShowTicket("A023", 5)]
    idle = {"kind": "window", "counter": 5, "number": None, "text": {"zh_CN": "暂停服务", "en": "Paused"}}
    assert wired.show(idle) == [led.ShowText("暂停服务")]
    strip = {"kind": "led", "lines": ["请 A023 号", "到 5 号窗口"], "seq": 9}
    (frame,) = wired.show(strip)
    assert isinstance(frame, led.ShowText) and frame.text == "请 A023 号 到 5 号窗口"
    assert wired.show({"kind": "led", "lines": []}) == [led.Clear(led.ALL_AREAS)]


@given(st.text(max_size=600))
def test_any_text_fits_one_frame(text: str) -> None:
    for frame in wired.show({"kind": "led", "lines": [text]}):
        assert isinstance(frame, led.ShowText | led.Clear)


def test_console_commands_to_a_display() -> None:
    assert wired.display_command("brightness", {"percent": 60}) == led.Brightness(60)
    assert wired.display_command("show", {"pattern": "grid"}) == led.ShowPattern(led.Pattern.STRIPES)
    assert wired.display_command("clear", {}) == led.Clear(led.ALL_AREAS)
    with pytest.raises(BadMessage):
        wired.display_command("brightness", {"percent": 101})
    with pytest.raises(BadMessage):
        wired.display_command("reboot", {})


def test_a_display_shows_text_in_the_encoding_its_wiring_declares() -> None:
    wiring = wires.wiring_from({"port": "/dev/ttyUSB0", "address": 2, "encoding": "UTF-8"}, Kind.LED)
    assert wiring.encoding == "utf-8"
    assert wires.wiring_from({"port": "/dev/ttyUSB0", "address": 2}, Kind.WINDOW).encoding == "gb18030"
    (frame,) = wired.show({"kind": "led", "lines": ["A023 请到 5 号窗口"]}, led.Encoding.UTF8)
    assert isinstance(frame, led.ShowText) and frame.encoding is led.Encoding.UTF8
    assert "请到" in frame.text


def test_wiring_is_checked() -> None:
    assert wires.wiring_from({"port": "/dev/ttyUSB0", "address": 3}, Kind.KEYPAD).baud == 9600
    assert wires.wiring_from({"port": "/dev/ttyUSB1"}, Kind.ID_READER).baud == 115200
    assert wires.wiring_from({"port": "socket://10.0.0.7:4001", "address": 1}, Kind.LED).port.startswith("socket")
    for data, kind, field in (
        ({"port": "/etc/passwd", "address": 1}, Kind.KEYPAD, "port"),
        ({"port": "/dev/../etc/passwd", "address": 1}, Kind.KEYPAD, "port"),
        ({"port": "http://x:1", "address": 1}, Kind.KEYPAD, "port"),
        ({"port": "/dev/ttyUSB0"}, Kind.KEYPAD, "address"),
        ({"port": "/dev/ttyUSB0", "address": 255}, Kind.KEYPAD, "address"),
        ({"port": "/dev/ttyUSB0", "address": 1}, Kind.ID_READER, "address"),
        ({"port": "/dev/ttyUSB0", "address": 1, "baud": 9601}, Kind.KEYPAD, "baud"),
        ({"port": "/dev/ttyUSB0", "address": 1, "parity": "M"}, Kind.KEYPAD, "parity"),
        ({"port": "/dev/ttyUSB0", "address": 1}, Kind.KIOSK, "kind"),
        ({"port": "/dev/ttyUSB0", "address": 1, "encoding": "big5"}, Kind.LED, "encoding"),
        ({"port": "/dev/ttyUSB0", "address": 1, "encoding": "utf-8"}, Kind.KEYPAD, "encoding"),
    ):
        with pytest.raises(Invalid) as refused:
            wires.wiring_from(data, kind)
        assert refused.value.details["field"] == field, data


def _registry() -> Registry:
    devices = {
        "pad1": Device("pad1", Kind.KEYPAD, Status.ACTIVE, counter=1),
        "pad2": Device("pad2", Kind.KEYPAD, Status.ACTIVE, counter=2),
        "led": Device("led", Kind.LED, Status.ACTIVE),
        "new": Device("new", None, Status.PENDING),
    }
    return Registry(devices, frozenset({1, 2}))


def test_devices_share_a_port_only_at_its_settings_protocol_and_their_own_addresses() -> None:
    state = _registry()
    state = wires.wire(state, "pad1", {"port": "/dev/ttyUSB0", "address": 1}).state
    decision = wires.wire(state, "pad2", {"port": "/dev/ttyUSB0", "address": 2})
    assert decision.facts[0].type == "device.wired" and decision.state.devices["pad2"].transport == "serial"
    for device, data in (
        ("pad2", {"port": "/dev/ttyUSB0", "address": 1}),
        ("pad2", {"port": "/dev/ttyUSB0", "address": 2, "baud": 19200}),
        ("led", {"port": "/dev/ttyUSB0", "address": 9}),
    ):
        with pytest.raises(Invalid):
            wires.wire(state, device, data)
    with pytest.raises(DomainError):
        wires.wire(state, "new", {"port": "/dev/ttyUSB0", "address": 3})
    off = wires.wire(state, "pad1", None).state.devices["pad1"]
    assert (off.wire, off.transport) == (None, "mqtt")
