"""The hall file against the database: what the database holds, in the file's form (``export``);
what applying a file would change, one line per change (``plan``); and applying it (``apply``),
every change an event in its hall's log.

The file names what it describes and nothing more: halls, services, counters and staff the
database holds but the file does not name are left as they are, and said so. Removing one would
cut it from its history (tickets, ratings and cases name services and counters), and deactivating
an account is an admin's act, not a file's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.hallfile import (
    DEFAULT_TIMEZONE,
    CounterSpec,
    DepartmentSpec,
    HallFile,
    HallNames,
    HallSpec,
    Names,
    QueueRulesSpec,
    ServiceSpec,
    StaffSpec,
    hours_of,
    week_of,
)
from hall.kernel.events import Fact
from hall.kernel.roles import parse_roles
from hall.staff import create_staff
from hall.storage.device_tables import devices
from hall.storage.directory import append_events, create_counters, create_hall
from hall.storage.queue_tables import counter_services, queue_rules, queue_services
from hall.storage.tables import counters, departments, halls, staff
from hall.web.passwords import new_password
from queueing.rows import service_row
from queueing.services import Hours, Service

ACTOR = "system:setup"


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


@dataclass(frozen=True)
class Plan:
    changes: list[Change]
    # What the database holds and the file does not name: left as it is.
    untouched: list[str]


@dataclass(frozen=True)
class NewAccount:
    username: str
    password: str
    roles: str
    hall_code: str


async def export(conn: AsyncConnection) -> HallFile:
    """What the database holds, as a hall file (active staff only)."""
    rows = list(await conn.execute(select(halls).order_by(halls.c.id)))
    code_of = {row.id: row.code for row in rows}
    parent_of = {row.id: row.parent_id for row in rows}

    def depth(hall_id: int) -> int:
        steps, at = 0, parent_of.get(hall_id)
        while at is not None and steps < len(rows):
            steps, at = steps + 1, parent_of.get(at)
        return steps

    rules = {row.hall_id: dict(row.rules) for row in await conn.execute(select(queue_rules))}
    services: dict[int, list[ServiceSpec]] = {}
    for row in await conn.execute(select(queue_services).order_by(queue_services.c.hall_id, queue_services.c.position)):
        week = {int(day): (time.fromisoformat(span[0]), time.fromisoformat(span[1])) for day, span in row.week.items()}
        services.setdefault(row.hall_id, []).append(
            ServiceSpec(
                code=row.code,
                name=Names(zh=row.name, en=row.name_en),
                prefix=row.prefix,
                width=row.width,
                daily_cap=row.daily_cap,
                hours=hours_of(week),
                open_on_holidays=bool(row.open_on_holidays),
                target_wait_minutes=row.target_wait_minutes,
                default_service_minutes=float(row.default_service_minutes),
                one_live_ticket_per_id=bool(row.one_live_ticket_per_id),
                active=bool(row.active),
            )
        )
    weights: dict[tuple[int, int], dict[str, float]] = {}
    for row in await conn.execute(select(counter_services).order_by(counter_services.c.service)):
        weights.setdefault((row.hall_id, row.counter), {})[row.service] = float(row.weight)
    bound: dict[tuple[int, int], list[str]] = {}
    for row in await conn.execute(
        select(devices.c.id, devices.c.hall_id, devices.c.counter)
        .where(devices.c.status == "active", devices.c.counter.is_not(None))
        .order_by(devices.c.id)
    ):
        bound.setdefault((row.hall_id, row.counter), []).append(row.id)
    numbered: dict[int, list[CounterSpec]] = {}
    for row in await conn.execute(select(counters).order_by(counters.c.hall_id, counters.c.number)):
        numbered.setdefault(row.hall_id, []).append(
            CounterSpec(
                number=row.number,
                name=row.name,
                services=weights.get((row.hall_id, row.number), {}),
                department=row.department,
                active=bool(row.active),
                devices=bound.get((row.hall_id, row.number), []),
            )
        )
    offices: dict[int, list[DepartmentSpec]] = {}
    for row in await conn.execute(select(departments).order_by(departments.c.hall_id, departments.c.position)):
        offices.setdefault(row.hall_id, []).append(
            DepartmentSpec(code=row.code, name=Names(zh=row.name, en=row.name_en), active=bool(row.active))
        )
    described = [
        HallSpec(
            code=row.code,
            name=HallNames(zh=row.name, en=row.name_en),
            level=row.level,
            parent=code_of.get(row.parent_id) if row.parent_id is not None else None,
            timezone=row.timezone,
            active=bool(row.active),
            queue_rules=QueueRulesSpec.model_validate(
                {k: v for k, v in rules.get(row.id, {}).items() if k != "timezone"}
            ),
            departments=offices.get(row.id, []),
            services=services.get(row.id, []),
            counters=numbered.get(row.id, []),
        )
        for row in sorted(rows, key=lambda r: (depth(r.id), r.id))
    ]
    people = [
        StaffSpec(
            username=row.username,
            name=row.display_name,
            staff_no=row.staff_no,
            hall=code_of[row.hall_id],
            roles=sorted(r for r in row.roles.split(",") if r),
        )
        for row in await conn.execute(select(staff).where(staff.c.active.is_(True)).order_by(staff.c.id))
    ]
    return HallFile(halls=described, staff=people)


async def known_devices(conn: AsyncConnection) -> dict[str, str]:
    """The registered devices a counter may name: id → its hall's code."""
    rows = await conn.execute(
        select(devices.c.id, halls.c.code)
        .join(halls, halls.c.id == devices.c.hall_id)
        .where(devices.c.status == "active")
    )
    return {row.id: row.code for row in rows}


