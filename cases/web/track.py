"""Public case tracking (办件查询) and online rating (一事一评): whoever holds a case number and the last
four digits of the applicant's phone sees where the case stands, when it is due and what happened to
it, and rates it once it is done.

The answer carries no personal data: no applicant, no ID number, no phone, no staff, no remarks (a
remark is free text and may name anyone). The one text a person wrote that is shown is the reason
for a refusal (不予受理): the applicant is owed it in writing (行政许可法 art. 32), and an office that
refuses without one is flagged by supervision anyway. Of a 补正 request only the materials that are
on the item's published list are shown, never the reviewer's words.

An unknown number and a wrong phone suffix answer alike, byte for byte, so the answer never tells
whether a number exists. Failed look-ups are counted per client address (``TRACK_FAILURES`` within
``TRACK_WINDOW`` seconds, then 429 with Retry-After), which makes guessing the four digits of a known
number take days from one address. Successful look-ups are not counted: a resident may follow their
case as often as they like, and residents at one hall's public terminals share one address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from cases import register
from cases.case_model import Case, Stage
from cases.case_timing import Meta, case_light_now
from cases.catalog import Catalog, Item
from cases.lights import Light
from cases.records import case_from_record
from cases.web.api import case_reach
from cases.web.numbers import is_case_number
from hall.kernel.errors import CommandTimeout, NotFound
from hall.kernel.events import Command
from hall.kernel.i18n import N_, Text, localized, translations
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access
from hall.runtime import runtime_of
from hall.storage.case_tables import cases
from hall.storage.database import reading
from hall.storage.tables import halls
from hall.web.access import guarded
from hall.web.api import command_body
from hall.web.problems import Problem, problem
from hall.web.ratelimit import Attempts
from hall.web.render import pairs
from hall.web.responses import JSONResponse
from hall.web.templating import render
from queueing.rating_records import Level as RatingLevel

# Ten wrong guesses in ten minutes: enough for a resident who mistypes, while the 10,000 possible
# suffixes of one number take about a week from one address.
TRACK_FAILURES = 10
TRACK_WINDOW = 600.0
ACTOR = "public:track"
CASE_MAX = 32
COMMENT_MAX = 300

_TAIL = re.compile(r"^[0-9]{4}$")
# Receipts and text messages may group the digits; spaces and dashes are not part of the number.
_GROUPING = re.compile(r"[\s\-]")
_LOCAL = "%Y-%m-%d %H:%M"

_WORDS = {
    "title": N_("Track an application"),
    "lead": N_(
        "Enter the case number on your receipt and the last four digits of the phone number you gave. "
        "You will see where your application stands and when it is due."
    ),
    "case_label": N_("Your case number"),
    "case_hint": N_("The number on your receipt or in the text message, e.g. 2026112300100001"),
    "tail_label": N_("Last four digits of your phone number"),
    "look_up": N_("Look up"),
    "privacy": N_("Only the progress is shown: no names, ID numbers or phone numbers."),
    "noscript": N_("This page needs JavaScript. You can also ask at any hall's information desk."),
    "case_format": N_("A case number has 8 to 32 digits."),
    "tail_format": N_("Please enter exactly four digits."),
    "not_found": N_(
        "No application matches this case number and phone number. Check both and try again, "
        "or ask at the hall where you applied."
    ),
    "too_many": N_("Too many look-ups that found nothing. Please try again in {minutes} minutes."),
    "failed": N_("The look-up did not work. Please try again."),
    "offline": N_("No connection to the server. Please check the network and try again."),
    "looking": N_("Looking up…"),
    "number": N_("Your case number"),
    "status": N_("Status"),
    "due": N_("Promised by"),
    "due_none": N_("No promised date while the clock is stopped"),
    "provisional": N_("An estimate: next year's holiday schedule is not out yet, so the date may move once it is."),
    "refused_reason": N_("Reason given: {reason}"),
    "supplement": N_("Please bring: {materials}"),
    "supplement_ask": N_("Please contact the hall where you applied to ask which papers are needed."),
    "history": N_("Progress"),
    "places": N_("Where"),
    "accepted_at": N_("Applied at"),
    "deciding_at": N_("Deciding office"),
    "collect_at": N_("Collect the result at"),
    "consult": N_("Questions: {phone}"),
    "rate_title": N_("Rate this service"),
    "rate_hint": N_("One rating per application, within {days} days of its completion, until {date}."),
    "rate_pick": N_("How satisfied are you?"),
    "comment_label": N_("Your comments (required if dissatisfied)"),
    "send_rating": N_("Send rating"),
    "pick_level": N_("Please choose one of the five levels."),
    "comment_needed": N_("Please tell us what went wrong, so the hall can put it right."),
    "rated": N_("Thank you. Your rating: {level}"),
    "cannot_rate": N_("This application cannot be rated now."),
    "rated_before": N_("You rated this service: {level}"),
}

# The workflow names its stages in Chinese (cases.case_model); these are the English.
_STAGE_ENGLISH = {
    Stage.ACCEPTED: "Accepted",
    Stage.REVIEW: "Review",
    Stage.APPROVAL: "Approval",
    Stage.COMPLETED: "Completed",
    Stage.COLLECTED: "Collected",
    Stage.REFUSED: "Not accepted",
}
# A stage is named by the last step done; a resident wants to know what happens now.
_STATUS = {
    Stage.ACCEPTED: N_("Accepted, being reviewed"),
    Stage.REVIEW: N_("Reviewed, awaiting approval"),
    Stage.APPROVAL: N_("Approved, being completed"),
    Stage.COMPLETED: N_("Completed, ready to collect"),
    Stage.COLLECTED: N_("Result collected, all done"),
    Stage.REFUSED: N_("Not accepted"),
}
_PAUSED = N_("Waiting for more papers; the clock is stopped")
# The steps a resident is shown. A list of the ones known to say nothing personal: a kind of step
# added later stays hidden until it is named here. Assigning a clerk is the office's own business.
_ACTIONS = {
    "accepted": N_("Application accepted"),
    "reviewed": N_("Review passed"),
    "approved": N_("Approved by the office"),
    "completed": N_("Work on the case completed"),
    "collected": N_("Result collected"),
    "refused": N_("Not accepted"),
    "supplement_requested": N_("More papers requested"),
    "supplement_received": N_("More papers received"),
    "returned": N_("Sent back a step for another look"),
}
# The supervision light as a resident reads it; the icon repeats the word, never replaces it.
_LIGHTS = {
    Light.GREEN: N_("On schedule"),
    Light.YELLOW: N_("Close to the promised date"),
    Light.RED: N_("Past the promised date"),
}
_LEVELS = {
    RatingLevel.VERY_SATISFIED: N_("Very satisfied"),
    RatingLevel.SATISFIED: N_("Satisfied"),
    RatingLevel.BASICALLY_SATISFIED: N_("Basically satisfied"),
    RatingLevel.DISSATISFIED: N_("Dissatisfied"),
    RatingLevel.VERY_DISSATISFIED: N_("Very dissatisfied"),
}
# The one answer for "no such number" and "wrong phone": built once, so the two cannot drift apart.
NOT_FOUND = N_("no case matches this number and phone")


def _both(message: str) -> dict[str, str]:
    """A message in Chinese and English at once: the API answers every reader the same."""
    return {"zh": translations("zh_CN").gettext(message), "en": message}


def _local(moment: datetime | None, tz: tzinfo) -> str | None:
    return moment.astimezone(tz).strftime(_LOCAL) if moment is not None else None


# -- the limiter --------------------------------------------------------------------------------


def _limiter(request: Request) -> Attempts:
    """The failed look-ups of this application, made on first use (no await in between: one only)."""
    found = getattr(request.app.state, "track_failures", None)
    if not isinstance(found, Attempts):
        found = Attempts(TRACK_FAILURES, TRACK_WINDOW)
        request.app.state.track_failures = found
    return found


def _client(request: Request) -> str:
    return "addr:" + (request.client.host if request.client else "unknown")


def _case_key(number: str) -> str:
    # Counted per case as well as per address: a suffix has only 10,000 values, and addresses
    # are many (a botnet, or a proxy's), so a case cannot be guessed whatever the address.
    return f"case:{number}"


def _throttle(request: Request, key: str) -> None:
    """Raises ``Problem`` 429 when this address, or this case number, failed too many look-ups lately."""
    limiter, now = _limiter(request), time.monotonic()
    if not limiter.blocked(key, now):
        return
    wait = max(1, math.ceil(limiter.retry_after(key, now)))
    raise Problem(
        429,
        "rate_limited",
        N_("too many look-ups that found nothing; try again later"),
        headers={"Retry-After": str(wait)},
        retry_after=wait,
    )


def _missed(request: Request, number: str) -> NotFound:
    """Counts a failed look-up and gives the error to raise, in the shape of every other."""
    limiter, now = _limiter(request), time.monotonic()
    limiter.fail(_client(request), now)
    limiter.fail(_case_key(number), now)
    return NotFound(NOT_FOUND)


# -- reading the case -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    case: Case
    meta: Meta
    register_hall: int
    names: Mapping[int, tuple[str, str]]


def _number(data: Mapping[str, Any]) -> str:
    raw = data.get("case")
    number = _GROUPING.sub("", raw) if isinstance(raw, str) else ""
    if not is_case_number(number):
        raise Problem(422, "invalid", N_("case is a case number of 8 to 32 digits"), field="case")
    return number


def _tail(data: Mapping[str, Any]) -> str:
    raw = data.get("phone_tail")
    # A string: as a JSON number "0123" would lose its leading zero.
    tail = raw.strip() if isinstance(raw, str) else ""
    if not _TAIL.match(tail):
        raise Problem(
            422, "invalid", N_("phone_tail is the last four digits of the phone, as a string"), field="phone_tail"
        )
    return tail


async def _find(request: Request, number: str, tail: str) -> _Found | None:
    """The case, when the phone's last four digits match; None for no case and a wrong suffix alike."""
    async with reading(runtime_of(request).engine) as conn:
        row = (
            await conn.execute(
                select(cases.c.phone_tail, cases.c.record, cases.c.register_hall).where(cases.c.number == number)
            )
        ).first()
        # Constant time, and a case without a phone ("") matches nothing.
        if row is None or not row.phone_tail or not hmac.compare_digest(row.phone_tail.encode(), tail.encode()):
            return None
        case, meta = case_from_record(row.record)
        wanted = {case.accepted_hall, case.deciding_hall}
        names = {
            r.id: (r.name, r.name_en)
            for r in await conn.execute(select(halls.c.id, halls.c.name, halls.c.name_en).where(halls.c.id.in_(wanted)))
        }
    return _Found(case, meta, row.register_hall, names)


