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
from dataclasses import dataclass
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hall.accounts.rules import USERNAME
from hall.kernel.errors import SettingsError
from hall.kernel.i18n import N_, Text
from hall.kernel.roles import Role
from queueing.state import Rules

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = "Asia/Shanghai"
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_LEVELS = ("district", "street", "community")

Path = tuple[str | int, ...]
Report = Callable[[Path, Text], None]


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
    # A deactivated service takes no new tickets (it stays in the file: its history names it).
    active: bool = True


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
    pause_limit_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    open_counter_after: int | None = Field(default=None, ge=1, le=1000)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class DepartmentSpec(_Strict):
    """A department (科室) of a hall: the office its counters belong to."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: Names
    active: bool = True


class CounterSpec(_Strict):
    number: int = Field(ge=1, le=999)
    name: str = Field(default="", max_length=100)
    # service code → weight
    services: dict[str, float] = Field(default_factory=dict)
    # The code of one of the hall's departments.
    department: str | None = None
    # The registered devices bound to this counter (window display, keypad, rating pad, ID
    # reader, citizen screen), by id; left out, the bindings are left as they are.
    devices: list[str] | None = None
    # A deactivated counter cannot be opened; it is never removed (tickets and ratings name it).
    active: bool = True

    @property
    def title(self) -> str:
        return self.name or f"{self.number}号窗口"


class HallSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: HallNames
    level: Literal["district", "street", "community"]
    parent: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    # A deactivated hall takes no tickets; it keeps its place in the tree and its history.
    active: bool = True
    queue_rules: QueueRulesSpec = QueueRulesSpec()
    departments: list[DepartmentSpec] = Field(default_factory=list)
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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a hall file: where (the path of keys and indexes) and what. ``text`` is
    for people in their language; ``plain`` is the schema library's own English words, which the
    command line prints as they are."""

    path: Path
    text: Text
    plain: str | None = None

    @property
    def where(self) -> str:
        return _dotted(self.path)

    @property
    def english(self) -> str:
        message = self.plain or self.text.english
        return f"{_dotted(self.path)}: {message}" if self.path else message

    def said(self) -> str:
        """In the reader's language: the field's place, then what is wrong with it."""
        message = self.text.said()
        return f"{_dotted(self.path)}: {message}" if self.path else message


def read(
    data: bytes,
    name: str,
    *,
    known_halls: Mapping[str, tuple[str, str | None]] | None = None,
    known_devices: Mapping[str, str] | None = None,
) -> HallFile:
    """The hall file in ``data`` (named ``name`` in problems). ``known_halls`` are the halls the
    database holds already (code → level, parent code): a parent or a staff member's hall may be
    one of them; ``known_devices`` the registered devices (id → hall code) counters may name."""
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
    found: list[tuple[int, str]] = []
    _map_lines(node, (), lines, found)
    parsed, problems = check(raw, known_halls, known_devices)
    found += [(_line_of(p.path, lines), p.english) for p in problems]
    if found or parsed is None:
        ordered = sorted(set(found), key=lambda p: (p[0], p[1]))
        raise HallFileError([f"{name}:{line}: {message}" for line, message in ordered])
    return parsed


def check(
    raw: Any,
    known_halls: Mapping[str, tuple[str, str | None]] | None = None,
    known_devices: Mapping[str, str] | None = None,
) -> tuple[HallFile | None, list[Problem]]:
    """A hall file's document (as YAML or JSON loads it) checked whole: the file if it is sound,
    and every problem with its path. The admin pages check what a form would make of the district
    here, so a form and a file are held to the same rules. ``known_devices`` are the registered
    devices (id → hall code) a counter may name; without it, naming any is a problem."""
    problems: list[Problem] = []

    def report(path: Path, message: Text) -> None:
        problems.append(Problem(path, message))

    try:
        parsed: HallFile | None = HallFile.model_validate(raw)
    except ValidationError as exc:
        parsed = None
        for error in exc.errors():
            problems.append(Problem(tuple(error["loc"]), _schema_text(error), error["msg"]))
    if isinstance(raw, dict):
        _cross_check(raw, dict(known_halls or {}), report)
        _check_devices(raw, known_devices or {}, report)
    return (parsed if not problems else None), problems


