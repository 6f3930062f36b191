"""The queue's pages: the live wallboard, the counter picker, the clerk's counter console and the
citizen-facing second screen of a counter (一机双屏), and the public screens: the ticket kiosk, the
queue display, and a ticket's own page with its QR code."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import qrcode
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from cases.light_words import LIGHT_SIGNS, light_script_words
from displays import texts as display_texts
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access, Role, within
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.directory import hall_tree
from hall.storage.queue_tables import tickets as ticket_rows
from hall.storage.tables import halls
from hall.web.access import guarded, member_of, staff_of
from hall.web.render import Pair, QRImage, fill, hall_and_state, pairs, public_site
from hall.web.screen_keys import valid_key
from hall.web.templating import error_page, render
from queueing.live import WALLBOARD_EVENTS
from queueing.services import Priority
from queueing.state import QueueState, Rules
from queueing.views import public_view, ticket_status

_STATUS_LABELS = {"open": N_("Open"), "paused": N_("Paused"), "closed": N_("Closed")}

# Each event the wallboard follows (queueing.live.WALLBOARD_EVENTS), as the sentence its 最新动态
# list writes: {number} is the ticket's or the case's, {counter} the counter's number, {clerk} the
# clerk's name, {service} the service's, {label} a rating's level, {light} a light's word with what
# it is for (the case's deadline or its stage's), {due} a
# due day or time in the hall's time zone (static/js/wallboardview.js fills them in).
WALLBOARD_SENTENCES = {
    "counter.opened": N_("Counter {counter} opened by {clerk}"),
    "counter.paused": N_("Counter {counter} paused: {reason}"),
    "counter.resumed": N_("Counter {counter} serving again"),
    "counter.closed": N_("Counter {counter} closed"),
    "ticket.issued": N_("Ticket {number} taken for {service}"),
    "ticket.called": N_("{number} called to counter {counter}"),
    "ticket.recalled": N_("{number} called again to counter {counter}"),
    "ticket.started": N_("Counter {counter} serving {number}"),
    "ticket.finished": N_("Counter {counter} finished {number}"),
    "ticket.transferred": N_("{number} transferred to {service}"),
    "ticket.no_show": N_("{number} did not come to counter {counter}"),
    "ticket.requeued": N_("{number} back in the line"),
    "ticket.held": N_("{number} held for counter {counter}"),
    "ticket.released": N_("{number} back from hold"),
    "ticket.cancelled": N_("Ticket {number} cancelled"),
    "ticket.closed": N_("Ticket {number} closed at the end of the day"),
    "rating.given": N_("{number} rated counter {counter}: {label}"),
    "rating.alarm": N_("Unsatisfied rating: {number} at counter {counter} ({label}), work order opened"),
    "workorder.called_back": N_("Work order of {number}: resident called back"),
    "workorder.resolved": N_("Work order of {number} fixed and closed"),
    "workorder.overdue": N_("Work order of {number} overdue (due {due}), escalated"),
    "case.accepted": N_("Case {number} accepted"),
    "case.reviewed": N_("Case {number} passed review"),
    "case.approved": N_("Case {number} approved"),
    "case.completed": N_("Case {number} completed"),
    "case.collected": N_("Case {number}: result handed over"),
    "case.refused": N_("Case {number} refused"),
    "case.supplement_requested": N_("Case {number}: supplement requested"),
    "case.supplement_received": N_("Case {number}: supplement received"),
    "case.returned": N_("Case {number} returned to the previous stage"),
    "case.assigned": N_("Case {number} assigned"),
    "case.light": N_("Case {number}: light turned {light}"),
    "case.midway": N_("Case {number} is halfway to its deadline"),
    "case.rated": N_("Case {number} rated: {label}"),
    "supervision.opened": N_("Supervision order on case {number}, answer by {due}"),
    "supervision.answered": N_("Supervision order on case {number} answered"),
    "supervision.reminder": N_("Reminder: supervision order on case {number} due {due}"),
    "supervision.yellow_card": N_("Yellow card: supervision order on case {number} not answered in time"),
    "supervision.red_card": N_("Red card: supervision order on case {number} still not fixed"),
    "alarm.raised": N_("Alarm: {alarm}"),
    "alarm.acknowledged": N_("Alarm acknowledged by {by}: {alarm}"),
    "alarm.cleared": N_("Alarm cleared by itself: {alarm}"),
}
_WALLBOARD_WORDS = {
    "ev_other": N_("Event {type}"),
    # Each kind of alarm (queueing.alarms), filled from its data by wallboardview.js alarmText.
    "alarm_wait_over_target": N_(
        "{service}: {over} waiting over the {target_minutes}-minute target, longest {number} ({waited_minutes} min)"
    ),
    "alarm_pause_over_limit": N_("Counter {counter} paused {paused_minutes} min (limit {limit_minutes}): {reason}"),
    "alarm_unsatisfied_rating": N_("Unsatisfied rating: {number} at counter {counter} ({label})"),
    "alarm_case_red": N_("Case {number} turned red"),
    "alarm_device_offline": N_("Device {device} offline"),
    "alarm_open_counter": N_("Suggestion: open counter {counters} for {service}, {over} waiting over target"),
    "acknowledge": N_("Acknowledge"),
    "acknowledged_by": N_("Acknowledged by {by} at {time}"),
    "cleared_at": N_("Cleared by itself at {time}"),
    "alarm_open": N_("Needs acknowledging"),
    "no_alarms": N_("No open alarms"),
    "done_acknowledge": N_("Alarm acknowledged."),
    "err_bad_transition_alarm": N_("Acknowledged already, or cleared by itself"),
    "with_detail": N_("{headline}: {detail}"),
    "rating_5": N_("Very satisfied"),
    "rating_4": N_("Satisfied"),
    "rating_3": N_("Basically satisfied"),
    "rating_2": N_("Dissatisfied"),
    "rating_1": N_("Very dissatisfied"),
    "callback": N_("Record the callback"),
    "resolve": N_("Record the fix"),
    "note_callback": N_("What did the resident say on the callback?"),
    "note_resolve": N_("What was done to fix it?"),
    "send": N_("Save"),
    "cancel": N_("Cancel"),
    "overdue": N_("Overdue · escalated"),
    "order_open": N_("Callback due"),
    "order_called_back": N_("Fix due"),
    "none": N_("None open"),
    "done_callback": N_("Callback recorded for {number}."),
    "done_resolve": N_("Work order of {number} closed."),
    "err": N_("Not done"),
    "err_network": N_("The server did not answer; check the connection and try again."),
    "err_invalid": N_("Invalid input"),
    "err_not_found": N_("Not found"),
    "err_refused": N_("Not allowed by the rules"),
    "err_forbidden": N_("Not allowed"),
    "err_bad_transition": N_("Not possible at the work order's step"),
    "err_csrf": N_("The page has expired"),
    "err_unauthenticated": N_("Please log in again"),
}


def wallboard_words() -> dict[str, str]:
    """The words of the wallboard's script beyond the template's: a sentence per event kind, the
    rating levels and lights they name, and the work order buttons."""
    words = {f"ev_{kind.replace('.', '_', 1)}": _(WALLBOARD_SENTENCES[kind]) for kind in sorted(WALLBOARD_EVENTS)}
    words.update({key: _(text) for key, text in _WALLBOARD_WORDS.items()})
    words.update(light_script_words())
    return words


# The stages of a case still in the office's hands: what the light counts count (cases.board).
_OPEN_STAGES = "accepted,review,approval"


@guarded(Access.staff(Role.SUPERVISOR), page=True)
async def wallboard(request: Request) -> Response:
    """The hall's wallboard; a hall with halls below it (a district, a street) adds a row of tiles
    for each of them, live from their own topics, each a link into that hall's board."""
    hall_id = request.path_params["hall"]
    runtime = runtime_of(request)
    async with reading(runtime.engine) as conn:
        row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
        parents = await hall_tree(conn)
        below_ids = sorted(h for h in parents if h != hall_id and within(h, hall_id, parents))
        below = (
            (await conn.execute(select(halls).where(halls.c.id.in_(below_ids)).order_by(halls.c.id))).all()
            if below_ids
            else []
        )
    if row is None:
        return error_page(request, 404, _("No such hall."))
    assert staff_of(request) is not None
    today = datetime.now(UTC).astimezone(runtime.settings.zone).date()
    context = {
        "hall": row,
        "script_words": wallboard_words(),
        "signs": LIGHT_SIGNS,
        "below": below,
        "open_stages": _OPEN_STAGES,
        # The ledger's query spans at most a year: a light count links to the year up to today.
        "year_ago": (today - timedelta(days=365)).isoformat(),
        "today": today.isoformat(),
        "pause_limit": await _pause_limit(request, hall_id),
        # The server's clock as the page is made: the board's times in state tick from it, not
        # from the screen's own clock (a snapshot may be a cached one, older than its delivery).
        "server_now": datetime.now(UTC).isoformat(),
    }
    return render(request, "wallboard.html", context)


