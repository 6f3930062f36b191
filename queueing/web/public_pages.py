"""The queue's public screens: the ticket kiosk, the queue display, and a ticket's own page, its
printed slip and its QR code. Anyone may open them, so they show only the public views of the queue
(queueing.views): services, counts, ticket numbers and counter numbers, never who holds a ticket or
who staffs a counter. What they say is in queueing/web/screen_words.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import qrcode
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from displays import texts as display_texts
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.queue_tables import tickets as ticket_rows
from hall.web.access import guarded
from hall.web.render import QRImage, fill, pairs, public_site
from hall.web.screen_keys import valid_key
from hall.web.templating import render
from queueing.services import Priority
from queueing.state import QueueState
from queueing.views import public_view, ticket_status
from queueing.web.hall_queue import hall_and_queue
from queueing.web.screen_words import DISPLAY_WORDS, KIOSK_WORDS, SLIP_WORDS, TICKET_WORDS, kiosk_button, slip_estimate

# A ticket id as queueing.issuing.issue makes it: the hall's local date and the number (20261123-A023).
TICKET_ID = re.compile(r"^\d{8}-[A-Z]{0,2}\d{1,4}$")
_PAPERS = ("80", "58")
_VOICES = ("server", "webspeech", "off")


def _public_context(request: Request, row: Any, state: QueueState) -> dict[str, Any]:
    return {
        "hall": row,
        "timezone": state.rules.timezone,
        "paper": _choice(request, "paper", _PAPERS),
        "english": _locale.get() != "en",
    }


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str:
    value = request.query_params.get(name, allowed[0])
    return value if value in allowed else allowed[0]


@guarded(Access.anyone(), page=True)
async def kiosk(request: Request) -> Response:
    """The ticket kiosk (排号机): a big button per service, a ticket with its QR code, printed.

    ``?paper=58`` prints for 58 mm paper (80 mm otherwise); ``?print=off`` for a kiosk whose
    tickets come from its own thermal printer rather than the browser's print; ``?reader=<id>&key=<key>``
    names the ID reader beside the kiosk (a registered device bound to no counter) and proves
    this is its kiosk (``hall.web.screen_keys``; the device console gives the address), so a resident
    may swipe a card to take the ticket in their name."""
    found = await hall_and_queue(request)
    row, state = found
    words = pairs({**KIOSK_WORDS, **SLIP_WORDS})
    view = public_view(state, datetime.now(UTC))
    context = {
        **_public_context(request, row, state),
        "words": words,
        "services": [kiosk_button(s, words, view["no_counter"]) for s in view["services"]],
        "autoprint": request.query_params.get("print") != "off",
        **_reader_params(request, row.id),
        # The classes this hall lets a resident claim here, in the order of the enum.
        "priorities": [p.value for p in Priority if state.rules.kiosk_offers(p)],
    }
    return render(request, "kiosk.html", context)


def _reader_params(request: Request, hall_id: int) -> dict[str, str]:
    """The reader beside this kiosk and its key, when the address names both rightly; else none
    (the page then offers no card swipe rather than one that cannot work)."""
    reader = _device_param(request, "reader")
    key = request.query_params.get("key", "")
    if not reader or not valid_key(runtime_of(request).settings.secret_key, hall_id, reader, key):
        return {"reader": "", "reader_key": ""}
    return {"reader": reader, "reader_key": key}


def _device_param(request: Request, name: str = "device") -> str:
    from devices.protocol import valid_device_id

    device = request.query_params.get(name, "")
    return device if valid_device_id(device) else ""


@guarded(Access.anyone(), page=True)
async def queue_display(request: Request) -> Response:
    """The hall's queue display (big screen): the newest call, recent calls, people waiting.

    ``?voice=webspeech`` lets the browser speak a call the server cannot, ``?voice=off`` keeps it
    silent; ``?english=1`` says each call in English too. ``?autoplay=1`` is for a screen nobody
    can click (a wall screen in a kiosk-mode browser, docs/displays.md): no "click to enable"
    button, only the notice when the browser blocks sound. ``?device=<id>`` names the registered
    queue display this screen is, so that it reports its sound to the device console."""
    found = await hall_and_queue(request)
    row, state = found
    words = pairs(DISPLAY_WORDS, both=True)
    view = public_view(state, datetime.now(UTC))
    context = {
        **_public_context(request, row, state),
        "words": words,
        "services": [{**s, "waiting_text": fill(words["waiting"], n=s["waiting"])} for s in view["services"]],
        # The call's words are the displays package's, the same the LED strip and the voice use.
        "call": {locale: display_texts._words(locale)["call"] for locale in display_texts.LOCALES},
        "counter_title": {locale: display_texts._words(locale)["title"] for locale in display_texts.LOCALES},
        "voice": _choice(request, "voice", _VOICES),
        "voice_english": request.query_params.get("english") == "1",
        "autoplay": request.query_params.get("autoplay") == "1",
        **_display_device(request, row.id),
    }
    return render(request, "display.html", context)


def _display_device(request: Request, hall_id: int) -> dict[str, str]:
    """The queue display device this screen is, when the address names it with its key
    (``hall.web.screen_keys``; the device console gives the address): it then reports its sound."""
    device = _device_param(request)
    key = request.query_params.get("key", "")
    if not device or not valid_key(runtime_of(request).settings.secret_key, hall_id, device, key):
        return {"device": "", "device_key": ""}
    return {"device": device, "device_key": key}


async def _finished_ticket(request: Request, hall_id: int, ticket_id: str) -> dict[str, Any] | None:
    """A ticket no longer in the live queue (done, cancelled, closed), from its stored row: its
    public columns only, never the applicant's."""
    columns = [ticket_rows.c[name] for name in ("id", "number", "service", "priority", "state", "counter", "issued_at")]
    async with reading(runtime_of(request).engine) as conn:
        found = await conn.execute(
            select(*columns).where(ticket_rows.c.hall_id == hall_id, ticket_rows.c.id == ticket_id)
        )
        row = found.one_or_none()
    return dict(row._mapping) if row is not None else None


