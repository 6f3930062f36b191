"""What the public screens say: the word books of the ticket kiosk, its ticket slip, a ticket's
page and the queue display, and the kiosk's wait and button texts made from them. Pure: words and
the choices between them, no request and no clock. Apart from the pages because it is the Python
half of what static/js/kioskview.js says in the browser, and the two are read side by side.

Chinese first, English second: each text is a message id (the English) shown in the visitor's
language with the English beneath it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hall.kernel.i18n import N_
from hall.web.render import Pair, fill

KIOSK_WORDS = {
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
SLIP_WORDS = {
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
TICKET_WORDS = {
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
DISPLAY_WORDS = {
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


def kiosk_button(service: Mapping[str, Any], words: Mapping[str, Pair], no_counter: str) -> dict[str, Any]:
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
