"""`hall setup`: one YAML file describes a district's halls, services, counters and staff; it is
checked whole (every problem with its line, nothing applied), applied once (a second time
changes nothing), exported back in the same form, and refused while a server runs on the file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hall.hallfile.reading import HallFileError, read
from hall.hallfile.store import export
from hall.hallfile.writing import normal
from hall.kernel.events import Command
from hall.storage import backup as backups
from hall.storage.database import create_engine
from hall.storage.migrate import upgrade
from hall.storage.queue_tables import counter_services, queue_rules, queue_services
from hall.storage.tables import counters, events, halls, staff
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from tests.conftest import StepClock
from tests.serverproc import ACCOUNT, hall_cli

DISTRICT = """\
# Nanqiao: a district, a street below it, a community below that.
version: 1
halls:
  - code: nq
    name: {zh: 南桥区政务服务中心, en: Nanqiao District Service Center}
    level: district
    timezone: Asia/Shanghai
    queue_rules:
      rating_aspects: [服务态度, 办事效率]
      no_counter: refuse
    services:
      - code: tax
        name: {zh: 税务, en: Taxes}
        prefix: T
        width: 3
        daily_cap: 50
        hours: {mon-sun: "00:00-23:59"}
        open_on_holidays: true
        target_wait_minutes: 15
        default_service_minutes: 5
        one_live_ticket_per_id: true
      - code: info
        name: {zh: 咨询, en: Enquiries}
        prefix: Q
        hours: {mon-fri: "08:30-17:30", sat: "09:00-12:00"}
    counters:
      - number: 1
        services: {tax: 1.0}
      - number: 2
        name: 综合窗口
        services: {tax: 0.5, info: 1.0}
  - code: nq-dj
    name: {zh: 东街街道便民服务中心, en: East Street Service Center}
    level: street
    parent: nq
    services:
      - code: info
        name: {zh: 咨询}
        prefix: Q
    counters:
      - number: 1
        services: {info: 1}
  - code: nq-dj-hs
    name: {zh: 湖山社区党群服务站}
    level: community
    parent: nq-dj
staff:
  - username: boss
    name: 管理员
    hall: nq
    roles: [admin]
  - username: clerk.li
    name: 李明
    staff_no: NQ1001
    hall: nq
    roles: [clerk]
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"

    async def migrate() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return url


def _file(tmp_path: Path, text: str, name: str = "district.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _held(url: str) -> tuple[dict[str, Any], list[tuple[int, int, str, str]]]:
    """What the database says, in the file's form, and its whole log."""

    async def look() -> tuple[dict[str, Any], list[tuple[int, int, str, str]]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                log = [
                    (r.hall_id, r.seq, r.type, r.actor)
                    for r in await conn.execute(select(events).order_by(events.c.hall_id, events.c.seq))
                ]
                return normal(await export(conn)), log
        finally:
            await engine.dispose()

    return asyncio.run(look())


def test_a_three_level_district_file_gives_halls_that_issue_call_and_serve(tmp_path: Path, db: str) -> None:
    done = hall_cli("setup", str(_file(tmp_path, DISTRICT)), "--db", db)
    assert done.returncode == 0, done.stderr
    assert "+ hall nq-dj-hs 湖山社区党群服务站 (community, under nq-dj)" in done.stdout

    async def serve_one() -> tuple[str, list[str]]:
        engine = create_engine(db)
        try:
            async with engine.connect() as conn:
                hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == "nq"))).scalar_one()
                clerk = (await conn.execute(select(staff.c.id).where(staff.c.username == "clerk.li"))).scalar_one()
            clock = StepClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
            async with Writer(engine, [QueueDomain()], clock=clock) as writer:
                steps = [
                    ("counter.open", {"counter": 1, "clerk": clerk}),
                    ("ticket.issue", {"service": "tax"}),
                    ("ticket.call_next", {"counter": 1, "clerk": clerk}),
                    ("ticket.start", {"counter": 1, "clerk": clerk}),
                    ("ticket.finish", {"counter": 1, "clerk": clerk}),
                ]
                results = []
                for i, (name, args) in enumerate(steps):
                    clock.now += timedelta(minutes=1)
                    outcome = await writer.submit(Command(f"setup-step-{i}", hall_id, name, "staff:x", args))
                    assert outcome.ok, (name, outcome.result)
                    results.append(outcome)
                number = str(results[1].result["ticket"]["number"])
                return number, [e.type for r in results for e in r.events]
        finally:
            await engine.dispose()

    number, logged = asyncio.run(serve_one())
    assert number == "T001"
    assert "ticket.issued" in logged and "ticket.finished" in logged