async def _pause_limit(request: Request, hall_id: int) -> int:
    found = await runtime_of(request).writer.read_state(hall_id, "queue")
    state = found[1] if found is not None else None
    return state.rules.pause_limit_minutes if isinstance(state, QueueState) else Rules().pause_limit_minutes


async def _hall_and_queue(request: Request) -> tuple[Any, QueueState]:
    """The hall's row and its queue state, or the error page for a hall that does not exist."""
    found = await hall_and_state(request, "queue")
    row, state = found
    assert isinstance(state, QueueState)
    return row, state


def _service_name(state: QueueState, code: str) -> str:
    service = state.services.get(code)
    if service is None:
        return code
    return service.name_en if _locale.get() == "en" and service.name_en else service.name


async def _counter_page(request: Request, template: str) -> Response:
    found = await _hall_and_queue(request)
    row, state = found
    number = request.path_params["number"]
    counter = state.counters.get(number)
    if counter is None:
        return error_page(request, 404, _("No such counter."))
    member = member_of(request)
    context = {
        "hall": row,
        "counter": counter,
        "me": member,
        "is_supervisor": member.has(Role.SUPERVISOR),
        "hold_minutes": state.rules.hold_minutes,
        "aspects": state.rules.rating_aspects,
        # A supervisor at the console follows up the counter's 一事一评 work orders there too.
        "order_words": wallboard_words() if member.has(Role.SUPERVISOR) else {},
    }
    return render(request, template, context)


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def counter_picker(request: Request) -> Response:
    """The hall's counters, each with a link to its console and to its citizen screen."""
    found = await _hall_and_queue(request)
    row, state = found
    listed = [
        {
            "number": number,
            "name": counter.name or str(number),
            "status": counter.status.value,
            "status_label": _STATUS_LABELS[counter.status.value],
            "services": [_service_name(state, code) for code, _w in state.line(number).services],
        }
        for number, counter in sorted(state.counters.items())
    ]
    return render(request, "counters.html", {"hall": row, "counters": listed})


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def counter_console(request: Request) -> Response:
    """The clerk's console: the counter's state, its current ticket, its line, and the actions."""
    return await _counter_page(request, "counter.html")


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def citizen_screen(request: Request) -> Response:
    """The counter's second screen, turned to the resident: who serves them, their number, a rating."""
    return await _counter_page(request, "citizen.html")


