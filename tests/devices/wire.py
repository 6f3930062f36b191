"""Helpers for the wire codec tests: a stream cut into reads of given sizes."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import cycle


def chunked(data: bytes, sizes: list[int]) -> Iterator[bytes]:
    """``data`` cut into pieces of ``sizes`` in turn, as a serial port's reads would come."""
    at = 0
    for size in cycle(sizes):
        if at >= len(data):
            return
        yield data[at : at + size]
        at += size
