"""What a serial decoder remembers for the technician's console: counters of what it dropped, and
the last frames it decoded or rejected, each with its reason.

Shared by the wire codecs (``devices.led_protocol``, ``devices.keypad_protocol``,
``devices.sam_protocol``). Pure and bounded: the counters are integers and the log is a deque of
fixed length holding a fixed number of bytes per entry, however long a line of garbage runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import asdict, dataclass
from typing import ClassVar, Generic, TypeVar

F = TypeVar("F")

# Enough to tell a technician what came lately, small enough to show on one screen.
RECENT = 16
# A frame is shown by at most this many bytes; a long text frame is cut with its length said.
SHOWN_BYTES = 48

# Reasons a frame is rejected, each counted by the counter of the same name.
BAD_CHECKSUM = "bad_checksum"
BAD_LENGTH = "bad_length"
OVERSIZED = "oversized"
TRUNCATED = "truncated"
MALFORMED = "malformed"


@dataclass
class Counters:
    """What a decoder has seen since it was made. ``frames`` are the good ones; the others count
    frames thrown away for the reason of their name, and ``dropped_bytes`` the bytes skipped while
    looking for the next start of a frame (line noise, or the rest of a frame already rejected)."""

    frames: int = 0
    dropped_bytes: int = 0
    bad_checksum: int = 0
    bad_length: int = 0
    oversized: int = 0
    truncated: int = 0
    malformed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Seen:
    """One frame as the console shows it: its bytes in hex, ``reason`` empty when it was decoded
    (else one of the reasons above, with a detail after a colon), and what it meant."""

    raw: str
    reason: str
    summary: str
    # The same good frame again and again (a keypad's "idle" at every poll) is one entry counted,
    # so a bad frame stays among the last ones shown instead of being pushed out within a second.
    times: int = 1

    @property
    def ok(self) -> bool:
        return not self.reason


def shown(raw: bytes | bytearray, limit: int = SHOWN_BYTES) -> str:
    """``raw`` in spaced hex, cut at ``limit`` bytes with the number of bytes left out."""
    text = bytes(raw[:limit]).hex(" ")
    if len(raw) > limit:
        text += f" … (+{len(raw) - limit} bytes)"
    return text


class WireLog:
    """The counters and the last frames of one decoder."""

    def __init__(self, size: int = RECENT) -> None:
        self.counters = Counters()
        self.recent: deque[Seen] = deque(maxlen=size)

    def decoded(self, raw: str, summary: str) -> None:
        self.counters.frames += 1
        last = self.recent[-1] if self.recent else None
        if last is not None and last.ok and last.raw == raw and last.summary == summary:
            self.recent[-1] = Seen(raw, "", summary, last.times + 1)
        else:
            self.recent.append(Seen(raw, "", summary))

    def rejected(self, raw: str, reason: str, detail: str = "") -> None:
        counter = reason if reason in _REASONS else MALFORMED
        setattr(self.counters, counter, getattr(self.counters, counter) + 1)
        self.recent.append(Seen(raw, f"{reason}: {detail}" if detail else reason, ""))

    def dropped(self, count: int) -> None:
        self.counters.dropped_bytes += count


_REASONS = frozenset({BAD_CHECKSUM, BAD_LENGTH, OVERSIZED, TRUNCATED, MALFORMED})


class SlicedDecoder(ABC, Generic[F]):
    """The buffer of a decoder that takes reads in slices (``_SLICE`` bytes at a time), so one huge
    read cannot grow the buffer with it: ``feed`` adds a slice and lets ``_scan`` take what frames
    it can, until the read is used up. The protocol's decoder writes ``_scan`` (and ``gap``)."""

    _SLICE: ClassVar[int] = 64

    def __init__(self, recent: int = RECENT) -> None:
        self.log = WireLog(recent)
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held for a frame not yet whole."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[F]:
        frames: list[F] = []
        for at in range(0, len(data), self._SLICE):
            self._buf.extend(data[at : at + self._SLICE])
            self._scan(frames)
        return frames

    @abstractmethod
    def _scan(self, frames: list[F]) -> None:
        """Take the whole frames at the start of the buffer into ``frames``; keep what is not whole."""
