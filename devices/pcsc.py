"""ID card readers on PC/SC (pcsc-lite's pcscd, through pyscard): a card put on a reader is read
with the APDUs of the hall's card layout (``devices.idcard_apdu``, docs/protocols/idcard.md) and
handed to ``Gateway.accept_card`` for the reader's counter or kiosk, as an MQTT reader's card is.

Which reader is which device. The registry (``devices``) says what a device is: an active
``id_reader``, bound to a counter or to none (beside a kiosk). Which PC/SC reader it is, is said by
the server's settings, ``HALL_PCSC_READERS="<device id>=<part of the reader's name>,..."``, rather
than by a column of the registry: a PC/SC reader's name ("ACS ACR1281 1S Dual Reader 00 00") belongs
to the machine it is plugged into, not to the hall; several server processes may share one database,
and only the one on that machine can read it; and nothing needs migrating. The registry stays the
judge: a reader named in the settings whose device is not an active ID reader has its cards refused
(``not_registered``), and a technician's binding to another counter takes effect at once.

Nothing here blocks the event loop. pcscd is asked in threads: one watcher thread waits in
``SCardGetStatusChange`` for readers and cards to come and go (woken by ``SCardCancel`` to stop), and
each read runs in the loop's default executor with a PC/SC context of its own (a pcsc-lite context
serialises its calls, so the watcher's long wait would hold up a read on the same one).

Personal data: the base data is decoded and checked (``IdCardData``: a bad GB 11643 check digit is
refused there) and given to the gateway, which holds it for two minutes; this module keeps none of it.
Every refusal is counted per device and reason in ``GatewayStats.reject`` (the device console shows the
counts) and logged without the person: ``card_removed`` (the card left mid-read: nothing is held,
and the reader goes on with the next card), ``reader_gone``, ``reader_busy``, ``card_refused`` (a
status word other than 90 00: not a card of this layout), and the codes of the card's own refusals
(``invalid_id_number``, ``invalid``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from smartcard import scard

from devices import idcard_apdu
from devices.gateway import Gateway
from devices.idcard_data import IdCardData, decode
from devices.protocol import BadMessage, Refused
from hall.kernel.errors import DomainError

log = logging.getLogger(__name__)

# pcsc-lite's pseudo-reader whose state changes when a reader is plugged in or out.
_PNP = "\\\\?PnP?\\Notification"
_WORD = 0xFFFFFFFF
_REMOVED = frozenset(
    code & _WORD
    for code in (
        scard.SCARD_W_REMOVED_CARD,
        scard.SCARD_E_NOT_TRANSACTED,
        scard.SCARD_E_NO_SMARTCARD,
        scard.SCARD_W_RESET_CARD,
        scard.SCARD_W_UNPOWERED_CARD,
        scard.SCARD_W_UNRESPONSIVE_CARD,
        scard.SCARD_E_INVALID_HANDLE,
    )
)
_GONE = frozenset(code & _WORD for code in (scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_UNKNOWN_READER))
_NO_SERVICE = frozenset(code & _WORD for code in (scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED))
# How long the watcher waits before asking pcscd again when it is not there (not started yet, or
# Debian's socket-activated pcscd that exits when idle and is started again by the next client).
RETRY_SECONDS = 2.0
Transmit = Callable[[bytes], bytes]


class CardReader(Protocol):
    """A reader the server reads a card from: a PC/SC reader here, a SAM module on a serial line."""

    async def read_card(self) -> IdCardData: ...


# The watcher's longest wait for a change: it looks whether the server is stopping this often,
# whatever became of a cancel.
WAIT_MS = 1000


class PcscFailure(BadMessage):
    """A read that PC/SC or the card ended: ``reason`` is the code counted for the device."""


def _check(hresult: int, what: str) -> None:
    code = hresult & _WORD
    if code == 0:
        return
    said = scard.SCardGetErrorMessage(hresult)
    if code in _REMOVED:
        raise PcscFailure("card_removed", f"{what}: {said}")
    if code in _GONE:
        raise PcscFailure("reader_gone", f"{what}: {said}")
    if code == scard.SCARD_E_SHARING_VIOLATION & _WORD:
        raise PcscFailure("reader_busy", f"{what}: another program holds the card")
    if code in _NO_SERVICE:
        raise PcscFailure("no_pcscd", f"{what}: {said}")
    raise PcscFailure("pcsc_error", f"{what}: {said} ({code:08X})")


def read_with(transmit: Transmit) -> IdCardData:
    """The card behind ``transmit`` (a command APDU in, the response APDU out), read by the plan of
    the hall's layout: SELECT, then READ BINARY in chunks. ``PcscFailure`` when the card stops
    answering (``card_removed``) or refuses a command (``card_refused``); the card's own refusals
    (``Invalid``, ``InvalidIdNumber``) from ``decode``."""
    responses = []
    for apdu in idcard_apdu.read_plan():
        answer = transmit(apdu.to_bytes())
        if len(answer) < 2:
            # vpcd says a card that vanished mid-command with an empty answer; a reader's driver
            # with an error, handled by the caller's _check.
            raise PcscFailure("card_removed", "the card gave no answer")
        responses.append(idcard_apdu.Response.parse(answer))
    try:
        text = idcard_apdu.base_data(responses)
    except BadMessage as exc:
        raise PcscFailure("card_refused", exc.detail) from None
    return decode(text)


class PcscReader:
    """One PC/SC reader by its name: ``read_card`` reads the card on it, in a worker thread."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def read_card(self) -> IdCardData:
        return await asyncio.to_thread(self._read)

    def _read(self) -> IdCardData:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hresult, "connect to pcscd")
        try:
            hresult, card, protocol = scard.SCardConnect(
                context, self.name, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
            )
            _check(hresult, "connect to the card")
            done = False
            try:

                def transmit(apdu: bytes) -> bytes:
                    hresult, answer = scard.SCardTransmit(card, protocol, list(apdu))
                    _check(hresult, "transmit")
                    return bytes(answer)

                read = read_with(transmit)
                done = True
                return read
            finally:
                # Powered down after a read, so the card starts afresh (nothing selected) next
                # time. After a failed read the card is left alone: it may be gone, and powering
                # down a card that is gone left vpcd's reader blind to the next card (seen with
                # pcsc-lite 1.9.9 and vsmartcard-vpcd 0.8: no insertion reported afterwards).
                disposition = scard.SCARD_UNPOWER_CARD if done else scard.SCARD_LEAVE_CARD
                scard.SCardDisconnect(card, disposition)
        finally:
            scard.SCardReleaseContext(context)