def _hall(found: _Found, hall_id: int) -> dict[str, str]:
    name, name_en = found.names.get(hall_id, ("", ""))
    return {"name": name, "name_en": name_en}


def _wanted(case: Case, item: Item | None) -> list[str] | None:
    """What an open 补正 asks for, of the item's published materials; None when nothing is asked."""
    if not case.paused:
        return None
    published = {m.name for m in item.materials} if item is not None else set()
    return [name for name in case.pauses[-1].wanted if name in published]


def _rating(found: _Found, now: datetime, tz: tzinfo) -> dict[str, Any]:
    meta, case = found.meta, found.case
    until = meta.closed_at + timedelta(days=register.RATING_DAYS) if meta.closed_at is not None else None
    rated = RatingLevel(meta.rating) if meta.rating is not None else None
    return {
        "level": int(rated) if rated is not None else None,
        "label": _both(_LEVELS[rated]) if rated is not None else None,
        "open": (
            case.stage in (Stage.COMPLETED, Stage.COLLECTED) and rated is None and (until is None or now <= until)
        ),
        "until": until.astimezone(tz).date().isoformat() if until is not None else None,
        "days": register.RATING_DAYS,
    }


def track_json(found: _Found, catalog: Catalog, now: datetime, tz: tzinfo) -> dict[str, Any]:
    """What the public sees of a case: its progress, dates and places, nothing of any person."""
    case, meta = found.case, found.meta
    item = catalog.get(case.item)
    light = None
    if not case.stage.finished:
        # The promise to the applicant is the case's deadline: a stage running over its own limit
        # (环节超时) is the hall's business and does not make the case "past the promised date".
        current = case_light_now(meta, now)
        light = {"value": current.value, "icon": current.icon, "word": _both(_LIGHTS[current])}
    return {
        "number": case.number,
        "item": {
            "code": case.item,
            "name": item.name if item else case.item,
            "name_en": item.name_en if item else "",
            "consult_phone": item.consult_phone if item else "",
        },
        "stage": case.stage.value,
        "stage_label": {"zh": case.stage.label, "en": _STAGE_ENGLISH[case.stage]},
        "status": _both(_PAUSED if case.paused else _STATUS[case.stage]),
        "finished": case.stage.finished,
        "paused": case.paused,
        "supplement": _wanted(case, item),
        "refused_reason": case.refused_reason if case.stage is Stage.REFUSED else None,
        "due_at": meta.due.astimezone(tz).isoformat() if meta.due else None,
        "due_local": _local(meta.due, tz),
        "provisional": meta.provisional,
        "light": light,
        "halls": {
            "accepted": _hall(found, case.accepted_hall),
            "deciding": _hall(found, case.deciding_hall),
            # The result goes back to where it was applied for (三级联动).
            "collect": _hall(found, case.accepted_hall),
        },
        "history": [
            {
                "action": step.action,
                "label": _both(_ACTIONS[step.action]),
                "stage": step.stage_to.value,
                "stage_label": {"zh": step.stage_to.label, "en": _STAGE_ENGLISH[step.stage_to]},
                "at": step.at.astimezone(tz).isoformat(),
                "at_local": _local(step.at, tz),
            }
            for step in case.history
            if step.action in _ACTIONS
        ],
        "rating": _rating(found, now, tz),
    }