def test_the_export_of_an_applied_file_says_what_the_file_says(tmp_path: Path, db: str) -> None:
    source = _file(tmp_path, DISTRICT)
    assert hall_cli("setup", str(source), "--db", db).returncode == 0
    out = tmp_path / "exported.yaml"
    done = hall_cli("setup", "--export", "--db", db, "--out", str(out))
    assert done.returncode == 0, done.stderr
    printed = hall_cli("setup", "--export", "--db", db)
    assert printed.stdout == out.read_text(encoding="utf-8")
    exported = read(out.read_bytes(), "exported.yaml")
    assert normal(exported) == normal(read(source.read_bytes(), "district.yaml"))
    # And the export, applied again, is nothing new.
    assert "Nothing to change" in hall_cli("setup", str(out), "--db", db).stdout


def test_applying_the_same_file_twice_changes_nothing_the_second_time(tmp_path: Path, db: str) -> None:
    source = str(_file(tmp_path, DISTRICT))
    first = hall_cli("setup", source, "--db", db)
    after_first = _held(db)
    second = hall_cli("setup", source, "--db", db)
    assert first.returncode == second.returncode == 0
    assert _held(db) == after_first
    assert "Nothing to change" in second.stdout
    assert not [line for line in second.stdout.splitlines() if line[:2] in ("+ ", "~ ")]
    assert not ACCOUNT.findall(second.stdout)  # no account made, no password shown


def test_a_dry_run_prints_one_line_per_change_and_changes_nothing(tmp_path: Path, db: str) -> None:
    source = str(_file(tmp_path, DISTRICT))
    before = _held(db)
    done = hall_cli("setup", source, "--db", db, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert _held(db) == before
    lines = [line for line in done.stdout.splitlines() if line[:2] in ("+ ", "~ ")]
    # 3 halls, the queue rules of nq (the only hall that sets any), 3 services, 3 counters, 2 staff.
    assert len(lines) == 3 + 1 + 3 + 3 + 2, done.stdout
    assert "+ counter nq/2 综合窗口: {tax: 0.5, info: 1.0}" in lines
    assert "--dry-run changed nothing" in done.stdout
    # A change to an applied file is one line, and only a dry run until applied.
    hall_cli("setup", source, "--db", db)
    changed = _file(tmp_path, DISTRICT.replace("daily_cap: 50", "daily_cap: 80"), "changed.yaml")
    again = hall_cli("setup", str(changed), "--db", db, "--dry-run")
    assert [line for line in again.stdout.splitlines() if line[:2] in ("+ ", "~ ")] == [
        "~ service nq/tax: daily_cap 50 → 80"
    ]
    assert _held(db)[0]["halls"]["nq"]["services"][0]["daily_cap"] == 50


def test_every_change_is_an_event_of_its_halls_log_by_setup(tmp_path: Path, db: str) -> None:
    source = str(_file(tmp_path, DISTRICT))
    hall_cli("setup", source, "--db", db)
    hall_cli(
        "setup",
        str(_file(tmp_path, DISTRICT.replace("咨询, en: Enquiries", "咨询服务, en: Enquiries"), "b.yaml")),
        "--db",
        db,
    )
    _, log = _held(db)
    assert {actor for *_, actor in log} == {"system:setup"}
    by_hall: dict[int, list[int]] = {}
    for hall_id, seq, _type, _actor in log:
        by_hall.setdefault(hall_id, []).append(seq)
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_hall.values())  # gapless
    types = [t for hall_id, _, t, _ in log if hall_id == 1]  # nq, made first
    for kind in ("hall.created", "rules.changed", "service.added", "counter.created", "staff.created"):
        assert kind in types
    assert types[-1] == "service.changed"


