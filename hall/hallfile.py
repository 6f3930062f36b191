"""The hall file: one YAML file that describes a district's halls (district → street →
community), each hall's services, queue rules and counters, and the staff; no passwords.

``read`` checks a file and returns it as a ``HallFile``, or raises ``HallFileError`` with every
problem it found, each with its line. The shape is checked by pydantic models that forbid unknown
keys; what they cannot see (duplicates, hours, caps, names that point nowhere, the tree's loops)
is checked on the raw document beside them, so one reading lists everything. ``dump`` writes a
``HallFile`` back in the same form (``hall setup --export``); ``normal`` is what two files are
compared by.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hall.accounts.rules import USERNAME
from hall.kernel.errors import SettingsError
from hall.kernel.roles import Role
from queueing.state import Rules

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = "Asia/Shanghai"
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_LEVELS = ("district", "street", "community")

Path = tuple[str | int, ...]
Report = Callable[[Path, str], None]


class HallFileError(SettingsError):
    """A hall file that is not sound; ``problems`` lists each with its place."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} problem(s): {problems[0]}" if problems else "no problems")
        self.problems = list(problems)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Names(_Strict):
    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(default="", max_length=100)


class HallNames(_Strict):
    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(default="", max_length=200)


class ServiceSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: Names
    prefix: str = Field(default="A", pattern=r"^[A-Z]{0,2}$")
    width: int = Field(default=3, ge=1, le=4)
    # 号源: tickets a day; null is no limit (the range is checked beside, with its own words).
    daily_cap: int | None = None
    # "mon-fri": "09:00-17:00"; a day not named is closed.
    hours: dict[str, str] = Field(default_factory=lambda: {"mon-fri": "09:00-17:00"})
    open_on_holidays: bool = False
    target_wait_minutes: int = Field(default=20, ge=1, le=24 * 60)
    default_service_minutes: float = Field(default=6.0, gt=0, le=24 * 60)
    one_live_ticket_per_id: bool = False


class QueueRulesSpec(_Strict):
    """The settings of ``queueing.state.Rules`` a hall may set; the time zone is the hall's."""

    priority_run: int | None = None
    recall_limit: int | None = None
    hold_minutes: int | None = None
    close_at_day_end: bool | None = None
    appointment_early_minutes: int | None = None
    appointment_late_minutes: int | None = None
    requeue_minutes: int | None = None
    rating_window_minutes: int | None = None
    rating_aspects: list[str] | None = None
    kiosk_priorities: list[str] | None = None
    no_counter: Literal["warn", "refuse"] | None = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CounterSpec(_Strict):
    number: int = Field(ge=1, le=999)
    name: str = Field(default="", max_length=100)
    # service code → weight
    services: dict[str, float] = Field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.name or f"{self.number}号窗口"


class HallSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: HallNames
    level: Literal["district", "street", "community"]
    parent: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    queue_rules: QueueRulesSpec = QueueRulesSpec()
    services: list[ServiceSpec] = Field(default_factory=list)
    counters: list[CounterSpec] = Field(default_factory=list)


class StaffSpec(_Strict):
    username: str
    name: str = Field(min_length=1, max_length=100)
    staff_no: str = Field(default="", max_length=32)
    hall: str
    roles: list[str] = Field(min_length=1)


class HallFile(_Strict):
    version: Literal[1] = 1
    halls: list[HallSpec] = Field(default_factory=list)
    staff: list[StaffSpec] = Field(default_factory=list)


# Reading


def read(data: bytes, name: str, *, known_halls: Mapping[str, tuple[str, str | None]] | None = None) -> HallFile:
    """The hall file in ``data`` (named ``name`` in problems). ``known_halls`` are the halls the
    database holds already (code → level, parent code): a parent or a staff member's hall may be
    one of them."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HallFileError([f"{name}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"]) from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            raw = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        reason = getattr(exc, "problem", None) or str(exc)
        raise HallFileError([f"{where}: not YAML: {reason}"]) from None
    if node is None:
        raise HallFileError([f"{name}: the file is empty"])
    lines: dict[Path, int] = {}
    problems: list[tuple[int, str]] = []
    _map_lines(node, (), lines, problems)

    def report(path: Path, message: str) -> None:
        problems.append((_line_of(path, lines), f"{_dotted(path)}: {message}" if path else message))

    try:
        parsed: HallFile | None = HallFile.model_validate(raw)
    except ValidationError as exc:
        parsed = None
        for error in exc.errors():
            report(tuple(error["loc"]), error["msg"])
    if isinstance(raw, dict):
        _cross_check(raw, dict(known_halls or {}), report)
    if problems or parsed is None:
        ordered = sorted(set(problems), key=lambda p: (p[0], p[1]))
        raise HallFileError([f"{name}:{line}: {message}" for line, message in ordered])
    return parsed


def _map_lines(node: yaml.Node, path: Path, lines: dict[Path, int], problems: list[tuple[int, str]]) -> None:
    """Each key's and item's line (1-based), from the node tree PyYAML composes; duplicate keys
    are a problem here, since loading keeps the last one without a word."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            label = str(key.value)
            step: str | int = label
            if label in seen:
                problems.append((key.start_mark.line + 1, f"{_dotted((*path, step))}: the key is given twice"))
            seen.add(label)
            lines.setdefault((*path, step), key.start_mark.line + 1)
            _map_lines(value, (*path, step), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), lines, problems)


