"""What the hall file's models cannot see: duplicates, hours, caps, names that point nowhere, the
tree's loops, devices bound twice. Checked on the raw document beside the models, so one reading
lists everything; apart from the reading, which only gathers and places the problems found here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from hall.accounts.rules import USERNAME
from hall.hallfile.hours import DAYS, Unsound, parse_days, parse_hours
from hall.hallfile.specs import QueueRulesSpec
from hall.kernel.i18n import N_, Text
from hall.kernel.roles import Role
from queueing.state import Rules

_LEVELS = ("district", "street", "community")

# A place in the document: the keys and indexes that lead to it.
Path = tuple[str | int, ...]
Report = Callable[[Path, Text], None]


def _items(raw: Mapping[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = raw.get(key)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _said(text: str, **values: Any) -> Text:
    return Text(text, values)


def cross_check(raw: Mapping[str, Any], known: dict[str, tuple[str, str | None]], report: Report) -> None:
    """What the models cannot see. Works on the raw document and skips what is malformed (the
    models report that), so a file with both kinds of problem lists both."""
    tree = dict(known)
    seen_halls: dict[str, int] = {}
    for h, hall in _items(raw, "halls"):
        code, where = hall.get("code"), ("halls", h)
        if isinstance(code, str):
            if code in seen_halls:
                report(
                    (*where, "code"),
                    _said(
                        N_("hall {code} is described twice (also halls[{index}])"),
                        code=repr(code),
                        index=seen_halls[code],
                    ),
                )
            seen_halls.setdefault(code, h)
            parent = hall.get("parent")
            tree[code] = (str(hall.get("level")), parent if isinstance(parent, str) else None)
        zone = hall.get("timezone")
        if isinstance(zone, str):
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                report((*where, "timezone"), _said(N_("{zone} is not a known time zone"), zone=repr(zone)))
        rules = hall.get("queue_rules")
        if isinstance(rules, dict):
            _check_rules(rules, (*where, "queue_rules"), report)
        services = _check_services(hall, where, report)
        departments = _check_departments(hall, where, report)
        numbers: set[int] = set()
        for c, counter in _items(hall, "counters"):
            number = counter.get("number")
            if isinstance(number, int):
                if number in numbers:
                    report(
                        (*where, "counters", c, "number"),
                        _said(N_("counter {counter} is described twice"), counter=number),
                    )
                numbers.add(number)
            department = counter.get("department")
            if isinstance(department, str) and department not in departments:
                report(
                    (*where, "counters", c, "department"),
                    _said(
                        N_("counter {counter} belongs to department {department}, which hall {hall} does not have"),
                        counter=number,
                        department=repr(department),
                        hall=code,
                    ),
                )
            served = counter.get("services")
            if isinstance(served, dict):
                for service, weight in served.items():
                    if service not in services:
                        report(
                            (*where, "counters", c, "services", service),
                            _said(
                                N_("counter {counter} names service {service}, which hall {hall} does not offer"),
                                counter=number,
                                service=repr(service),
                                hall=code,
                            ),
                        )
                    if isinstance(weight, int | float) and not weight > 0:
                        report((*where, "counters", c, "services", service), _said(N_("a weight must be above 0")))
    _check_tree(raw, tree, report)
    usernames: set[str] = set()
    for s, person in _items(raw, "staff"):
        where = ("staff", s)
        username = person.get("username")
        if isinstance(username, str):
            if not USERNAME.match(username):
                report(
                    (*where, "username"),
                    _said(N_("a username has 2 to 64 lowercase letters, digits, '.', '_' or '-'")),
                )
            if username in usernames:
                report((*where, "username"), _said(N_("staff {username} is described twice"), username=repr(username)))
            usernames.add(username)
        hall_code = person.get("hall")
        if isinstance(hall_code, str) and hall_code not in tree:
            report((*where, "hall"), _said(N_("there is no hall {hall}"), hall=repr(hall_code)))
        roles = person.get("roles")
        if isinstance(roles, list):
            for r, role in enumerate(roles):
                if role not in {x.value for x in Role}:
                    report(
                        (*where, "roles", r),
                        _said(
                            N_("unknown role {role}; roles are {roles}"),
                            role=repr(role),
                            roles=", ".join(x.value for x in Role),
                        ),
                    )


def check_devices(raw: Mapping[str, Any], known: Mapping[str, str], report: Report) -> None:
    bound: dict[str, str] = {}
    for h, hall in _items(raw, "halls"):
        for c, counter in _items(hall, "counters"):
            named = counter.get("devices")
            if not isinstance(named, list):
                continue
            for d, device in enumerate(named):
                if not isinstance(device, str):
                    continue
                at = ("halls", h, "counters", c, "devices", d)
                where = f"{hall.get('code')}/{counter.get('number')}"
                if known.get(device) != hall.get("code"):
                    report(
                        at,
                        _said(
                            N_("device {device} is not a registered device of hall {hall}"),
                            device=repr(device),
                            hall=hall.get("code"),
                        ),
                    )
                if device in bound:
                    report(
                        at,
                        _said(
                            N_("device {device} is bound twice (also to {counter})"),
                            device=repr(device),
                            counter=bound[device],
                        ),
                    )
                bound.setdefault(device, where)


def _check_departments(hall: Mapping[str, Any], where: Path, report: Report) -> set[str]:
    codes: set[str] = set()
    for d, department in _items(hall, "departments"):
        code = department.get("code")
        if isinstance(code, str):
            if code in codes:
                report(
                    (*where, "departments", d, "code"),
                    _said(
                        N_("department {department} is described twice in hall {hall}"),
                        department=repr(code),
                        hall=hall.get("code"),
                    ),
                )
            codes.add(code)
    return codes


def _check_services(hall: Mapping[str, Any], where: Path, report: Report) -> set[str]:
    codes: set[str] = set()
    prefixes: dict[str, str] = {}
    for v, service in _items(hall, "services"):
        at = (*where, "services", v)
        code = service.get("code")
        if isinstance(code, str):
            if code in codes:
                report(
                    (*at, "code"),
                    _said(
                        N_("service {service} is described twice in hall {hall}"),
                        service=repr(code),
                        hall=hall.get("code"),
                    ),
                )
            codes.add(code)
        prefix = service.get("prefix", "A")
        if isinstance(prefix, str):
            if prefix in prefixes:
                report(
                    (*at, "prefix"),
                    _said(
                        N_("prefix {prefix} is taken by service {service}: tickets of both would be numbered alike"),
                        prefix=repr(prefix),
                        service=repr(prefixes[prefix]),
                    ),
                )
            prefixes.setdefault(prefix, str(code))
        cap = service.get("daily_cap")
        if isinstance(cap, int) and not isinstance(cap, bool) and cap < 1:
            words = (
                N_("a daily cap is at least 1, or null for no limit; {cap} is below zero")
                if cap < 0
                else N_("a daily cap is at least 1, or null for no limit; {cap} is zero")
            )
            report((*at, "daily_cap"), _said(words, cap=cap))
        hours = service.get("hours")
        if isinstance(hours, dict):
            named: dict[int, str] = {}
            for days, span in hours.items():
                place = (*at, "hours", str(days))
                try:
                    numbers = parse_days(str(days))
                except Unsound as exc:
                    report(place, exc.text)
                    numbers = []
                for day in numbers:
                    if day in named:
                        report(
                            place,
                            _said(
                                N_("{day} has hours twice (also under {days}): they overlap"),
                                day=DAYS[day],
                                days=repr(named[day]),
                            ),
                        )
                    named.setdefault(day, str(days))
                if isinstance(span, str):
                    try:
                        parse_hours(span)
                    except Unsound as exc:
                        report(place, exc.text)
    return codes


def _check_rules(rules: Mapping[str, Any], where: Path, report: Report) -> None:
    try:
        given = QueueRulesSpec.model_validate(rules).given()
    except ValidationError:
        return  # the models report it
    for name in ("rating_aspects", "kiosk_priorities"):
        if name in given:
            given[name] = tuple(given[name])
    try:
        Rules(**given)
    except ValueError as exc:
        report(where, Text(str(exc)))


def _check_tree(raw: Mapping[str, Any], tree: Mapping[str, tuple[str, str | None]], report: Report) -> None:
    for h, hall in _items(raw, "halls"):
        code, parent, level = hall.get("code"), hall.get("parent"), hall.get("level")
        if not isinstance(code, str) or not isinstance(parent, str):
            continue
        at = ("halls", h, "parent")
        if parent not in tree:
            report(at, _said(N_("hall {hall}'s parent {parent} does not exist"), hall=code, parent=repr(parent)))
            continue
        if level in _LEVELS and tree[parent][0] in _LEVELS and _LEVELS.index(tree[parent][0]) >= _LEVELS.index(level):
            report(
                at,
                _said(
                    N_("a {level} hall cannot sit under the {parent_level} hall {parent}"),
                    level=level,
                    parent_level=tree[parent][0],
                    parent=parent,
                ),
            )
        seen = [code]
        step: str | None = parent
        while step is not None and step in tree:
            if step in seen:
                report(at, _said(N_("the parents form a loop: {loop}"), loop=" → ".join([*seen, step])))
                break
            seen.append(step)
            step = tree[step][1]
