"""The admin forms as entries of the hall file: each form's fields become the entry a file would
hold (a service, a counter, a department, a hall), which ``hall.admin.changes`` then checks whole.

Numbers typed in a form arrive as text: what reads as a number becomes one, and what does not is
passed on as it is, so the file's schema says what is wrong with it, in the same words as for a
file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hall.hallfile.hours import DAYS, week_of
from hall.kernel.i18n import N_

_INT = re.compile(r"^-?\d{1,9}$")
_NUMBER = re.compile(r"^-?\d{1,9}(\.\d{1,6})?$")
DAY_NAMES = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}

Form = Mapping[str, Any]


def text(form: Form, name: str, limit: int = 200) -> str:
    return str(form.get(name, ""))[:limit].strip()


def whole(value: str) -> Any:
    return int(value) if _INT.match(value) else value


def number(value: str) -> Any:
    return float(value) if _NUMBER.match(value) else value


def ticked(form: Form, name: str) -> bool:
    return bool(form.get(name))


def names(form: Form) -> dict[str, str]:
    return {"zh": text(form, "name_zh", 200), "en": text(form, "name_en", 200)}


def service(form: Form, *, active: bool) -> dict[str, Any]:
    """A service entry from its form: one row a day with its opening and closing time."""
    hours: dict[str, str] = {}
    for day in DAYS:
        if ticked(form, f"open_{day}"):
            # A browser's time field gives HH:MM; anything else is passed on for the file's words.
            hours[day] = f"{text(form, f'opens_{day}', 5)}-{text(form, f'closes_{day}', 5)}"
    cap = text(form, "daily_cap", 12)
    return {
        "code": text(form, "code", 40),
        "name": names(form),
        "prefix": text(form, "prefix", 4).upper(),
        "width": whole(text(form, "width", 4) or "3"),
        "daily_cap": whole(cap) if cap else None,
        "hours": hours,
        "open_on_holidays": ticked(form, "open_on_holidays"),
        "target_wait_minutes": whole(text(form, "target_wait_minutes", 12) or "20"),
        "default_service_minutes": number(text(form, "default_service_minutes", 12) or "6"),
        "one_live_ticket_per_id": ticked(form, "one_live_ticket_per_id"),
        "active": active,
    }


def counter(form: Form, offered: list[str], *, active: bool) -> dict[str, Any]:
    """A counter entry: the services ticked, each with its weight (1 when left empty)."""
    served: dict[str, Any] = {}
    for code in offered:
        if ticked(form, f"serve_{code}"):
            served[code] = number(text(form, f"weight_{code}", 12) or "1")
    department = text(form, "department", 40)
    return {
        "number": whole(text(form, "number", 6)),
        "name": text(form, "name", 100),
        "services": served,
        "department": department or None,
        "active": active,
    }


def department(form: Form, *, active: bool) -> dict[str, Any]:
    return {"code": text(form, "code", 40), "name": names(form), "active": active}


def week_rows(entry: Mapping[str, Any] | None, form: Form | None = None) -> list[dict[str, Any]]:
    """A service's hours as the form's seven rows: as typed (a form sent back with its problems),
    as the service has them, or for a new service Monday to Friday, 9 to 5."""
    week = week_of(entry["hours"]) if entry is not None and form is None else {}
    rows = []
    for index, day in enumerate(DAYS):
        span: tuple[str, str] | None
        if form is not None:
            typed = (text(form, f"opens_{day}", 5), text(form, f"closes_{day}", 5))
            span = typed if ticked(form, f"open_{day}") else None
        elif entry is None:
            span = ("09:00", "17:00") if index < 5 else None
        else:
            found = week.get(index)
            span = (f"{found[0]:%H:%M}", f"{found[1]:%H:%M}") if found else None
        rows.append(
            {
                "day": day,
                "label": DAY_NAMES[day],
                "open": span is not None,
                "opens": span[0] if span else "09:00",
                "closes": span[1] if span else "17:00",
            }
        )
    return rows