def test_new_staff_get_one_time_passwords_and_existing_staff_are_updated(tmp_path: Path, db: str) -> None:
    first = hall_cli("setup", str(_file(tmp_path, DISTRICT)), "--db", db)
    passwords = dict(ACCOUNT.findall(first.stdout))
    assert set(passwords) == {"boss", "clerk.li"} and all(len(p) >= 16 for p in passwords.values())
    assert "shown only now" in first.stdout

    moved = DISTRICT.replace(
        "    staff_no: NQ1001\n    hall: nq\n    roles: [clerk]",
        "    staff_no: NQ2001\n    hall: nq-dj\n    roles: [clerk, supervisor]",
    ).replace("  - username: boss\n    name: 管理员\n    hall: nq\n    roles: [admin]\n", "")
    again = hall_cli("setup", str(_file(tmp_path, moved, "moved.yaml")), "--db", db)
    assert again.returncode == 0, again.stderr
    assert "~ staff clerk.li: staff_no NQ1001 → NQ2001; hall nq → nq-dj; roles clerk → clerk,supervisor" in again.stdout
    assert "= staff boss is not in the file: left as it is" in again.stdout
    assert not ACCOUNT.findall(again.stdout)

    async def accounts() -> dict[str, tuple[Any, ...]]:
        engine = create_engine(db)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(
                        staff.c.username, staff.c.staff_no, staff.c.roles, staff.c.active, staff.c.must_change_password
                    )
                )
                return {r.username: tuple(r)[1:] for r in rows}
        finally:
            await engine.dispose()

    assert asyncio.run(accounts()) == {
        "boss": ("", "admin", True, True),
        "clerk.li": ("NQ2001", "clerk,supervisor", True, True),
    }


def test_refused_while_a_server_runs_on_the_file(tmp_path: Path, db: str) -> None:
    database = backups.sqlite_file(db)
    before = _held(db)
    with backups.running_on(database):
        done = hall_cli("setup", str(_file(tmp_path, DISTRICT)), "--db", db)
        # Reading is no danger to a running server: the dry run and the export still work.
        assert hall_cli("setup", str(tmp_path / "district.yaml"), "--db", db, "--dry-run").returncode == 0
        assert hall_cli("setup", "--export", "--db", db).returncode == 0
    assert done.returncode == 2
    assert "a hall server is running on" in done.stderr
    assert _held(db) == before


