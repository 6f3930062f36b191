"""What applying a hall file would change: the database's file against the wanted one, one
``Change`` per change, each with the line ``--dry-run`` prints (``plan``). Pure (both are files);
apart from the store, which reads the database's file and applies the changes.

The file names what it describes and nothing more: halls, services, counters and staff the
database holds but the file does not name are left as they are, and said so. Removing one would
cut it from its history (tickets, ratings and cases name services and counters), and deactivating
an account is an admin's act, not a file's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hall.hallfile.hours import hours_of, week_of
from hall.hallfile.specs import DEFAULT_TIMEZONE, CounterSpec, DepartmentSpec, HallFile, HallSpec, ServiceSpec


@dataclass(frozen=True)
class Change:
    """One change a file makes: ``text`` is the line ``--dry-run`` prints."""

    text: str
    kind: Literal["hall", "rules", "department", "service", "counter", "staff"]
    op: Literal["add", "change"]
    hall: str
    wanted: Any
    fields: Mapping[str, Any] = field(default_factory=dict)
    position: int = 0
    was_hall: str | None = None  # a staff member's hall before the change
    # What the changed fields held before (a service's): logged with the change, so that a recount
    # of the past (``queueing.recount``) knows the target a service had before it.
    was: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    changes: list[Change]
    # What the database holds and the file does not name: left as it is.
    untouched: list[str]


def rules_json(hall: HallSpec) -> dict[str, Any]:
    """The stored queue rules: the file's, and the hall's time zone where it is not the default
    (the queue's day and hours follow it)."""
    given = hall.queue_rules.given()
    return given | ({"timezone": hall.timezone} if hall.timezone != DEFAULT_TIMEZONE else {})


def _said(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_said(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_said(v) for v in value) + "]"
    return "null" if value is None else str(value)


def _differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


def _described(diff: Mapping[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{k} {_said(a)} → {_said(b)}" for k, (a, b) in diff.items())


def _in_tree_order(wanted: list[HallSpec]) -> list[HallSpec]:
    """Parents before their children, so each hall is made after the one above it."""
    by_code = {h.code: h for h in wanted}
    done: dict[str, HallSpec] = {}

    def visit(hall: HallSpec) -> None:
        if hall.code in done:
            return
        if hall.parent in by_code and hall.parent not in done:
            visit(by_code[hall.parent])
        done[hall.code] = hall

    for hall in wanted:
        visit(hall)
    return list(done.values())


def _hall_facts(hall: HallSpec) -> dict[str, Any]:
    return {
        "name": hall.name.zh,
        "name_en": hall.name.en,
        "level": hall.level,
        "parent": hall.parent,
        "timezone": hall.timezone,
        "active": hall.active,
    }


def plan(current: HallFile, wanted: HallFile) -> Plan:
    """The changes that make the database hold what ``wanted`` says (pure: both are files)."""
    changes: list[Change] = []
    untouched: list[str] = []
    held = {h.code: h for h in current.halls}
    for hall in _in_tree_order(wanted.halls):
        was = held.get(hall.code)
        if was is None:
            under = f", under {hall.parent}" if hall.parent else ""
            changes.append(
                Change(f"+ hall {hall.code} {hall.name.zh} ({hall.level}{under})", "hall", "add", hall.code, hall)
            )
        else:
            diff = _differences(_hall_facts(was), _hall_facts(hall))
            if diff:
                changes.append(
                    Change(
                        f"~ hall {hall.code}: {_described(diff)}",
                        "hall",
                        "change",
                        hall.code,
                        hall,
                        {k: b for k, (_, b) in diff.items()},
                    )
                )
        rules_before = rules_json(was) if was is not None else {}
        if rules_json(hall) != rules_before:
            changes.append(
                Change(
                    f"~ queue rules of {hall.code}: {_said(rules_before)} → {_said(rules_json(hall))}",
                    "rules",
                    "change",
                    hall.code,
                    rules_json(hall),
                )
            )
        changes += _department_changes(hall, was, untouched)
        changes += _service_changes(hall, was, untouched)
        changes += _counter_changes(hall, was, untouched)
    named = {h.code for h in wanted.halls}
    untouched += [f"= hall {code} is not in the file: left as it is" for code in held if code not in named]
    people = {s.username: s for s in current.staff}
    for person in wanted.staff:
        before_person = people.get(person.username)
        roles = ",".join(sorted(person.roles))
        if before_person is None:
            changes.append(
                Change(
                    f"+ staff {person.username} {person.name} ({roles}, hall {person.hall})",
                    "staff",
                    "add",
                    person.hall,
                    person,
                )
            )
            continue
        was_roles = ",".join(sorted(before_person.roles))
        diff = _differences(
            {
                "name": before_person.name,
                "staff_no": before_person.staff_no,
                "hall": before_person.hall,
                "roles": was_roles,
            },
            {"name": person.name, "staff_no": person.staff_no, "hall": person.hall, "roles": roles},
        )
        if diff:
            changes.append(
                Change(
                    f"~ staff {person.username}: {_described(diff)}",
                    "staff",
                    "change",
                    person.hall,
                    person,
                    {k: b for k, (_, b) in diff.items()},
                    was_hall=before_person.hall,
                )
            )
    listed = {s.username for s in wanted.staff}
    untouched += [
        f"= staff {s.username} is not in the file: left as it is (an admin deactivates accounts, not the file)"
        for s in current.staff
        if s.username not in listed
    ]
    return Plan(changes, untouched)


def service_facts(service: ServiceSpec, position: int) -> dict[str, Any]:
    facts = service.model_dump(mode="json", exclude={"name", "hours"})
    return facts | {
        "name": service.name.zh,
        "name_en": service.name.en,
        "hours": hours_of(week_of(service.hours)),
        "position": position,
    }


def _service_changes(hall: HallSpec, was: HallSpec | None, untouched: list[str]) -> list[Change]:
    changes: list[Change] = []
    before = {s.code: (i, s) for i, s in enumerate(was.services)} if was is not None else {}
    for position, service in enumerate(hall.services):
        where = f"{hall.code}/{service.code}"
        if service.code not in before:
            text = f"+ service {where} {service.name.zh} (prefix {service.prefix or 'none'})"
            changes.append(Change(text, "service", "add", hall.code, service, position=position))
            continue
        old_position, old = before[service.code]
        diff = _differences(service_facts(old, old_position), service_facts(service, position))
        if diff:
            changes.append(
                Change(
                    f"~ service {where}: {_described(diff)}",
                    "service",
                    "change",
                    hall.code,
                    service,
                    {k: b for k, (_, b) in diff.items()},
                    position=position,
                    was={k: a for k, (a, _) in diff.items()},
                )
            )
    named = {s.code for s in hall.services}
    untouched += [
        f"= service {hall.code}/{code} is not in the file: left as it is" for code in before if code not in named
    ]
    return changes


def _department_changes(hall: HallSpec, was: HallSpec | None, untouched: list[str]) -> list[Change]:
    changes: list[Change] = []
    before = {d.code: (i, d) for i, d in enumerate(was.departments)} if was is not None else {}
    for position, department in enumerate(hall.departments):
        where = f"{hall.code}/{department.code}"
        facts = _department_facts(department, position)
        if department.code not in before:
            text = f"+ department {where} {department.name.zh}"
            changes.append(Change(text, "department", "add", hall.code, department, position=position))
            continue
        old_position, old = before[department.code]
        diff = _differences(_department_facts(old, old_position), facts)
        if diff:
            changes.append(
                Change(
                    f"~ department {where}: {_described(diff)}",
                    "department",
                    "change",
                    hall.code,
                    department,
                    {k: b for k, (_, b) in diff.items()},
                    position=position,
                )
            )
    named = {d.code for d in hall.departments}
    untouched += [
        f"= department {hall.code}/{code} is not in the file: left as it is" for code in before if code not in named
    ]
    return changes


def _department_facts(department: DepartmentSpec, position: int) -> dict[str, Any]:
    return {
        "name": department.name.zh,
        "name_en": department.name.en,
        "active": department.active,
        "position": position,
    }


def _counter_facts(counter: CounterSpec, was: CounterSpec | None = None) -> dict[str, Any]:
    facts = {
        "name": counter.title,
        "services": dict(counter.services),
        "department": counter.department,
        "active": counter.active,
    }
    # A file binds the devices it names; it never unbinds one (the device console does, since a
    # keypad or a window display must always belong to some counter). So the devices a counter
    # has after the file are those it had and those the file names.
    had = set(was.devices or ()) if was is not None else set()
    named = set(counter.devices or ()) | had
    return facts | ({"devices": sorted(named)} if named or counter.devices is not None else {})


def _counter_changes(hall: HallSpec, was: HallSpec | None, untouched: list[str]) -> list[Change]:
    changes: list[Change] = []
    before = {c.number: c for c in was.counters} if was is not None else {}
    for counter in hall.counters:
        where = f"{hall.code}/{counter.number}"
        old = before.get(counter.number)
        if old is None:
            text = f"+ counter {where} {counter.title}: {_said(dict(counter.services))}"
            changes.append(Change(text, "counter", "add", hall.code, counter))
            continue
        facts = _counter_facts(counter, old)
        diff = _differences(_counter_facts(old), facts)
        if diff:
            changes.append(
                Change(
                    f"~ counter {where}: {_described(diff)}",
                    "counter",
                    "change",
                    hall.code,
                    counter,
                    {k: b for k, (_, b) in diff.items()},
                )
            )
    named = {c.number for c in hall.counters}
    untouched += [f"= counter {hall.code}/{n} is not in the file: left as it is" for n in before if n not in named]
    return changes
