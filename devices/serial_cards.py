"""The driver of an ID card reader's SAM on a serial line (docs/protocols/idcard.md): find a card
twice a second; when one is there, select and read it, and hand the checked card to
``Gateway.accept_card``, the path a PC/SC reader's card takes too. A card left on the reader is
read once: it is read again only after the SAM has found no card in between.

The photo never leaves the decoder (``devices.sam_protocol``), and the card is held only by the
gateway, for two minutes; nothing here keeps it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from devices import sam_protocol as sam
from devices.protocol import BadMessage
from devices.serial_drivers import Gatewayish, Timing, Wire, _presence
from devices.wired import Presence
from hall.kernel.errors import DomainError

# The reader is offline after this many finds unanswered in a row (1 s each).
MISSED_OFFLINE = 3


class SamReader:
    def __init__(self, gateway: Gatewayish, device: str, timing: Timing) -> None:
        self._gateway = gateway
        self.device = device
        self._timing = timing
        self._decoder = sam.ReplyDecoder()
        self.log = self._decoder.log
        self.refused: Counter[str] = Counter()
        self.presence = Presence(MISSED_OFFLINE)
        self.cards = 0
        self._on_reader = False

    def state(self) -> dict[str, Any]:
        return {"online": {self.device: self.presence.online}, "cards": self.cards, "refused": dict(self.refused)}

    async def _ask(self, wire: Wire[sam.Reply | sam.BaseData], command: sam.Command) -> sam.Reply | sam.BaseData | None:
        await wire.send(sam.encode(sam.Request(command)))
        reply = await wire.receive(self._timing.sam_reply)
        change = self.presence.answered() if reply is not None else self.presence.missed()
        await _presence(self._gateway, self.device, change)
        return reply

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire: Wire[sam.Reply | sam.BaseData] = Wire(reader, writer, self._decoder)
        self._on_reader = False
        while True:
            await self._round(wire)
            await asyncio.sleep(self._timing.sam_find)

    async def _round(self, wire: Wire[sam.Reply | sam.BaseData]) -> None:
        found = await self._ask(wire, sam.Command.FIND_CARD)
        if not isinstance(found, sam.Reply) or found.status is not sam.Sw3.FOUND:
            if isinstance(found, sam.Reply):
                self._on_reader = False  # no card: the next one found is a new read
            return
        if self._on_reader:
            return
        selected = await self._ask(wire, sam.Command.SELECT_CARD)
        if not isinstance(selected, sam.Reply) or not selected.ok:
            return
        base = await self._ask(wire, sam.Command.READ_BASE)
        if not isinstance(base, sam.BaseData):
            self.refused["read_failed"] += 1
            return
        self._on_reader = True
        try:
            card = base.card()
        except DomainError as exc:
            # A card whose fields are not sound (a bad check digit): counted, never held.
            self.refused[exc.code] += 1
            return
        try:
            self._gateway.accept_card(self.device, card)
        except BadMessage as exc:
            self.refused[exc.reason] += 1
            return
        self.cards += 1

    async def lost(self) -> None:
        await _presence(self._gateway, self.device, self.presence.lost())