BAD = """\
version: 1
halls:
  - code: d
    name: {zh: 区中心}
    level: district
    colour: blue
    services:
      - code: soc
        name: {zh: 社保}
        daily_cap: -5
        hours:
          mon-fri: "09:00-17:00"
          fri: "13:00-18:00"
          sat: "12:00-09:00"
      - code: soc
        name: {zh: 社保二}
        prefix: A
    counters:
      - number: 1
        services: {soc: 1, tea: 1}
  - code: s
    name: {zh: 街道}
    level: street
    parent: c
  - code: c
    name: {zh: 社区}
    level: community
    parent: s
  - code: x
    name: {zh: 无父}
    level: street
    parent: nowhere
staff:
  - username: wang
    name: 王
    hall: atlantis
    roles: [clerk, king]
"""


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (6, "halls[0].colour: Extra inputs are not permitted"),
        (10, "daily_cap: a daily cap is at least 1, or null for no limit; -5 is below zero"),
        (13, "hours.fri: fri has hours twice (also under 'mon-fri'): they overlap"),
        (14, "hours.sat: '12:00-09:00' closes before it opens"),
        (15, "halls[0].services[1].code: service 'soc' is described twice in hall d"),
        (17, "halls[0].services[1].prefix: prefix 'A' is taken by service 'soc'"),
        (20, "counters[0].services.tea: counter 1 names service 'tea', which hall d does not offer"),
        (24, "halls[1].parent: the parents form a loop: s → c → s"),
        (24, "halls[1].parent: a street hall cannot sit under the community hall c"),
        (28, "halls[2].parent: the parents form a loop: c → s → c"),
        (32, "halls[3].parent: hall x's parent 'nowhere' does not exist"),
        (36, "staff[0].hall: there is no hall 'atlantis'"),
        (37, "staff[0].roles[1]: unknown role 'king'"),
    ],
)
def test_every_problem_of_an_unsound_file_is_reported_with_its_line(line: int, says: str) -> None:
    with pytest.raises(HallFileError) as refused:
        read(BAD.encode(), "bad.yaml")
    assert any(p.startswith(f"bad.yaml:{line}: ") and says in p for p in refused.value.problems), refused.value.problems


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("halls:\n  - code: a\n    code: b\n", "bad.yaml:3: halls[0].code: the key is given twice"),
        ("halls: [\n", "bad.yaml:2: not YAML"),
        ("", "bad.yaml: the file is empty"),
        ("halls:\n  - code: 12\n", "bad.yaml:2: halls[0].code: Input should be a valid string"),
        ("halls:\n  - code: a\n    name: {zh: 甲}\n    level: city\n", "bad.yaml:4: halls[0].level: Input should be"),
        ("halls:\n  - {code: a, name: {zh: 甲}, level: district, timezone: Mars/Base}\n", "'Mars/Base' is not a known"),
        ("halls:\n  - {code: a, name: {zh: 甲}, level: district, queue_rules: {kiosk_priorities: [vip]}}\n", "vip"),
        ("staff:\n  - {username: X!, name: x, hall: a, roles: [clerk]}\n", "staff[0].username: a username has"),
    ],
)
def test_malformed_files_are_refused_with_the_place_of_the_problem(text: str, says: str) -> None:
    with pytest.raises(HallFileError) as refused:
        read(text.encode(), "bad.yaml")
    assert any(says in p for p in refused.value.problems), refused.value.problems


def test_an_unsound_file_is_refused_whole_with_exit_2_and_nothing_applied(tmp_path: Path, db: str) -> None:
    before = _held(db)
    half_good = DISTRICT + "  - username: ghost\n    name: 鬼\n    hall: nowhere\n    roles: [clerk]\n"
    done = hall_cli("setup", str(_file(tmp_path, half_good)), "--db", db)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].endswith("is not sound; nothing was applied:")
    assert "district.yaml:59: staff[2].hall: there is no hall 'nowhere'" in done.stderr
    assert _held(db) == before
    every = hall_cli("setup", str(_file(tmp_path, BAD, "bad.yaml")), "--db", db)
    assert len(every.stderr.splitlines()) == 1 + 13, every.stderr


def test_a_file_that_is_not_utf8_is_reported_in_one_line(tmp_path: Path, db: str) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(DISTRICT.encode("gbk"))
    done = hall_cli("setup", str(path), "--db", db)
    assert done.returncode == 2
    first = DISTRICT.encode("gbk").index("南".encode("gbk"))  # the first byte beyond ASCII
    assert done.stderr.splitlines()[1:] == [f"  {path}: not UTF-8 text (byte 0xc4 at offset {first})"]


def test_a_parent_or_a_hall_may_be_one_the_database_holds_already(tmp_path: Path, db: str) -> None:
    hall_cli("setup", str(_file(tmp_path, DISTRICT)), "--db", db)
    more = """\
halls:
  - {code: nq-dj-yq, name: {zh: 雁桥社区}, level: community, parent: nq-dj}
staff:
  - {username: clerk.wu, name: 吴, hall: nq-dj-hs, roles: [clerk]}
"""
    done = hall_cli("setup", str(_file(tmp_path, more, "more.yaml")), "--db", db)
    assert done.returncode == 0, done.stderr
    assert "= hall nq is not in the file: left as it is" in done.stdout
    assert set(_held(db)[0]["halls"]) == {"nq", "nq-dj", "nq-dj-hs", "nq-dj-yq"}


