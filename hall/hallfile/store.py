"""The hall file against the database: what the database holds, in the file's form (``export``),
and applying a plan's changes (``apply``), every change an event in its hall's log. What the
changes are is ``hall.hallfile.plan``'s to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.hallfile.hours import hours_of, week_of
from hall.hallfile.plan import Change, service_facts
from hall.hallfile.specs import (
    CounterSpec,
    DepartmentSpec,
    HallFile,
    HallNames,
    HallSpec,
    Names,
    QueueRulesSpec,
    ServiceSpec,
    StaffSpec,
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
                        {"service": change.wanted.code, **service_facts(change.wanted, change.position)},
                    )
                ]
            else:
                await conn.execute(
                    update(queue_services)
                    .where(queue_services.c.hall_id == hall_id, queue_services.c.code == change.wanted.code)
                    .values(**row)
                )
                log = [
                    Fact("service.changed", {"service": change.wanted.code, **change.fields, "was": dict(change.was)})
                ]
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