def _zone(request: Request) -> tzinfo:
    return runtime_of(request).settings.zone


# -- the page ---------------------------------------------------------------------------------------


async def _asked(request: Request) -> tuple[dict[str, Any], str, str, str]:
    """The body of a look-up: the case number and phone suffix, checked.

    Raises:
        Problem: the address is blocked (429), or the body or a field is malformed.
    """
    _throttle(request, _client(request))
    data, command_id = await command_body(request)
    number, tail = _number(data), _tail(data)
    _throttle(request, _case_key(number))
    return data, command_id, number, tail


@guarded(Access.anyone(), page=True)
async def track_page(request: Request) -> Response:
    """The tracking form; ``?case=`` fills in the number (the receipt's QR code), so only the four
    digits are left to type. track.js asks the API and shows the answer."""
    words = pairs(_WORDS)
    raw = _GROUPING.sub("", request.query_params.get("case", ""))[:CASE_MAX]
    prefill = raw if raw.isdigit() else ""
    levels = [
        {
            "level": int(level),
            "stars": "★" * int(level) + "☆" * (5 - int(level)),
            "word": pairs({"word": message})["word"],
            "unsatisfied": level.unsatisfied,
        }
        for level, message in _LEVELS.items()
    ]
    context = {
        "words": words,
        "lang": _locale.get(),
        "case": prefill,
        "levels": levels,
        "comment_max": COMMENT_MAX,
    }
    return render(request, "track.html", context)