# The sample as it was written in Python before it became a hall file: `hall init` must give the
# same halls, services, counters and weights.
_ALL = {code: 1.0 for code in ("soc", "fund", "hukou", "civil", "disab", "info")}
SAMPLE_HALLS = {
    "xh": ("星河区政务服务中心", "Xinghe District Government Service Center", "district", None),
    "xh-hp": ("和平街道便民服务中心", "Heping Street Service Center", "street", "xh"),
    "xh-hp-ly": ("柳荫社区党群服务站", "Liuyin Community Service Station", "community", "xh-hp"),
}
_WEEK = {str(d): ["09:00", "17:00"] for d in range(5)}
_DISTRICT_WEEK = {**_WEEK, "5": ["09:00", "12:00"]}
SAMPLE_SERVICES = [
    # code, name, English, prefix, cap, week, target wait, default service minutes, one per ID
    ("soc", "社会保障", "Social security", "A", None, _DISTRICT_WEEK, 20, 6.0, False),
    ("fund", "住房公积金", "Housing provident fund", "B", None, _DISTRICT_WEEK, 20, 8.0, False),
    ("hukou", "户籍办理", "Household registration", "C", 200, _WEEK, 30, 10.0, True),
    ("civil", "民政服务", "Civil affairs", "D", None, _WEEK, 20, 7.0, False),
    ("disab", "残疾人服务", "Disability services", "E", None, _WEEK, 10, 9.0, False),
    ("info", "综合咨询", "General enquiries", "F", None, _DISTRICT_WEEK, 10, 3.0, False),
]
SAMPLE_COUNTERS = {
    "xh": {
        1: {"soc": 1.0},
        2: {"soc": 1.0},
        3: {"soc": 1.0, "info": 0.5},
        4: {"fund": 1.0},
        5: {"fund": 1.0},
        6: {"hukou": 1.0},
        7: {"hukou": 1.0},
        8: {"civil": 1.0},
        9: {"civil": 1.0, "disab": 1.0},
        10: {"disab": 1.0, "civil": 0.5},
        11: _ALL,
        12: _ALL,
    },
    "xh-hp": {1: {"soc": 1.0, "info": 1.0}, 2: {"soc": 1.0, "civil": 1.0}, 3: {"civil": 1.0, "disab": 1.0}, 4: _ALL},
    "xh-hp-ly": {1: _ALL, 2: _ALL},
}


