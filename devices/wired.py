"""What the serial drivers decide, without a port: whom to poll next, when a device is offline,
which key press is a repeat, what event a frame is, and what frames show a display's content.

The drivers in ``devices.serial_drivers`` read and write the port and call these; every decision
here takes the time as an argument, so the tests drive it with numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devices import keypad_protocol as keypad
from devices import led_messages as led
from devices.protocol import BadMessage, DeviceEvent

# docs/protocols/serial.md, keypad bus: "the same key from the same address within 1 s of an echo
# is a repeat" (the device did not hear the echo and sends it again at its next poll).
REPEAT_WINDOW = 1.0


@dataclass
class Presence:
    """Answered or missed polls of one address: offline after ``limit`` misses in a row, online
    at the first answer. ``answered`` and ``missed`` return the new state when it changes."""

    limit: int
    online: bool | None = None  # None: not heard yet since the line opened
    misses: int = 0

    def answered(self) -> bool | None:
        self.misses = 0
        if self.online is not True:
            self.online = True
            return True
        return None

    def missed(self) -> bool | None:
        self.misses += 1
        if self.misses >= self.limit and self.online is not False:
            self.online = False
            return False
        return None

    def lost(self) -> bool | None:
        """The line itself went (port unplugged, converter's link dropped): offline at once."""
        self.misses = self.limit
        if self.online is not False:
            self.online = False
            return False
        return None


@dataclass
class BusPoller:
    """The keypad bus host's round: the addresses in turn, each with its presence, and the keys
    echoed lately to tell a repeat from a new press."""

    addresses: tuple[int, ...]
    limit: int = keypad.MISSED_POLLS_OFFLINE
    presence: dict[int, Presence] = field(default_factory=dict)
    _echoed: dict[int, tuple[keypad.KeyPress | keypad.Rating, float]] = field(default_factory=dict)
    _turn: int = 0

    def __post_init__(self) -> None:
        for address in self.addresses:
            self.presence.setdefault(address, Presence(self.limit))

    def next_address(self) -> int:
        address = self.addresses[self._turn % len(self.addresses)]
        self._turn += 1
        return address

    def fresh(self, frame: keypad.KeyPress | keypad.Rating, now: float) -> bool:
        """Whether a key frame is a new press (True) or the repeat of one echoed within
        ``REPEAT_WINDOW`` (False). Either way it is echoed again; only a new one is acted on."""
        last = self._echoed.get(frame.address)
        self._echoed[frame.address] = (frame, now)
        return last is None or last[0] != frame or now - last[1] > REPEAT_WINDOW


def event_for(frame: keypad.KeyPress | keypad.Rating, event_id: str) -> DeviceEvent:
    """The device event a key frame is, in the words of an MQTT keypad or rater."""
    if isinstance(frame, keypad.Rating):
        return DeviceEvent(event_id, "rate", {"level": int(frame.level)})
    if frame.key is keypad.Key.TRANSFER:
        return DeviceEvent(event_id, "transfer", {"to_counter": frame.target})
    return DeviceEvent(event_id, frame.key.value)


# -- displays -------------------------------------------------------------------------------------


def show(content: Mapping[str, Any], encoding: led.Encoding = led.Encoding.GB18030) -> list[led.Message]:
    """The frames that make a strip or a window display show ``content`` (as
    ``devices.feeds.render`` makes it for every display): a window display's call as a ticket it
    draws in its own layout, its idle text as text, a strip's latest call as its lines."""
    kind = content.get("kind")
    if kind == "window":
        number, counter = content.get("number"), content.get("counter")
        if isinstance(number, str) and isinstance(counter, int) and 1 <= counter <= 9999 and _ticket(number):
            return [led.ShowTicket(number.upper(), counter)]
        text = content.get("text") or {}
        words = str(text.get("zh_CN") or text.get("en") or "").strip()
        return [led.ShowText(_fit(words, encoding), encoding=encoding)] if words else [led.Clear(led.ALL_AREAS)]
    lines = [str(line) for line in content.get("lines") or [] if str(line).strip()]
    if not lines:
        return [led.Clear(led.ALL_AREAS)]
    return [led.ShowText(_fit(" ".join(lines), encoding), encoding=encoding, mode=led.Mode.SCROLL)]


def _ticket(number: str) -> bool:
    return 1 <= len(number) <= 8 and number.isascii() and number.isalnum()


def _fit(text: str, encoding: led.Encoding) -> str:
    """``text`` cut to what one frame holds, characters the device cannot show replaced and
    control characters (a NUL ends a C string in a strip's firmware) left out."""
    printable = "".join(c for c in text if c.isprintable())
    encoded = printable.encode(encoding.codec, errors="replace")[: led.MAX_PAYLOAD - 4]
    return encoded.decode(encoding.codec, errors="ignore") or "?"


PATTERNS: Mapping[str, led.Pattern] = {
    "all_on": led.Pattern.ALL_ON,
    "grid": led.Pattern.STRIPES,  # the console's default test pattern, the nearest a strip has
    "stripes": led.Pattern.STRIPES,
    "colours": led.Pattern.COLOURS,
    "all_off": led.Pattern.ALL_OFF,
}
DISPLAY_COMMANDS = frozenset({"show", "brightness", "clear", "ping"})


def display_command(name: str, args: Mapping[str, Any]) -> led.Message:
    """A console command to a wired display as the frame that carries it; ``ping`` is a poll."""
    if name == "show":
        pattern = PATTERNS.get(str(args.get("pattern", "stripes")))
        if pattern is None:
            raise BadMessage("bad_args", f"pattern must be one of {', '.join(PATTERNS)}")
        return led.ShowPattern(pattern)
    if name == "brightness":
        percent = args.get("percent")
        if not isinstance(percent, int) or isinstance(percent, bool):
            raise BadMessage("bad_args", "percent must be a whole number, 0 to 100")
        return led.Brightness(percent)
    if name == "clear":
        return led.Clear(led.ALL_AREAS)
    if name == "ping":
        return led.Poll()
    raise BadMessage("unsupported", f"a wired display does not take {name!r}")


def addresses(wired: Iterable[tuple[str, int]]) -> dict[int, str]:
    """Device by bus address, for the devices of one line."""
    return {address: device for device, address in wired}
