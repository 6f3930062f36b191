"""A service's opening hours as a hall file spells them: days (``"mon-fri"``) and spans
(``"09:00-17:00"``) read into weekdays and times, and back. Pure; apart because the checks, the
comparing, the store and the admin's forms all read hours the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time

from hall.kernel.i18n import N_, Text

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class Unsound(ValueError):
    """Hours or days that are not sound, with the words to say so."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.english)
        self.text = text


def parse_hours(text: str) -> tuple[time, time]:
    """``"09:00-17:00"`` as its opening and closing time; ``ValueError`` when it is not that."""
    match = _HOURS.match(text)
    if match is None:
        raise Unsound(Text(N_("hours look like 09:00-17:00, not {given}"), {"given": repr(text)}))
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise Unsound(Text(N_("{given} is not a time of day"), {"given": repr(text)}))
    opens, closes = time(h1, m1), time(h2, m2)
    if not opens < closes:
        raise Unsound(Text(N_("{given} closes before it opens"), {"given": repr(text)}))
    return opens, closes


def parse_days(text: str) -> list[int]:
    """``"mon-fri"`` or ``"sat"`` as weekday numbers (Monday = 0)."""
    first, _, last = text.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise Unsound(
            Text(
                N_("days are mon, tue, wed, thu, fri, sat, sun or a range like mon-fri, not {given}"),
                {"given": repr(text)},
            )
        )
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        raise Unsound(Text(N_("the days {given} run backwards"), {"given": repr(text)}))
    return list(range(start, end + 1))


def week_of(hours: Mapping[str, str]) -> dict[int, tuple[time, time]]:
    """A sound ``hours`` mapping (checked by ``read``) day by day."""
    week: dict[int, tuple[time, time]] = {}
    for days, span in hours.items():
        for day in parse_days(days):
            week[day] = parse_hours(span)
    return dict(sorted(week.items()))


def hours_of(week: Mapping[int, tuple[time, time]]) -> dict[str, str]:
    """The inverse of ``week_of``: consecutive days with the same hours as one range."""
    out: dict[str, str] = {}
    days = sorted(week)
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1 and week[days[j + 1]] == week[days[i]]:
            j += 1
        key = DAYS[days[i]] if i == j else f"{DAYS[days[i]]}-{DAYS[days[j]]}"
        opens, closes = week[days[i]]
        out[key] = f"{opens:%H:%M}-{closes:%H:%M}"
        i = j + 1
    return out
