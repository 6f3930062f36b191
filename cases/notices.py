"""What a case's text messages say: intake confirmation, midway reminder, ready for collection, rating.

The texts are Babel messages like every other text of hall: the message id is English, and the
Chinese is in ``hall/translations/zh_CN``. A message is rendered once, when its event is committed,
and the outbox keeps the text: an SMS says what the case was when it was sent for, and a later
change of wording never alters a message already due.

Each text starts with a signature in brackets (【政务服务】): operators in China deliver bulk text
messages only with the sender's registered signature at the front.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton

from hall.kernel.i18n import N_, choose, translations

# The outbox's id column holds this many characters.
MAX_ID = 80


class NoticeKind(StrEnum):
    ACCEPTED = "accepted"  # 受理: the case is registered, with its promised date
    MIDWAY = "midway"  # half the promised time has passed and the case is still being handled
    READY = "ready"  # 办结: the result waits at the hall
    RATE = "rate"  # 领取 done: an invitation to rate the service (好差评)


_TEXTS: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTED: N_(
        "[Government Services] Application {number} ({item}) accepted, due by {due}. Track: {link}"
    ),
    NoticeKind.MIDWAY: N_(
        "[Government Services] Application {number} ({item}) in progress, due by {due}. Track: {link}"
    ),
    NoticeKind.READY: N_(
        "[Government Services] Application {number} ({item}) is complete. "
        "Please collect the result at {hall} with your ID. Details: {link}"
    ),
    NoticeKind.RATE: N_(
        "[Government Services] Application {number} ({item}) collected. Please rate our service: {link}"
    ),
}

# A case without a promised time limit has no date to promise.
_WITHOUT_DUE: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTED: N_("[Government Services] Application {number} ({item}) accepted. Track: {link}"),
    NoticeKind.MIDWAY: N_("[Government Services] Application {number} ({item}) in progress. Track: {link}"),
}


def notice_id(number: str, kind: NoticeKind) -> str:
    """The outbox id of a case's message of one kind: the same however often its event is handled,
    so the message is due once, and the gateway gets it as its idempotency key on every attempt."""
    found = f"{number}:{kind}"
    if len(found) > MAX_ID:
        raise ValueError(f"case number too long for a notification id: {number!r}")
    return found


def format_due(due: datetime, locale: str, tz: ZoneInfo) -> str:
    """The promised instant on the hall's clock: a deadline moved by a 补正 pause can fall within the
    day, so the time is shown with the date."""
    if due.tzinfo is None:
        raise ValueError("naive datetime given as a due date")
    local = due.astimezone(tz)
    date_part = format_skeleton("yMMMd", local, tzinfo=tz, locale=locale)
    time_part = format_skeleton("Hm", local, tzinfo=tz, locale=locale)
    # CLDR's own way of joining a date and a time ("{1} {0}" in Chinese, "{1}, {0}" in English).
    pattern = str(Locale.parse(locale).datetime_formats["medium"])
    return pattern.replace("{1}", date_part).replace("{0}", time_part)


def render(
    kind: NoticeKind,
    locale: str,
    *,
    number: str,
    item: str,
    hall: str,
    due: datetime | None,
    link: str,
    tz: ZoneInfo,
) -> str:
    """The text of a case's message in ``locale`` (an unknown locale gets Chinese, the default).

    ``item`` and ``hall`` are names, given in the message's language by the caller; ``due`` is the
    promised instant (shown on ``tz``'s clock) and ``link`` the case's public tracking page.
    """
    locale = choose(locale)
    message = _TEXTS[kind] if due is not None else _WITHOUT_DUE.get(kind, _TEXTS[kind])
    return (
        translations(locale)
        .gettext(message)
        .format(
            number=number,
            item=item,
            hall=hall,
            due="" if due is None else format_due(due, locale, tz),
            link=link,
        )
    )