# -- the API ----------------------------------------------------------------------------------------


@guarded(Access.anyone())
async def api_track(request: Request) -> Response:
    """
    summary: Public case tracking - a case's stage, due date and history, by number and phone suffix.
    description: >
      No personal data: no names, ID numbers, phones, staff or remarks (a refusal's reason
      excepted). An unknown number and a wrong suffix give the same 404. Ten failed look-ups in ten
      minutes from one address are answered 429 with Retry-After.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [case, phone_tail]
            properties:
              case: {type: string, pattern: "^[0-9]{8,32}$"}
              phone_tail: {type: string, pattern: "^[0-9]{4}$"}
    responses:
      200: {description: the case's public progress}
      404: {description: no case with this number and phone suffix}
      422: {description: malformed number or suffix}
      429: {description: too many failed look-ups from this address}
    """
    _, _, number, tail = await _asked(request)
    found = await _find(request, number, tail)
    if found is None:
        raise _missed(request, number)
    now = datetime.now(UTC)
    return JSONResponse(track_json(found, runtime_of(request).catalog, now, _zone(request)))


@guarded(Access.anyone())
async def api_track_rate(request: Request) -> Response:
    """
    summary: 一事一评 online - rate a completed case once, by number and phone suffix.
    description: >
      Levels of GB/T 39734-2020, 5 非常满意 to 1 非常不满意; a comment is required at 2 and 1.
      Only completed or collected cases, once, within 30 days of completion. A wrong suffix answers
      as an unknown number and counts as a failed look-up.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [case, phone_tail, level]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              case: {type: string}
              phone_tail: {type: string}
              level: {type: integer, minimum: 1, maximum: 5}
              comment: {type: string, maxLength: 300}
    responses:
      200: {description: the rating taken}
      404: {description: no case with this number and phone suffix}
      409: {description: "not completed, already rated, or past the rating window"}
      422: {description: "malformed input, or an unsatisfied rating without a comment"}
      429: {description: too many failed look-ups from this address}
    """
    data, command_id, number, tail = await _asked(request)
    level, comment = data.get("level"), data.get("comment", "")
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
        return problem(422, "invalid", N_("level is a whole number from 1 to 5"), field="level")
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        return problem(
            422,
            "invalid",
            N_("comment is text of at most {limit} characters"),
            field="comment",
            say={"limit": COMMENT_MAX},
        )
    found = await _find(request, number, tail)
    if found is None:
        raise _missed(request, number)
    # Ids are one namespace across the installation: a caller's own id, hashed with the case, can
    # only ever find this endpoint's own earlier answer, never another command's result.
    scoped = "track-rate-" + hashlib.sha256(f"{number}:{command_id}".encode()).hexdigest()[:48]
    args = {"number": number, "phone_tail": tail, "level": level, "comment": comment}
    reached = await case_reach(runtime_of(request).engine, number)
    also = reached[1] if reached is not None else (found.register_hall,)
    try:
        outcome = await runtime_of(request).writer.submit(
            Command(scoped, found.register_hall, "case.rate", ACTOR, args, also=also)
        )
    except CommandTimeout:
        return problem(503, "timeout", N_("the rating was not confirmed in time; send it again"))
    # Answered here rather than by hall.api.submit: the public sees the outcome, not the event
    # log's sequence numbers or the stored command.
    result = localized(outcome.result)
    if outcome.ok:
        chosen = RatingLevel(level)
        return JSONResponse(
            {"number": number, "rated": int(chosen), "label": _both(_LEVELS[chosen]), "duplicate": outcome.duplicate}
        )
    error = str(result.get("error", "refused"))
    if error == "not_found":
        raise _missed(request, number)
    if error == "invalid":
        return problem(422, "invalid", Text(str(result.get("message", ""))), field=str(result.get("field", "")))
    return problem(409, "refused", Text(str(result.get("message", ""))))