async def known_halls(conn: AsyncConnection) -> dict[str, tuple[str, str | None]]:
    """The database's halls: code → (level, parent code)."""
    rows = list(await conn.execute(select(halls.c.id, halls.c.code, halls.c.level, halls.c.parent_id)))
    code_of = {row.id: row.code for row in rows}
    return {row.code: (row.level, code_of.get(row.parent_id)) for row in rows}


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


def _service_facts(service: ServiceSpec, position: int) -> dict[str, Any]:
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
        diff = _differences(_service_facts(old, old_position), _service_facts(service, position))
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


def _service(spec: ServiceSpec) -> Service:
    return Service(
        spec.code,
        spec.name.zh,
        spec.name.en,
        prefix=spec.prefix,
        width=spec.width,
        daily_cap=spec.daily_cap,
        week={day: Hours(opens, closes) for day, (opens, closes) in week_of(spec.hours).items()},
        open_on_holidays=spec.open_on_holidays,
        target_wait_minutes=spec.target_wait_minutes,
        default_service_minutes=spec.default_service_minutes,
        one_live_ticket_per_id=spec.one_live_ticket_per_id,
        active=spec.active,
    )


async def apply(conn: AsyncConnection, changes: list[Change], now: datetime, *, actor: str = ACTOR) -> list[NewAccount]:
    """Make each change in the caller's transaction, logging it in its hall's log; returns the
    accounts made, with their one-time passwords (to be changed at first login)."""
    ids = {row.code: row.id for row in await conn.execute(select(halls.c.code, halls.c.id))}
    made: list[NewAccount] = []
    for change in changes:
        if change.kind == "hall" and change.op == "add":
            hall: HallSpec = change.wanted
            ids[hall.code] = await create_hall(
                conn,
                code=hall.code,
                name=hall.name.zh,
                name_en=hall.name.en,
                level=hall.level,
                parent_id=ids[hall.parent] if hall.parent else None,
                timezone=hall.timezone,
                actor=actor,
                now=now,
            )
            if not hall.active:
                await conn.execute(update(halls).where(halls.c.id == ids[hall.code]).values(active=False))
            continue
        hall_id = ids[change.hall]
        log = [Fact(f"{change.kind}.changed", {"hall": change.hall, **change.fields})]
        if change.kind == "hall":
            hall = change.wanted
            await conn.execute(
                update(halls)
                .where(halls.c.id == hall_id)
                .values(
                    name=hall.name.zh,
                    name_en=hall.name.en,
                    level=hall.level,
                    parent_id=ids[hall.parent] if hall.parent else None,
                    timezone=hall.timezone,
                    active=hall.active,
                )
            )
        elif change.kind == "rules":
            await conn.execute(delete(queue_rules).where(queue_rules.c.hall_id == hall_id))
            await conn.execute(insert(queue_rules).values(hall_id=hall_id, rules=change.wanted))
            log = [Fact("rules.changed", {"rules": change.wanted})]
        elif change.kind == "department":
            department: DepartmentSpec = change.wanted
            values = {
                "name": department.name.zh,
                "name_en": department.name.en,
                "active": department.active,
                "position": change.position,
            }
            if change.op == "add":
                await conn.execute(insert(departments).values(hall_id=hall_id, code=department.code, **values))
                log = [Fact("department.added", {"department": department.code, **values})]
            else:
                await conn.execute(
                    update(departments)
                    .where(departments.c.hall_id == hall_id, departments.c.code == department.code)
                    .values(**values)
                )
                log = [Fact("department.changed", {"department": department.code, **change.fields})]
        elif change.kind == "service":
            row = service_row(hall_id, _service(change.wanted), change.position)
            if change.op == "add":
                await conn.execute(insert(queue_services).values(**row))
                log = [
                    Fact(
                        "service.added",
                        {"service": change.wanted.code, **_service_facts(change.wanted, change.position)},
                    )
                ]
            else:
                await conn.execute(
                    update(queue_services)
                    .where(queue_services.c.hall_id == hall_id, queue_services.c.code == change.wanted.code)
                    .values(**row)
                )
                log = [Fact("service.changed", {"service": change.wanted.code, **change.fields})]
        elif change.kind == "counter":
            counter: CounterSpec = change.wanted
            if change.op == "add":
                await create_counters(conn, hall_id, [(counter.number, counter.title)], actor=actor, now=now)
                log = [Fact("counter.services_set", {"counter": counter.number, "services": dict(counter.services)})]
                if counter.department is not None or not counter.active:
                    log.append(
                        Fact(
                            "counter.changed",
                            {"counter": counter.number, "department": counter.department, "active": counter.active},
                        )
                    )
            else:
                log = [Fact("counter.changed", {"counter": counter.number, **change.fields})]
            await conn.execute(
                update(counters)
                .where(counters.c.hall_id == hall_id, counters.c.number == counter.number)
                .values(name=counter.title, department=counter.department, active=counter.active)
            )
            await conn.execute(
                delete(counter_services).where(
                    counter_services.c.hall_id == hall_id, counter_services.c.counter == counter.number
                )
            )
            if counter.devices is not None:
                log += await _bind_devices(conn, hall_id, counter.number, counter.devices)
            if counter.services:
                await conn.execute(
                    insert(counter_services),
                    [
                        {"hall_id": hall_id, "counter": counter.number, "service": code, "weight": weight}
                        for code, weight in counter.services.items()
                    ],
                )
        elif change.kind == "staff":
            made += await _apply_staff(conn, change, ids, now, actor)
            continue
        await append_events(conn, hall_id, log, actor, now)
    return made