# The schema library's words for a value of the wrong shape, as catalog ids a page can translate.
_SCHEMA_WORDS: Mapping[str, str] = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a known setting"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must not be empty"),
    "string_too_long": N_("is too long: at most {max_length} characters"),
    "string_pattern_mismatch": N_("has the wrong form"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "bool_type": N_("must be yes or no"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be above {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "literal_error": N_("must be one of {expected}"),
    "too_short": N_("must name at least {min_length}"),
    "dict_type": N_("must be a mapping"),
    "list_type": N_("must be a list"),
}


def _schema_text(error: Mapping[str, Any]) -> Text:
    words = _SCHEMA_WORDS.get(str(error.get("type")))
    if words is None:
        return Text(str(error.get("msg", "")))
    return Text(words, {k: v for k, v in dict(error.get("ctx") or {}).items() if isinstance(v, str | int | float)})


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


class _Unsound(ValueError):
    """Hours or days that are not sound, with the words to say so."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.english)
        self.text = text


def parse_hours(text: str) -> tuple[time, time]:
    """``"09:00-17:00"`` as its opening and closing time; ``ValueError`` when it is not that."""
    match = _HOURS.match(text)
    if match is None:
        raise _Unsound(Text(N_("hours look like 09:00-17:00, not {given}"), {"given": repr(text)}))
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise _Unsound(Text(N_("{given} is not a time of day"), {"given": repr(text)}))
    opens, closes = time(h1, m1), time(h2, m2)
    if not opens < closes:
        raise _Unsound(Text(N_("{given} closes before it opens"), {"given": repr(text)}))
    return opens, closes


def parse_days(text: str) -> list[int]:
    """``"mon-fri"`` or ``"sat"`` as weekday numbers (Monday = 0)."""
    first, _, last = text.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise _Unsound(
            Text(
                N_("days are mon, tue, wed, thu, fri, sat, sun or a range like mon-fri, not {given}"),
                {"given": repr(text)},
            )
        )
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        raise _Unsound(Text(N_("the days {given} run backwards"), {"given": repr(text)}))
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


def _said(text: str, **values: Any) -> Text:
    return Text(text, values)


def _cross_check(raw: Mapping[str, Any], known: dict[str, tuple[str, str | None]], report: Report) -> None:
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


def _check_devices(raw: Mapping[str, Any], known: Mapping[str, str], report: Report) -> None:
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
                except _Unsound as exc:
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
                    except _Unsound as exc:
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


# Writing and comparing


class _Flow(dict[str, Any]):
    """A short mapping written on one line: names, hours, a counter's services."""


class _Line(list[Any]):
    """A short list written on one line: a counter's devices."""


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    pass


def _flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_Flow, _flow)
_Dumper.add_representer(
    _Line, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def dump(document: HallFile, *, heading: Iterable[str] = ()) -> str:
    """The YAML text of a hall file, keys in the order of the models; a setting at its default that
    says nothing (``active: true``, no department, no departments) is left out."""
    data = document.model_dump(mode="json")
    for hall in data["halls"]:
        hall["name"] = _Flow(hall["name"])
        hall["queue_rules"] = {k: v for k, v in hall["queue_rules"].items() if v is not None}
        _quiet(hall, active=True)
        if not hall["departments"]:
            del hall["departments"]
        for department in hall.get("departments", ()):
            department["name"] = _Flow(department["name"])
            _quiet(department, active=True)
        for service in hall["services"]:
            service["name"], service["hours"] = _Flow(service["name"]), _Flow(service["hours"])
            _quiet(service, active=True)
        for counter in hall["counters"]:
            counter["services"] = _Flow(counter["services"])
            _quiet(counter, active=True, department=None)
            if counter.get("devices"):
                counter["devices"] = _Line(counter["devices"])
            else:
                # Naming no device and leaving the key out say the same: a file only binds.
                counter.pop("devices", None)
    top = "".join(f"# {line}\n" if line else "#\n" for line in heading)
    return top + str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120))


def _quiet(entry: dict[str, Any], **defaults: Any) -> None:
    for key, default in defaults.items():
        if key in entry and entry[key] == default:
            del entry[key]


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
            **hall.model_dump(exclude={"services", "counters", "queue_rules", "departments"}),
            "queue_rules": hall.queue_rules.given(),
            "departments": {d.code: d.model_dump() for d in hall.departments},
            "services": services,
            "counters": {
                c.number: {
                    "name": c.title,
                    "services": dict(c.services),
                    "department": c.department,
                    "active": c.active,
                    "devices": sorted(c.devices or ()),
                }
                for c in hall.counters
            },
        }
    staff = {s.username: {**s.model_dump(exclude={"roles"}), "roles": frozenset(s.roles)} for s in document.staff}
    return {"halls": halls, "staff": staff}