def binding_for(name: str, bindings: Sequence[tuple[str, str]]) -> str | None:
    """The device of a PC/SC reader: the first binding whose part is in the reader's name."""
    for device, part in bindings:
        if part in name:
            return device
    return None


@dataclass
class _Slot:
    present: bool = False
    events: int = -1  # pcsc-lite counts a reader's card events in the high word of its state


def card_changes(slot: _Slot, state: int) -> bool:
    """Whether a reader's new state is a card put on it (also when one was taken off and another
    put on between two looks: the event count moved). Updates ``slot``."""
    present = bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE
    events = (state >> 16) & 0xFFFF
    inserted = present and (not slot.present or events != slot.events)
    slot.present, slot.events = present, events
    return inserted


@dataclass
class PcscStats:
    cards_read: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    readers: set[str] = field(default_factory=set)


class PcscReaders:
    """Every PC/SC reader of this machine that the settings bind to a device, watched while the
    server runs: ``start`` and ``stop`` from ``devices.service.Devices``."""

    def __init__(
        self,
        gateway: Gateway,
        bindings: Sequence[tuple[str, str]],
        *,
        reader: Callable[[str], CardReader] = PcscReader,
    ) -> None:
        self._gateway = gateway
        self._bindings = tuple(bindings)
        self._reader = reader
        self.stats = PcscStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._context: Any = None
        self._context_lock = threading.Lock()
        self._reading: dict[str, asyncio.Task[None]] = {}
        self._unbound: set[str] = set()
        self._trouble = ""  # the watcher thread's own
        # Whether each bound device's reader was here when last looked (None: not looked yet).
        self._online: dict[str, bool] = {}
        self._presence_tasks: set[asyncio.Task[None]] = set()
        # Told after each card is handled (tests wait on it; nothing else needs it).
        self.on_card: Callable[[str, str], None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._watch, name="pcsc-watcher", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        # A cancel sent while the watcher is between two waits is lost (pcsc-lite cancels only a
        # wait in progress), so it is sent again until the thread has gone; the wait's own bound
        # (WAIT_MS) ends it in any case.
        while thread is not None and thread.is_alive():
            with self._context_lock:
                if self._context is not None:
                    scard.SCardCancel(self._context)
            await asyncio.to_thread(thread.join, 0.2)
        self._thread = None
        # A read in hand finishes (its transmits are short); its card is then handed over or not.
        if self._reading:
            await asyncio.gather(*self._reading.values(), return_exceptions=True)

    # -- the watcher thread ----------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.is_set():
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult & _WORD:
                self._once("no_pcscd", f"pcscd is not answering: {scard.SCardGetErrorMessage(hresult)}")
                self._stopping.wait(RETRY_SECONDS)
                continue
            self._trouble = ""
            with self._context_lock:
                self._context = context
            try:
                self._watch_with(context)
            finally:
                with self._context_lock:
                    self._context = None
                scard.SCardReleaseContext(context)
            if not self._stopping.is_set():
                self._stopping.wait(RETRY_SECONDS)

    def _watch_with(self, context: Any) -> None:
        """Wait for changes until stopped or pcscd goes away (then the caller starts over)."""
        slots: dict[str, _Slot] = {}
        states: dict[str, int] = {_PNP: scard.SCARD_STATE_UNAWARE}
        while not self._stopping.is_set():
            hresult, names = scard.SCardListReaders(context, [])
            if hresult & _WORD == scard.SCARD_E_NO_READERS_AVAILABLE & _WORD:
                names = []
            elif hresult & _WORD:
                self._once("no_pcscd", f"pcscd lists no readers: {scard.SCardGetErrorMessage(hresult)}")
                return
            self._readers(set(names), slots, states)
            asked = [(name, state & ~scard.SCARD_STATE_CHANGED) for name, state in states.items()]
            hresult, answers = scard.SCardGetStatusChange(context, WAIT_MS, asked)
            code = hresult & _WORD
            if code in (scard.SCARD_E_CANCELLED & _WORD, scard.SCARD_E_TIMEOUT & _WORD):
                continue
            if code == scard.SCARD_E_UNKNOWN_READER & _WORD:
                continue  # a reader left between the list and the wait: list again
            if code:
                self._once("no_pcscd", f"pcscd stopped answering: {scard.SCardGetErrorMessage(hresult)}")
                return
            for name, state, _atr in answers:
                states[name] = state
                if name in slots and card_changes(slots[name], state):
                    self._post(self._inserted, name)

    def _readers(self, names: set[str], slots: dict[str, _Slot], states: dict[str, int]) -> None:
        for gone in set(slots) - names:
            del slots[gone]
            del states[gone]
            log.info("PC/SC reader %r is gone", gone)
        for name in names - set(slots):
            slots[name] = _Slot()
            states[name] = scard.SCARD_STATE_UNAWARE
            log.info("PC/SC reader %r is here, for device %s", name, binding_for(name, self._bindings) or "none")
        self._post(self._present, frozenset(names))

    def _post(self, work: Callable[[Any], None], arg: Any) -> None:
        loop = self._loop
        if loop is None or self._stopping.is_set():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed under us: the server is stopping
            loop.call_soon_threadsafe(work, arg)

    def _once(self, reason: str, detail: str) -> None:
        """Said once for each spell of trouble with pcscd, not at every retry."""
        if self._trouble != detail:
            self._trouble = detail
            log.warning("PC/SC: %s (%s); trying again every %s s", detail, reason, RETRY_SECONDS)

    # -- in the event loop -----------------------------------------------------------------------

    def _present(self, names: frozenset[str]) -> None:
        """The readers pcscd lists now (told every WAIT_MS at the most): a bound device whose reader
        is here is online and heard from, one whose reader was unplugged is offline, each change an
        event as for any device (``Gateway.wired_presence``)."""
        self.stats.readers = set(names)
        here = {device for name in names if (device := binding_for(name, self._bindings)) is not None}
        for device, _part in self._bindings:
            if device in here:
                self._gateway.wired_telemetry(device, {})  # heard: the silence sweep leaves it be
            if self._online.get(device) is not (device in here):
                self._online[device] = device in here
                task = asyncio.get_running_loop().create_task(self._gateway.wired_presence(device, device in here))
                self._presence_tasks.add(task)
                task.add_done_callback(self._presence_tasks.discard)

    def _inserted(self, name: str) -> None:
        device = binding_for(name, self._bindings)
        if device is None:
            if name not in self._unbound:
                self._unbound.add(name)
                log.warning("a card on PC/SC reader %r, which HALL_PCSC_READERS binds to no device", name)
            return
        if name in self._reading:
            return  # still reading the last card: this one is read when put on again
        task = asyncio.get_running_loop().create_task(self._read(name, device), name=f"pcsc-read:{device}")
        self._reading[name] = task
        task.add_done_callback(lambda _: self._reading.pop(name, None))

    async def _read(self, name: str, device: str) -> None:
        outcome = "read"
        try:
            card = await self._reader(name).read_card()
            try:
                held = self._gateway.accept_card(device, card)
            except Refused as exc:
                outcome = exc.reason  # counted and logged by the gateway
            else:
                self.stats.cards_read += 1
                shown = card.masked()
                log.info(
                    "card %s, %s read at %s for counter %s", shown["name"], shown["id_number"], device, held.counter
                )
            del card  # the gateway holds it now, for as long as it may
        except PcscFailure as exc:
            outcome = self._refused(device, exc.reason, exc.detail)
        except DomainError as exc:
            # The card's own data refused it (IdCardData): its message names what, never whose.
            outcome = self._refused(device, exc.code, exc.message)
        except BadMessage as exc:
            outcome = self._refused(device, exc.reason, exc.detail)
        except Exception:
            log.exception("reading the card on PC/SC reader %r failed", name)
            outcome = self._refused(device, "pcsc_error", "see the log")
        if self.on_card is not None:
            self.on_card(device, outcome)

    def as_json(self) -> dict[str, Any]:
        """What the device console shows: the PC/SC readers this machine has now, each with the
        device the settings bind it to (None: a card on it is not read), what was read and refused,
        and what keeps the watcher from pcscd, if anything."""
        readers = [{"name": name, "device": binding_for(name, self._bindings)} for name in sorted(self.stats.readers)]
        return {
            "readers": readers,
            "bindings": [{"device": device, "name": part} for device, part in self._bindings],
            "cards_read": self.stats.cards_read,
            "refused": dict(self.stats.refused),
            "trouble": self._trouble,
        }

    def _refused(self, device: str, reason: str, detail: str) -> str:
        self.stats.refused[reason] += 1
        self._gateway.stats.reject(device, reason, detail)
        return reason