# -- public screens: the ticket kiosk, the queue display, a ticket's page and its QR code ----------
#
# Anyone may open them, so they show only the public views of the queue (queueing.views): services,
# counts, ticket numbers and counter numbers, never who holds a ticket or who staffs a counter.
# Chinese first, English second: each text is a message id (the English) shown in the visitor's
# language with the English beneath it.

# A ticket id as queueing.issuing.issue makes it: the hall's local date and the number (20261123-A023).
TICKET_ID = re.compile(r"^\d{8}-[A-Z]{0,2}\d{1,4}$")
_PAPERS = ("80", "58")
_VOICES = ("server", "webspeech", "off")

_KIOSK_WORDS = {
    "title": N_("Ticket kiosk"),
    "choose": N_("Please choose a service"),
    "priority": N_("Priority service"),
    "priority_hint": N_("Show your certificate at the counter."),
    "normal": N_("Regular"),
    "elderly": N_("Seniors"),
    "disabled": N_("People with disabilities"),
    "military": N_("Service members"),
    "elderly_mode": N_("Elderly mode"),
    "waiting": N_("Waiting: {n}"),
    "about": N_("About {n} min"),
    "no_wait": N_("No wait"),
    "under_minute": N_("Under 1 minute"),
    "no_counter": N_("No counter open"),
    "closed": N_("Not taking tickets now · hours {hours}"),
    "closed_today": N_("Not offered today"),
    "sold_out": N_("All of today's tickets are taken"),
    "taking": N_("Taking your ticket…"),
    "err_closed": N_("This service is not taking tickets now."),
    "err_priority": N_("This kind of priority ticket is not given here. Please ask the staff."),
    "err_no_counter": N_("No counter handles this service at the moment, so no ticket was given."),
    "err_busy": N_("Too many tickets from this machine. Please wait a minute."),
    "err_other": N_("No ticket was taken. Please try again or ask the staff."),
    "ok": N_("OK"),
    "reprint": N_("Print again"),
    "done": N_("Done"),
    "back_in": N_("Back to the start in {n} s"),
    "offline": N_("Connection lost, reconnecting…"),
    "swipe": N_("Optional: place your ID card on the reader to take the ticket in your name"),
    "card_read": N_("ID card read: {name}. Please choose a service"),
}
_SLIP_WORDS = {
    "your_number": N_("Your number"),
    "priority_ticket": N_("Priority ticket"),
    "ahead": N_("Ahead of you: {n}"),
    "estimate": N_("Estimated wait: about {n} min"),
    "estimate_under": N_("Estimated wait: under 1 minute"),
    "estimate_none": N_("No counter is open yet"),
    "no_counter_warning": N_("No counter handles this service at the moment"),
    "taken_at": N_("Taken at {time}"),
    "scan": N_("Scan to follow your place in line"),
    "listen": N_("Please wait for your number to be called"),
}
_TICKET_WORDS = {
    "title": N_("Your ticket"),
    "missing": N_("This ticket was not found. A ticket is valid only on the day it is taken."),
    "live": N_("Updates live"),
    "print": N_("Print"),
    "offline": N_("Connection lost, reconnecting…"),
    "waiting": N_("Waiting for your call"),
    "called": N_("Please go to counter {counter}"),
    "serving": N_("Being served at counter {counter}"),
    "held": N_("On hold: listen for your number"),
    "done": N_("Done, thank you"),
    "no_show": N_("Missed: please ask at the information desk"),
    "cancelled": N_("This ticket was cancelled"),
    "closed": N_("Closed at the end of the day"),
}
_DISPLAY_WORDS = {
    "title": N_("Queue display"),
    "now": N_("Now calling"),
    "recent": N_("Recent calls"),
    "lines": N_("People waiting"),
    "waiting": N_("Waiting: {n}"),
    "none": N_("No calls yet"),
    "voice": N_("Click to enable voice"),
    "voice_blocked": N_("The browser blocks sound: calls are shown, not spoken"),
    "voice_failed": N_("Voice unavailable: calls are shown, not spoken"),
    "offline": N_("Connection lost, reconnecting…"),
    "notice": N_(
        "Please keep your ticket and listen for your number. If you miss your call, ask at the information desk."
    ),
}