def test_hall_init_loads_the_same_sample_as_before(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    assert hall_cli("init", "--db", db, env={"HALL_SECRET_FILE": str(tmp_path / "secret")}).returncode == 0

    async def look() -> dict[str, Any]:
        engine = create_engine(db)
        try:
            async with engine.connect() as conn:
                ids = {r.id: r.code for r in await conn.execute(select(halls))}
                found: dict[str, Any] = {
                    "halls": {
                        r.code: (r.name, r.name_en, r.level, ids.get(r.parent_id), r.timezone)
                        for r in await conn.execute(select(halls))
                    },
                    "services": {},
                    "counters": {},
                    "weights": {},
                    "rules": {ids[r.hall_id]: r.rules for r in await conn.execute(select(queue_rules))},
                }
                for r in await conn.execute(select(queue_services).order_by(queue_services.c.position)):
                    found["services"].setdefault(ids[r.hall_id], []).append(
                        (
                            r.code,
                            r.name,
                            r.name_en,
                            r.prefix,
                            r.daily_cap,
                            r.week,
                            r.target_wait_minutes,
                            r.default_service_minutes,
                            r.one_live_ticket_per_id,
                        )
                    )
                    assert (r.width, r.open_on_holidays) == (3, False)
                for r in await conn.execute(select(counters)):
                    found["counters"].setdefault(ids[r.hall_id], {})[r.number] = r.name
                for r in await conn.execute(select(counter_services)):
                    found["weights"].setdefault(ids[r.hall_id], {}).setdefault(r.counter, {})[r.service] = r.weight
                found["events"] = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
                return found
        finally:
            await engine.dispose()

    found = asyncio.run(look())
    assert found["halls"] == {code: (*v, "Asia/Shanghai") for code, v in SAMPLE_HALLS.items()}
    assert found["services"] == {code: SAMPLE_SERVICES for code in SAMPLE_HALLS}
    assert found["counters"] == {code: {n: f"{n}号窗口" for n in numbers} for code, numbers in SAMPLE_COUNTERS.items()}
    assert found["weights"] == SAMPLE_COUNTERS
    assert found["rules"] == {"xh": {"rating_aspects": ["服务态度", "办事效率", "环境设施"]}}


def test_the_shipped_sample_is_a_sound_hall_file_and_exports_as_itself(tmp_path: Path) -> None:
    from hall.sample import sample_district

    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    assert hall_cli("init", "--db", db, env={"HALL_SECRET_FILE": str(tmp_path / "secret")}).returncode == 0
    exported = read(hall_cli("setup", "--export", "--db", db).stdout.encode(), "export")
    sample = normal(sample_district())
    assert normal(exported)["halls"] == sample["halls"]
    assert set(normal(exported)["staff"]) == {"admin"}  # hall init's administrator


def test_the_documented_format_is_a_sound_file_that_names_every_key() -> None:
    from pydantic import BaseModel

    from hall.hallfile.specs import (
        CounterSpec,
        DepartmentSpec,
        HallFile,
        HallSpec,
        QueueRulesSpec,
        ServiceSpec,
        StaffSpec,
    )

    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    block = text.split("### The file, key by key", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    # Its counter names a keypad, as if registered at the device console.
    documented = read(block.encode(), "docs/operations.md", known_devices={"xh-c6-kp": "xh"})
    hall = documented.halls[0]

    def keys(model: type[BaseModel]) -> set[str]:
        return set(model.model_fields)

    assert set(documented.model_fields_set) == keys(HallFile)
    assert hall.model_fields_set == keys(HallSpec)
    assert hall.queue_rules.model_fields_set == keys(QueueRulesSpec)
    assert hall.services[0].model_fields_set == keys(ServiceSpec)
    assert hall.counters[0].model_fields_set == keys(CounterSpec)
    assert hall.departments[0].model_fields_set == keys(DepartmentSpec)
    assert documented.staff[0].model_fields_set == keys(StaffSpec)


def test_a_hall_moved_renamed_or_given_another_time_zone_is_changed_in_place(tmp_path: Path, db: str) -> None:
    hall_cli("setup", str(_file(tmp_path, DISTRICT)), "--db", db)
    moved = DISTRICT.replace(
        "    name: {zh: 湖山社区党群服务站}\n    level: community\n    parent: nq-dj\n",
        "    name: {zh: 湖山社区党群服务站, en: Hushan Community}\n    level: community\n    parent: nq\n"
        "    timezone: Asia/Urumqi\n",
    )
    done = hall_cli("setup", str(_file(tmp_path, moved, "moved.yaml")), "--db", db)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line[:2] in ("+ ", "~ ")] == [
        "~ hall nq-dj-hs: name_en  → Hushan Community; parent nq-dj → nq; timezone Asia/Shanghai → Asia/Urumqi",
        # The queue keeps the hall's day by the hall's clock.
        "~ queue rules of nq-dj-hs: {} → {timezone: Asia/Urumqi}",
    ]
    held, _ = _held(db)
    assert (held["halls"]["nq-dj-hs"]["parent"], held["halls"]["nq-dj-hs"]["timezone"]) == ("nq", "Asia/Urumqi")
