"""The hall command: one clear line and exit 2 for anything bad; the first password shown once."""

from __future__ import annotations

from pathlib import Path

import pytest

from hall.kernel.errors import SettingsError
from hall.settings import from_env
from tests.peers import missing
from tests.serverproc import ACCOUNT, hall_cli


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["serve", "--port", "70000"], {}, "port must be between 1 and 65535"),
        (["serve", "--port", "eighty"], {}, "invalid int value"),
        (["serve", "--db", "mysql://x"], {}, "HALL_DB_URL must start with"),
        (["serve"], {"HALL_PORT": "x"}, "HALL_PORT must be a whole number"),
        (["serve"], {"HALL_TIMEZONE": "Mars/Base"}, "not a known time zone"),
        (["serve", "--mqtt", "http://broker"], {}, "HALL_MQTT_URL must start with mqtt://"),
        (["serve"], {"HALL_YELLOW_SHARE": "1.5"}, "HALL_YELLOW_SHARE must be between 0 and 1"),
        (["dance"], {}, "invalid choice"),
        (["add-staff", "x!", "--roles", "clerk", "--hall", "xh"], {}, "a username has"),
    ],
)
def test_bad_options_and_settings_print_one_line_and_exit_2(args: list[str], env: dict[str, str], says: str) -> None:
    done = hall_cli(*args, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("hall: ") and says in lines[0]


def test_serve_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    done = hall_cli("serve", "--db", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", "--port", "8799")
    assert done.returncode == 2
    assert "run `hall init` first" in done.stderr


def test_init_creates_an_admin_with_a_password_shown_once(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    env = {"HALL_SECRET_FILE": str(tmp_path / "secret")}
    first = hall_cli("init", "--db", db, env=env)
    second = hall_cli("init", "--db", db, env=env)
    other = hall_cli("init", "--db", f"sqlite+aiosqlite:///{tmp_path / 'other.db'}", env=env)
    assert first.returncode == second.returncode == 0
    assert "admin" in first.stdout and "shown only now" in first.stdout
    assert "no password was changed" in second.stdout and "shown only now" not in second.stdout
    password = dict(ACCOUNT.findall(first.stdout))["admin"]
    assert len(password) >= 16
    assert password not in other.stdout  # never a fixed default


def test_settings_come_from_hall_variables_and_options_win() -> None:
    settings = from_env({"HALL_PORT": "9000", "HALL_HOST": "0.0.0.0"}, port=9100)
    assert (settings.host, settings.port) == ("0.0.0.0", 9100)
    with pytest.raises(SettingsError):
        from_env({"HALL_BATCH_MAX": "0"})


def test_broker_files_trust_the_registered_devices_and_the_server(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from devices.mosquitto import hash_secret, render_acl, verify_secret
    from hall.storage.database import create_engine
    from hall.storage.device_tables import devices
    from hall.storage.tables import halls

    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    assert hall_cli("init", "--db", db, env={"HALL_SECRET_FILE": str(tmp_path / "secret")}).returncode == 0

    async def register() -> None:
        engine = create_engine(db)
        async with engine.begin() as conn:
            hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == "xh"))).scalar_one()
            now = datetime.now(UTC)
            rows = [
                {"id": "xh-kiosk-1", "hall_id": hall_id, "kind": "kiosk", "status": "active", "first_seen": now},
                {
                    "id": "stranger-1",
                    "hall_id": hall_id,
                    "kind": None,
                    "status": "pending",
                    "first_seen": now,
                    "secret_hash": "",
                },
            ]
            rows[0]["secret_hash"] = hash_secret("kiosk-secret")
            await conn.execute(insert(devices), rows)
        await engine.dispose()

    asyncio.run(register())
    out = tmp_path / "broker"
    env = {"HALL_MQTT_URL": "mqtt://hall-server:server-secret@127.0.0.1:1883"}
    done = hall_cli("broker-files", str(out), "--db", db, "--port", "18830", env=env)
    assert done.returncode == 0, done.stderr
    accounts = dict(line.split(":", 1) for line in (out / "passwd").read_text().splitlines())
    assert set(accounts) == {"hall-server", "xh-kiosk-1"}  # the pending device gets no account
    assert verify_secret(accounts["xh-kiosk-1"], "kiosk-secret")
    assert verify_secret(accounts["hall-server"], "server-secret")
    assert (out / "acl").read_text() == render_acl("hall-server")
    assert "listener 18830 127.0.0.1" in (out / "mosquitto.conf").read_text()


def _register_kiosk(db: str, device: str, secret: str) -> None:
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from devices.mosquitto import hash_secret
    from hall.storage.database import create_engine
    from hall.storage.device_tables import devices
    from hall.storage.tables import halls

    async def register() -> None:
        engine = create_engine(db)
        async with engine.begin() as conn:
            hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == "xh"))).scalar_one()
            row = {"id": device, "hall_id": hall_id, "kind": "kiosk", "status": "active"}
            await conn.execute(
                insert(devices), [{**row, "first_seen": datetime.now(UTC), "secret_hash": hash_secret(secret)}]
            )
        await engine.dispose()

    asyncio.run(register())