def _wait(words: Mapping[str, Pair], minutes: float | None, waiting: int) -> Pair:
    """A service's wait on its kiosk button (kiosk.js waitPair says the same): "no wait" only when
    no one waits and a counter is free, never while people wait."""
    if minutes is None:
        return words["no_counter"]
    if minutes <= 0 and waiting == 0:
        return words["no_wait"]
    if minutes < 1:
        return words["under_minute"]
    return fill(words["about"], n=math.ceil(minutes))


def slip_estimate(words: Mapping[str, Pair], minutes: float | None) -> Pair:
    """The wait a ticket's slip promises (kiosk.js estimatePair says the same)."""
    if minutes is None:
        return words["estimate_none"]
    if minutes < 1:
        return words["estimate_under"]
    return fill(words["estimate"], n=math.ceil(minutes))


def _kiosk_button(service: Mapping[str, Any], words: Mapping[str, Pair], no_counter: str) -> dict[str, Any]:
    """What a service's button says; kiosk.js says the same from the live snapshot. ``no_counter``
    is the hall's choice for a service no open counter serves: "refuse" turns its button off."""
    if service["sold_out"]:
        reason: Pair | None = words["sold_out"]
    elif not service["open"]:
        hours = service["hours"]
        reason = fill(words["closed"], hours="–".join(hours)) if hours else words["closed_today"]
    elif no_counter == "refuse" and service["estimate_minutes"] is None:
        reason = words["no_counter"]
    else:
        reason = None
    waiting = fill(words["waiting"], n=service["waiting"])
    wait = _wait(words, service["estimate_minutes"], service["waiting"])
    # The no-break space keeps the dot at the end of a line when the status wraps.
    status = reason or (f"{waiting[0]}\u00a0· {wait[0]}", f"{waiting[1]}\u00a0· {wait[1]}" if waiting[1] else "")
    return {**service, "off": reason is not None, "status": status}


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
    found = await _hall_and_queue(request)
    row, state = found
    words = pairs({**_KIOSK_WORDS, **_SLIP_WORDS})
    view = public_view(state, datetime.now(UTC))
    context = {
        **_public_context(request, row, state),
        "words": words,
        "services": [_kiosk_button(s, words, view["no_counter"]) for s in view["services"]],
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
    found = await _hall_and_queue(request)
    row, state = found
    words = pairs(_DISPLAY_WORDS, both=True)
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
    found = await _hall_and_queue(request)
    row, state = found
    ticket_id = request.path_params["ticket"]
    words = pairs({**_TICKET_WORDS, **_SLIP_WORDS})
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