async def _apply_staff(
    conn: AsyncConnection, change: Change, ids: Mapping[str, int], now: datetime, actor: str
) -> list[NewAccount]:
    person: StaffSpec = change.wanted
    roles = parse_roles(person.roles)
    if change.op == "add":
        password = new_password()
        staff_id = await create_staff(
            conn,
            username=person.username,
            display_name=person.name,
            staff_no=person.staff_no,
            password=password,
            roles=roles,
            hall_id=ids[person.hall],
            actor=actor,
            now=now,
        )
        # A password printed on a screen is its owner's only once they have chosen their own.
        await conn.execute(update(staff).where(staff.c.id == staff_id).values(must_change_password=True))
        return [NewAccount(person.username, password, ",".join(sorted(roles)), person.hall)]
    await conn.execute(
        update(staff)
        .where(staff.c.username == person.username)
        .values(
            display_name=person.name,
            staff_no=person.staff_no,
            roles=",".join(sorted(r.value for r in roles)),
            hall_id=ids[person.hall],
        )
    )
    fields = dict(change.fields)
    if "roles" in fields:
        fields["roles"] = fields["roles"].split(",")
    fact = Fact("staff.changed", {"username": person.username, **fields})
    await append_events(conn, ids[person.hall], [fact], actor, now)
    if change.was_hall is not None and change.was_hall != person.hall:
        # The hall the account left keeps the record of its leaving.
        await append_events(conn, ids[change.was_hall], [fact], actor, now)
    return []


async def _bind_devices(conn: AsyncConnection, hall_id: int, number: int, named: list[str]) -> list[Fact]:
    """Bind ``named`` to counter ``number`` (moving them from another counter); devices not named
    stay where they are."""
    facts: list[Fact] = []
    rows = await conn.execute(
        select(devices.c.id, devices.c.kind, devices.c.counter).where(
            devices.c.hall_id == hall_id, devices.c.status == "active", devices.c.id.in_(named)
        )
    )
    for row in rows:
        if row.counter != number:
            await conn.execute(update(devices).where(devices.c.id == row.id).values(counter=number))
            facts.append(Fact("device.bound", {"device": row.id, "kind": row.kind, "counter": number}))
    return facts