def _line_of(path: Path, lines: Mapping[Path, int]) -> int:
    for end in range(len(path), -1, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return 1


def _dotted(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def parse_hours(text: str) -> tuple[time, time]:
    """``"09:00-17:00"`` as its opening and closing time; ``ValueError`` when it is not that."""
    match = _HOURS.match(text)
    if match is None:
        raise ValueError(f"hours look like 09:00-17:00, not {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{text!r} is not a time of day")
    opens, closes = time(h1, m1), time(h2, m2)
    if not opens < closes:
        raise ValueError(f"{text!r} closes before it opens")
    return opens, closes


def parse_days(text: str) -> list[int]:
    """``"mon-fri"`` or ``"sat"`` as weekday numbers (Monday = 0)."""
    first, _, last = text.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"days are mon, tue, wed, thu, fri, sat, sun or a range like mon-fri, not {text!r}")
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        raise ValueError(f"the days {text!r} run backwards")
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


def _items(raw: Mapping[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = raw.get(key)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _cross_check(raw: Mapping[str, Any], known: dict[str, tuple[str, str | None]], report: Report) -> None:
    """What the models cannot see. Works on the raw document and skips what is malformed (the
    models report that), so a file with both kinds of problem lists both."""
    tree = dict(known)
    seen_halls: dict[str, int] = {}
    for h, hall in _items(raw, "halls"):
        code, where = hall.get("code"), ("halls", h)
        if isinstance(code, str):
            if code in seen_halls:
                report((*where, "code"), f"hall {code!r} is described twice (also halls[{seen_halls[code]}])")
            seen_halls.setdefault(code, h)
            parent = hall.get("parent")
            tree[code] = (str(hall.get("level")), parent if isinstance(parent, str) else None)
        zone = hall.get("timezone")
        if isinstance(zone, str):
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                report((*where, "timezone"), f"{zone!r} is not a known time zone")
        rules = hall.get("queue_rules")
        if isinstance(rules, dict):
            _check_rules(rules, (*where, "queue_rules"), report)
        services = _check_services(hall, where, report)
        numbers: set[int] = set()
        for c, counter in _items(hall, "counters"):
            number = counter.get("number")
            if isinstance(number, int):
                if number in numbers:
                    report((*where, "counters", c, "number"), f"counter {number} is described twice")
                numbers.add(number)
            served = counter.get("services")
            if isinstance(served, dict):
                for service, weight in served.items():
                    if service not in services:
                        report(
                            (*where, "counters", c, "services", service),
                            f"counter {number} names service {service!r}, which hall {code} does not offer",
                        )
                    if isinstance(weight, int | float) and not weight > 0:
                        report((*where, "counters", c, "services", service), "a weight must be above 0")
    _check_tree(raw, tree, report)
    usernames: set[str] = set()
    for s, person in _items(raw, "staff"):
        where = ("staff", s)
        username = person.get("username")
        if isinstance(username, str):
            if not USERNAME.match(username):
                report((*where, "username"), "a username has 2 to 64 lowercase letters, digits, '.', '_' or '-'")
            if username in usernames:
                report((*where, "username"), f"staff {username!r} is described twice")
            usernames.add(username)
        hall_code = person.get("hall")
        if isinstance(hall_code, str) and hall_code not in tree:
            report((*where, "hall"), f"there is no hall {hall_code!r}")
        roles = person.get("roles")
        if isinstance(roles, list):
            for r, role in enumerate(roles):
                if role not in {x.value for x in Role}:
                    report((*where, "roles", r), f"unknown role {role!r}; roles are {', '.join(x.value for x in Role)}")


def _check_services(hall: Mapping[str, Any], where: Path, report: Report) -> set[str]:
    codes: set[str] = set()
    prefixes: dict[str, str] = {}
    for v, service in _items(hall, "services"):
        at = (*where, "services", v)
        code = service.get("code")
        if isinstance(code, str):
            if code in codes:
                report((*at, "code"), f"service {code!r} is described twice in hall {hall.get('code')}")
            codes.add(code)
        prefix = service.get("prefix", "A")
        if isinstance(prefix, str):
            if prefix in prefixes:
                report(
                    (*at, "prefix"),
                    f"prefix {prefix!r} is taken by service {prefixes[prefix]!r}: "
                    "tickets of both would be numbered alike",
                )
            prefixes.setdefault(prefix, str(code))
        cap = service.get("daily_cap")
        if isinstance(cap, int) and not isinstance(cap, bool) and cap < 1:
            below = "below zero" if cap < 0 else "zero"
            report((*at, "daily_cap"), f"a daily cap is at least 1, or null for no limit; {cap} is {below}")
        hours = service.get("hours")
        if isinstance(hours, dict):
            named: dict[int, str] = {}
            for days, span in hours.items():
                place = (*at, "hours", str(days))
                try:
                    numbers = parse_days(str(days))
                except ValueError as exc:
                    report(place, str(exc))
                    numbers = []
                for day in numbers:
                    if day in named:
                        report(place, f"{DAYS[day]} has hours twice (also under {named[day]!r}): they overlap")
                    named.setdefault(day, str(days))
                if isinstance(span, str):
                    try:
                        parse_hours(span)
                    except ValueError as exc:
                        report(place, str(exc))
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
        report(where, str(exc))


def _check_tree(raw: Mapping[str, Any], tree: Mapping[str, tuple[str, str | None]], report: Report) -> None:
    for h, hall in _items(raw, "halls"):
        code, parent, level = hall.get("code"), hall.get("parent"), hall.get("level")
        if not isinstance(code, str) or not isinstance(parent, str):
            continue
        at = ("halls", h, "parent")
        if parent not in tree:
            report(at, f"hall {code}'s parent {parent!r} does not exist")
            continue
        if level in _LEVELS and tree[parent][0] in _LEVELS and _LEVELS.index(tree[parent][0]) >= _LEVELS.index(level):
            report(at, f"a {level} hall cannot sit under the {tree[parent][0]} hall {parent}")
        seen = [code]
        step: str | None = parent
        while step is not None and step in tree:
            if step in seen:
                report(at, f"the parents form a loop: {' → '.join([*seen, step])}")
                break
            seen.append(step)
            step = tree[step][1]


# Writing and comparing


class _Flow(dict[str, Any]):
    """A short mapping written on one line: names, hours, a counter's services."""


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    pass


def _flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_Flow, _flow)


def dump(document: HallFile, *, heading: Iterable[str] = ()) -> str:
    """The YAML text of a hall file, keys in the order of the models."""
    data = document.model_dump(mode="json")
    for hall in data["halls"]:
        hall["name"] = _Flow(hall["name"])
        hall["queue_rules"] = {k: v for k, v in hall["queue_rules"].items() if v is not None}
        for service in hall["services"]:
            service["name"], service["hours"] = _Flow(service["name"]), _Flow(service["hours"])
        for counter in hall["counters"]:
            counter["services"] = _Flow(counter["services"])
    top = "".join(f"# {line}\n" if line else "#\n" for line in heading)
    return top + str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120))


def normal(document: HallFile) -> dict[str, Any]:
    """What a hall file says, whatever its spelling: halls and staff by their codes, hours day by
    day, roles as sets. Two files that say the same compare equal."""
    halls = {}
    for hall in document.halls:
        services = [
            {**s.model_dump(exclude={"hours"}), "week": week_of(s.hours)}
            for s in hall.services  # order is kept: it is the kiosk's order
        ]
        halls[hall.code] = {
            **hall.model_dump(exclude={"services", "counters", "queue_rules"}),
            "queue_rules": hall.queue_rules.given(),
            "services": services,
            "counters": {c.number: {"name": c.title, "services": dict(c.services)} for c in hall.counters},
        }
    staff = {s.username: {**s.model_dump(exclude={"roles"}), "roles": frozenset(s.roles)} for s in document.staff}
    return {"halls": halls, "staff": staff}
