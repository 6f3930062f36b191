"""The ID cards the gateway holds: the last card read at each reader, kept two minutes for the
clerk's intake form at the reader's counter, or for the next ticket taken at the kiosk beside a
reader bound to no counter (docs/protocols/idcard.md).

Apart from the gateway because the cards are only memory, read by the counter console and the
kiosk, and a card leaves it the moment it is taken or too old.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from devices import kinds
from devices.known_devices import KnownDevices
from devices.registry import Kind

CARD_KEPT = timedelta(minutes=2)


class HeldCards:
    def __init__(self, known: KnownDevices, clock: Callable[[], datetime]) -> None:
        self._known = known
        self._clock = clock
        self._cards: dict[str, kinds.Card] = {}  # by reader

    def hold(self, card: kinds.Card) -> None:
        self._cards[card.reader] = card

    def card_of(self, reader: str) -> kinds.Card | None:
        card = self._cards.get(reader)
        if card is None or self._clock() - card.read_at > CARD_KEPT:
            self._cards.pop(reader, None)
            return None
        return card

    def take_card_of(self, reader: str) -> kinds.Card | None:
        card = self.card_of(reader)
        self._cards.pop(reader, None)
        return card

    def _reader_at(self, hall_id: int, counter: int) -> str | None:
        for seen in self._known.all():
            device = seen.device
            at_counter = seen.hall_id == hall_id and device.kind is Kind.ID_READER and device.counter == counter
            if at_counter and device.id in self._cards:
                return device.id
        return None

    def card_at(self, hall_id: int, counter: int) -> kinds.Card | None:
        """The card read lately at the counter's reader (a counter may have more than one)."""
        reader = self._reader_at(hall_id, counter)
        return self.card_of(reader) if reader else None

    def take_card(self, hall_id: int, counter: int) -> kinds.Card | None:
        reader = self._reader_at(hall_id, counter)
        return self.take_card_of(reader) if reader else None