def test_rerunning_broker_files_keeps_the_servers_account(tmp_path: Path) -> None:
    from devices.mosquitto import read_password_file, verify_secret

    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    assert hall_cli("init", "--db", db, env={"HALL_SECRET_FILE": str(tmp_path / "secret")}).returncode == 0
    out = tmp_path / "broker"
    first = hall_cli("broker-files", str(out), "--db", db)
    assert first.returncode == 0, first.stderr
    password = first.stdout.split("(shown once): ", 1)[1].split()[0]
    before = read_password_file(out / "passwd")["hall-server"]

    _register_kiosk(db, "xh-kiosk-1", "kiosk-secret")  # a technician registers a device, as README says
    again = hall_cli("broker-files", str(out), "--db", db)
    assert again.returncode == 0, again.stderr
    assert "shown once" not in again.stdout and password not in again.stdout
    assert "kept" in again.stdout
    accounts = read_password_file(out / "passwd")
    assert accounts["hall-server"] == before and verify_secret(before, password)
    assert verify_secret(accounts["xh-kiosk-1"], "kiosk-secret")

    # With HALL_MQTT_URL naming the same password, the line stays as it is too.
    env = {"HALL_MQTT_URL": f"mqtt://hall-server:{password}@127.0.0.1:1883"}
    assert hall_cli("broker-files", str(out), "--db", db, env=env).returncode == 0
    assert read_password_file(out / "passwd")["hall-server"] == before


def test_broker_files_written_by_root_belong_to_the_brokers_account(tmp_path: Path) -> None:
    import os
    import pwd
    import stat

    if os.geteuid() != 0:
        # Only root gives files away: skipped on a developer's account, a failure under CI=true.
        missing("root (only root gives files to the broker's account)")
    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    assert hall_cli("init", "--db", db, env={"HALL_SECRET_FILE": str(tmp_path / "secret")}).returncode == 0
    nobody = pwd.getpwnam("nobody")
    out = tmp_path / "broker"
    done = hall_cli("broker-files", str(out), "--db", db, "--broker-user", "nobody")
    assert done.returncode == 0, done.stderr
    assert "belong to nobody" in done.stdout
    for name in ("passwd", "acl", "mosquitto.conf", "data", "."):
        owned = (out / name).stat()
        assert (owned.st_uid, owned.st_gid) == (nobody.pw_uid, nobody.pw_gid), name
    assert stat.S_IMODE((out / "passwd").stat().st_mode) == 0o600  # the broker's alone
    assert "user nobody" in (out / "mosquitto.conf").read_text().splitlines()

    refused = hall_cli("broker-files", str(out), "--db", db, "--broker-user", "no-such-account")
    assert refused.returncode == 2 and "--broker-user" in refused.stderr


def test_the_catalog_goes_to_csv_for_a_spreadsheet_and_back_to_yaml_unchanged(tmp_path: Path) -> None:
    from cases.catalog_io import dump_yaml, load_yaml, sample_catalog

    sheet, back = tmp_path / "catalog.csv", tmp_path / "catalog.yaml"
    assert hall_cli("catalog", "--to", "csv", "--out", str(sheet)).returncode == 0
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as such
    done = hall_cli("catalog", str(sheet), "--out", str(back))
    assert done.returncode == 0, done.stderr
    assert "30 service items" in done.stderr
    assert load_yaml(back.read_text(encoding="utf-8")) == sample_catalog()
    assert back.read_text(encoding="utf-8") == dump_yaml(sample_catalog())


def test_an_unsound_catalog_is_refused_in_one_line(tmp_path: Path) -> None:
    sheet = tmp_path / "catalog.csv"
    sheet.write_text("code,name\nMZ-001,低保\n", encoding="utf-8")
    done = hall_cli("catalog", str(sheet))
    assert done.returncode == 2
    assert done.stderr.startswith("hall: ") and "is not a catalog" in done.stderr and len(done.stderr.splitlines()) == 1


def test_figures_rebuild_names_the_tree_whose_case_figures_it_rebuilds(tmp_path: Path) -> None:
    """A community's cases are registered at its district: the case figures rebuilt for it are its
    district's tree, and the output says so; ``--only`` keeps to one part."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    assert hall_cli("init", "--db", db, env={"HALL_SECRET_FILE": str(tmp_path / "secret")}).returncode == 0
    both = hall_cli("figures", "rebuild", "--db", db, "--hall", "xh-hp-ly")
    assert both.returncode == 0, both.stderr
    assert both.stdout.splitlines() == [
        "xh-hp-ly: 0 days rebuilt",
        "xh-hp-ly: its cases are registered at xh; rebuilding the case figures of its tree",
        "xh: 0 days of case figures rebuilt",
    ]
    queue = hall_cli("figures", "rebuild", "--db", db, "--hall", "xh-hp-ly", "--only", "queue")
    cases = hall_cli("figures", "rebuild", "--db", db, "--hall", "xh", "--only", "cases", "--after", "7")
    assert queue.stdout.splitlines() == ["xh-hp-ly: 0 days rebuilt"]
    assert cases.stdout.splitlines() == ["xh: 0 days of case figures rebuilt"]