async def _ticket_page(request: Request, template: str) -> Response:
    found = await hall_and_queue(request)
    row, state = found
    ticket_id = request.path_params["ticket"]
    words = pairs({**TICKET_WORDS, **SLIP_WORDS})
    context: dict[str, Any] = {**_public_context(request, row, state), "words": words}
    live = state.tickets.get(ticket_id) if TICKET_ID.match(ticket_id) else None
    status = ticket_status(state, ticket_id, datetime.now(UTC)) if live else None
    if live is not None and status is not None:
        issued_at = live.issued_at
    else:
        status = await _finished_ticket(request, row.id, ticket_id) if TICKET_ID.match(ticket_id) else None
        if status is None:
            context["missing"] = True
            return render(request, template, context, status_code=404)
        issued_at = status.pop("issued_at")
        context["final"] = True
    service = state.services.get(status["service"])
    estimate = status.get("estimate_minutes")
    context.update(
        ticket=status,
        service={"name": service.name, "name_en": service.name_en} if service else {"name": status["service"]},
        state_text=fill(words.get(status["state"], (status["state"], "")), counter=status["counter"] or ""),
        ahead=fill(words["ahead"], n=status["ahead"]) if "ahead" in status else None,
        estimate=None if "ahead" not in status else slip_estimate(words, estimate),
        # A waiting ticket no open counter would call: said plainly, on the screen and on paper.
        no_counter=words["no_counter_warning"] if "ahead" in status and estimate is None else None,
        taken_at=fill(words["taken_at"], time=f"{state.rules.local(issued_at):%Y-%m-%d %H:%M}"),
    )
    return render(request, template, context)


@guarded(Access.anyone(), page=True)
async def ticket_page(request: Request) -> Response:
    """A ticket's status on the resident's phone, opened from the QR code: live, no personal data."""
    return await _ticket_page(request, "ticket.html")


@guarded(Access.anyone(), page=True)
async def ticket_print(request: Request) -> Response:
    """A ticket as a 58/80 mm slip that prints itself: the browser stands in for a kiosk printer."""
    return await _ticket_page(request, "ticket_print.html")


@guarded(Access.anyone())
async def ticket_qr(request: Request) -> Response:
    """The QR code of a ticket's status page, as SVG; the same for the kiosk screen and its print."""
    hall_id = request.path_params["hall"]
    ticket_id = request.path_params["ticket"]
    if not TICKET_ID.match(ticket_id):
        return PlainTextResponse("no such ticket", status_code=404)
    url = f"{public_site(request)}/t/{hall_id}/{ticket_id}"
    image = qrcode.make(url, image_factory=QRImage, error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    return Response(
        image.to_string(encoding="unicode"),
        media_type="image/svg+xml",
        headers={"cache-control": "public, max-age=86400"},
    )
